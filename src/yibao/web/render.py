"""Templates and display filters (模板与显示格式) for the console."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from yibao.clock import CHINA as BEIJING
from yibao.console.model import ROLE_PAGES, Page, mask_id, mask_phone
from yibao.money import fen_str
from yibao.web.auth import Console
from yibao.web.labels import with_code
from yibao.web.regions import region_label, region_name, scope_name
from yibao.web.unavailable import Unavailable

HERE = Path(__file__).parent
CHINA = BEIJING  # 北京时间 (UTC+8, no daylight saving): the one zone every page shows times in

templates = Jinja2Templates(directory=str(HERE / "templates"))


def yuan(fen: int | None) -> str:
    """Integer fen → ``1,234.56`` (元) for display."""
    if fen is None:
        return "—"
    s = fen_str(abs(fen))
    whole, _, cents = s.partition(".")
    grouped = f"{int(whole):,}"
    return ("-" if fen < 0 else "") + grouped + "." + (cents or "00")


def china_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """The one formatter of a moment on screen: in Beijing time (a naive value is taken as
    already Beijing time, as the national interface writes its times)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        return value.strftime(fmt)
    return value.astimezone(CHINA).strftime(fmt)


def china_today() -> date:
    return datetime.now(CHINA).date()


def tojson_script(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``</`` cannot close the tag)."""
    text = json.dumps(value, ensure_ascii=False, default=str).replace("</", "<\\/")
    return Markup(text)


templates.env.globals["Page"] = Page
templates.env.globals["scope_name"] = lambda s: scope_name(
    s.fixmedins_code, s.prefixes, s.whole_province
)
templates.env.tests["unavailable"] = lambda v: isinstance(v, Unavailable)
templates.env.filters.update(
    code=lambda code, table: with_code(table, code),
    yuan=yuan,
    china_time=china_time,
    region_name=region_name,
    region_label=region_label,
    mask_id=mask_id,
    mask_phone=mask_phone,
    tojson_script=tojson_script,
)


@dataclass(frozen=True, slots=True)
class NavItem:
    page: Page
    label: str
    href: str


NAV: tuple[NavItem, ...] = (
    NavItem(Page.OVERVIEW, "总览", "/console/"),
    NavItem(Page.PERSONS, "参保人查询", "/console/persons"),
    NavItem(Page.SETTLEMENTS, "结算查询", "/console/settlements"),
    NavItem(Page.INSTITUTIONS, "定点机构", "/console/institutions"),
    NavItem(Page.POLICY, "政策查询", "/console/policy"),
    NavItem(Page.RECONCILIATION, "对账与清算", "/console/reconciliation"),
    NavItem(Page.PAYMENT, "支付方式改革", "/console/payment"),
    NavItem(Page.ONLINE, "线上结算", "/console/online"),
    NavItem(Page.FUNDS_UNITS, "单位缴费", "/console/funds/units"),
    NavItem(Page.FUND_FLOWS, "基金收支", "/console/funds/flows"),
    NavItem(Page.FUND_MONTHS, "可支付月数", "/console/funds/months"),
    NavItem(Page.CAMPAIGNS, "激活推广", "/console/campaigns"),
    NavItem(Page.CLAIMS, "零星报销", "/console/claims"),
    NavItem(Page.AUDIT, "审计日志", "/console/audit"),
    NavItem(Page.SIMULATOR, "培训模拟器", "/console/sim"),
    NavItem(Page.SIMULATION, "政策测算", "/console/simulation"),
)


def page(
    request: Request,
    console: Console,
    template: str,
    *,
    active: Page | None,
    title: str,
    crumbs: list[tuple[str, str | None]] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a signed-in page inside the layout (left navigation, header, breadcrumbs)."""
    allowed = ROLE_PAGES[console.principal.role]
    nav = [n for n in NAV if n.page in allowed]
    return templates.TemplateResponse(
        request,
        template,
        {
            "console": console,
            "user": console.principal,
            "scope": console.scope,
            "nav": nav,
            "active": active,
            "title": title,
            "crumbs": crumbs or [],
            "csrf_token": console.csrf_token,
            **context,
        },
        status_code=status_code,
    )

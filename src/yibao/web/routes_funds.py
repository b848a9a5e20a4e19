"""Console funds pages (基金页面): 单位缴费, 基金收支, 可支付月数, each with an Excel export.

Thin: check the role's page and the region's scope, read through :mod:`yibao.web.sources.funds`,
render (or write the workbook). One region at a time; the region list is the user's scope.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.console.model import Page
from yibao.console.scoping import OutOfScope
from yibao.funds.model import FundsError, period_text
from yibao.funds.postings import CODE_LABELS, FUND_NAMES
from yibao.web.auth import Console, current_console, engine_of, require
from yibao.web.render import china_today, page
from yibao.web.sources import funds as src
from yibao.web.sources import policy as policy_src
from yibao.web.xlsx import Money, download, workbook

router = APIRouter(prefix="/console/funds", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]


def _region(console: Console, admdvs: str) -> tuple[str, list[str]]:
    regions = [
        r for r in policy_src.regions() if console.scope.allows_region(r) and r[2:] != "0000"
    ]
    if not admdvs:
        own = console.principal.admdvs
        admdvs = own if own and own in regions else (regions[0] if regions else "")
    if admdvs and admdvs not in regions:
        raise OutOfScope()
    return admdvs, regions


def _day(on: str) -> date:
    try:
        return date.fromisoformat(on) if on else china_today()
    except ValueError:
        return china_today()


def _render(request: Request, console: Console, tpl: str, active: Page, title: str,
            **ctx: Any) -> Response:  # fmt: skip
    return page(request, console, tpl, active=active, title=title, crumbs=[(title, None)],
                fund_names=FUND_NAMES, code_labels=CODE_LABELS, unit_types=src.UNIT_TYPES,
                scheme_labels=src.SCHEME_LABELS, **ctx)  # fmt: skip


@router.get("/units", response_class=HTMLResponse)
def units(request: Request, console: Ctx, admdvs: str = "", on: str = "") -> Response:
    require(console, Page.FUNDS_UNITS)
    region, regions = _region(console, admdvs)
    day = _day(on)
    with engine_of(request).connect() as conn:
        view = (
            src.units_view(conn, console.scope, region, day) if region and src.ready(conn) else None
        )
    return _render(request, console, "funds_units.html", Page.FUNDS_UNITS, "单位缴费",
                   view=view, regions=regions, region=region, on=day)  # fmt: skip


@router.get("/units.xlsx")
def units_xlsx(request: Request, console: Ctx, admdvs: str = "", on: str = "") -> Response:
    require(console, Page.FUNDS_UNITS)
    region, _ = _region(console, admdvs)
    day = _day(on)
    with engine_of(request).connect() as conn:
        v = src.units_view(conn, console.scope, region, day)
    sheets: list[tuple[str, list[str], list[list[object]]]] = [
        ("按月征缴", ["费款所属期", "核定人次", "核定金额(元)", "已到账(元)", "欠费(元)",
                      "缓缴中(元)", "未到期(元)", "滞纳金(元)"],
         [[period_text(m.period), m.persons, Money(m.assessed), Money(m.paid), Money(m.overdue),
           Money(m.deferred), Money(m.not_due), Money(m.late_fees)] for m in v.months]),
        ("按险种汇总", ["医保区划", "缴费类别", "核定单数", "核定金额(元)", "已到账(元)", "欠费(元)",
                        "滞纳金(元)"],
         [[t["region"], src.SCHEME_LABELS.get(str(t["scheme"]), t["scheme"]), t["bills"],
           Money(int(t["assessed"])), Money(int(t["paid"])), Money(int(t["overdue"])),
           Money(int(t["late_fees"]))] for t in v.totals]),
    ]  # fmt: skip
    if v.units is not None:
        sheets.append(
            ("参保单位", ["单位编号", "单位名称", "单位类型", "在职人数", "核定(元)", "已缴(元)",
                          "欠费(元)", "缓缴中(元)", "滞纳金(元)", "减征月数", "最近核定月"],
             [[u.emp_no, u.emp_name, src.UNIT_TYPES.get(u.emp_type, u.emp_type), u.employees,
               Money(u.assessed), Money(u.paid), Money(u.arrears), Money(u.deferred),
               Money(u.late_fees), u.relief_months, u.last_period] for u in v.units])
        )  # fmt: skip
    return download(f"单位缴费_{region}_{day}.xlsx", workbook(sheets))


@router.get("/flows", response_class=HTMLResponse)
def flows(
    request: Request, console: Ctx, admdvs: str = "", fund: str = "", on: str = ""
) -> Response:
    require(console, Page.FUND_FLOWS)
    region, regions = _region(console, admdvs)
    day = _day(on)
    with engine_of(request).connect() as conn:
        view = src.flows_view(conn, region, fund, day) if region else None
    return _render(request, console, "fund_flows.html", Page.FUND_FLOWS, "基金收支",
                   view=view, regions=regions, region=region, on=day)  # fmt: skip


@router.get("/flows.xlsx")
def flows_xlsx(request: Request, console: Ctx, admdvs: str = "", on: str = "") -> Response:
    require(console, Page.FUND_FLOWS)
    region, _ = _region(console, admdvs)
    day = _day(on)
    with engine_of(request).connect() as conn:
        v = src.flows_view(conn, region, "", day)
    rows = [[FUND_NAMES.get(p.fund_pay_type, p.fund_pay_type), period_text(p.period),
             Money(p.income), Money(p.spending), Money(p.opening), Money(p.closing)]
            for p in v.table]  # fmt: skip
    header = ["基金", "月份", "收入(元)", "支出(元)", "期初结转(元)", "期末余额(元)"]
    return download(f"基金收支_{region}_{day}.xlsx", workbook([("基金收支", header, rows)]))


@router.get("/months", response_class=HTMLResponse)
def months(request: Request, console: Ctx, admdvs: str = "", on: str = "") -> Response:
    require(console, Page.FUND_MONTHS)
    region, regions = _region(console, admdvs)
    day = _day(on)
    error = ""
    view = None
    with engine_of(request).connect() as conn:
        try:
            view = src.months_view(conn, region, day) if region else None
        except FundsError as exc:
            error = str(exc)
    return _render(request, console, "fund_months.html", Page.FUND_MONTHS, "可支付月数",
                   view=view, regions=regions, region=region, on=day, error=error)  # fmt: skip


@router.get("/months.xlsx")
def months_xlsx(request: Request, console: Ctx, admdvs: str = "", on: str = "") -> Response:
    require(console, Page.FUND_MONTHS)
    region, _ = _region(console, admdvs)
    day = _day(on)
    with engine_of(request).connect() as conn:
        v = src.months_view(conn, region, day)
    rows = [[x.name, Money(x.balance), Money(x.income_12m), Money(x.spending_12m),
             Money(int(x.monthly_spending)), None if x.months is None else float(x.months),
             x.status_label] for x in v.lines]  # fmt: skip
    header = ["基金", "余额(元)", "近12个月收入(元)", "近12个月支出(元)", "月均支出(元)",
              "可支付月数", "状态"]  # fmt: skip
    return download(f"可支付月数_{region}_{day}.xlsx", workbook([("可支付月数", header, rows)]))

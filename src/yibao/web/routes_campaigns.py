"""Console campaign pages (激活推广): list, one campaign's progress, 通报 as Excel/PDF, upload.

Thin: check the role's page and the region's scope, read through :mod:`yibao.web.sources.campaigns`
(over :mod:`yibao.campaigns.service`), render or send the file.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.campaigns import report, service
from yibao.campaigns.model import CampaignFileError
from yibao.campaigns.service import CampaignNotFound
from yibao.console.model import Page, Role
from yibao.console.scoping import OutOfScope
from yibao.web.auth import Console, Forbidden, check_csrf, current_console, engine_of, require
from yibao.web.render import china_today, page
from yibao.web.sources import campaigns as src
from yibao.web.xlsx import download

router = APIRouter(prefix="/console/campaigns", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
LOADERS = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN)


def _day(on: str) -> date:
    try:
        return date.fromisoformat(on) if on else china_today()
    except ValueError:
        return china_today()


@router.get("", response_class=HTMLResponse)
def campaigns(
    request: Request, console: Ctx, on: str = "", msg: str = "", err: str = ""
) -> Response:
    require(console, Page.CAMPAIGNS)
    day = _day(on)
    with engine_of(request).connect() as conn:
        items = src.listing(conn, console.scope, day) if src.ready(conn) else []
    return page(request, console, "campaigns.html", active=Page.CAMPAIGNS, title="激活推广专项",
                crumbs=[("激活推广专项", None)], items=items, on=day, msg=msg, err=err,
                may_load=console.principal.role in LOADERS, status_class=src.STATUS_CLASS)  # fmt: skip


@router.post("/upload")
async def upload(request: Request, console: Ctx) -> Response:
    require(console, Page.CAMPAIGNS)
    await check_csrf(request, console)
    if console.principal.role not in LOADERS:
        raise Forbidden("campaign upload")
    form = await request.form()
    f = form.get("file")
    raw = await f.read() if f is not None and hasattr(f, "read") else b""
    try:
        text = raw.decode("utf-8")
        with engine_of(request).begin() as conn:
            plan, changed = service.load_text(
                conn, text, source_file=str(getattr(f, "filename", "") or "upload.yaml"),
                actor=console.principal.username, now=service.now(),
            )  # fmt: skip
            if not console.scope.allows_region(plan.admdvs):
                raise OutOfScope()
    except UnicodeDecodeError:
        return RedirectResponse(
            "/console/campaigns?err=" + quote("文件须为 UTF-8 编码的 YAML"), 303
        )
    except CampaignFileError as exc:
        return RedirectResponse("/console/campaigns?err=" + quote(f"方案文件有误：{exc}"), 303)
    text = f"已载入“{plan.name}”" if changed else f"“{plan.name}”内容未变化"
    return RedirectResponse("/console/campaigns?msg=" + quote(text), 303)


def _view(request: Request, console: Console, campaign_id: str, day: date) -> src.CampaignView:
    try:
        with engine_of(request).connect() as conn:
            return src.campaign_view(conn, console.scope, campaign_id, day)
    except CampaignNotFound:
        raise OutOfScope() from None


@router.get("/{campaign_id}", response_class=HTMLResponse)
def campaign(request: Request, console: Ctx, campaign_id: str, on: str = "") -> Response:
    require(console, Page.CAMPAIGNS)
    day = _day(on)
    view = _view(request, console, campaign_id, day)
    p = view.progress
    return page(request, console, "campaign.html", active=Page.CAMPAIGNS, title=p.plan.name,
                crumbs=[("激活推广专项", "/console/campaigns"), (p.plan.name, None)], view=view,
                p=p, on=day, status_class=src.STATUS_CLASS, pct=report.pct)  # fmt: skip


@router.get("/{campaign_id}/report.xlsx")
def report_xlsx(request: Request, console: Ctx, campaign_id: str, on: str = "") -> Response:
    require(console, Page.CAMPAIGNS)
    day = _day(on)
    v = _view(request, console, campaign_id, day)
    if not v.units_visible:
        v.progress.units = []
    return download(
        f"{report.title_of(v.progress)}_{day}.xlsx", report.excel(v.progress, v.channel_names)
    )


@router.get("/{campaign_id}/report.pdf")
def report_pdf(request: Request, console: Ctx, campaign_id: str, on: str = "") -> Response:
    require(console, Page.CAMPAIGNS)
    day = _day(on)
    v = _view(request, console, campaign_id, day)
    if not v.units_visible:
        v.progress.units = []
    try:
        data = report.pdf(v.progress, v.channel_names)
    except report.FontMissing as exc:
        return Response(str(exc), status_code=503, media_type="text/plain; charset=utf-8")
    name = quote(f"{report.title_of(v.progress)}_{day}.pdf")
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )

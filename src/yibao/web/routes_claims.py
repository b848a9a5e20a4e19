"""Console 零星报销 pages: the queue, counter application (窗口受理), one claim and its steps.

Thin: role page + region scope, read and act through :mod:`yibao.claims.service`; two different
signed-in people must review (审核) and approve (复核) — the service refuses otherwise.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from yibao.claims import model as m
from yibao.claims import service
from yibao.claims.model import ClaimError, ClaimRefused
from yibao.console.model import Page
from yibao.console.scoping import OutOfScope
from yibao.web.auth import Console, check_csrf, current_console, engine_of, require
from yibao.web.render import china_today, page

router = APIRouter(prefix="/console/claims", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
FEE_COLUMNS = ("feedetl_sn", "med_list_codg", "name", "pric", "cnt", "det_item_fee_sumamt")
INVOICE_COLUMNS = ("inv_code", "inv_no", "amount", "inv_date")


def _prefixes(console: Console) -> list[str] | None:
    return None if console.scope.all_regions else list(console.scope.prefixes)


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"states": m.STATE_LABELS, "reasons": m.REASONS, "file_kinds": m.FILE_KINDS,
            "actions": m.ACTION_LABELS, **kw}  # fmt: skip


@router.get("", response_class=HTMLResponse)
def queue(request: Request, console: Ctx, status: str = "open", msg: str = "") -> Response:
    require(console, Page.CLAIMS)
    today = china_today()
    with engine_of(request).connect() as conn:
        rows = service.listing(conn, prefixes=_prefixes(console), status=status)
    items = [(c, service.time_limit_of(c, today)) for c in rows]
    paid = [t.days for c, t in items if c["status"] == m.PAID]
    kpis = {"open": sum(1 for c, _ in items if c["status"] in m.OPEN_STATES),
            "overdue": sum(1 for c, t in items if t.overdue and c["status"] in m.OPEN_STATES),
            "avg_days": f"{sum(paid) / len(paid):.1f}" if paid else "—"}  # fmt: skip
    return page(request, console, "claims.html", active=Page.CLAIMS, title="零星报销",
                crumbs=[("零星报销", None)], items=items, status=status, kpis=kpis, msg=msg,
                **_ctx())  # fmt: skip


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, console: Ctx, err: str = "") -> Response:
    require(console, Page.CLAIMS)
    return page(request, console, "claim_new.html", active=Page.CLAIMS, title="窗口受理零星报销申请",
                crumbs=[("零星报销", "/console/claims"), ("窗口申请", None)], err=err,
                request_id=secrets.token_hex(12), **_ctx())  # fmt: skip


def _table(text: str, columns: tuple[str, ...], what: str) -> list[dict[str, object]]:
    rows = [r for r in csv.reader(io.StringIO(text.strip())) if any(x.strip() for x in r)]
    out: list[dict[str, object]] = []
    for i, r in enumerate(rows):
        if len(r) != len(columns):
            raise ClaimError(
                what, f"第{i + 1}行应为 {len(columns)} 列（{'，'.join(columns)}），收到 {len(r)} 列"
            )
        out.append(dict(zip(columns, (x.strip() for x in r), strict=True)))
    return out


@router.post("/new")
async def create(request: Request, console: Ctx) -> Response:
    require(console, Page.CLAIMS)
    await check_csrf(request, console)
    form = await request.form()
    f = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    uploads = []
    for kind, item in zip(form.getlist("file_kind"), form.getlist("file"), strict=False):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read()
            uploads.append(
                service.Upload(str(kind), str(item.filename), str(item.content_type or ""), data)
            )
    try:
        a = service.Application(
            source="counter", request_id=f.get("request_id", ""), psn_no=f.get("psn_no", ""),
            insutype=f.get("insutype", ""), med_type=f.get("med_type", ""),
            fixmedins_code=f.get("fixmedins_code", ""), begndate=_day(f, "begndate"),
            enddate=_day(f, "enddate"), reason=f.get("reason", ""), payee_name=f.get("payee_name", ""),
            payee_bank=f.get("payee_bank", ""), payee_account=f.get("payee_account", ""),
            fee_rows=_table(f.get("fees", ""), FEE_COLUMNS, "费用明细"),
            invoices=_table(f.get("invoices", ""), INVOICE_COLUMNS, "发票"), files=uploads,
            fixmedins_name=f.get("fixmedins_name", ""), mdtrtarea_admvs=f.get("mdtrtarea_admvs", ""),
            hosp_lv=f.get("hosp_lv", ""), dise_codg=f.get("dise_codg", ""), mdtrt_id=f.get("mdtrt_id", ""),
        )  # fmt: skip
        with engine_of(request).begin() as conn:
            no = service.apply(conn, a, service.now())
            c = service.get(conn, no, console.scope.allows_region)
            if c is None:
                raise ClaimError("psn_no", "该参保人不在您的管辖区域")
    except (ClaimError, ClaimRefused) as exc:
        return RedirectResponse("/console/claims/new?err=" + quote(str(exc)), 303)
    return RedirectResponse(f"/console/claims/{no}?msg=" + quote("申请已提交，待受理"), 303)


def _day(f: dict[str, str], key: str) -> date:
    try:
        return date.fromisoformat(f.get(key, ""))
    except ValueError:
        raise ClaimError(key, "日期格式应为 YYYY-MM-DD") from None


@router.get("/{claim_no}", response_class=HTMLResponse)
def detail(request: Request, console: Ctx, claim_no: str, msg: str = "", err: str = "") -> Response:
    require(console, Page.CLAIMS)
    with engine_of(request).connect() as conn:
        c = service.get(conn, claim_no, console.scope.allows_region)
    if c is None:
        raise OutOfScope()
    return page(request, console, "claim.html", active=Page.CLAIMS, title=f"零星报销 {claim_no}",
                crumbs=[("零星报销", "/console/claims"), (claim_no, None)], c=c, msg=msg, err=err,
                tl=service.time_limit_of(c, china_today()), me=console.principal.username,
                **_ctx())  # fmt: skip


@router.post("/{claim_no}/{action}")
async def act(request: Request, console: Ctx, claim_no: str, action: str) -> Response:
    require(console, Page.CLAIMS)
    await check_csrf(request, console)
    form = await request.form()
    note = str(form.get("note") or "")
    back = f"/console/claims/{claim_no}"
    if action not in ("accept", "review", "approve", "pay", "refuse"):
        return RedirectResponse(back + "?err=" + quote("未知操作"), 303)
    try:
        service.act(engine_of(request), claim_no, action, console.principal.username, note=note,
                    allowed=console.scope.allows_region)  # fmt: skip
    except ClaimRefused as exc:
        return RedirectResponse(back + "?err=" + quote(str(exc)), 303)
    return RedirectResponse(back + "?msg=" + quote(f"已{m.ACTION_LABELS[action]}"), 303)


@router.get("/{claim_no}/files/{seq}")
def file(request: Request, console: Ctx, claim_no: str, seq: int) -> Response:
    require(console, Page.CLAIMS)
    with engine_of(request).connect() as conn:
        if service.get(conn, claim_no, console.scope.allows_region) is None:
            raise OutOfScope()
        f = service.file_content(conn, claim_no, seq)
    if f is None:
        raise OutOfScope()
    name = quote(str(f["filename"]))
    return Response(bytes(f["content"]), media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                             "X-Content-SHA256": str(f["sha256"])})  # fmt: skip

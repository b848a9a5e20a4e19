"""Console pages of payment reform (支付方式改革): overview, group results, 特例单议 queue, actions.

- ``GET /console/payment``: 预算执行率 per institution and per 医共体, DRG/DIP results and CMI;
- ``GET /console/payment/institution/{code}``: one institution's 分组结果 and case payments;
- ``GET /console/payment/special``: the 特例单议 queue; ``POST …/special/{appy_id}``: an expert's
  opinion (province and city administrators only; two different experts decide);
- ``POST /console/payment/advance`` / ``year-end``: 月度预结算 / 年度清算 (administrators);
- ``GET /console/payment/statement.xlsx``: the year-end statement.

Handlers are thin: role and scope check, a source read or a service call, render or redirect.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.console.model import Page
from yibao.money import MoneyError, yuan_to_fen
from yibao.payment import export
from yibao.payment import service as payment
from yibao.payment.errors import PaymentInputError, PaymentRefused
from yibao.payment.model.pay import MODES
from yibao.payment.model.special import EXIT_LABELS, STATE_LABELS
from yibao.policy.model import PolicyError
from yibao.web.auth import Console, Forbidden, check_csrf, current_console, engine_of, require
from yibao.web.render import china_today, page
from yibao.web.sources import payment as src

router = APIRouter(prefix="/console/payment", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
METHODS = {
    "drg": "按病组(DRG)付费",
    "dip": "按病种分值(DIP)付费",
    "none": "按项目付费（未实行DRG/DIP）",
}


def _filter(console: Console, admdvs: str, year: str) -> src.Filter:
    today = china_today()
    regions = src.regions(console.scope)
    chosen = admdvs or (console.principal.admdvs if console.principal.admdvs in regions else "")
    chosen = chosen or (regions[0] if regions else "")
    y = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year
    return src.Filter(chosen, y)


def _back(f: src.Filter, msg: str, *, error: bool = False, path: str = "") -> RedirectResponse:
    key = "err" if error else "msg"
    url = f"/console/payment{path}?admdvs={f.admdvs}&year={f.year}&{key}={quote(msg)}"
    return RedirectResponse(url, status_code=303)


def _may_act(console: Console) -> None:
    if console.principal.role not in src.REVIEWERS:
        raise Forbidden("payment-action")


@router.get("", response_class=HTMLResponse)
def overview(
    request: Request, console: Ctx, admdvs: str = "", year: str = "", msg: str = "", err: str = ""
) -> Response:
    require(console, Page.PAYMENT)
    f = _filter(console, admdvs, year)
    today = china_today()
    month = 12 if f.year < today.year else today.month
    with engine_of(request).connect() as conn:
        view = src.overview(conn, console.scope, f, today)
    return page(
        request,
        console,
        "payment.html",
        active=Page.PAYMENT,
        title="支付方式改革",
        crumbs=[("支付方式改革", None)],
        f=f,
        view=view,
        regions=src.regions(console.scope),
        methods=METHODS,
        msg=msg,
        err=err,
        may_act=console.principal.role in src.REVIEWERS,
        person_data=console.scope.person_data,
        default_month=f"{f.year}-{month:02d}",
    )


@router.get("/institution/{code}", response_class=HTMLResponse)
def institution(request: Request, console: Ctx, code: str, year: str = "") -> Response:
    require(console, Page.PAYMENT)
    f = _filter(console, "", year)
    with engine_of(request).connect() as conn:
        found = src.institution(conn, console.scope, code, f.year)
    inst = found["institution"]
    return page(
        request,
        console,
        "payment_institution.html",
        active=Page.PAYMENT,
        title="DRG/DIP 分组结果",
        year=f.year,
        found=found,
        modes=MODES,
        crumbs=[
            ("支付方式改革", f"/console/payment?admdvs={inst.admdvs}&year={f.year}"),
            (inst.fixmedins_name, None),
        ],
    )


@router.get("/special", response_class=HTMLResponse)
def special_queue(
    request: Request, console: Ctx, state: str = "", msg: str = "", err: str = ""
) -> Response:
    require(console, Page.PAYMENT)
    with engine_of(request).connect() as conn:
        rows = src.special_queue(conn, console.scope, state)
    return page(
        request,
        console,
        "payment_special.html",
        active=Page.PAYMENT,
        title="特例单议评审",
        crumbs=[("支付方式改革", "/console/payment"), ("特例单议评审", None)],
        rows=rows,
        state=state,
        states=STATE_LABELS,
        exits=EXIT_LABELS,
        msg=msg,
        err=err,
        may_review=console.principal.role in src.REVIEWERS,
        me=console.principal.username,
    )


@router.post("/special/{appy_id}")
async def review(
    request: Request,
    console: Ctx,
    appy_id: str,
    decision: Annotated[str, Form()] = "",
    opinion: Annotated[str, Form()] = "",
    deducted: Annotated[str, Form()] = "",
) -> Response:
    require(console, Page.PAYMENT)
    await check_csrf(request, console)
    _may_act(console)
    back = "/console/payment/special?"
    if decision not in ("approve", "refuse"):
        return RedirectResponse(back + "err=" + quote("请选择“同意”或“不同意”"), status_code=303)
    try:
        fen = yuan_to_fen(Decimal(deducted.strip() or "0"), "核减金额")
    except (MoneyError, InvalidOperation):
        return RedirectResponse(
            back + "err=" + quote("核减金额须为最多2位小数的元数"), status_code=303
        )
    try:
        state = payment.review(
            engine_of(request),
            appy_id,
            reviewer=console.principal.username,
            reviewer_name=console.principal.display_name,
            approve=decision == "approve",
            opinion=opinion,
            deducted=fen,
            allowed=console.scope.allows_region,
        )
    except (PaymentRefused, PaymentInputError) as exc:
        text = exc.message if isinstance(exc, PaymentRefused) else str(exc)
        return RedirectResponse(back + "err=" + quote(text), status_code=303)
    return RedirectResponse(
        back + "msg=" + quote(f"{appy_id}：已提交意见，当前状态「{STATE_LABELS[state]}」"),
        status_code=303,
    )


@router.post("/advance")
async def advance(
    request: Request,
    console: Ctx,
    admdvs: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
) -> Response:
    require(console, Page.PAYMENT)
    await check_csrf(request, console)
    _may_act(console)
    src.check_region(console.scope, admdvs)
    f = src.Filter(admdvs, int(month[:4]) if month[:4].isdigit() else china_today().year)
    try:
        r = payment.advance(engine_of(request), admdvs, month, actor=console.principal.username)
    except (PaymentRefused, PolicyError) as exc:
        return _back(f, getattr(exc, "message", str(exc)), error=True)
    done = [i for i in r.institutions if not i.skipped]
    total = sum(i.advance for i in done)
    return _back(
        f,
        f"{r.month} 月度预结算完成：{len(done)} 家机构、{sum(i.cases for i in done)} 例，"
        f"预拨 {total / 100:,.2f} 元",
    )


@router.post("/year-end")
async def year_end(
    request: Request,
    console: Ctx,
    admdvs: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
) -> Response:
    require(console, Page.PAYMENT)
    await check_csrf(request, console)
    _may_act(console)
    src.check_region(console.scope, admdvs)
    f = _filter(console, admdvs, year)
    try:
        r = payment.close_year(engine_of(request), admdvs, f.year, actor=console.principal.username)
    except (PaymentRefused, PolicyError) as exc:
        return _back(f, getattr(exc, "message", str(exc)), error=True)
    unit = "费率" if r.method == "drg" else "点值"
    return _back(
        f,
        f"{f.year} 年度清算完成：{r.cases} 例，清算{unit} {r.final_unit_value}（预算{unit} {r.provisional_unit_value}）",
    )


@router.get("/statement.xlsx")
def statement(request: Request, console: Ctx, admdvs: str = "", year: str = "") -> Response:
    require(console, Page.PAYMENT)
    f = _filter(console, admdvs, year)
    with engine_of(request).connect() as conn:
        data = src.statement(conn, console.scope, f, china_today())
    body = export.statement_xlsx(data["view"], data["cases"], data["specials"])
    name = quote(f"年度清算表_{f.admdvs}_{f.year}.xlsx")
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/community/{ycm_id}")
async def community(
    request: Request,
    console: Ctx,
    ycm_id: str,
    admdvs: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    period: Annotated[str, Form()] = "",
) -> Response:
    """医共体: ``action`` month (月度分配, ``period`` YYYY-MM) or year (年度结算, ``period`` YYYY)."""
    require(console, Page.PAYMENT)
    await check_csrf(request, console)
    _may_act(console)
    src.check_region(console.scope, admdvs)
    f = _filter(console, admdvs, period[:4])
    actor = console.principal.username
    try:
        with engine_of(request).connect() as conn:
            src.check_community(conn, console.scope, ycm_id)
        if action == "month":
            row = payment.community_month(engine_of(request), ycm_id, period, actor=actor)
            text = f"{ycm_id} {row['month']} 分配 {row['allocation'] / 100:,.2f} 元，支出 {row['spending'] / 100:,.2f} 元"
        elif action == "year":
            y = payment.community_year_end(engine_of(request), ycm_id, f.year, actor=actor)
            text = f"{ycm_id} {f.year} 年度结算：基金最终支出 {y['final'] / 100:,.2f} 元"
        else:
            return _back(f, "未知的操作", error=True)
    except (PaymentRefused, PolicyError) as exc:
        return _back(f, getattr(exc, "message", str(exc)), error=True)
    return _back(f, text)

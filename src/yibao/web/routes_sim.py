"""Simulator pages (培训模拟器): 参保人手机 and 收费窗口, over the public APIs (see ``web.sim``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from yibao.console.model import Page
from yibao.console.scoping import OutOfScope
from yibao.institutions import queries as institutions
from yibao.money import yuan_to_fen
from yibao.registry import queries as registry
from yibao.voucher import queries as vouchers
from yibao.web import sim
from yibao.web.auth import Console, check_csrf, current_console, engine_of, require
from yibao.web.render import page, templates

router = APIRouter(prefix="/console/sim", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
CRUMB = ("培训模拟器", "/console/sim")


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("", response_class=HTMLResponse)
def index(request: Request, console: Ctx) -> Response:
    require(console, Page.SIMULATOR)
    return page(
        request,
        console,
        "sim_index.html",
        active=Page.SIMULATOR,
        title="培训模拟器",
        crumbs=[CRUMB],
    )


# ------------------------------------------------------------------------------------ phone


def _phone_person(
    conn: sa.Connection, console: Console, chnl: str, user: str
) -> dict[str, Any] | None:
    """The person behind a channel user, if authorised and inside the trainer's regions."""
    if not (chnl and user):
        return None
    row = vouchers.authorised_person(conn, chnl, user)
    if row is None:
        return None
    if not console.scope.allows_any_region(*registry.insured_regions(conn, row["psn_no"])):
        raise OutOfScope()
    return row


def _candidates(conn: sa.Connection, console: Console, limit: int = 12) -> list[dict[str, Any]]:
    """Demo persons in scope without an e-voucher yet (to activate on the phone)."""
    from yibao.registry.certs import mask

    scope = console.scope
    regions = scope if scope.fixmedins_code is None else _region_only(scope)
    return [
        {
            "psn_no": r["psn_no"],
            "label": f"{r['psn_name']}（{mask(r['certno'])}）",
            "admdvs": r["insuplc_admdvs"],
        }
        for r in vouchers.not_activated(conn, regions, ("310", "390"), limit)
    ]


def _region_only(scope: Any) -> Any:
    """The user's regions without an institution limit (the phone plays a person, not a counter)."""
    return dataclasses.replace(scope, fixmedins_code=None, person_data=True)


def _phone_view(conn: sa.Connection, person: dict[str, Any]) -> dict[str, Any]:
    """Open payment prompts (one per pre-settlement, with its amounts) and the person's records."""
    from yibao.web.sources import settlements as setl_src

    pending: list[dict[str, Any]] = []
    if vouchers.tokens_available(conn):
        tokens = vouchers.pending_tokens(conn, person["psn_no"], datetime.now(UTC))
        names = institutions.names(conn)
        for r in tokens:
            pending.append(
                {
                    "ec_token": r["ec_token"],
                    "org": names.get(r["org_id"], r["org_id"]),
                    "verified": r["pwd_verified_at"] is not None,
                    "prompt": r["prompt"] or {},
                }
            )
    from yibao.console.model import Scope

    records = setl_src.search(
        conn, Scope(all_regions=True), setl_src.SettlementFilter(psn_no=person["psn_no"]), limit=5
    )
    details = []
    if isinstance(records, list):
        for rec in records[:3]:
            d = setl_src.detail(conn, Scope(all_regions=True), rec.setl_id)
            if isinstance(d, setl_src.SettlementDetail):
                details.append(
                    {"row": rec, "amounts": [a for a in d.amounts if a[2] != 0], "funds": d.funds}
                )
    return {"pending": pending, "records": details}


PHONE = "/console/sim/phone"


def _phone_url(chnl: str, user: str, **flash: Any) -> str:
    """The phone page after a step (POST-redirect-GET): the step's message, error, online view
    and whether the code is shown are sealed into ``s`` (a refresh shows the same step)."""
    query = {"chnl": chnl, "user": user} if user else {}
    if any(flash.values()):
        query["s"] = sim.seal(flash)
    return f"{PHONE}?{urlencode(query)}" if query else PHONE


def _phone(request: Request, console: Console, chnl: str, user: str, flash: dict[str, Any]) -> Response:  # fmt: skip
    base, code, error = base_url(request), None, str(flash.get("error") or "")
    with engine_of(request).connect() as conn:
        person = _phone_person(conn, console, chnl, user)
        view = _phone_view(conn, person) if person else {}
        candidates = [] if person else _candidates(conn, console)
        hospitals = (
            [(c, n) for c, n in institutions_in_scope(conn, console) if c.startswith("H")]
            if person else []
        )  # fmt: skip
    orders: list[dict[str, Any]] = []
    if person:
        try:
            orders = sim.online_call(base, chnl, "orders", user)["orders"]
            if flash.get("code"):  # 出示医保码: a fresh single-use code each time it is shown
                code = sim.dynamic_code(base, chnl, user)
        except sim.SimError as e:
            error = error or str(e)
    return page(
        request, console, "sim_phone.html", active=Page.SIMULATOR, title="参保人手机模拟器",
        crumbs=[CRUMB, ("参保人手机", None)], chnl=chnl, chnl_user=user, person=person, view=view,
        candidates=candidates, channels=sim.CHANNELS, code=code, message=flash.get("message", ""),
        error=error, orders=orders, online=flash.get("online") or {}, hospitals=hospitals,
        prompts_url=f"{PHONE}/prompts?{urlencode({'chnl': chnl, 'user': user})}",
    )  # fmt: skip


@router.get("/phone", response_class=HTMLResponse)
def phone(request: Request, console: Ctx, chnl: str = "", user: str = "", s: str = "") -> Response:
    require(console, Page.SIMULATOR)
    flash: dict[str, Any] = {}
    if s:
        try:
            flash = sim.unseal(s)
        except sim.SimError as e:
            flash = {"error": str(e)}
    return _phone(request, console, chnl, user, flash)


@router.get("/phone/prompts", response_class=HTMLResponse)
def phone_prompts(request: Request, console: Ctx, chnl: str = "", user: str = "") -> Response:
    """The 支付确认 block alone: the phone page polls it (sim.js) so a counter's pre-settlement
    appears, and a settled one disappears, without a reload."""
    require(console, Page.SIMULATOR)
    with engine_of(request).connect() as conn:
        person = _phone_person(conn, console, chnl, user)
        view = _phone_view(conn, person) if person else {"pending": [], "records": []}
    return templates.TemplateResponse(
        request, "_sim_prompts.html",
        {"view": view, "chnl": chnl, "chnl_user": user, "csrf_token": console.csrf_token},
    )  # fmt: skip


@router.get("/phone/{action}", response_class=HTMLResponse)
def phone_step_address(console: Ctx, action: str, chnl: str = "", user: str = "") -> Response:
    """A step's form address opened without the form (refresh, back, bookmark): the phone."""
    require(console, Page.SIMULATOR)
    return RedirectResponse(_phone_url(chnl, user), status_code=303)


@router.post("/phone/{action}", response_class=HTMLResponse)
async def phone_action(request: Request, console: Ctx, action: str) -> Response:
    require(console, Page.SIMULATOR)
    await check_csrf(request, console)
    form = await request.form()
    # the simulator calls this server's own public APIs over HTTP: never block the event loop
    url = await run_in_threadpool(_phone_do, request, console, action, form)
    return RedirectResponse(url, status_code=303)


def _phone_do(request: Request, console: Console, action: str, form: Any) -> str:
    chnl = str(form.get("chnl", "wechat"))
    user = str(form.get("user", ""))
    base = base_url(request)
    try:
        if action == "activate":
            psn_no = str(form.get("psn_no", ""))
            name, certno = _person_identity(request, console, psn_no)
            from yibao.voucher.verifier import demo_evidence

            user = f"sim-{chnl}-{psn_no}"
            sim.activate(base, chnl, user, name, certno, demo_evidence(certno))
            return _phone_url(chnl, user)
        with engine_of(request).connect() as conn:
            if _phone_person(conn, console, chnl, user) is None:
                raise sim.SimError("该渠道用户尚未激活医保电子凭证")
        if action == "code":
            return _phone_url(chnl, user, code=True)
        if action == "password":
            sim.set_password(base, chnl, user, str(form.get("password", "")))
            return _phone_url(chnl, user, message="支付密码已设置")
        if action in ONLINE_ACTIONS:
            return _online_do(request, console, action, form, chnl, user)
        if action == "confirm":
            sim.confirm_payment(
                base, chnl, user, str(form.get("password", "")), str(form.get("ec_token", ""))
            )
            return _phone_url(chnl, user, message="支付密码验证通过，已确认本次支付")
    except sim.SimError as e:
        return _phone_url(chnl, user, error=str(e))
    return _phone_url(chnl, user, error=f"未知操作：{action}")


ONLINE_ACTIONS = ("bill", "authorise", "pay", "refund")


def _online_do(
    request: Request, console: Console, action: str, form: Any, chnl: str, user: str
) -> str:
    """线上缴费: the hospital bills (6201), the insured authorises, sees the split, pays the cash
    part (cash first, then 医保), gets a receipt; the hospital refunds (6203)."""
    base, order_id = base_url(request), str(form.get("pay_ord_id", ""))
    if action == "bill":
        code = str(form.get("fixmedins_code", ""))
        with engine_of(request).connect() as conn:
            in_scope = [c for c, _ in institutions_in_scope(conn, console)]
            if code not in in_scope or code.startswith("P"):
                raise OutOfScope()
        got = sim.online_bill(base, chnl, user, code)
        return _phone_url(chnl, user, message=f"医院已开单，订单号 {got['payOrdId']}，请授权支付")
    if action == "authorise":
        auth = sim.online_call(base, chnl, "authorise", user, payOrdId=order_id)
        return _phone_url(chnl, user, online={"auth": auth, "payOrdId": order_id})
    if action == "pay":
        paid = sim.online_call(
            base, chnl, "pay", user, payOrdId=order_id, payAuthNo=str(form.get("pay_auth_no", ""))
        )
        keys = ("feeSumamt", "fundPay", "psnAcctPay", "ownPayAmt")
        paid["fen"] = {k: yuan_to_fen(str(paid[k])) for k in keys}  # 元 as sent → fen for display
        return _phone_url(chnl, user, online={"receipt": paid}, message="支付成功")
    orders = sim.online_call(base, chnl, "orders", user)["orders"]
    mine = next((o for o in orders if o["payOrdId"] == order_id), None)
    if mine is None:
        raise sim.SimError("订单不存在")
    got = sim.online_refund(base, mine)
    return _phone_url(
        chnl, user, message=f"医院已退款（医保与现金原路退回），退款流水号 {got['refdSn']}"
    )


def _person_identity(request: Request, console: Console, psn_no: str) -> tuple[str, str]:
    """Name and full ID number of a demo person in scope (what the person types on the phone)."""
    with engine_of(request).connect() as conn:
        for c in _candidates(conn, console, limit=1000):
            if c["psn_no"] == psn_no:
                return registry.name_and_certno(conn, psn_no)
    raise sim.SimError("请选择一位尚未激活的演示参保人")


# ---------------------------------------------------------------------------------- shared


def institutions_in_scope(conn: sa.Connection, console: Console) -> list[tuple[str, str]]:
    from yibao.institutions import demo as inst_demo

    scope = console.scope
    return [
        (code, f"{name}（{code}）")
        for code, name, _type, admdvs, _lv in inst_demo.DEMO_INSTITUTIONS
        if scope.allows_institution(code)
        and (scope.fixmedins_code is not None or scope.allows_region(admdvs))
    ]


def default_admdvs(conn: sa.Connection, console: Console) -> str | None:
    """The insured region of the phone's first (default) person to activate."""
    first = _candidates(conn, console, limit=1)
    return str(first[0]["admdvs"]) if first else None

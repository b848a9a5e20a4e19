"""Simulator pages (培训模拟器): 参保人手机 and 收费窗口, over the public APIs (see ``web.sim``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

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
from yibao.web.render import page

router = APIRouter(prefix="/console/sim", include_in_schema=False)
Ctx = Annotated[Console, Depends(current_console)]
CRUMB = ("培训模拟器", "/console/sim")


def _base(request: Request) -> str:
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
    from yibao.console.model import Scope

    return Scope(all_regions=scope.all_regions, prefixes=scope.prefixes)


def _phone_view(conn: sa.Connection, person: dict[str, Any]) -> dict[str, Any]:
    """Pending payments (ecTokens waiting for the password) and the person's records."""
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


def _phone(
    request: Request, console: Console, chnl: str, user: str, *, code: dict[str, Any] | None = None,
    message: str = "", error: str = "", status: int = 200, online: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    with engine_of(request).connect() as conn:
        person = _phone_person(conn, console, chnl, user)
        view = _phone_view(conn, person) if person else {}
        candidates = [] if person else _candidates(conn, console)
        hospitals = (
            [(c, n) for c, n in _institutions(conn, console) if c.startswith("H")] if person else []
        )
    orders: list[dict[str, Any]] = []
    if person:
        try:
            orders = sim.online_call(_base(request), chnl, "orders", user)["orders"]
        except sim.SimError:
            orders = []
    return page(
        request, console, "sim_phone.html", active=Page.SIMULATOR, title="参保人手机模拟器",
        crumbs=[CRUMB, ("参保人手机", None)], chnl=chnl, chnl_user=user, person=person, view=view,
        candidates=candidates, channels=sim.CHANNELS, code=code, message=message, error=error,
        status_code=status, orders=orders, online=online or {}, hospitals=hospitals,
    )  # fmt: skip


@router.get("/phone", response_class=HTMLResponse)
def phone(request: Request, console: Ctx, chnl: str = "", user: str = "") -> Response:
    require(console, Page.SIMULATOR)
    return _phone(request, console, chnl, user)


@router.post("/phone/{action}", response_class=HTMLResponse)
async def phone_action(request: Request, console: Ctx, action: str) -> Response:
    require(console, Page.SIMULATOR)
    await check_csrf(request, console)
    form = await request.form()
    # the simulator calls this server's own public APIs over HTTP: never block the event loop
    return await run_in_threadpool(_phone_do, request, console, action, form)


def _phone_do(request: Request, console: Console, action: str, form: Any) -> Response:
    chnl = str(form.get("chnl", "wechat"))
    user = str(form.get("user", ""))
    base = _base(request)
    try:
        if action == "activate":
            psn_no = str(form.get("psn_no", ""))
            name, certno = _person_identity(request, console, psn_no)
            from yibao.voucher.verifier import demo_evidence

            user = f"sim-{chnl}-{psn_no}"
            sim.activate(base, chnl, user, name, certno, demo_evidence(certno))
            return RedirectResponse(f"/console/sim/phone?chnl={chnl}&user={user}", status_code=303)
        with engine_of(request).connect() as conn:
            if _phone_person(conn, console, chnl, user) is None:
                raise sim.SimError("该渠道用户尚未激活医保电子凭证")
        if action == "code":
            code = sim.dynamic_code(base, chnl, user)
            return _phone(request, console, chnl, user, code=code)
        if action == "password":
            sim.set_password(base, chnl, user, str(form.get("password", "")))
            return _phone(request, console, chnl, user, message="支付密码已设置")
        if action in ONLINE_ACTIONS:
            return _online_do(request, console, action, form, chnl, user)
        if action == "confirm":
            sim.confirm_payment(
                base, chnl, user, str(form.get("password", "")), str(form.get("ec_token", ""))
            )
            return _phone(request, console, chnl, user, message="支付密码验证通过，已确认本次支付")
    except sim.SimError as e:
        return _phone(request, console, chnl, user, error=str(e), status=400)
    return _phone(request, console, chnl, user, error=f"未知操作：{action}", status=400)


ONLINE_ACTIONS = ("bill", "authorise", "pay", "refund")


def _online_do(
    request: Request, console: Console, action: str, form: Any, chnl: str, user: str
) -> Response:
    """线上缴费: the hospital bills (6201), the insured authorises, sees the split, pays the cash
    part (cash first, then 医保), gets a receipt; the hospital refunds (6203)."""
    base, order_id = _base(request), str(form.get("pay_ord_id", ""))
    if action == "bill":
        code = str(form.get("fixmedins_code", ""))
        with engine_of(request).connect() as conn:
            if code not in [c for c, _ in _institutions(conn, console)] or code.startswith("P"):
                raise OutOfScope()
        got = sim.online_bill(base, chnl, user, code)
        return _phone(
            request,
            console,
            chnl,
            user,
            message=f"医院已开单，订单号 {got['payOrdId']}，请授权支付",
        )
    if action == "authorise":
        auth = sim.online_call(base, chnl, "authorise", user, payOrdId=order_id)
        return _phone(request, console, chnl, user, online={"auth": auth, "payOrdId": order_id})
    if action == "pay":
        paid = sim.online_call(
            base, chnl, "pay", user, payOrdId=order_id, payAuthNo=str(form.get("pay_auth_no", ""))
        )
        keys = ("feeSumamt", "fundPay", "psnAcctPay", "ownPayAmt")
        paid["fen"] = {k: yuan_to_fen(str(paid[k])) for k in keys}  # 元 as sent → fen for display
        return _phone(request, console, chnl, user, online={"receipt": paid}, message="支付成功")
    orders = sim.online_call(base, chnl, "orders", user)["orders"]
    mine = next((o for o in orders if o["payOrdId"] == order_id), None)
    if mine is None:
        raise sim.SimError("订单不存在")
    got = sim.online_refund(base, mine)
    return _phone(
        request,
        console,
        chnl,
        user,
        message=f"医院已退款（医保与现金原路退回），退款流水号 {got['refdSn']}",
    )


def _person_identity(request: Request, console: Console, psn_no: str) -> tuple[str, str]:
    """Name and full ID number of a demo person in scope (what the person types on the phone)."""
    with engine_of(request).connect() as conn:
        for c in _candidates(conn, console, limit=1000):
            if c["psn_no"] == psn_no:
                return registry.name_and_certno(conn, psn_no)
    raise sim.SimError("请选择一位尚未激活的演示参保人")


# ---------------------------------------------------------------------------------- counter


def _institutions(conn: sa.Connection, console: Console) -> list[tuple[str, str]]:
    from yibao.institutions import demo as inst_demo

    scope = console.scope
    return [
        (code, f"{name}（{code}）")
        for code, name, _type, admdvs, _lv in inst_demo.DEMO_INSTITUTIONS
        if scope.allows_institution(code)
        and (scope.fixmedins_code is not None or scope.allows_region(admdvs))
    ]


def _items(c: sim.Counter) -> list[dict[str, Any]]:
    """Price-list items the counter can pick (the HIS's own price list: the demo catalogue)."""
    from yibao.hissim.flows import province_items
    from yibao.institutions import demo as inst_demo

    admdvs = next(r[3] for r in inst_demo.DEMO_INSTITUTIONS if r[0] == c.fixmedins_code)
    kinds = ("101", "102") if c.pharmacy else ("201", "101")
    chosen: list[Any] = []
    for kind in kinds:
        chosen += [i for i in province_items(admdvs) if i.list_type == kind][:8]
    return [
        {"code": i.med_list_codg, "name": i.name, "lt": i.list_type, "pric": str(i.pric)}
        for i in chosen
    ]


def _counter(
    request: Request, console: Console, c: sim.Counter | None, *, stage: str = "scan",
    result: dict[str, Any] | None = None, message: str = "", error: str = "", status: int = 200,
) -> Response:  # fmt: skip
    with engine_of(request).connect() as conn:
        institutions = _institutions(conn, console)
        verified = None
        if c and c.pharmacy and c.ec_token and vouchers.tokens_available(conn):
            verified = vouchers.password_verified(conn, c.ec_token)
    return page(
        request, console, "sim_counter.html", active=Page.SIMULATOR, title="收费窗口模拟器",
        crumbs=[CRUMB, ("收费窗口", None)], c=c, state=c.to_json() if c else "",
        institutions=institutions, items=_items(c) if c and c.psn_no else [], stage=stage,
        result=result or {}, message=message, error=error, verified=verified, status_code=status,
    )  # fmt: skip


@router.get("/counter", response_class=HTMLResponse)
def counter(request: Request, console: Ctx, fixmedins_code: str = "") -> Response:
    require(console, Page.SIMULATOR)
    with engine_of(request).connect() as conn:
        codes = [code for code, _ in _institutions(conn, console)]
    if fixmedins_code and fixmedins_code not in codes:
        raise OutOfScope()
    code = fixmedins_code or (codes[0] if codes else "")
    return _counter(request, console, sim.Counter(code) if code else None)


@router.post("/counter/{action}", response_class=HTMLResponse)
async def counter_action(request: Request, console: Ctx, action: str) -> Response:
    require(console, Page.SIMULATOR)
    await check_csrf(request, console)
    form = await request.form()
    return await run_in_threadpool(_counter_do, request, console, action, form)


def _counter_do(request: Request, console: Console, action: str, form: Any) -> Response:
    state = str(form.get("state", ""))
    c = sim.Counter.from_json(state) if state else sim.Counter(str(form.get("fixmedins_code", "")))
    with engine_of(request).connect() as conn:
        if c.fixmedins_code not in [code for code, _ in _institutions(conn, console)]:
            raise OutOfScope()
    base = _base(request)
    try:
        if action == "scan":
            c = sim.Counter(c.fixmedins_code)
            sim.scan(base, c, str(form.get("qr_code", "")))
            return _counter(
                request, console, c, stage="items", message=f"已识别参保人：{c.psn_name}"
            )
        if action == "presettle":
            c.lines = _picked(form)
            info = sim.pre_settle(base, c)
            return _counter(request, console, c, stage="presettled", result=info)
        if action == "settle":
            if c.pharmacy:
                with engine_of(request).connect() as conn:
                    if not vouchers.password_verified(conn, c.ec_token):
                        raise sim.SimError("参保人尚未在手机上验证支付密码，请提示参保人确认支付")
            info = sim.settle(base, c)
            return _counter(request, console, c, stage="settled", result=info, message="结算成功")
        if action == "cancel":
            info = sim.cancel(base, c)
            c.setl_id = ""
            return _counter(
                request, console, c, stage="cancelled", result=info, message="已撤销结算"
            )
    except sim.SimError as e:
        stage = {"scan": "scan", "presettle": "items", "settle": "presettled", "cancel": "settled"}
        back = stage.get(action, "scan")
        result = c.pre if back == "presettled" else None
        return _counter(request, console, c, stage=back, result=result, error=str(e), status=400)
    return _counter(request, console, c, error=f"未知操作：{action}", status=400)


def _picked(form: Any) -> list[sim.Line]:
    """The items with a quantity > 0 from the counter form (``qty:<code>`` fields)."""
    lines: list[sim.Line] = []
    for key in form:
        if not key.startswith("qty:"):
            continue
        raw = str(form.get(key, "")).strip()
        if not raw:
            continue
        try:
            cnt = Decimal(raw)
        except InvalidOperation:
            raise sim.SimError(f"数量“{raw}”不是数字") from None
        if cnt <= 0:
            continue
        code = key[4:]
        name = str(form.get(f"name:{code}", code))
        pric = Decimal(str(form.get(f"pric:{code}", "0")))
        lt = str(form.get(f"lt:{code}", "101"))
        lines.append(sim.Line(f"{len(lines) + 1:04d}", code, name, lt, pric, cnt))
    return lines

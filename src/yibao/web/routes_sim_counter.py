"""收费窗口 simulator pages (培训模拟器 · 收费窗口), refresh- and back-button-safe.

Every step is a form POST that answers with a redirect (303, POST-redirect-GET) to
``GET /console/sim/counter?s=…``: ``s`` carries the step's state (the counter's HIS state, the
stage, the last result and message), sealed by :func:`yibao.web.sim_common.seal`. A refresh or
the back button re-opens a GET page, never re-sends a settlement; a step address opened directly
(``GET /console/sim/counter/settle``) returns to the counter.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from yibao.console.model import Page
from yibao.console.scoping import OutOfScope
from yibao.money import yuan_to_fen
from yibao.voucher import prompts
from yibao.voucher import queries as vouchers
from yibao.web import sim
from yibao.web.auth import Console, check_csrf, engine_of, require
from yibao.web.render import page
from yibao.web.routes_sim import CRUMB, Ctx, base_url, default_admdvs, institutions_in_scope
from yibao.web.sim_presets import presets

router = APIRouter(prefix="/console/sim", include_in_schema=False)
COUNTER = "/console/sim/counter"


def _url(c: sim.Counter, stage: str, result: dict[str, Any] | None = None, *,
         message: str = "", error: str = "") -> str:  # fmt: skip
    view = {"c": c.to_json(), "stage": stage, "result": result or {}, "message": message,
            "error": error}  # fmt: skip
    return f"{COUNTER}?{urlencode({'s': sim.seal(view)})}"


def default_institution(conn: sa.Connection, console: Console, codes: list[str]) -> str:
    """A local, ordinary first visit: a hospital (门诊) in the city of the phone's first person."""
    from yibao.institutions import demo as inst_demo

    city = (default_admdvs(conn, console) or "")[:4]
    hospitals = [r[0] for r in inst_demo.DEMO_INSTITUTIONS if r[0] in codes and r[2] == "H"]
    local = [c for c in hospitals if c[1:5] == city]
    return next(iter(local or hospitals or codes), "")


def _render(request: Request, console: Console, c: sim.Counter | None, view: dict[str, Any],
            institutions: list[tuple[str, str]]) -> Response:  # fmt: skip
    verified = None
    if c and c.pharmacy and c.ec_token:
        with engine_of(request).connect() as conn:
            if vouchers.tokens_available(conn):
                verified = vouchers.password_verified(conn, c.ec_token)
    return page(
        request, console, "sim_counter.html", active=Page.SIMULATOR, title="收费窗口模拟器",
        crumbs=[CRUMB, ("收费窗口", None)], c=c, s=view.get("s", ""), institutions=institutions,
        items=presets(c) if c and c.psn_no else [], stage=view.get("stage", "scan"),
        result=view.get("result") or {}, message=view.get("message", ""),
        error=view.get("error", ""), verified=verified,
    )  # fmt: skip


@router.get("/counter", response_class=HTMLResponse)
def counter(request: Request, console: Ctx, fixmedins_code: str = "", s: str = "") -> Response:
    require(console, Page.SIMULATOR)
    with engine_of(request).connect() as conn:
        institutions = institutions_in_scope(conn, console)
        codes = [code for code, _ in institutions]
        default = default_institution(conn, console, codes)
    c: sim.Counter | None = None
    view: dict[str, Any] = {}
    if s:
        try:
            view = {**sim.unseal(s), "s": s}
            c = sim.Counter.from_json(str(view["c"]))
        except (sim.SimError, KeyError, TypeError, ValueError):
            view = {"error": "页面已过期或地址不完整，请重新开始"}
    if c is not None and fixmedins_code and fixmedins_code != c.fixmedins_code:
        c, view = None, {}  # 切换机构: a new counter
    if c is None:
        code = fixmedins_code or default
        c = sim.Counter(code) if code else None
    if c is not None and c.fixmedins_code not in codes:
        raise OutOfScope()
    return _render(request, console, c, view, institutions)


@router.get("/counter/{action}", response_class=HTMLResponse)
def counter_step_address(console: Ctx, action: str, s: str = "") -> Response:
    """A step's form address opened without the form (refresh, back, bookmark): the counter."""
    require(console, Page.SIMULATOR)
    return RedirectResponse(f"{COUNTER}?{urlencode({'s': s})}" if s else COUNTER, 303)


@router.post("/counter/{action}", response_class=HTMLResponse)
async def counter_action(request: Request, console: Ctx, action: str) -> Response:
    require(console, Page.SIMULATOR)
    await check_csrf(request, console)
    form = await request.form()
    url = await run_in_threadpool(_counter_do, request, console, action, form)
    return RedirectResponse(url, status_code=303)


def _counter_do(request: Request, console: Console, action: str, form: Any) -> str:
    try:
        c = sim.Counter.from_json(str(sim.unseal(str(form.get("s", "")))["c"]))
    except (sim.SimError, KeyError):
        c = sim.Counter(str(form.get("fixmedins_code", "")))
    with engine_of(request).connect() as conn:
        if c.fixmedins_code not in [code for code, _ in institutions_in_scope(conn, console)]:
            raise OutOfScope()
    try:
        return _step(request, c, action, form)
    except sim.SimError as e:
        back = {"scan": "scan", "presettle": "items", "settle": "presettled", "cancel": "settled"}
        stage = back.get(action, "scan")
        return _url(c, stage, c.pre if stage == "presettled" else None, error=str(e))


def _step(request: Request, c: sim.Counter, action: str, form: Any) -> str:
    base, engine = base_url(request), engine_of(request)
    if action == "scan":
        c = sim.Counter(c.fixmedins_code)
        sim.scan(base, c, str(form.get("qr_code", "")))
        return _url(c, "items", message=f"已识别参保人：{c.psn_name}")
    if action == "presettle":
        c.lines = _picked(form)
        sim.pre_settle(base, c)
        fen = {k: yuan_to_fen(Decimal(c.pre.get(k) or "0")) for k in prompts.PROMPT_KEYS}
        prompts.ask(engine, c.ec_token, fen)  # the phone asks the person to confirm this amount
        return _url(c, "presettled", c.pre, message="预结算完成，已请参保人在手机上确认支付")
    if action == "settle":
        if c.pharmacy:
            with engine.connect() as conn:
                if not vouchers.password_verified(conn, c.ec_token):
                    raise sim.SimError("参保人尚未在手机上验证支付密码，请提示参保人确认支付")
        info = sim.settle(base, c)
        prompts.settled(engine, c.ec_token)  # the phone's prompt disappears
        return _url(c, "settled", sim.shown(info), message="结算成功")
    if action == "cancel":
        info = sim.cancel(base, c)
        c.setl_id = ""
        return _url(c, "cancelled", sim.shown(info), message="已撤销结算")
    raise sim.SimError(f"未知操作：{action}")


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

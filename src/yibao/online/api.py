"""HTTP of the online centres (thin): the mobile-payment centre, the e-prescription centre, the
channel's (patient's app) calls, and the HIS simulator's callback receiver.

- ``POST /api/online/mpc/{infno}`` — 移动支付中心 6201 6202 6203 6301 6401 (envelope: docs/api/mobile-payment.md)
- ``POST /api/online/epc/{infno}`` — 电子处方中心 7101–7109, 7201–7210 (docs/api/e-prescription.md)
- ``POST /api/online/channel/{authorise|pay|orders}`` — the insured in a channel app (signed as the
  channel, like ``/api/voucher/channel/*``)
- ``POST /api/online/his-sim/{fixmedins_code}/callback`` — the HIS simulator receiving 6302/7108/7109
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from yibao.online import (
    callbacks,
    channel,
    his_sim,
    rx_service,  # noqa: F401  (registers the 7xxx transactions)
)
from yibao.online.envelope import compact
from yibao.online.model import OnlineError
from yibao.online.service import MOBILE, PRESCRIPTION, Centre, handle
from yibao.voucher.api import channel_of

router = APIRouter(prefix="/api/online", tags=["online 线上结算"])


def centre_of_app(app: Any) -> Centre:
    """The app's centres (created on first use; a test may install one with its own clock)."""
    centre: Centre | None = getattr(app.state, "online_centre", None)
    if centre is None:
        centre = Centre.from_env(app.state.engine)
        app.state.online_centre = centre
    return centre


def centre_of(request: Request) -> Centre:
    return centre_of_app(request.app)


def _base(request: Request) -> str:
    base = str(request.base_url).rstrip("/")
    request.app.state.online_base_url = base  # the sweeper's callbacks use it
    return base


async def _serve(request: Request, table: Any, infno: str) -> Response:
    centre, base, raw = centre_of(request), _base(request), await request.body()
    answer = await run_in_threadpool(handle, centre, table, infno, raw, base)
    task = None
    if answer.paid_order:
        task = BackgroundTask(callbacks.notify, centre.engine, answer.paid_order, base)
    elif answer.rx_callback[0]:
        task = BackgroundTask(callbacks.notify_rx, centre.engine, *answer.rx_callback, base)
    return Response(answer.body, answer.status, media_type="application/json", background=task)


@router.post("/mpc/{infno}")
async def mobile_payment(request: Request, infno: str) -> Response:
    """移动支付中心: the envelope in, the envelope out."""
    return await _serve(request, MOBILE, infno)


@router.post("/epc/{infno}")
async def e_prescription(request: Request, infno: str) -> Response:
    """电子处方中心: the envelope in, the envelope out."""
    return await _serve(request, PRESCRIPTION, infno)


class ChannelIn(BaseModel):
    chnlUserId: str
    payOrdId: str = ""
    payAuthNo: str = ""


def _ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "成功", "data": data}


def _refused(exc: OnlineError) -> JSONResponse:
    return JSONResponse({"code": -1, "message": f"{exc.field}: {exc.rule}"}, 400)


@router.post("/channel/{action}")
async def channel_call(
    request: Request, action: str, body: ChannelIn, chnl_id: str = Depends(channel_of)
) -> Any:
    """The insured in the channel app: ``authorise`` an order (→ payAuthNo), ``pay`` it in the
    cashier (cash, then 医保), list their ``orders``."""
    centre, base = centre_of(request), _base(request)
    try:
        out = await run_in_threadpool(
            channel.act, centre, action, chnl_id, body.chnlUserId, body.payOrdId, body.payAuthNo
        )
    except OnlineError as exc:
        return _refused(exc)
    task = None
    if action == "pay" and out.get("ordStas") == "4":
        task = BackgroundTask(callbacks.notify, centre.engine, body.payOrdId, base)
    raw = compact(_ok(out)).encode()  # amounts are decimals: written as the numbers they spell
    return Response(raw, media_type="application/json", background=task)


@router.post("/his-sim/{fixmedins_code}/callback")
async def his_callback(request: Request, fixmedins_code: str) -> Any:
    """The HIS simulator's callback receiver (demo institutions only): verifies the platform's
    signature, keeps the callback, answers ``{success, message}``."""
    raw = await request.body()
    ok, message = await run_in_threadpool(
        his_sim.receive, request.app.state.engine, fixmedins_code, raw
    )
    return JSONResponse({"success": ok, "message": message}, 200 if ok else 400)

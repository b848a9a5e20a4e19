"""What the e-voucher API's three faces share (电子凭证接口公共部分): the error answer
(:class:`EcRoute`), the app's :class:`VoucherService`, other provinces (through the hub, as the app
wires it), channel-signature authentication and the success envelope."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Coroutine
from typing import Any

import segno
from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from yibao.http.institution import (
    InstitutionAuthError,
)
from yibao.http.staff import StaffAuthError
from yibao.voucher.model import EcError
from yibao.voucher.ports import THIS_PROVINCE_ONLY, OtherProvinces
from yibao.voucher.service import VoucherService


class EcRoute(APIRoute):
    """Turns :class:`EcError` (also from dependencies) into the error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except EcError as e:
                return JSONResponse(
                    {"code": e.code, "error": e.key, "message": e.message}, e.http_status
                )
            except InstitutionAuthError as e:
                return JSONResponse(
                    {"code": e.code, "error": e.key, "message": e.message}, e.status
                )
            except StaffAuthError as e:
                return JSONResponse(
                    {"code": e.status, "error": e.key, "message": e.message}, e.status
                )

        return wrapped


def service_of(request: Request) -> VoucherService:
    """The app's VoucherService (created once per app over its engine)."""
    svc: VoucherService | None = getattr(request.app.state, "voucher_service", None)
    if svc is None:
        svc = VoucherService(request.app.state.engine)
        request.app.state.voucher_service = svc
    return svc


def elsewhere_of(request: Request) -> OtherProvinces:
    """Other provinces' codes and tokens (through the hub, as the app wires it)."""
    got: OtherProvinces = getattr(request.app.state, "voucher_elsewhere", THIS_PROVINCE_ONLY)
    return got


async def channel_of(
    request: Request,
    chnl_id: str = Header("", alias="X-Yibao-Channel"),
    timestamp: str = Header("", alias="X-Yibao-Timestamp"),
    nonce: str = Header("", alias="X-Yibao-Nonce"),
    signature: str = Header("", alias="X-Yibao-Signature"),
) -> str:
    """Authenticate a channel call; return the channel id."""
    if not (chnl_id and timestamp and nonce and signature):
        raise EcError("EC_AUTH_MISSING")
    body = await request.body()
    svc = service_of(request)
    await run_in_threadpool(
        svc.authenticate_channel,
        chnl_id,
        request.method,
        request.url.path,
        timestamp,
        nonce,
        body,
        signature,
    )
    return chnl_id


def ok(data: object) -> dict[str, object]:
    return {"code": 0, "message": "成功", "data": data}


def qr_image(code: str, kind: str) -> str:
    """SVG text, or PNG as base64, of a QR code (segno, error level M)."""
    qr = segno.make(code, error="m")
    buf = io.BytesIO()
    if kind == "svg":
        qr.save(buf, kind="svg", scale=4, border=2, xmldecl=False)
        return buf.getvalue().decode()
    qr.save(buf, kind="png", scale=6, border=2)
    return base64.b64encode(buf.getvalue()).decode()

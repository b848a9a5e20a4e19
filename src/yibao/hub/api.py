"""Cross-province relay HTTP (跨省中转). Every call is signed by the calling node
(``X-Yibao-Hub-Node``, ``X-Yibao-Hub-Timestamp``, ``X-Yibao-Hub-Signature``; see
:func:`yibao.hub.model.signature`) with the network's ``YIBAO_HUB_SECRET``; unset: HTTP 404
(the deployment takes no part in the relay: for it the routes are not there, not broken).

Hub role (``YIBAO_HUB_PEERS`` set):
  POST /api/hub/relay/settle · POST /api/hub/relay/reverse · GET /api/hub/relay/{relay_id}
  POST /api/hub/relay/price (预结算 dry run) · POST /api/hub/relay/person
  POST /api/hub/relay/ec-query (a scanned 医保码 to the province that issued it)
  POST /api/hub/clearing/report · GET /api/hub/clearing/{period}/{province}
Insured-side role (any deployment):
  POST /api/hub/insured/settle · POST /api/hub/insured/reverse · POST /api/hub/insured/price
  POST /api/hub/insured/person · POST /api/hub/insured/ec-query
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from yibao.hub import insured, service
from yibao.hub.model import HEADER_NODE, HEADER_SIG, HEADER_TIME, signature_ok
from yibao.hub.settings import HubSettings

router = APIRouter(prefix="/api/hub", tags=["hub 跨省中转"])


def _cfg(request: Request) -> HubSettings:
    cfg: HubSettings | None = getattr(request.app.state, "hub_settings", None)
    if cfg is None:
        cfg = HubSettings()
        request.app.state.hub_settings = cfg
    return cfg


def _err(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": status * 10, "message": message, **extra}, status)


async def _signed(request: Request) -> tuple[HubSettings, str, dict[str, Any]] | JSONResponse:
    cfg = _cfg(request)
    if not cfg.secret:
        return _err(404, "本平台未启用跨省中转（未配置 YIBAO_HUB_SECRET）")
    body = await request.body()
    ok = signature_ok(
        cfg.secret, request.method, request.url.path, request.headers.get(HEADER_TIME, ""), body,
        request.headers.get(HEADER_SIG, ""), int(time.time()),
    )  # fmt: skip
    if not ok:
        return _err(401, "签名无效或已过期 (X-Yibao-Hub-Signature)")
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return _err(422, "请求体须为 JSON")
    if not isinstance(payload, dict):
        return _err(422, "请求体须为 JSON 对象")
    return cfg, request.headers.get(HEADER_NODE, ""), payload


async def _relay(request: Request, hop: Callable[..., Any]) -> Any:
    """A signed relay request (中转) handed to ``hop`` (settle or reverse) off the event loop."""
    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    cfg, node, payload = got
    try:
        return await run_in_threadpool(
            hop, request.app.state.engine, payload, from_node=node, cfg=cfg
        )
    except service.HubError as e:
        return _err(e.status, e.message, **e.extra)


@router.post("/relay/settle")
async def relay_settle(request: Request) -> Any:
    return await _relay(request, service.relay_settle)


@router.post("/relay/reverse")
async def relay_reverse(request: Request) -> Any:
    return await _relay(request, service.relay_reverse)


@router.post("/relay/price")
async def relay_price(request: Request) -> Any:
    """预结算: forwarded to the insured province, nothing stored (safe to repeat)."""
    return await _relay(request, service.relay_price)


@router.post("/relay/ec-query")
async def relay_ec_query(request: Request) -> Any:
    """A scanned e-voucher code, forwarded to the province that issued it."""
    return await _relay(request, service.relay_ec_query)


@router.get("/relay/{relay_id}")
async def relay_record(relay_id: str, request: Request) -> Any:
    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    rec = await run_in_threadpool(service.relay_record, request.app.state.engine, relay_id)
    return rec if rec is not None else _err(404, f"relay_id {relay_id} 不存在")


@router.post("/clearing/report")
async def clearing_report(request: Request) -> Any:
    """A province's monthly figures per direction ``"42->44"``: ``{count, clearing_amt}``."""
    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    _, _, p = got
    try:
        return await run_in_threadpool(
            service.report_clearing, request.app.state.engine, str(p.get("period", "")),
            str(p.get("province", "")), dict(p.get("figures") or {}),
        )  # fmt: skip
    except service.HubError as e:
        return _err(e.status, e.message)
    except ValueError as e:
        return _err(422, str(e))


@router.get("/clearing/{period}/{province}")
async def clearing_statement(period: str, province: str, request: Request) -> Any:
    """The hub's inter-province statement of ``period`` for ``province`` (省间清算单)."""
    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    try:
        return await run_in_threadpool(
            service.clearing_statement, request.app.state.engine, period, province
        )
    except service.HubError as e:
        return _err(e.status, e.message)


async def _insured(
    request: Request,
    answer: Callable[[sa.Connection, HubSettings, str, dict[str, Any]], Any],
    *,
    read_only: bool = False,
) -> Any:
    """A signed call of the insured-side role, answered in one transaction off the event loop
    (``read_only``: a READ ONLY transaction that is rolled back, for the dry run)."""
    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    cfg, node, payload = got

    def run() -> Any:
        if not read_only:
            with request.app.state.engine.begin() as conn:
                return answer(conn, cfg, node, payload)
        with insured.dry_run(request.app.state.engine) as conn:
            return answer(conn, cfg, node, payload)

    try:
        return await run_in_threadpool(run)
    except insured.Conflict as e:
        return _err(409, str(e))


@router.post("/insured/settle")
async def insured_settle(request: Request) -> Any:
    return await _insured(
        request, lambda conn, cfg, _, payload: insured.settle(conn, payload, province=cfg.province)
    )


def _reverse(conn: sa.Connection, payload: dict[str, Any]) -> Any:
    relay_id = str(payload.get("relay_id", ""))
    if not relay_id:
        return _err(422, "relay_id: 必填")
    return insured.reverse(conn, relay_id)


@router.post("/insured/reverse")
async def insured_reverse(request: Request) -> Any:
    return await _insured(request, lambda conn, _, __, payload: _reverse(conn, payload))


@router.post("/relay/person")
async def relay_person(request: Request) -> Any:
    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    cfg, _, payload = got
    try:
        return await run_in_threadpool(
            service.relay_person, request.app.state.engine, payload, cfg=cfg
        )
    except service.HubError as e:
        return _err(e.status, e.message)


@router.post("/insured/person")
async def insured_person(request: Request) -> Any:
    return await _insured(
        request, lambda conn, _, node, payload: insured.person_info(conn, payload, node=node)
    )


@router.post("/insured/price")
async def insured_price(request: Request) -> Any:
    """预结算 on the insured side, in a READ ONLY transaction that is rolled back."""
    return await _insured(
        request,
        lambda conn, cfg, _, payload: insured.price(conn, payload, province=cfg.province),
        read_only=True,
    )


@router.post("/insured/ec-query")
async def insured_ec_query(request: Request) -> Any:
    """A code this province issued, scanned at an institution elsewhere (ec.query)."""
    from yibao.voucher.api import service_of

    got = await _signed(request)
    if isinstance(got, JSONResponse):
        return got
    cfg, _, payload = got
    svc = service_of(request)
    return await run_in_threadpool(insured.ec_query, svc, payload, province=cfg.province)

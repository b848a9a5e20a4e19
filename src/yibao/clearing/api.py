"""Clearing admin API (异地清算, bureau staff): run a month, read, confirm, approve, send back, export.

Callers are signed-in console users (:mod:`yibao.http.staff`: session cookie, CSRF header on
writes, role and region scope); the actor of every step is the signed-in username, so confirm
and approve must come from two different real users. Reading needs 查看清算单, every write
办理异地清算 and one of the pair's regions in the user's scope; an inter-province statement
(省间清算) is handled by a province administrator only, a run of all pairs needs the whole province.
The province's monthly report to the cross-province hub (省间清算核对, ``/hub/report``) is sent
by a province administrator; the hub's inter-province statement (``/hub/statement``) is read by
any whole-province user with 查看清算单. Answers ``{"code": 0, "message": "成功", "data": …}``; a refusal is HTTP 409
(state) or 422 (input) with ``{"code": …, "error": "CLEARING_RULE", "field": …, "message": 中文}``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from yibao.clearing import service
from yibao.clearing.export import statement_xlsx
from yibao.clearing.model import ClearingError, period_bounds
from yibao.clearing.ports import NO_HUB, HubUnavailable, ProvinceHub
from yibao.console.model import Role
from yibao.encounter.service import business_day
from yibao.http.staff import Capability, Staff, StaffAuthError, forbidden, staff_of


class _StaffRoute(APIRoute):
    """Turns a refused staff call (401/403) into ``{"error", "field", "message"}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except StaffAuthError as e:
                return JSONResponse({"error": e.key, "field": "", "message": e.message}, e.status)

        return wrapped


router = APIRouter(
    prefix="/api/clearing/admin", tags=["clearing 异地清算"], route_class=_StaffRoute
)


def _allow_pair(staff: Staff, pair: tuple[str, str], *, write: bool) -> None:
    """Role and region check for one statement's pair of regions (清算双方)."""
    staff.require(Capability.CLEARING_WRITE if write else Capability.CLEARING_READ)
    a, b = pair
    if write and a[:2] != b[:2] and staff.principal.role is not Role.PROVINCE_ADMIN:
        raise forbidden(f"省间清算（{a}↔{b}）须由省级管理员办理")
    staff.require_any_region([a, b], f"清算双方 {a}、{b} ")


def _allow_statement(conn: Any, staff: Staff, stmt_id: str, *, write: bool) -> None:
    _allow_pair(staff, service.get(conn, stmt_id).pair, write=write)


def _ok(data: object) -> dict[str, object]:
    return {"code": 0, "message": "成功", "data": data}


def _error(e: ClearingError) -> JSONResponse:
    status = 409 if e.field in ("state", "operator", "version") else 422
    if e.field == "stmt_id":
        status = 404
    return JSONResponse(
        {"code": status * 10, "error": "CLEARING_RULE", "field": e.field, "message": e.message},
        status,
    )


class RunIn(BaseModel):
    month: str
    pair: list[str] | None = None


class ConfirmIn(BaseModel):
    version: int | None = None


class SendBackIn(BaseModel):
    reason: str


@router.post("/runs")
def run_month(body: RunIn, request: Request, staff: Staff = Depends(staff_of)) -> Any:
    """Build the month's statements (all pairs, or ``pair``: two region codes)."""
    try:
        pair = None
        if body.pair is not None:
            if len(body.pair) != 2:
                raise ClearingError("pair", "pair 须为两个医保区划代码")
            pair = (body.pair[0], body.pair[1])
            _allow_pair(staff, pair, write=True)
        else:
            staff.require(Capability.CLEARING_WRITE)
            if not staff.scope.whole_province:
                raise forbidden("生成全部地区的清算单须由省级管理员办理，请指定 pair")
        with request.app.state.engine.begin() as conn:
            stmts = service.run(conn, body.month, actor=staff.actor, pair=pair)
    except ClearingError as e:
        return _error(e)
    return _ok([s.to_json() for s in stmts])


@router.get("/statements")
def list_statements(
    request: Request, month: str | None = None, staff: Staff = Depends(staff_of)
) -> Any:
    staff.require(Capability.CLEARING_READ)
    try:
        with request.app.state.engine.connect() as conn:
            stmts = service.statements(conn, month)
        return _ok([s.to_json() for s in stmts if staff.scope.allows_any_region(*s.pair)])
    except ClearingError as e:
        return _error(e)


@router.get("/statements/{stmt_id}")
def show(stmt_id: str, request: Request, staff: Staff = Depends(staff_of)) -> Any:
    try:
        with request.app.state.engine.connect() as conn:
            _allow_statement(conn, staff, stmt_id, write=False)
            stmt = service.get(conn, stmt_id)
            # the lines name persons (psn_no): an analyst sees the statement's totals only
            rows = service.lines(conn, stmt_id) if staff.scope.person_data else None
    except ClearingError as e:
        return _error(e)
    if rows is None:
        return _ok(stmt.to_json())
    return _ok(
        {
            **stmt.to_json(),
            "lines": [{**asdict(ln), "setl_date": ln.setl_date.isoformat()} for ln in rows],
        }
    )


@router.post("/statements/{stmt_id}/confirm")
def confirm(
    stmt_id: str,
    request: Request,
    body: ConfirmIn | None = None,
    staff: Staff = Depends(staff_of),
) -> Any:
    try:
        with request.app.state.engine.begin() as conn:
            _allow_statement(conn, staff, stmt_id, write=True)
            s = service.confirm(
                conn, stmt_id, actor=staff.actor, version=body.version if body else None
            )
    except ClearingError as e:
        return _error(e)
    return _ok(s.to_json())


@router.post("/statements/{stmt_id}/approve")
def approve(stmt_id: str, request: Request, staff: Staff = Depends(staff_of)) -> Any:
    try:
        with request.app.state.engine.begin() as conn:
            _allow_statement(conn, staff, stmt_id, write=True)
            s = service.approve(
                conn, stmt_id, actor=staff.actor, today=business_day(datetime.now(UTC))
            )
    except ClearingError as e:
        return _error(e)
    return _ok(s.to_json())


@router.post("/statements/{stmt_id}/send-back")
def send_back(
    stmt_id: str,
    body: SendBackIn,
    request: Request,
    staff: Staff = Depends(staff_of),
) -> Any:
    try:
        with request.app.state.engine.begin() as conn:
            _allow_statement(conn, staff, stmt_id, write=True)
            s = service.send_back(conn, stmt_id, actor=staff.actor, reason=body.reason)
    except ClearingError as e:
        return _error(e)
    return _ok(s.to_json())


@router.get("/statements/{stmt_id}/xlsx")
def export(stmt_id: str, request: Request, staff: Staff = Depends(staff_of)) -> Any:
    try:
        with request.app.state.engine.connect() as conn:
            _allow_statement(conn, staff, stmt_id, write=False)
            if not staff.scope.person_data:
                raise forbidden("清算单明细含参保人信息：政策分析员只能查看清算单汇总")
            content = statement_xlsx(service.get(conn, stmt_id), service.lines(conn, stmt_id))
    except ClearingError as e:
        return _error(e)
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stmt_id}.xlsx"'},
    )


# ---- cross-province hub (跨省中转): the month's report and the hub's statement --------------


class HubReportIn(BaseModel):
    month: str


def _hub_error(e: Exception) -> JSONResponse:
    message = getattr(e, "message", str(e))
    return JSONResponse(
        {"code": 5020, "error": "HUB_UNAVAILABLE", "field": "", "message": message}, 502
    )


def _allow_hub(staff: Staff, *, write: bool) -> None:
    staff.require(Capability.CLEARING_WRITE if write else Capability.CLEARING_READ)
    if write and staff.principal.role is not Role.PROVINCE_ADMIN:
        raise forbidden("向跨省中转平台报送省间清算数据须由省级管理员办理")
    if not staff.scope.whole_province:
        raise forbidden("省间清算核对涉及全省，须由省级用户查看")


def hub_of(request: Request) -> ProvinceHub:
    """The cross-province hub (as the app wires it)."""
    got: ProvinceHub = getattr(request.app.state, "clearing_hub", NO_HUB)
    return got


@router.post("/hub/report")
def hub_report(
    body: HubReportIn,
    request: Request,
    staff: Staff = Depends(staff_of),
    hub: ProvinceHub = Depends(hub_of),
) -> Any:
    """Send this province's cross-province figures of ``month`` (from its clearing statements:
    run them first) to the hub; the answer says per direction whether the hub agrees."""
    _allow_hub(staff, write=True)
    try:
        period_bounds(body.month)
        with request.app.state.engine.connect() as conn:
            answer = hub.report(conn, body.month)
        with request.app.state.engine.begin() as conn:
            service.record_hub_report(conn, body.month, actor=staff.actor, answer=answer)
    except ClearingError as e:
        return _error(e)
    except HubUnavailable as e:
        return _hub_error(e)
    return _ok(answer)


@router.get("/hub/statement")
def hub_statement(
    month: str, staff: Staff = Depends(staff_of), hub: ProvinceHub = Depends(hub_of)
) -> Any:
    """The hub's inter-province statement of ``month`` for this province: per direction the
    hub's relay figures and both provinces' reports, per pair of provinces who pays whom."""
    _allow_hub(staff, write=False)
    try:
        period_bounds(month)
        return _ok(hub.statement(month))
    except ClearingError as e:
        return _error(e)
    except HubUnavailable as e:
        return _hub_error(e)

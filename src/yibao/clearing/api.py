"""Clearing admin API (异地清算, bureau staff): run a month, read, confirm, approve, send back, export.

Operators are named by the ``X-Yibao-Operator`` header (the interim scheme shared by the other
admin APIs; console sessions are the long-term plan). Confirm and approve must come from two
different operators. Answers ``{"code": 0, "message": "成功", "data": …}``; a refusal is HTTP 409
(state) or 422 (input) with ``{"code": …, "error": "CLEARING_RULE", "field": …, "message": 中文}``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from yibao.clearing import service
from yibao.clearing.export import statement_xlsx
from yibao.clearing.model import ClearingError
from yibao.encounter.service import business_day

router = APIRouter(prefix="/api/clearing/admin", tags=["clearing 异地清算"])


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
def run_month(
    body: RunIn, request: Request, operator: str = Header(alias="X-Yibao-Operator")
) -> Any:
    """Build the month's statements (all pairs, or ``pair``: two region codes)."""
    try:
        pair = None
        if body.pair is not None:
            if len(body.pair) != 2:
                raise ClearingError("pair", "pair 须为两个医保区划代码")
            pair = (body.pair[0], body.pair[1])
        with request.app.state.engine.begin() as conn:
            stmts = service.run(conn, body.month, actor=operator, pair=pair)
    except ClearingError as e:
        return _error(e)
    return _ok([s.to_json() for s in stmts])


@router.get("/statements")
def list_statements(request: Request, month: str | None = None) -> Any:
    try:
        with request.app.state.engine.connect() as conn:
            return _ok([s.to_json() for s in service.statements(conn, month)])
    except ClearingError as e:
        return _error(e)


@router.get("/statements/{stmt_id}")
def show(stmt_id: str, request: Request) -> Any:
    try:
        with request.app.state.engine.connect() as conn:
            stmt = service.get(conn, stmt_id)
            rows = service.lines(conn, stmt_id)
    except ClearingError as e:
        return _error(e)
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
    operator: str = Header(alias="X-Yibao-Operator"),
) -> Any:
    try:
        with request.app.state.engine.begin() as conn:
            s = service.confirm(
                conn, stmt_id, actor=operator, version=body.version if body else None
            )
    except ClearingError as e:
        return _error(e)
    return _ok(s.to_json())


@router.post("/statements/{stmt_id}/approve")
def approve(
    stmt_id: str, request: Request, operator: str = Header(alias="X-Yibao-Operator")
) -> Any:
    try:
        with request.app.state.engine.begin() as conn:
            s = service.approve(
                conn, stmt_id, actor=operator, today=business_day(datetime.now(UTC))
            )
    except ClearingError as e:
        return _error(e)
    return _ok(s.to_json())


@router.post("/statements/{stmt_id}/send-back")
def send_back(
    stmt_id: str,
    body: SendBackIn,
    request: Request,
    operator: str = Header(alias="X-Yibao-Operator"),
) -> Any:
    try:
        with request.app.state.engine.begin() as conn:
            s = service.send_back(conn, stmt_id, actor=operator, reason=body.reason)
    except ClearingError as e:
        return _error(e)
    return _ok(s.to_json())


@router.get("/statements/{stmt_id}/xlsx")
def export(stmt_id: str, request: Request) -> Any:
    try:
        with request.app.state.engine.connect() as conn:
            content = statement_xlsx(service.get(conn, stmt_id), service.lines(conn, stmt_id))
    except ClearingError as e:
        return _error(e)
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stmt_id}.xlsx"'},
    )

"""Filing HTTP API (异地就医备案): self-filing by the insured through a channel app, and a bureau view.

- ``/api/filing/channel/*`` — the insured through a channel app (国家医保服务平台 APP, WeChat …);
  every call is signed exactly like the e-voucher channel API (headers ``X-Yibao-Channel``,
  ``X-Yibao-Timestamp``, ``X-Yibao-Nonce``, ``X-Yibao-Signature``; docs/voucher.md), and
  ``chnlUserId`` must be authorised for an active e-voucher. A holder may file for a bound
  family member (``forPsnNo``).
- ``/api/filing/admin/*`` — bureau staff: a signed-in console user (:mod:`yibao.http.staff`)
  whose role may 查看异地就医备案 and whose region scope covers the person's insured region or
  the treatment region of one of the filings (401 without a session, 403 otherwise).

Answers are ``{"code": 0, "message": "成功", "data": …}``; a refused rule is HTTP 422 with
``{"code": 4220, "error": "FILING_RULE", "field": …, "message": <中文>}``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from yibao.encounter.service import business_day
from yibao.filing import service
from yibao.filing.model import TYPE_NAMES, FilingError, FilingType
from yibao.filing.service import FilingRow
from yibao.http.staff import Capability, StaffAuthError, staff_of
from yibao.voucher import queries as vouchers
from yibao.voucher.api import channel_of, ok, service_of
from yibao.voucher.model import EcError

router = APIRouter(prefix="/api/filing", tags=["filing 异地就医备案"])


def _now_day() -> date:
    return business_day(datetime.now(UTC))


def _error(e: FilingError) -> JSONResponse:
    return JSONResponse(
        {"code": 4220, "error": "FILING_RULE", "field": e.field, "message": e.message}, 422
    )


def _ec_error(e: EcError) -> JSONResponse:
    return JSONResponse({"code": e.code, "error": e.key, "message": e.message}, e.http_status)


def _person(request: Request, chnl: str, user: str, for_psn_no: str | None) -> str:
    with request.app.state.engine.connect() as conn:
        holder = vouchers.channel_holder(conn, chnl, user)
    if not for_psn_no or for_psn_no == holder:
        return holder
    family = service_of(request).family(chnl, user)
    if not any(m["psnNo"] == for_psn_no for m in family):
        raise FilingError("forPsnNo", f"{for_psn_no} 不是已绑定的家庭成员")
    return for_psn_no


class UserIn(BaseModel):
    chnlUserId: str
    forPsnNo: str | None = None


class FileIn(UserIn):
    requestId: str = Field(min_length=1, max_length=64, description="the app's id (idempotency)")
    filingType: str = Field(
        description="resettled|long_residence|resident_work|referral|temporary|emergency"
    )
    mdtrtareaAdmdvs: str = Field(description="备案就医地: city/county code, or province xx0000")
    begndate: date
    enddate: date | None = None
    reason: str = ""
    tel: str = ""
    addr: str = ""


class CancelIn(UserIn):
    filingId: str
    reason: str = ""


class EndIn(UserIn):
    filingId: str
    enddate: date


class StatusIn(UserIn):
    mdtrtareaAdmvs: str
    onDate: date
    emergency: bool = False


def _view(row: FilingRow) -> dict[str, Any]:
    out = row.to_json()
    if row.kind == "crossregion":
        out["filing_type_name"] = TYPE_NAMES[FilingType(row.filing_type)]
    return out


@router.post("/channel/filings")
def self_file(body: FileIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """The insured files for cross-region care (参保人自助备案); idempotent on ``requestId``."""
    try:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
        with request.app.state.engine.begin() as conn:
            row = service.file_crossregion(
                conn, psn_no=psn_no, mdtrtarea_admdvs=body.mdtrtareaAdmdvs,
                filing_type=body.filingType, begndate=body.begndate, enddate=body.enddate,
                source=f"mobile:{chnl}", request_id=body.requestId, today=_now_day(),
                filed_by=f"{chnl}/{body.chnlUserId}",
                detail={"reason": body.reason, "tel": body.tel, "addr": body.addr},
            )  # fmt: skip
    except FilingError as e:
        return _error(e)
    except EcError as e:
        return _ec_error(e)
    return ok(_view(row))


@router.post("/channel/filings/list")
def my_filings(body: UserIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """The person's filings (异地备案, 慢特病备案, 定点备案), oldest first."""
    try:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
    except FilingError as e:
        return _error(e)
    except EcError as e:
        return _ec_error(e)
    with request.app.state.engine.connect() as conn:
        return ok([_view(r) for r in service.filings_of(conn, psn_no)])


@router.post("/channel/filings/cancel")
def self_cancel(body: CancelIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """撤销 a filing not yet used by any settlement; idempotent."""
    try:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
        with request.app.state.engine.begin() as conn:
            row = service.cancel(
                conn, body.filingId, today=_now_day(), by=f"{chnl}/{body.chnlUserId}",
                reason=body.reason, psn_no=psn_no,
            )  # fmt: skip
    except FilingError as e:
        return _error(e)
    except EcError as e:
        return _ec_error(e)
    return ok(_view(row))


@router.post("/channel/filings/end")
def self_end(body: EndIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """终止 a cross-region filing on ``enddate`` (not before today or its last use)."""
    try:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
        with request.app.state.engine.begin() as conn:
            row = service.end(
                conn, body.filingId, body.enddate, today=_now_day(),
                by=f"{chnl}/{body.chnlUserId}", psn_no=psn_no,
            )  # fmt: skip
    except FilingError as e:
        return _error(e)
    except EcError as e:
        return _ec_error(e)
    return ok(_view(row))


@router.post("/channel/status")
def my_status(body: StatusIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """What a visit at ``mdtrtareaAdmvs`` on ``onDate`` would be settled as (备案状态)."""
    try:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
        with request.app.state.engine.connect() as conn:
            insuplc = service.insured_region(conn, psn_no, body.onDate)
            code = service.filing_status(
                conn, psn_no, insuplc, body.mdtrtareaAdmvs, body.onDate, body.emergency
            )
    except FilingError as e:
        return _error(e)
    except EcError as e:
        return _ec_error(e)
    return ok({"psn_no": psn_no, "insuplc_admdvs": insuplc, "filing": code})


@router.get("/admin/persons/{psn_no}/filings")
def person_filings(psn_no: str, request: Request) -> Any:
    """Bureau view of a person's filings (signed-in staff, region-scoped)."""
    try:
        staff = staff_of(request)
        staff.require(Capability.FILING_READ)
        with request.app.state.engine.connect() as conn:
            rows = service.filings_of(conn, psn_no)
            try:
                regions = [service.insured_region(conn, psn_no, _now_day())]
            except FilingError:
                regions = []
        regions += [r.mdtrtarea_admdvs for r in rows] + [r.insuplc_admdvs for r in rows]
        staff.require_any_region(regions, f"人员 {psn_no} 的参保地与备案就医地")
    except StaffAuthError as e:
        return JSONResponse({"error": e.key, "field": "", "message": e.message}, e.status)
    return ok([_view(r) for r in rows])

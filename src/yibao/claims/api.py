"""零星报销 channel API (参保人通过渠道申请): thin over :mod:`yibao.claims.service`.

``/api/claims/channel/*`` — signed exactly like the e-voucher channel API (``X-Yibao-Channel``,
``X-Yibao-Timestamp``, ``X-Yibao-Nonce``, ``X-Yibao-Signature``; docs/voucher.md); ``chnlUserId``
must be authorised for an active e-voucher, and a holder may apply for a bound family member
(``forPsnNo``). Files travel base64-encoded in the signed JSON body and are kept with their
SHA-256. Answers ``{"code": 0, "message": "成功", "data": …}``; a bad field is HTTP 422
``{"code": 4221, "error": "CLAIM_FIELD", "field", "message"}``; a refusal 409 ``CLAIM_REFUSED``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from yibao.claims import model as m
from yibao.claims import service
from yibao.claims.model import ClaimError, ClaimRefused
from yibao.voucher.api_common import EcRoute, channel_of, ok, service_of

router = APIRouter(prefix="/api/claims", tags=["claims 零星报销"], route_class=EcRoute)


class FileIn(BaseModel):
    kind: str = Field(description="invoice|fee_list|record|other")
    filename: str
    mediaType: str = "application/octet-stream"
    contentBase64: str


class PayeeIn(BaseModel):
    name: str
    bank: str
    account: str


class ApplyIn(BaseModel):
    chnlUserId: str
    requestId: str = Field(min_length=1, max_length=64, description="the app's id (idempotency)")
    forPsnNo: str | None = None
    insutype: str = Field(description="310 职工 / 390 居民")
    medType: str = Field(description="医疗类别, e.g. 11 普通门诊, 21 普通住院, 13 急诊")
    fixmedinsCode: str
    fixmedinsName: str = ""
    mdtrtareaAdmvs: str = ""
    hospLv: str = ""
    mdtrtId: str = Field("", description="the institution's visit id (4261 mdtrtId), if known")
    begndate: date
    enddate: date
    diseCodg: str = ""
    reason: str = Field(description="emergency|unfiled|network|selfpay|other")
    payee: PayeeIn
    feeList: list[dict[str, Any]]
    invoices: list[dict[str, Any]]
    files: list[FileIn]


class UserIn(BaseModel):
    chnlUserId: str
    forPsnNo: str | None = None


def _field(e: ClaimError) -> JSONResponse:
    return JSONResponse(
        {"code": 4221, "error": "CLAIM_FIELD", "field": e.field, "message": e.rule}, 422
    )


def _refused(e: ClaimRefused) -> JSONResponse:
    return JSONResponse({"code": 4091, "error": "CLAIM_REFUSED", "message": str(e)}, 409)


def _person(request: Request, chnl: str, user: str, for_psn_no: str | None) -> str:
    with request.app.state.engine.connect() as conn:
        holder = service.holder(conn, chnl, user)
    if not for_psn_no or for_psn_no == holder:
        return holder
    if not any(x["psnNo"] == for_psn_no for x in service_of(request).family(chnl, user)):
        raise ClaimError("forPsnNo", f"{for_psn_no} 不是已绑定的家庭成员")
    return for_psn_no


def _uploads(files: list[FileIn]) -> list[service.Upload]:
    out = []
    for i, f in enumerate(files):
        try:
            content = base64.b64decode(f.contentBase64, validate=True)
        except (binascii.Error, ValueError):
            raise ClaimError(f"files[{i}].contentBase64", "不是有效的 base64") from None
        out.append(service.Upload(f.kind, f.filename, f.mediaType, content))
    return out


def _summary(c: dict[str, Any]) -> dict[str, Any]:
    tl = service.time_limit_of(c, service.now().date())
    return {
        "claimNo": c["claim_no"], "status": c["status"], "statusName": m.STATE_LABELS[c["status"]],
        "feeTotal": f"{c['fee_total'] / 100:.2f}",
        "reimburseAmt": None if c["reimburse_amt"] is None else f"{c['reimburse_amt'] / 100:.2f}",
        "submittedAt": c["submitted_at"].isoformat(), "dueDate": c["due_date"].isoformat(),
        "timeLimitDays": tl.limit_days, "days": tl.days, "overdue": tl.overdue,
        "refuseReason": c["refuse_reason"] or None,
    }  # fmt: skip


@router.post("/channel/apply")
async def apply(body: ApplyIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """Apply for a 零星报销 (申请): fee list, invoices and files; idempotent on ``requestId``."""

    def run() -> dict[str, Any]:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
        a = service.Application(
            source=f"chnl:{chnl}", request_id=body.requestId, psn_no=psn_no, insutype=body.insutype,
            med_type=body.medType, fixmedins_code=body.fixmedinsCode, begndate=body.begndate,
            enddate=body.enddate, reason=body.reason, payee_name=body.payee.name,
            payee_bank=body.payee.bank, payee_account=body.payee.account, fee_rows=body.feeList,
            invoices=body.invoices, files=_uploads(body.files), fixmedins_name=body.fixmedinsName,
            mdtrtarea_admvs=body.mdtrtareaAdmvs, hosp_lv=body.hospLv, dise_codg=body.diseCodg,
            mdtrt_id=body.mdtrtId,
        )  # fmt: skip
        with request.app.state.engine.begin() as conn:
            no = service.apply(conn, a, service.now())
            c = service.get(conn, no)
        assert c is not None
        return _summary(c)

    try:
        return ok(await run_in_threadpool(run))
    except ClaimError as e:
        return _field(e)
    except ClaimRefused as e:
        return _refused(e)


@router.post("/channel/list")
async def mine(body: UserIn, request: Request, chnl: str = Depends(channel_of)) -> Any:
    """The person's claims with status and days against the time limit (办理进度)."""

    def run() -> list[dict[str, Any]]:
        psn_no = _person(request, chnl, body.chnlUserId, body.forPsnNo)
        with request.app.state.engine.connect() as conn:
            return [_summary(c) for c in service.listing(conn, prefixes=None, psn_no=psn_no)]

    try:
        return ok(await run_in_threadpool(run))
    except ClaimError as e:
        return _field(e)
    except ClaimRefused as e:
        return _refused(e)

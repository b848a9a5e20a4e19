"""E-voucher HTTP API (医保电子凭证接口): thin over :class:`VoucherService`.

Three faces:

- ``/api/voucher/channel/*`` — channel apps; every call is signed (headers ``X-Yibao-Channel``,
  ``X-Yibao-Timestamp``, ``X-Yibao-Nonce``, ``X-Yibao-Signature``; see ``docs/voucher.md``);
- ``/api/voucher/ec/*`` — institutions (HIS/POS): code exchange (like ``ec.query``/6101), identity
  (1101 output) by ecToken, token check, PIN-pad password verification; every call is signed with
  the institution's gateway credential (:mod:`yibao.http.institution`) and ``orgId`` must be
  the signing institution;
- ``/api/voucher/admin/*`` — bureau: channels, revocation, unlock, activation rates; a signed-in
  console user (:mod:`yibao.http.staff`), CSRF header on writes, region-scoped.

Answers are ``{"code": 0, "message": "成功", "data": …}``; errors ``{"code": <n>, "error": <key>,
"message": <中文>}`` with a 4xx status (codes in :data:`yibao.voucher.model.ERRORS`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Coroutine
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import segno
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from yibao.http.institution import (
    AuthenticatedInstitution,
    InstitutionAuthError,
    institution_of,
)
from yibao.http.staff import Capability, Staff, StaffAuthError, staff_of
from yibao.registry import service as registry
from yibao.voucher.model import EcError
from yibao.voucher.ports import THIS_PROVINCE_ONLY, OtherProvinces
from yibao.voucher.service import VoucherService


class _EcRoute(APIRoute):
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


CHINA_TZ = timezone(timedelta(hours=8))  # dates in requests are Beijing dates

router = APIRouter(prefix="/api/voucher", tags=["voucher 医保电子凭证"], route_class=_EcRoute)


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


# --- channel API ---------------------------------------------------------------------------


class ActivateIn(BaseModel):
    chnlUserId: str = Field(description="the channel's own user id (e.g. an openid)")
    userName: str
    idType: str = "01"
    idNo: str
    faceEvidence: str = Field(description="real-person evidence for the verifier")


class UserIn(BaseModel):
    chnlUserId: str


class RevokeIn(UserIn):
    scope: str = Field("channel", pattern="^(channel|voucher)$")


class CodeIn(UserIn):
    forPsnNo: str | None = None
    qr: str | None = Field(None, pattern="^(svg|png)$", description="also return the QR image")


class PasswordSetIn(UserIn):
    password: str


class PasswordChangeIn(UserIn):
    oldPassword: str
    newPassword: str


class PasswordResetIn(UserIn):
    userName: str
    idType: str = "01"
    idNo: str
    faceEvidence: str
    newPassword: str


class PasswordVerifyIn(UserIn):
    password: str
    ecToken: str = ""


class FamilyBindIn(UserIn):
    userName: str
    idType: str = "01"
    idNo: str
    relation: str
    consentBy: str = Field(pattern="^(dependent|guardian)$")
    faceEvidence: str


class FamilyUnbindIn(UserIn):
    psnNo: str


def qr_image(code: str, kind: str) -> str:
    """SVG text, or PNG as base64, of a QR code (segno, error level M)."""
    qr = segno.make(code, error="m")
    buf = io.BytesIO()
    if kind == "svg":
        qr.save(buf, kind="svg", scale=4, border=2, xmldecl=False)
        return buf.getvalue().decode()
    qr.save(buf, kind="png", scale=6, border=2)
    return base64.b64encode(buf.getvalue()).decode()


@router.post("/channel/activate")
def activate(
    body: ActivateIn, chnl: str = Depends(channel_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    return ok(
        svc.activate(
            chnl,
            body.chnlUserId,
            psn_name=body.userName,
            psn_cert_type=body.idType,
            certno=body.idNo,
            evidence=body.faceEvidence,
        )
    )


@router.post("/channel/revoke")
def revoke(
    body: RevokeIn, chnl: str = Depends(channel_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    svc.revoke_by_person(chnl, body.chnlUserId, scope=body.scope)
    return ok({"revoked": body.scope})


@router.post("/channel/code")
def code(
    body: CodeIn, chnl: str = Depends(channel_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    data = svc.issue_code(chnl, body.chnlUserId, for_psn_no=body.forPsnNo)
    if body.qr == "svg":
        data["qrSvg"] = qr_image(str(data["code"]), "svg")
    elif body.qr == "png":
        data["qrPngBase64"] = qr_image(str(data["code"]), "png")
    return ok(data)


@router.post("/channel/password/set")
def password_set(
    body: PasswordSetIn, chnl: str = Depends(channel_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    svc.set_password(chnl, body.chnlUserId, body.password)
    return ok({"set": True})


@router.post("/channel/password/change")
def password_change(
    body: PasswordChangeIn,
    chnl: str = Depends(channel_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    svc.change_password(chnl, body.chnlUserId, body.oldPassword, body.newPassword)
    return ok({"changed": True})


@router.post("/channel/password/reset")
def password_reset(
    body: PasswordResetIn,
    chnl: str = Depends(channel_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    svc.reset_password(
        chnl,
        body.chnlUserId,
        psn_name=body.userName,
        psn_cert_type=body.idType,
        certno=body.idNo,
        evidence=body.faceEvidence,
        new=body.newPassword,
    )
    return ok({"reset": True})


@router.post("/channel/password/verify")
def password_verify(
    body: PasswordVerifyIn,
    chnl: str = Depends(channel_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    return ok(
        svc.verify_password(chnl, body.chnlUserId, body.password, ec_token_value=body.ecToken)
    )


@router.post("/channel/family/bind")
def family_bind(
    body: FamilyBindIn, chnl: str = Depends(channel_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    return ok(
        svc.bind_family(
            chnl,
            body.chnlUserId,
            psn_name=body.userName,
            psn_cert_type=body.idType,
            certno=body.idNo,
            relation=body.relation,
            consent_by=body.consentBy,
            evidence=body.faceEvidence,
        )
    )


@router.post("/channel/family/unbind")
def family_unbind(
    body: FamilyUnbindIn,
    chnl: str = Depends(channel_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    svc.unbind_family(chnl, body.chnlUserId, body.psnNo)
    return ok({"unbound": body.psnNo})


@router.post("/channel/family/list")
def family_list(
    body: UserIn, chnl: str = Depends(channel_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    return ok(svc.family(chnl, body.chnlUserId))


# --- institution API -----------------------------------------------------------------------


class EcQueryData(BaseModel):
    qrCode: str = Field(description="the scanned QR content")
    orgId: str = ""
    businessType: str
    operatorId: str = ""
    operatorName: str = ""
    officeId: str = ""
    officeName: str = ""
    deviceType: str = ""
    outBizNo: str = ""


class EcQueryIn(BaseModel):
    """Envelope as the national SDK sends it: ``{"transType": "ec.query", "orgId", "data"}``."""

    transType: str = "ec.query"
    orgId: str
    data: EcQueryData


class TokenIn(BaseModel):
    ecToken: str
    orgId: str


class TokenPasswordIn(TokenIn):
    password: str


@router.post("/ec/query")
def ec_query(
    body: EcQueryIn,
    inst: AuthenticatedInstitution = Depends(institution_of),
    svc: VoucherService = Depends(service_of),
    elsewhere: OtherProvinces = Depends(elsewhere_of),
) -> dict[str, object]:
    """Exchange a scanned code for identity + ecToken (like ``ec.query`` / 6101)."""
    if body.transType not in ("ec.query", "cn.nhsa.qrcode.get"):
        raise EcError("EC_FIELD_INVALID", f"transType={body.transType}")
    d = body.data
    org_id = inst.require_org(body.orgId)
    inst.require_org(d.orgId, "data.orgId")
    region = elsewhere.issuing_region(d.qrCode)
    if region is not None:  # 跨省: issued by another province's Yibao, verified there
        query = d.model_dump(exclude={"deviceType"})
        return ok(elsewhere.exchange_elsewhere(region, {**query, "orgId": org_id}))
    return ok(
        svc.exchange(
            d.qrCode,
            org_id=org_id,
            business_type=d.businessType,
            operator_id=d.operatorId,
            operator_name=d.operatorName,
            office_id=d.officeId,
            office_name=d.officeName,
            out_biz_no=d.outBizNo,
        )
    )


@router.post("/ec/identity")
def ec_identity(
    body: TokenIn,
    inst: AuthenticatedInstitution = Depends(institution_of),
    svc: VoucherService = Depends(service_of),
    elsewhere: OtherProvinces = Depends(elsewhere_of),
) -> dict[str, object]:
    """1101-equivalent identity (baseinfo, insuinfo[], idetinfo[]) for the institution's ecToken."""
    org_id = inst.require_org(body.orgId)
    region = elsewhere.token_region(body.ecToken)
    if region is not None:  # 跨省: a token issued by another province's Yibao, resolved there
        today = datetime.now(CHINA_TZ).date()
        return ok(elsewhere.identity_elsewhere(region, body.ecToken, org_id, today))
    return ok(svc.identity_1101(body.ecToken, org_id))


@router.post("/ec/token-check")
def ec_token_check(
    body: TokenIn,
    inst: AuthenticatedInstitution = Depends(institution_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    """Like ``localEcTokenCheck``: ``flag`` 1 valid, 0 not."""
    valid = svc.check_token(body.ecToken, inst.require_org(body.orgId))
    return ok({"flag": "1" if valid else "0"})


@router.post("/ec/password/verify")
def ec_password_verify(
    body: TokenPasswordIn,
    inst: AuthenticatedInstitution = Depends(institution_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    org_id = inst.require_org(body.orgId)
    return ok(svc.verify_password_at_institution(body.ecToken, org_id, body.password))


@router.get("/qr")
def qr(
    code: str = Query(max_length=1024, description="the dynamic code (about 200 characters)"),
    fmt: str = Query("svg", alias="format", pattern="^(svg|png)$"),
) -> Response:
    """Render a code as an SVG or PNG image (for the web demo)."""
    if fmt == "svg":
        return Response(qr_image(code, "svg"), media_type="image/svg+xml")
    return Response(base64.b64decode(qr_image(code, "png")), media_type="image/png")


# --- bureau API ----------------------------------------------------------------------------


class ChannelIn(BaseModel):
    chnl_id: str
    name: str
    kind: str
    secret: str | None = None


class RevokeVoucherIn(BaseModel):
    reason: str


@router.post("/admin/channels")
def add_channel(
    body: ChannelIn,
    staff: Staff = Depends(staff_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    """Register a channel (province administrators); the answer carries its secret."""
    staff.require(Capability.CHANNEL_ADMIN)
    secret = svc.register_channel(
        body.chnl_id, body.name, body.kind, body.secret, actor=staff.actor
    )
    return ok({"chnl_id": body.chnl_id, "secret": secret})


@router.get("/admin/channels")
def list_channels(
    staff: Staff = Depends(staff_of), svc: VoucherService = Depends(service_of)
) -> dict[str, object]:
    staff.require(Capability.CHANNEL_READ)
    return ok(svc.channels())


def _reach_person(svc: VoucherService, staff: Staff, psn_no: str) -> None:
    """The bureau acts on a person only inside the user's regions (参保地)."""
    staff.require(Capability.VOUCHER_ADMIN)
    with svc.engine.connect() as conn:
        try:
            regions = registry.person_regions(conn, psn_no)
        except registry.PersonNotFound:
            raise EcError("EC_FIELD_INVALID", f"参保人{psn_no}不存在") from None
    staff.require_any_region(regions, f"参保人 {psn_no} 的参保地")


@router.post("/admin/vouchers/{psn_no}/revoke")
def bureau_revoke(
    psn_no: str,
    body: RevokeVoucherIn,
    staff: Staff = Depends(staff_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    _reach_person(svc, staff, psn_no)
    svc.revoke_by_bureau(psn_no, actor=staff.actor, reason=body.reason)
    return ok({"psnNo": psn_no, "status": "revoked"})


@router.post("/admin/passwords/{psn_no}/unlock")
def bureau_unlock(
    psn_no: str,
    staff: Staff = Depends(staff_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    _reach_person(svc, staff, psn_no)
    svc.unlock_password(psn_no, actor=staff.actor)
    return ok({"psnNo": psn_no, "unlocked": True})


@router.get("/admin/activation-rates")
def activation_rates(
    by: str = Query("region", pattern="^(region|town|unit|category|channel)$"),
    admdvs: str | None = None,
    until: date | None = Query(
        None, description="count activations before this date (default: now)"
    ),
    staff: Staff = Depends(staff_of),
    svc: VoucherService = Depends(service_of),
) -> dict[str, object]:
    """Activation rate (激活率) by region, town, unit, category or channel.

    Users who do not see the whole province get their own region unless ``admdvs`` names one
    inside their scope.
    """
    staff.require(Capability.STATS_READ)
    admdvs = staff.default_admdvs(admdvs)
    end = datetime.combine(until, time.min, tzinfo=CHINA_TZ) if until else None
    return ok(svc.activation_rates(by, admdvs=admdvs, until=end))

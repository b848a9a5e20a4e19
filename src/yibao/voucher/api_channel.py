"""E-voucher channel API (渠道接口, ``/api/voucher/channel/*``): activation, revocation, dynamic
codes, payment passwords and family binding for channel apps; every call is signed by the channel
(:func:`~yibao.voucher.api_common.channel_of`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from yibao.voucher.api_common import EcRoute, channel_of, ok, qr_image, service_of
from yibao.voucher.service import VoucherService

router = APIRouter(route_class=EcRoute)  # included by yibao.voucher.api (its prefix, tags)


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

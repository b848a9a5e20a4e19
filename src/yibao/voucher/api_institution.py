"""E-voucher institution API (定点机构接口, ``/api/voucher/ec/*`` and ``/qr``): code exchange
(``ec.query``/6101), identity (1101 output) by ecToken, token check and PIN-pad password
verification; every call signed with the institution's gateway credential and ``orgId`` its own.
A code or token of another province is resolved there (:mod:`yibao.voucher.ports`)."""

from __future__ import annotations

import base64
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from yibao.clock import CHINA as CHINA_TZ
from yibao.http.institution import (
    AuthenticatedInstitution,
    institution_of,
)
from yibao.voucher.api_common import EcRoute, elsewhere_of, ok, qr_image, service_of
from yibao.voucher.model import EcError
from yibao.voucher.ports import OtherProvinces
from yibao.voucher.service import VoucherService

router = APIRouter(route_class=EcRoute)  # included by yibao.voucher.api (its prefix, tags)


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

"""E-voucher bureau API (经办接口, ``/api/voucher/admin/*``): channels, revocation, password unlock
and activation rates, for signed-in console users inside their regions."""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from yibao.clock import CHINA as CHINA_TZ
from yibao.http.staff import Capability, Staff, staff_of
from yibao.registry import service as registry
from yibao.voucher.api_common import EcRoute, ok, service_of
from yibao.voucher.model import EcError
from yibao.voucher.service import VoucherService

router = APIRouter(route_class=EcRoute)  # included by yibao.voucher.api (its prefix, tags)


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

"""Registry HTTP API (参保登记接口) for bureau staff: thin over :mod:`yibao.registry.service`.

Every call needs a signed-in console user (:mod:`yibao.http.staff`: session cookie, and the
``X-CSRF-Token`` header on writes). The role decides what may be done, the user's region which
persons are reached: a person belongs to the regions of their enrolments (参保地), or to the
region prefixing their ``psn_no`` while not yet enrolled. Full certificate numbers (1101 output,
reveal) are for administrators only, with a reason where asked, and audited under the user's name.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from yibao.clock import CHINA
from yibao.http.deps import engine_of
from yibao.http.staff import Capability, Staff, out_of_scope, staff_of
from yibao.registry import accounts, service
from yibao.registry.api_bulk import router as bulk_router
from yibao.registry.api_errors import RegistryRoute
from yibao.registry.model import AssistanceIdentity, Enrolment

router = APIRouter(prefix="/api/registry", tags=["registry 参保登记"], route_class=RegistryRoute)


def reach_person(conn: Connection, staff: Staff, psn_no: str, cap: Capability) -> None:
    """Refuse unless the role has ``cap`` and the person is inside the user's regions."""
    staff.require(cap)
    staff.require_any_region(service.person_regions(conn, psn_no), f"参保人 {psn_no} 的参保地")


class PersonIn(BaseModel):
    psn_cert_type: str = Field(examples=["01"])
    certno: str
    psn_name: str
    gend: str
    brdy: date
    admdvs: str = Field(description="6-digit region prefixing a new psn_no")
    naty: str = ""
    tel: str = ""
    town: str = ""


class EnrolmentIn(BaseModel):
    insutype: str
    psn_insu_stas: str = "1"
    psn_insu_date: date
    paus_insu_date: date | None = None
    psn_type: str
    insuplc_admdvs: str
    emp_no: str = ""
    emp_name: str = ""
    flxempe_flag: bool = False
    cvlserv_flag: bool = False
    pool_only: bool = False  # 单建统筹 (employee insurance without a personal account)


class IdentityIn(BaseModel):
    psn_idet_type: str
    begntime: date
    endtime: date | None = None
    psn_type_lv: str = ""
    memo: str = ""


class HouseholdIn(BaseModel):
    hh_no: str
    admdvs: str
    head_psn_no: str


class MemberIn(BaseModel):
    psn_no: str
    relation: str
    gongji: bool = False


@router.post("/persons")
def register_person(
    body: PersonIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, str]:
    staff.require(Capability.PERSON_WRITE)
    staff.require_region(body.admdvs)
    with engine.begin() as conn:
        psn_no = service.register_person(conn, **body.model_dump())
        service.record(conn, staff.actor, "registry.person.register", psn_no, admdvs=body.admdvs)
        return {"psn_no": psn_no}


def _find(conn: Connection, staff: Staff, psn_cert_type: str, certno: str) -> dict[str, object]:
    """Find by certificate: a full view in scope, or the counter's minimal view (窗口核验)."""
    if not (staff.can(Capability.PERSON_READ) or staff.can(Capability.PERSON_LOOKUP)):
        staff.require(Capability.PERSON_READ)
    psn_no = service.find_psn_no_by_cert(conn, psn_cert_type, certno)
    if psn_no is None:
        raise service.PersonNotFound("证件号码")
    regions = service.person_regions(conn, psn_no)
    if staff.can(Capability.PERSON_READ) and any(staff.allows_region(r) for r in regions):
        return service.person_view(conn, psn_no)
    if not staff.can(Capability.PERSON_LOOKUP) or staff.principal.fixmedins_code is None:
        raise out_of_scope(f"参保人 {psn_no} 的参保地")
    view = service.person_view(conn, psn_no)
    service.record(conn, staff.actor, "registry.person.lookup", psn_no, org=staff.principal.fixmedins_code)
    keep = ("psn_no", "psn_cert_type", "certno", "psn_name", "gend", "brdy")
    insuinfo = view["insuinfo"]
    assert isinstance(insuinfo, list)
    return {
        **{k: view[k] for k in keep},
        "insuinfo": [
            {k: e[k] for k in ("insutype", "psn_insu_stas", "psn_type", "insuplc_admdvs")}
            for e in insuinfo
        ],
    }


@router.get("/persons")
def find_person(
    certno: str,
    psn_cert_type: str = "",
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, object]:
    with engine.begin() as conn:
        return _find(conn, staff, psn_cert_type, certno)


class CertIn(BaseModel):
    psn_cert_type: str = ""
    certno: str


@router.post("/persons/search")
def search_person(
    body: CertIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """Find by certificate without putting the number in the URL (access logs).

    Administrators and analysts get the person's (masked) record inside their regions; an
    institution operator gets the counter's minimal view of anyone (identity and enrolments),
    audited.
    """
    with engine.begin() as conn:
        return _find(conn, staff, body.psn_cert_type, body.certno)


@router.get("/persons/{psn_no}")
def get_person(
    psn_no: str, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    with engine.connect() as conn:
        reach_person(conn, staff, psn_no, Capability.PERSON_READ)
        return service.person_view(conn, psn_no)


@router.get("/persons/{psn_no}/account")
def account(
    psn_no: str, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """个人账户: balance and latest postings (fen)."""
    with engine.connect() as conn:
        reach_person(conn, staff, psn_no, Capability.PERSON_READ)
        return service.account_view(conn, psn_no)


class PostingIn(BaseModel):
    amount_fen: int = Field(description="positive credit (划入) or negative debit (支出), fen")
    ref: str = Field(min_length=1, max_length=64, description="caller's id; a retry is a no-op")
    memo: str = ""


@router.post("/persons/{psn_no}/account/postings")
def post_account(
    psn_no: str,
    body: PostingIn,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> JSONResponse:
    """Bureau credit/debit of a personal account (e.g. the yearly 划入); never below zero."""
    try:
        with engine.begin() as conn:
            reach_person(conn, staff, psn_no, Capability.ACCOUNT_POST)
            posting = accounts.post(conn, psn_no, body.amount_fen, ref=body.ref, memo=body.memo)
            service.record(
                conn,
                staff.actor,
                "registry.account.post",
                psn_no,
                ref=body.ref,
                amount=body.amount_fen,
            )
    except accounts.AccountError as e:
        return JSONResponse({"error": e.code, "field": "amount_fen", "message": str(e)}, 409)
    return JSONResponse(
        {
            "psn_no": psn_no,
            "ref": posting.ref,
            "amount_fen": posting.amount_fen,
            "balc": posting.balc_after_fen,
            "replayed": posting.replayed,
        }
    )


@router.get("/persons/{psn_no}/certno")
def reveal_certno(
    psn_no: str,
    reason: str = Query(description="why the full number is needed (审计事由)"),
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, str]:
    """The full certificate number (administrators only); audited with the user and reason."""
    if not reason.strip():
        raise service.RegistryError("REVEAL_DENIED", "查看完整证件号码须填写事由", "reason")
    with engine.begin() as conn:
        reach_person(conn, staff, psn_no, Capability.CERTNO_REVEAL)
        return {"certno": service.reveal_certno(conn, psn_no, actor=staff.actor, reason=reason)}


@router.post("/persons/{psn_no}/enrolments")
def enrol(
    psn_no: str,
    body: EnrolmentIn,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, str]:
    staff.require(Capability.PERSON_WRITE)
    staff.require_region(body.insuplc_admdvs, "参保地医保区划")
    with engine.begin() as conn:
        reach_person(conn, staff, psn_no, Capability.PERSON_WRITE)
        service.enrol(conn, psn_no, Enrolment(**body.model_dump()))
        service.record(conn, staff.actor, "registry.person.enrol", psn_no, insutype=body.insutype)
    return {"psn_no": psn_no, "insutype": body.insutype}


@router.post("/persons/{psn_no}/identities")
def add_identity(
    psn_no: str,
    body: IdentityIn,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, str]:
    with engine.begin() as conn:
        reach_person(conn, staff, psn_no, Capability.PERSON_WRITE)
        service.add_identity(conn, psn_no, AssistanceIdentity(**body.model_dump()))
        service.record(conn, staff.actor, "registry.person.identity", psn_no, type=body.psn_idet_type)
    return {"psn_no": psn_no, "psn_idet_type": body.psn_idet_type}


class CardIn(BaseModel):
    card_no: str = Field(description="社会保障卡卡号 (mdtrt_cert_no of mdtrt_cert_type 03)")
    card_sn: str = Field("", description="卡识别码 (card_sn)")


@router.post("/persons/{psn_no}/cards")
def issue_card(
    psn_no: str,
    body: CardIn,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, str]:
    """Register a social security card (社会保障卡) of the person, for mdtrt_cert_type 03."""
    with engine.begin() as conn:
        reach_person(conn, staff, psn_no, Capability.PERSON_WRITE)
        service.issue_card(conn, psn_no, body.card_no, body.card_sn)
        service.record(conn, staff.actor, "registry.card.issue", psn_no)
    return {"psn_no": psn_no, "card_no": body.card_no}


@router.post("/households")
def create_household(
    body: HouseholdIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, str]:
    staff.require_region(body.admdvs, "家庭所在医保区划")
    with engine.begin() as conn:
        reach_person(conn, staff, body.head_psn_no, Capability.PERSON_WRITE)
        service.create_household(conn, body.hh_no, body.admdvs, body.head_psn_no)
        service.record(conn, staff.actor, "registry.household.create", body.hh_no, admdvs=body.admdvs)
    return {"hh_no": body.hh_no}


@router.post("/households/{hh_no}/members")
def add_member(
    hh_no: str,
    body: MemberIn,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, str]:
    with engine.begin() as conn:
        hh_admdvs = service.household_region(conn, hh_no)
        if hh_admdvs is not None:
            staff.require_region(hh_admdvs, "家庭所在医保区划")
        reach_person(conn, staff, body.psn_no, Capability.PERSON_WRITE)
        service.add_household_member(conn, hh_no, body.psn_no, body.relation, gongji=body.gongji)
        service.record(conn, staff.actor, "registry.household.member", hh_no, psn_no=body.psn_no)
    return {"hh_no": hh_no, "psn_no": body.psn_no}


@router.get("/persons/{psn_no}/snapshot")
def snapshot(
    psn_no: str,
    insutype: str,
    on: date,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, object]:
    """The settlement read model as JSON (fen amounts)."""
    from dataclasses import asdict

    with engine.connect() as conn:
        reach_person(conn, staff, psn_no, Capability.PERSON_READ)
        return asdict(service.snapshot_for_settlement(conn, psn_no, insutype, on))


@router.get("/persons/{psn_no}/1101")
def info_1101(
    psn_no: str,
    on: date | None = None,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, object]:
    """The 1101 output (full certificate number): administrators only, audited."""
    with engine.begin() as conn:
        reach_person(conn, staff, psn_no, Capability.CERTNO_REVEAL)
        return service.person_info_1101(conn, psn_no, on or datetime.now(CHINA).date(), actor=staff.actor)


router.include_router(bulk_router)  # import and export (批量导入导出), registered last as before

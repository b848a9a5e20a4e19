"""Registry HTTP API (参保登记接口) for bureau staff: thin over :mod:`yibao.registry.service`.

Staff authentication belongs to the console; calls that disclose a full certificate number
require the ``X-Yibao-Operator`` header and a reason, and are audited.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.background import BackgroundTask

from yibao.api.app import engine_of
from yibao.db.tables import audit
from yibao.registry import accounts, bulk, rows, service
from yibao.registry.model import AssistanceIdentity, Enrolment, NotEnrolled


class _RegistryRoute(APIRoute):
    """Turns registry errors into ``{"error", "field", "message"}`` with a 4xx status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except service.PersonNotFound as e:
                return JSONResponse({"error": e.code, "field": e.field, "message": str(e)}, 404)
            except service.RegistryError as e:
                return JSONResponse({"error": e.code, "field": e.field, "message": str(e)}, 400)
            except NotEnrolled as e:
                return JSONResponse(
                    {"error": "NOT_ENROLLED", "field": "insutype", "message": str(e)}, 404
                )

        return wrapped


router = APIRouter(prefix="/api/registry", tags=["registry 参保登记"], route_class=_RegistryRoute)


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
def register_person(body: PersonIn, engine: Engine = Depends(engine_of)) -> dict[str, str]:
    with engine.begin() as conn:
        return {"psn_no": service.register_person(conn, **body.model_dump())}


@router.get("/persons")
def find_person(
    certno: str, psn_cert_type: str = "", engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    with engine.connect() as conn:
        psn_no = service.find_psn_no_by_cert(conn, psn_cert_type, certno)
        if psn_no is None:
            raise service.PersonNotFound("证件号码")
        return service.person_view(conn, psn_no)


class CertIn(BaseModel):
    psn_cert_type: str = ""
    certno: str


@router.post("/persons/search")
def search_person(body: CertIn, engine: Engine = Depends(engine_of)) -> dict[str, object]:
    """Find by certificate without putting the number in the URL (access logs)."""
    with engine.connect() as conn:
        psn_no = service.find_psn_no_by_cert(conn, body.psn_cert_type, body.certno)
        if psn_no is None:
            raise service.PersonNotFound("证件号码")
        return service.person_view(conn, psn_no)


@router.get("/persons/{psn_no}")
def get_person(psn_no: str, engine: Engine = Depends(engine_of)) -> dict[str, object]:
    with engine.connect() as conn:
        return service.person_view(conn, psn_no)


@router.get("/persons/{psn_no}/account")
def account(psn_no: str, engine: Engine = Depends(engine_of)) -> dict[str, object]:
    """个人账户: balance and latest postings (fen)."""
    with engine.connect() as conn:
        return service.account_view(conn, psn_no)


class PostingIn(BaseModel):
    amount_fen: int = Field(description="positive credit (划入) or negative debit (支出), fen")
    ref: str = Field(min_length=1, max_length=64, description="caller's id; a retry is a no-op")
    memo: str = ""


@router.post("/persons/{psn_no}/account/postings")
def post_account(
    psn_no: str,
    body: PostingIn,
    operator: str = Header(alias="X-Yibao-Operator"),
    engine: Engine = Depends(engine_of),
) -> JSONResponse:
    """Bureau credit/debit of a personal account (e.g. the yearly 划入); never below zero."""
    try:
        with engine.begin() as conn:
            service.person_view(conn, psn_no)  # 404 for an unknown person
            posting = accounts.post(conn, psn_no, body.amount_fen, ref=body.ref, memo=body.memo)
            audit(
                conn,
                operator,
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
    operator: str = Header(alias="X-Yibao-Operator"),
    engine: Engine = Depends(engine_of),
) -> dict[str, str]:
    with engine.begin() as conn:
        return {"certno": service.reveal_certno(conn, psn_no, actor=operator, reason=reason)}


@router.post("/persons/{psn_no}/enrolments")
def enrol(psn_no: str, body: EnrolmentIn, engine: Engine = Depends(engine_of)) -> dict[str, str]:
    with engine.begin() as conn:
        service.enrol(conn, psn_no, Enrolment(**body.model_dump()))
    return {"psn_no": psn_no, "insutype": body.insutype}


@router.post("/persons/{psn_no}/identities")
def add_identity(
    psn_no: str, body: IdentityIn, engine: Engine = Depends(engine_of)
) -> dict[str, str]:
    with engine.begin() as conn:
        service.add_identity(conn, psn_no, AssistanceIdentity(**body.model_dump()))
    return {"psn_no": psn_no, "psn_idet_type": body.psn_idet_type}


@router.post("/households")
def create_household(body: HouseholdIn, engine: Engine = Depends(engine_of)) -> dict[str, str]:
    with engine.begin() as conn:
        service.create_household(conn, body.hh_no, body.admdvs, body.head_psn_no)
    return {"hh_no": body.hh_no}


@router.post("/households/{hh_no}/members")
def add_member(hh_no: str, body: MemberIn, engine: Engine = Depends(engine_of)) -> dict[str, str]:
    with engine.begin() as conn:
        service.add_household_member(conn, hh_no, body.psn_no, body.relation, gongji=body.gongji)
    return {"hh_no": hh_no, "psn_no": body.psn_no}


@router.get("/persons/{psn_no}/snapshot")
def snapshot(
    psn_no: str, insutype: str, on: date, engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """The settlement read model as JSON (fen amounts)."""
    from dataclasses import asdict

    with engine.connect() as conn:
        return asdict(service.snapshot_for_settlement(conn, psn_no, insutype, on))


@router.get("/persons/{psn_no}/1101")
def info_1101(
    psn_no: str,
    on: date | None = None,
    operator: str = Header(alias="X-Yibao-Operator"),
    engine: Engine = Depends(engine_of),
) -> dict[str, object]:
    with engine.begin() as conn:
        return service.person_info_1101(conn, psn_no, on or date.today(), actor=operator)


@router.post("/import")
def import_file(
    file: UploadFile = File(...),
    skip_bad: bool = Form(False),
    operator: str = Header("api", alias="X-Yibao-Operator"),
    engine: Engine = Depends(engine_of),
) -> JSONResponse:
    """Import CSV/XLSX; 422 with every bad row (nothing written) unless ``skip_bad``."""
    data = file.file.read()
    checked = rows.check_rows(bulk.read_rows_bytes(file.filename or "upload.csv", data))
    try:
        with engine.begin() as conn:
            result = bulk.import_checked(
                conn, checked, skip_bad=skip_bad, actor=operator, source=file.filename or ""
            )
    except bulk.ImportRefused as e:
        return JSONResponse({"message": str(e), **e.result.as_dict()}, 422)
    return JSONResponse(result.as_dict())


@router.get("/export")
def export(
    fmt: str = Query("csv", alias="format", pattern="^(csv|xlsx)$"),
    admdvs: str | None = None,
    engine: Engine = Depends(engine_of),
) -> FileResponse:
    """Export persons × enrolments with masked certificate numbers."""
    tmp = Path(tempfile.mkdtemp()) / f"registry.{fmt}"
    bulk.export_file(engine, tmp, admdvs=admdvs)
    return FileResponse(
        tmp,
        filename=f"registry.{fmt}",
        background=BackgroundTask(shutil.rmtree, tmp.parent, ignore_errors=True),
    )

"""Funds HTTP API (缴费与基金接口) for bureau staff, thin over :mod:`yibao.funds.service`.

Signed-in console users only (:mod:`yibao.http.staff`; writes carry ``X-CSRF-Token``). The
analyst reads aggregates (``FUNDS_READ``); unit and person detail and every write are for the
bureau's administrators, inside their region. Amounts in answers are fen (integers); amounts
sent are yuan strings with at most two decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from yibao.clock import CHINA
from yibao.funds import query, service
from yibao.funds.model import FundsError, months_in, parse_period
from yibao.funds.taxfile import TaxFileError
from yibao.http.deps import engine_of
from yibao.http.staff import Capability, Staff, StaffAuthError, staff_of
from yibao.money import MoneyError, yuan_to_fen
from yibao.registry.service import PersonNotFound, person_regions


def _today() -> date:
    return datetime.now(CHINA).date()


class _FundsRoute(APIRoute):
    """Refusals as ``{"error", "field", "message"}`` (and ``errors`` for a refused file)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except StaffAuthError as e:
                return JSONResponse({"error": e.key, "field": "", "message": e.message}, e.status)
            except TaxFileError as e:
                errors = [{"line": x.line, "field": x.field, "reason": x.reason} for x in e.errors]
                body = {"error": "FILE_REFUSED", "field": "file", "message": str(e),
                        "errors": errors}  # fmt: skip
                return JSONResponse(body, 422)
            except FundsError as e:
                return JSONResponse({"error": e.code, "field": e.field, "message": str(e)}, 400)
            except PersonNotFound as e:
                return JSONResponse({"error": e.code, "field": e.field, "message": str(e)}, 404)
            except MoneyError as e:
                return JSONResponse({"error": "AMOUNT_INVALID", "field": "amount",
                                     "message": str(e)}, 400)  # fmt: skip

        return wrapped


router = APIRouter(prefix="/api/funds", tags=["funds 缴费与基金"], route_class=_FundsRoute)


def _region(staff: Staff, admdvs: str, cap: Capability) -> str:
    staff.require(cap)
    if not (len(admdvs) == 6 and admdvs.isascii() and admdvs.isdigit()):
        raise FundsError("ADMDVS_INVALID", f"医保区划应为6位数字，收到{admdvs[:20]!r}", "admdvs")
    staff.require_region(admdvs)
    return admdvs


class AssessIn(BaseModel):
    admdvs: str
    month: str = Field(examples=["2026-11"])
    to: str = ""


@router.post("/assess")
def assess(
    body: AssessIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> list[dict[str, object]]:
    """核定 one month or a range of months; a month already assessed adds nothing."""
    _region(staff, body.admdvs, Capability.FUNDS_WRITE)
    first = parse_period(body.month)
    last = parse_period(body.to) if body.to else first
    out = []
    for p in months_in(first, last):
        r = service.assess_month(engine, body.admdvs, p, actor=staff.actor)
        out.append(asdict(r))
    return out


class ResidentsIn(BaseModel):
    admdvs: str
    year: int
    on: date | None = None
    psn_no: str | None = None


@router.post("/residents/assess")
def assess_residents(
    body: ResidentsIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """居民医保 collection for a year, or one person's mid-year (资助) enrolment."""
    _region(staff, body.admdvs, Capability.FUNDS_WRITE)
    r = service.assess_residents(
        engine, body.admdvs, body.year, on=body.on or _today(), actor=staff.actor,
        psn_no=body.psn_no,
    )  # fmt: skip
    return asdict(r)


class ExportIn(BaseModel):
    admdvs: str
    to: str = ""
    file_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="a known file id to replay (letters, digits, '-' or '_'); it names the download",
    )  # fmt: skip


@router.post("/tax/export")
def tax_export(
    body: ExportIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> Response:
    """The region's unpaid bills as the tax bureau file (text/csv); a known file id replays."""
    _region(staff, body.admdvs, Capability.FUNDS_WRITE)
    file_id, text = service.export_tax_file(
        engine, body.admdvs, today=_today(), actor=staff.actor, file_id=body.file_id,
        period_to=parse_period(body.to) if body.to else None,
    )  # fmt: skip
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"X-File-Id": file_id,
                 "Content-Disposition": f'attachment; filename="{file_id}.csv"'},
    )  # fmt: skip


@router.post("/tax/import")
async def tax_import(
    request: Request, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """A tax bureau payment file (到账) as the request body (text/csv, UTF-8)."""
    staff.require(Capability.FUNDS_WRITE)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FundsError("ENCODING", "文件应为UTF-8编码", "file") from None
    region = text.split("\n", 1)[0].split(",")[4:5]
    if region:
        staff.require_region(region[0].strip())
    return service.import_payments(engine, text, today=_today(), actor=staff.actor).as_dict()


class ApprovalIn(BaseModel):
    kind: str = Field(description="deferral (缓缴) | relief (减征)")
    period_from: str = Field(examples=["2026-10"])
    period_to: str = Field(examples=["2026-12"])
    reference: str = Field(description="审批依据 (文号)")


@router.post("/units/{emp_no}/approvals")
def approve(
    emp_no: str,
    body: ApprovalIn,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> dict[str, object]:
    """Approve relief or deferral for a unit; the signed-in user is recorded as the approver."""
    staff.require(Capability.FUNDS_WRITE)
    with engine.connect() as conn:
        region = query.unit_region(conn, emp_no)
    if region is None:
        raise FundsError("UNIT_NOT_FOUND", f"未找到参保单位{emp_no}", "emp_no")
    staff.require_region(region, "参保单位所属医保区划")
    a = service.approve(
        engine, body.kind, emp_no, parse_period(body.period_from), parse_period(body.period_to),
        approved_by=staff.actor, reference=body.reference, today=_today(),
    )  # fmt: skip
    return asdict(a)


class TransferIn(BaseModel):
    admdvs: str
    fund_pay_type: str = Field(examples=["610100"])
    kind: str = Field("budget_transfer", description="budget_transfer | interest")
    amount: str = Field(examples=["100000.00"], description="yuan")
    value_date: date
    ref: str


@router.post("/transfers")
def transfer(
    body: TransferIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """财政预算拨入 or 利息收入 into one fund (idempotent on ``ref``)."""
    _region(staff, body.admdvs, Capability.FUNDS_WRITE)
    chain = service.post_transfer(
        engine, region=body.admdvs, fund_pay_type=body.fund_pay_type, kind=body.kind,
        amount=yuan_to_fen(body.amount, "amount"), value_date=body.value_date, ref=body.ref,
        actor=staff.actor,
    )  # fmt: skip
    return {"chain_id": chain}


class GongjiIn(BaseModel):
    bill_no: str
    payer_psn_no: str


@router.post("/gongji")
def gongji(
    body: GongjiIn, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """家庭共济: pay a resident's bill from a household member's personal account."""
    staff.require(Capability.FUNDS_WRITE)
    staff.require_region(body.bill_no[:6], "核定单所属医保区划")
    chain = service.pay_from_family_account(
        engine, body.bill_no, body.payer_psn_no, today=_today(), actor=staff.actor
    )
    return {"chain_id": chain}


@router.get("/position")
def position(
    admdvs: str,
    on: date | None = None,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> list[dict[str, object]]:
    """Each fund's balance, 12-month income and spending, 可支付月数 and status (aggregates)."""
    _region(staff, admdvs, Capability.FUNDS_READ)
    with engine.connect() as conn:
        lines = query.fund_position(conn, admdvs, on or _today())
    return [{**asdict(x), "monthly_spending": int(x.monthly_spending),
             "months": None if x.months is None else str(x.months)} for x in lines]  # fmt: skip


@router.get("/series")
def series(
    admdvs: str,
    date_from: date,
    date_to: date,
    grain: str = "month",
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> list[dict[str, object]]:
    """Income, spending and closing balance per fund and month (or day)."""
    _region(staff, admdvs, Capability.FUNDS_READ)
    if grain not in ("month", "day"):
        raise FundsError("GRAIN_INVALID", "grain 应为 month 或 day", "grain")
    with engine.connect() as conn:
        return [asdict(p) for p in query.fund_series(conn, admdvs, date_from, date_to, grain)]


@router.get("/units")
def units(
    admdvs: str,
    on: date | None = None,
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> list[dict[str, object]]:
    """Each unit's assessed, paid, arrears, deferred amounts this year and its approvals."""
    _region(staff, admdvs, Capability.FUNDS_UNIT_READ)
    day = on or _today()
    with engine.connect() as conn:
        return [asdict(u) for u in query.units(conn, [admdvs], day, date(day.year, 1, 1))]


@router.get("/units/{emp_no}/bills")
def unit_bills(
    emp_no: str, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> list[dict[str, object]]:
    staff.require(Capability.FUNDS_UNIT_READ)
    with engine.connect() as conn:
        region = query.unit_region(conn, emp_no)
        if region is None:
            raise FundsError("UNIT_NOT_FOUND", f"未找到参保单位{emp_no}", "emp_no")
        staff.require_region(region, "参保单位所属医保区划")
        return [asdict(b) for b in query.unit_bills(conn, emp_no)]


@router.get("/persons/{psn_no}/contributions")
def person_contributions(
    psn_no: str, staff: Staff = Depends(staff_of), engine: Engine = Depends(engine_of)
) -> dict[str, object]:
    """A person's assessed months, resident years, payments and benefit blocks."""
    staff.require(Capability.FUNDS_UNIT_READ)
    with engine.connect() as conn:
        staff.require_any_region(person_regions(conn, psn_no), f"参保人 {psn_no} 的参保地")
        return query.person_contributions(conn, psn_no)

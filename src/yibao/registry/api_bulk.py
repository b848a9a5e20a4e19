"""Registry bulk HTTP API (参保数据批量导入导出): persons × enrolments import (CSV/XLSX, every bad
row reported, nothing written unless ``skip_bad``) and export (masked unless disclosed, audited
with its purpose), units and employment imports. Same authentication and errors as
:mod:`yibao.registry.api`, under the same ``/api/registry`` prefix."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import Engine
from starlette.background import BackgroundTask

from yibao.http.deps import engine_of
from yibao.http.staff import Capability, Staff, out_of_scope, staff_of
from yibao.registry import bulk, rows, service
from yibao.registry.api_errors import RegistryRoute

router = APIRouter(route_class=RegistryRoute)  # included by yibao.registry.api (its prefix, tags)


@router.post("/import")
def import_file(
    file: UploadFile = File(...),
    skip_bad: bool = Form(False),
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> JSONResponse:
    """Import CSV/XLSX; 422 with every bad row (nothing written) unless ``skip_bad``.

    A city administrator may import only rows insured in their own regions (403 naming the rows).
    """
    staff.require(Capability.BULK_IMPORT)
    data = file.file.read()
    try:
        read = bulk.read_rows_bytes(file.filename or "upload.csv", data)
    except bulk.UnreadableFile as e:
        raise service.RegistryError("FILE_UNREADABLE", str(e), "file") from None
    checked = rows.check_rows(read)
    foreign = [r.row for r in checked.good if not staff.allows_region(r.insuplc_admdvs)]
    if foreign:
        shown = "、".join(str(n) for n in foreign[:10]) + ("…" if len(foreign) > 10 else "")
        raise out_of_scope(f"第{shown}行的参保地医保区划 insuplc_admdvs ")
    try:
        with engine.begin() as conn:
            result = bulk.import_checked(
                conn, checked, skip_bad=skip_bad, actor=staff.actor, source=file.filename or ""
            )
    except bulk.ImportRefused as e:
        return JSONResponse({"message": str(e), **e.result.as_dict()}, 422)
    return JSONResponse(result.as_dict())


@router.get("/export")
def export(
    fmt: str = Query("csv", alias="format", pattern="^(csv|xlsx)$"),
    admdvs: str | None = None,
    purpose: str = Query("", max_length=200, description="用途 (audited; required)"),
    disclose: bool = Query(False, description="unmasked certno, name, phone (own permission)"),
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> FileResponse:
    """Export persons × enrolments (an administrator's action): certificate numbers, names and
    phones masked unless ``disclose`` (a separate permission); every export is audited with its
    ``purpose``, region, row count and whether it disclosed.

    Users who do not see the whole province export their own region unless ``admdvs`` names
    another region inside their scope.
    """
    staff.require(Capability.BULK_EXPORT)
    admdvs = staff.default_admdvs(admdvs)
    if disclose:
        staff.require(Capability.EXPORT_DISCLOSE)
    if not purpose.strip():
        raise service.RegistryError(
            "PURPOSE_REQUIRED", "导出参保数据须填写用途(purpose)，用途记入审计日志", "purpose"
        )
    tmp = Path(tempfile.mkdtemp()) / f"registry.{fmt}"
    bulk.export_file(engine, tmp, full_certno=disclose, actor=staff.actor, reason=purpose.strip(),
                     admdvs=admdvs)  # fmt: skip
    return FileResponse(
        tmp,
        filename=f"registry.{fmt}",
        background=BackgroundTask(shutil.rmtree, tmp.parent, ignore_errors=True),
    )


def _import_table(
    kind: str, file: UploadFile, skip_bad: bool, staff: Staff, engine: Engine
) -> JSONResponse:
    from yibao.registry import unit_import

    staff.require(Capability.BULK_IMPORT)
    data = file.file.read()
    name = file.filename or "upload.csv"
    try:
        with engine.begin() as conn:
            if kind == "units":
                units = unit_import.read_units(name, data)
                foreign = [r.row for r in units.good if not staff.allows_region(r.admdvs)]
                if foreign:
                    shown = "、".join(str(n) for n in foreign[:10])
                    raise out_of_scope(f"第{shown}行的医保区划 admdvs ")
                result = unit_import.import_units(
                    conn, units, skip_bad=skip_bad, actor=staff.actor, source=name
                )
            else:
                jobs = unit_import.read_employments(name, data)
                result = unit_import.import_employments(
                    conn, jobs, skip_bad=skip_bad, actor=staff.actor, source=name
                )
    except unit_import.TableImportRefused as e:
        return JSONResponse({"message": str(e), **e.result.as_dict()}, 422)
    return JSONResponse(result.as_dict())


@router.post("/units/import")
def import_units(
    file: UploadFile = File(...),
    skip_bad: bool = Form(False),
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> JSONResponse:
    """Import insured units (参保单位) CSV/XLSX; 422 with every bad row, nothing written."""
    return _import_table("units", file, skip_bad, staff, engine)


@router.post("/employment/import")
def import_employment(
    file: UploadFile = File(...),
    skip_bad: bool = Form(False),
    staff: Staff = Depends(staff_of),
    engine: Engine = Depends(engine_of),
) -> JSONResponse:
    """Import employment and contribution bases (用工/缴费基数) CSV/XLSX; all-or-nothing."""
    return _import_table("employment", file, skip_bad, staff, engine)

"""Catalogue HTTP API (医保目录查询), read-only: ``/api/catalog/{admdvs}[/{code}]``.

A region's catalogue is public information, so these reads need no credentials. Amounts are
2-decimal yuan strings, ratios 4-decimal strings, field names those of the national interface.
Answers are ``{"code": 0, "message": "成功", "data": …}``; a bad parameter is HTTP 422 with
``{"code": 4220, "error": "CATALOG_PARAM", "field": …, "message": <中文>}``; an item not in
the catalogue is HTTP 404 with ``{"code": 4040, "error": "NOT_IN_CATALOG", …}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from yibao.catalog import service
from yibao.catalog.model import LIST_TYPES, CatalogDataError, CatalogEntry
from yibao.clock import CHINA as _CHINA
from yibao.money import fen_str

router = APIRouter(prefix="/api/catalog", tags=["catalog 医保目录"])


class _ParamError(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _bad(e: _ParamError) -> JSONResponse:
    body = {"code": 4220, "error": "CATALOG_PARAM", "field": e.field, "message": e.message}
    return JSONResponse(body, 422)


def _day(value: str | None) -> date:
    if not value:
        return datetime.now(_CHINA).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _ParamError("date", f"日期 {value!r} 格式应为 YYYY-MM-DD") from exc


def _admdvs(value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise _ParamError("admdvs", f"医保区划 {value!r} 应为6位数字")
    return value


def entry_json(e: CatalogEntry) -> dict[str, Any]:
    """One catalogue entry in national field names (amounts in yuan)."""
    return {
        "med_list_codg": e.med_list_codg,
        "name": e.name,
        "admdvs": e.admdvs,
        "list_type": e.list_type,
        "list_type_name": e.list_type_name,
        "chrgitm_lv": e.chrgitm_lv,
        "chrgitm_lv_name": e.chrgitm_lv_name,
        "med_chrgitm_type": e.med_chrgitm_type,
        "selfpay_prop": f"{e.selfpay_prop:.4f}",
        "selfpay_source": e.selfpay_source,
        "selfpay_assumed": e.selfpay_assumed,
        "pric": None if e.pric is None else fen_str(e.pric),
        "pric_uplmt_amt": None if e.pric_uplmt_amt is None else fen_str(e.pric_uplmt_amt),
        "prcunt": e.prcunt,
        "drug_dosform": e.drug_dosform,
        "drug_spec": e.drug_spec,
        "prodentp_name": e.prodentp_name,
        "lmt_used_flag": e.lmt_used_flag,
        "lmt_usescp": e.lmt_usescp if e.lmt_used_flag == "1" else "",
        "hi_nego_drug_flag": e.hi_nego_drug_flag,
        "vol_procurement_flag": e.vol_procurement_flag,
        "begndate": e.begndate.isoformat(),
        "enddate": e.enddate.isoformat() if e.enddate else None,
        "memo": e.memo,
        "sources": dict(e.sources),
        "ver": e.ver,
        "updt_time": e.updt_time.isoformat() if e.updt_time else None,
        "vali_flag": "1",
    }


@router.get("/{admdvs}")
def list_catalog(
    request: Request,
    admdvs: str,
    q: str | None = None,
    list_type: str | None = None,
    date: str | None = None,
    since_ver: int | None = None,
    page: int = 1,
    size: int = 50,
) -> Any:
    """A page of the region's catalogue on ``date`` (default today, China time): ``q`` code
    prefix or name substring; ``list_type`` 101/102/201/301…; ``since_ver`` only changes after
    that catalogue version (removed codes in ``removed``)."""
    try:
        adm = _admdvs(admdvs)
        day = _day(date)
        if list_type is not None and list_type not in LIST_TYPES:
            raise _ParamError(
                "list_type", f"目录类别 {list_type!r} 无效（{', '.join(LIST_TYPES)}）"
            )
        if page < 1:
            raise _ParamError("page", "page 从 1 开始")
        if not 1 <= size <= 500:
            raise _ParamError("size", "size 应在 1..500")
        if since_ver is not None and since_ver < 0:
            raise _ParamError("since_ver", "since_ver 不能为负")
    except _ParamError as e:
        return _bad(e)
    with _engine(request).connect() as conn:
        p = service.list_entries(
            conn, adm, day, text=q, list_type=list_type, since_ver=since_ver, page=page, size=size
        )
    return {
        "code": 0,
        "message": "成功",
        "data": {
            "admdvs": adm,
            "date": day.isoformat(),
            "page": p.page,
            "size": p.size,
            "total": p.total,
            "ver": p.ver,
            "items": [entry_json(e) for e in p.entries],
            "removed": p.removed,
        },
    }


@router.get("/{admdvs}/{code}")
def get_item(request: Request, admdvs: str, code: str, date: str | None = None) -> Any:
    """One item as in force in ``admdvs`` on ``date``, with the layer that set each field."""
    try:
        adm = _admdvs(admdvs)
        day = _day(date)
    except _ParamError as e:
        return _bad(e)
    with _engine(request).connect() as conn:
        try:
            entry = service.get_entry(conn, adm, code, day)
        except CatalogDataError as exc:
            return JSONResponse(
                {"code": 5000, "error": "CATALOG_DATA", "message": str(exc)}, status_code=500
            )
        chain = service.chain_for(conn, adm)
    if entry is None:
        message = f"{code} 在统筹区 {adm} 于 {day.isoformat()} 不在医保目录内"
        return JSONResponse(
            {"code": 4040, "error": "NOT_IN_CATALOG", "message": message, "chain": chain}, 404
        )
    return {"code": 0, "message": "成功", "data": {**entry_json(entry), "chain": chain}}

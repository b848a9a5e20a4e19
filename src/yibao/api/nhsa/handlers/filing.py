"""备案 transactions (nhsa-interface.md §2.14, §5.3): 2501/2502 转院备案 and its 撤销,
2503/2504 人员慢特病备案 and its 撤销, 2505/2506 人员定点备案 and its 撤销.

Thin over :mod:`yibao.filing.service`. 2501 input node ``refmedin`` and 2502 ``data`` follow
the reference; the 2503–2506 field lists (``opsp_dise_code``, ``biz_appy_type``, 代办人 fields,
``fixmedins_code`` …) and the undo numbers 2504/2506 follow the national numbering (undo = next
number, as 2502 is to 2501) — the reference names 2503/2505 but does not list all their fields.
Every call is idempotent on ``msgid`` (gateway message log and ``filing.request_id``); a rule
refusal is a :class:`BusinessError` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.encounter.service import business_day
from yibao.filing import service
from yibao.filing.model import FilingError, FilingType
from yibao.filing.store import FilingRow

#: 2501 refl_type 转院类型: 1 市内, 2 省内异地, 3 省外异地 (§5.3)
REFL_TYPES = ("1", "2", "3")


def _source(ctx: Context) -> str:
    return f"nhsa:{ctx.institution.fixmedins_code}"


def _by(ctx: Context) -> str:
    return f"{ctx.institution.fixmedins_code}/{ctx.operator.opter_no}"


def _psn(data: dict[str, Any], where: str) -> str:
    return fields.text(data, "psn_no", where, required=True, max_len=30, label="人员编号")


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, str | int) and not isinstance(v, bool)}


def _run(where: str, call: Callable[[], FilingRow]) -> dict[str, Any]:
    try:
        row = call()
    except FilingError as e:
        raise BusinessError(f"{where}.{e.field}: {e.message}") from None
    return {"result": {"trt_dcla_detl_sn": row.filing_id}}


@transaction("2501", "转院备案")
def referral_filing(ctx: Context) -> dict[str, Any]:
    data = ctx.node("refmedin")
    w = "input.refmedin"
    psn_no = _psn(data, w)
    for name in ("diag_code", "diag_name", "reflin_medins_no", "reflin_medins_name"):
        fields.text(data, name, w, required=True, max_len=200)
    target = fields.text(data, "mdtrtarea_admdvs", w, required=True, max_len=6)
    refl_type = fields.text(data, "refl_type", w, required=True)
    if refl_type not in REFL_TYPES:
        raise fields.InputError(f"{w}.refl_type", "转院类型须为 1 市内 / 2 省内异地 / 3 省外异地")
    refl_date = fields.day(data, "refl_date", w, required=True)
    assert refl_date is not None
    for name in ("refl_rea", "refl_opnn"):
        fields.text(data, name, w, required=True, max_len=500)
    begndate = fields.day(data, "begndate", w) or refl_date
    enddate = fields.day(data, "enddate", w)
    medins = str(data.get("reflin_medins_no", ""))
    common: dict[str, Any] = {
        "psn_no": psn_no,
        "mdtrtarea_admdvs": target,
        "begndate": begndate,
        "enddate": enddate,
        "source": _source(ctx),
        "request_id": ctx.msgid,
        "today": business_day(ctx.now),
        "filed_by": _by(ctx),
        "detail": _plain(data),
    }
    if refl_type == "1":  # 市内转院: not cross-region, kept as a designation record
        return _run(
            w,
            lambda: service.register_designation(
                ctx.conn, biz_appy_type="06", fixmedins_code=medins, crossregion=False, **common
            ),
        )
    return _run(
        w,
        lambda: service.file_crossregion(
            ctx.conn, filing_type=FilingType.REFERRAL, fixmedins_code=medins, **common
        ),
    )


def _undo(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    sn = fields.text(
        data, "trt_dcla_detl_sn", w, required=True, max_len=30, label="待遇申报明细流水号"
    )
    psn_no = _psn(data, w)
    memo = fields.text(data, "memo", w, max_len=500)
    _run(
        w,
        lambda: service.cancel(
            ctx.conn, sn, today=business_day(ctx.now), by=_by(ctx), reason=memo or ctx.envelope.infno,
            psn_no=psn_no, only_source=_source(ctx),
        ),
    )  # fmt: skip
    return {}


@transaction("2502", "转院备案撤销")
def referral_filing_undo(ctx: Context) -> dict[str, Any]:
    return _undo(ctx)


@transaction("2503", "人员慢特病备案")
def chronic_filing(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = _psn(data, w)
    code = fields.text(
        data, "opsp_dise_code", w, required=True, max_len=30, label="门慢门特病种目录代码"
    )
    name = fields.text(
        data, "opsp_dise_name", w, required=True, max_len=300, label="门慢门特病种名称"
    )
    begndate = fields.day(data, "begndate", w, required=True)
    assert begndate is not None
    enddate = fields.day(data, "enddate", w)
    return _run(
        w,
        lambda: service.register_chronic(
            ctx.conn, psn_no=psn_no, opsp_dise_code=code, opsp_dise_name=name,
            begndate=begndate, enddate=enddate, source=_source(ctx), request_id=ctx.msgid,
            today=business_day(ctx.now), fixmedins_code=ctx.institution.fixmedins_code,
            filed_by=_by(ctx), detail=_plain(data),
        ),
    )  # fmt: skip


@transaction("2504", "人员慢特病备案撤销")
def chronic_filing_undo(ctx: Context) -> dict[str, Any]:
    return _undo(ctx)


@transaction("2505", "人员定点备案")
def designation_filing(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = _psn(data, w)
    biz = fields.text(data, "biz_appy_type", w, required=True, max_len=6, label="业务申请类型")
    begndate = fields.day(data, "begndate", w, required=True)
    assert begndate is not None
    enddate = fields.day(data, "enddate", w)
    medins = fields.text(data, "fixmedins_code", w, max_len=30) or ctx.institution.fixmedins_code
    return _run(
        w,
        lambda: service.register_designation(
            ctx.conn, psn_no=psn_no, biz_appy_type=biz, fixmedins_code=medins,
            mdtrtarea_admdvs=ctx.institution.admdvs, begndate=begndate, enddate=enddate,
            source=_source(ctx), request_id=ctx.msgid, today=business_day(ctx.now),
            filed_by=_by(ctx), detail=_plain(data),
        ),
    )  # fmt: skip


@transaction("2506", "人员定点备案撤销")
def designation_filing_undo(ctx: Context) -> dict[str, Any]:
    return _undo(ctx)

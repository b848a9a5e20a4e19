"""Settlement records (结算记录) as rows: what a settlement or cancellation stores. Pure.

:func:`settlement_row` is the one serialiser of an ``encounter_settlement`` row, used by the
settlement flows (:mod:`yibao.checkout`) and the encounter service alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yibao.clock import CHINA
from yibao.encounter.amounts import AMOUNT_FIELDS, amounts_of
from yibao.encounter.model import Encounter


def business_day(moment: dt.datetime) -> dt.date:
    """The business date (China time) of a moment; naive datetimes are taken as China time."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(CHINA).date()


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """A stored settlement or cancellation (结算记录), amounts in fen."""

    setl_id: str
    mdtrt_id: str
    kind: str  # "settle" | "cancel"
    msgid: str
    setlinfo: Mapping[str, object]
    setldetail: Sequence[Mapping[str, object]]
    accumulator_deltas: Mapping[str, int]
    acc_year: int
    reverses: str | None
    setl_time: dt.datetime
    encounter: Encounter
    feedetl_sns: Sequence[str]


def jsonable(value: object) -> Any:
    """Decimals, dates and dataclass-free containers as JSON values (JSONB columns)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def settlement_row(
    enc: Encounter,
    setl_id: str,
    kind: str,
    msgid: str,
    setlinfo: Mapping[str, object],
    setldetail: Sequence[Mapping[str, object]],
    trace: object,
    deltas: Mapping[str, int],
    acc_year: int,
    reverses: str | None,
    setl_time: dt.datetime,
    clr_type: str,
    clr_way: str,
    clr_optins: str,
    mid_setl: bool,
    chrg_bchno: str,
    sns: Sequence[str],
) -> dict[str, object]:
    """The ``encounter_settlement`` row of a settlement or cancellation."""
    amounts = amounts_of(setlinfo)
    balc = setlinfo.get("balc")
    ratio = setlinfo.get("pool_prop_selfpay")
    return {
        "setl_id": setl_id,
        "mdtrt_id": enc.mdtrt_id,
        "kind": kind,
        "msgid": msgid,
        "psn_no": enc.psn_no,
        "fixmedins_code": enc.fixmedins_code,
        "insutype": enc.insutype,
        "med_type": enc.med_type,
        "insuplc_admdvs": enc.insuplc_admdvs,
        "mdtrtarea_admvs": enc.mdtrtarea_admvs,
        **{k: amounts[k] for k in AMOUNT_FIELDS},
        "pool_prop_selfpay": str(ratio) if ratio is not None else None,
        "balc": balc if isinstance(balc, int) and not isinstance(balc, bool) else None,
        # JSON values as they are: the jsonb encoder (msgspec) writes decimals and dates as text
        "setlinfo": dict(setlinfo),
        "setldetail": list(setldetail),
        "trace": trace,
        "accumulator_deltas": dict(deltas),
        "acc_year": acc_year,
        "reverses": reverses,
        "clr_type": clr_type,
        "clr_way": clr_way,
        "clr_optins": clr_optins or enc.insuplc_admdvs,
        "mid_setl_flag": mid_setl,
        "chrg_bchno": chrg_bchno,
        "feedetl_sns": list(sns),
        "setl_time": setl_time,
        "setl_date": business_day(setl_time),
    }

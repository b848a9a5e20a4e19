"""Reading a stored visit into a bill (就诊→账单). Pure.

Fee lines were classified by the treatment place's catalogue when they were uploaded
(2204/2301); a settlement rebuilds the engine's items from that stored split.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from yibao.catalog.model import ClassifiedLine, split_line
from yibao.catalog.model import FeeLine as CatalogLine
from yibao.checkout import model
from yibao.clock import CHINA
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.store import StoredFeeLine
from yibao.settlement.model import Item


def china_date(moment: datetime) -> date:
    """The date of a moment in China time (naive = China time already)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(CHINA).date()


def items_of(stored: Sequence[StoredFeeLine]) -> tuple[Item, ...]:
    """Engine items of stored lines, exactly as classified at upload."""
    return tuple(
        model.item_from_stored(
            feedetl_sn=s.line.feedetl_sn,
            med_list_codg=s.line.med_list_codg,
            det_item_fee_sumamt=s.line.det_item_fee_sumamt,
            cnt=s.line.cnt,
            pric=s.line.pric,
            chrgitm_lv=s.split.chrgitm_lv,
            med_chrgitm_type=s.split.med_chrgitm_type,
            selfpay_prop=s.split.selfpay_prop,
            pric_uplmt_amt=None if s.split.pric_uplmt_amt is None else int(s.split.pric_uplmt_amt),
            flags=s.split.flags or {},
        )
        for s in stored
    )


def exp_flags(value: Any) -> dict[str, str]:
    """The 跨省异地 2.1 extension keys of an ``exp_content`` (a JSON string or an object).

    Reference nhsa-interface.md §3.13/§5 ([HN127] V1.1.21): ``IPT_TYPE`` 住院类型 (2 急诊或抢救住院),
    ``OTP_ER_REFL_FLAG`` 门诊急诊转诊标志 (1 急诊, 3 转诊合并急诊). Anything unreadable counts as empty.
    """
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(k).upper(): str(v) for k, v in value.items() if v is not None}


def is_emergency(*exp_contents: Any) -> bool:
    """急诊抢救 (deemed filed, 视同备案): ``IPT_TYPE`` 2 or ``OTP_ER_REFL_FLAG`` 1/3 in any of them."""
    for exp in exp_contents:
        flags = exp_flags(exp)
        if flags.get("IPT_TYPE") == "2" or flags.get("OTP_ER_REFL_FLAG") in ("1", "3"):
            return True
    return False


def stored_exp_content(info: Any, node: str = "mdtrtinfo") -> Any:
    """The ``exp_content`` the HIS sent with 2203/2401 (kept in the visit's ``info``)."""
    if not isinstance(info, dict):
        return None
    return (info.get(node) or {}).get("exp_content")


def catalog_lines(lines: Sequence[FeeLine]) -> list[CatalogLine]:
    """The catalogue's view of uploaded fee lines (for classification)."""
    return [
        CatalogLine(
            feedetl_sn=ln.feedetl_sn,
            med_list_codg=ln.med_list_codg,
            pric=ln.pric,
            cnt=ln.cnt,
            det_item_fee_sumamt=ln.det_item_fee_sumamt,
            medins_list_codg=ln.medins_list_codg,
            hosp_appr_flag=str(ln.extra.get("hosp_appr_flag", "0") or "0"),
        )
        for ln in lines
    ]


def splits_of(classified: Sequence[ClassifiedLine]) -> list[LineSplit]:
    """The encounter's stored split of classified lines (with what rebuilds the Item)."""
    out = []
    for c in classified:
        it = c.item
        s = split_line(it)
        out.append(
            LineSplit(
                feedetl_sn=it.feedetl_sn,
                chrgitm_lv=it.chrgitm_lv,
                med_chrgitm_type=it.med_chrgitm_type,
                fulamt_ownpay_amt=s.fulamt_ownpay_amt,
                overlmt_amt=s.overlmt_amt,
                preselfpay_amt=s.preselfpay_amt,
                inscp_scp_amt=s.inscp_scp_amt,
                selfpay_prop=it.selfpay_prop,
                pric_uplmt_amt=it.pric_uplmt_amt,
                flags=model.item_flags(c),
            )
        )
    return out

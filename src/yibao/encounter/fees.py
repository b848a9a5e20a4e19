"""Fee detail lines (费用明细) and their 2204/2301 split (明细分割). Pure.

Amounts are fen; ``cnt``/``pric`` keep the interface's decimals. The split is computed by the
caller (the catalogue, 医保目录) and stored as given after the money identity is checked:
``det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from yibao.encounter.model import EncounterError


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One uploaded fee line (2204 ``feedetail`` / 2301 ``feedetail`` / 2102 ``drugdetail``)."""

    feedetl_sn: str
    med_list_codg: str
    medins_list_codg: str
    det_item_fee_sumamt: int  # fen; negative only for an inpatient refund line (退单)
    cnt: Decimal
    pric: Decimal
    chrg_bchno: str = ""  # outpatient charge batch; '' for inpatient/pharmacy
    fee_ocur_time: datetime | None = None
    init_feedetl_sn: str = ""  # 2301 退单: the line being refunded
    extra: Mapping[str, object] = field(default_factory=dict)  # other request fields, verbatim


@dataclass(frozen=True, slots=True)
class LineSplit:
    """The 2204 ``result`` row of one line (明细分割结果)."""

    feedetl_sn: str
    chrgitm_lv: str
    med_chrgitm_type: str
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    selfpay_prop: Decimal = Decimal(0)
    pric_uplmt_amt: int | None = None
    flags: Mapping[str, object] = field(default_factory=dict)  # bas_medn_flag, lmt_used_flag, memo…


def check_lines(
    lines: Sequence[FeeLine], splits: Sequence[LineSplit], *, allow_negative: bool = False
) -> dict[str, LineSplit]:
    """Validate lines and their split; return the split by ``feedetl_sn``.

    Refuses duplicate ``feedetl_sn``, a line without a split (or a split without a line),
    non-integer fen, negative amounts (except inpatient refunds) and splits that do not add up.
    """
    if not lines:
        raise EncounterError("feedetail（费用明细）不能为空")
    seen: set[str] = set()
    for ln in lines:
        if not ln.feedetl_sn or len(ln.feedetl_sn) > 30:
            raise EncounterError(f"feedetl_sn（费用明细流水号）无效：{ln.feedetl_sn!r}")
        if ln.feedetl_sn in seen:
            raise EncounterError(f"feedetl_sn（费用明细流水号）{ln.feedetl_sn} 在本次上传中重复")
        seen.add(ln.feedetl_sn)
        _fen(ln.det_item_fee_sumamt, f"{ln.feedetl_sn}.det_item_fee_sumamt")
        if ln.det_item_fee_sumamt < 0 and not allow_negative:
            raise EncounterError(f"{ln.feedetl_sn}.det_item_fee_sumamt（明细项目费用总额）不能为负")
    by_sn = {s.feedetl_sn: s for s in splits}
    if len(by_sn) != len(splits):
        raise EncounterError("明细分割结果中 feedetl_sn 重复")
    missing = seen - by_sn.keys()
    extra = by_sn.keys() - seen
    if missing or extra:
        raise EncounterError(
            f"明细分割结果与费用明细不一致：缺少 {sorted(missing)}，多出 {sorted(extra)}"
        )
    for ln in lines:
        s = by_sn[ln.feedetl_sn]
        parts = (s.fulamt_ownpay_amt, s.overlmt_amt, s.preselfpay_amt, s.inscp_scp_amt)
        for name, v in zip(
            ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt"),
            parts,
            strict=True,
        ):
            _fen(v, f"{ln.feedetl_sn}.{name}")
        if sum(parts) != ln.det_item_fee_sumamt:
            raise EncounterError(
                f"{ln.feedetl_sn}: 全自费+超限价+先行自付+符合范围 ({sum(parts)} 分) "
                f"≠ 明细项目费用总额 ({ln.det_item_fee_sumamt} 分)"
            )
    return by_sn


def _fen(v: object, what: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise EncounterError(f"{what}: 金额须为整数分，收到 {v!r}")

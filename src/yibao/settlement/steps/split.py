"""Step 1-3: the item split (明细分割, policy-rules.md §1.2 Steps 1-3).

Each line goes to 全自费 (丙类, 目录外, 限制使用未获审批), 超限价 (above ``pric_uplmt_amt × cnt``),
乙类先行自付 (``allowed × selfpay_prop``, the catalogue's ratio) and 政策范围内 (the rest).
A cross-region ``extra_first_pay`` rule adds its share on every covered line.
"""

from __future__ import annotations

from yibao.money import fen_str
from yibao.settlement.arith import times, units
from yibao.settlement.bill import Bill
from yibao.settlement.model import (
    CLASS_A,
    CLASS_B,
    CLASS_C,
    Deferred,
    ItemSplit,
    SettlementError,
    TraceStep,
    Used,
)


def split_items(b: Bill) -> None:
    """Split every fee line; totals go to the bill, the lines to ``b.splits``."""
    basic = b.basic
    extra_fp = (
        basic.xr.value_units if basic is not None and basic.xr.adjust == "extra_first_pay" else 0
    )
    splits = b.splits
    tot = ful_t = over_t = pre_t = inscp_t = 0
    for it in b.enc.items:
        amt = it.det_item_fee_sumamt
        if amt < 0:
            raise SettlementError(
                f"det_item_fee_sumamt: 明细 {it.feedetl_sn} 金额为负 (退费请用撤销)"
            )
        lv = it.chrgitm_lv
        ful = over = pre = 0
        memo = ""
        if not it.in_catalog or lv == CLASS_C:
            ful = amt
            memo = "目录外" if not it.in_catalog else "丙类全自费"
        elif it.lmt_used_flag == "1" and it.hosp_appr_flag == "2":
            ful = amt
            memo = "限制使用审批不通过"
        elif lv in (CLASS_A, CLASS_B):
            if it.pric_uplmt_amt is not None:
                limit = times(it.pric_uplmt_amt, it.cnt)
                if amt > limit:
                    over = amt - limit
            allowed = amt - over
            # x × u/10000 rounded half up, inline (apply_ratio_units; both factors are ≥ 0)
            if lv == CLASS_B:
                pre = (allowed * units(it.selfpay_prop) + 5_000) // 10_000
            if extra_fp:
                pre += ((allowed - pre) * extra_fp + 5_000) // 10_000
        else:
            raise SettlementError(
                f"chrgitm_lv: 明细 {it.feedetl_sn} 的等级 {lv!r} 无效 (01 甲 / 02 乙 / 03 丙)"
            )
        ins = amt - ful - over - pre
        tot += amt
        ful_t += ful
        over_t += over
        pre_t += pre
        inscp_t += ins
        splits.append(
            ItemSplit(
                it.feedetl_sn, amt, it.cnt, it.pric, it.pric_uplmt_amt, it.selfpay_prop, ful, over,
                pre, ins, lv, it.med_chrgitm_type, it.lmt_used_flag, it.hi_nego_drug_flag, memo,
            )
        )  # fmt: skip
    b.tot, b.ful, b.over, b.pre, b.inscp = tot, ful_t, over_t, pre_t, inscp_t
    if basic is not None and basic.classes:
        b.class_inscp = _class_parts(b)
    params: tuple[Used, ...] = ()
    if extra_fp and basic is not None:
        params = tuple(u for u in basic.uses if u.key.endswith(".cross_region"))
    text = Deferred(_t_split, tot, ful_t, over_t, pre_t, inscp_t)
    b.trace.append(TraceStep("split", "明细分割", inscp_t, text, params))


def _class_parts(b: Bill) -> dict[str, int]:
    """The policy-range amount of the lines in each item class the line pays at its own ratio
    (the first class a line matches)."""
    assert b.basic is not None
    out: dict[str, int] = {}
    for it, s in zip(b.enc.items, b.splits, strict=True):
        if s.inscp_scp_amt <= 0:
            continue
        price = int(it.pric * 100)
        for c in b.basic.classes:
            if c.cls.matches(it.list_type, it.med_list_codg, price):
                out[c.cls.code] = out.get(c.cls.code, 0) + s.inscp_scp_amt
                break
    return out


def _t_split(tot: int, ful: int, over: int, pre: int, ins: int) -> str:
    return (
        f"医疗费总额 {fen_str(tot)} = 全自费 {fen_str(ful)} + 超限价 {fen_str(over)} "
        f"+ 先行自付 {fen_str(pre)} + 政策范围内 {fen_str(ins)}"
    )

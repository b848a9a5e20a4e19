"""A classified fee line (费用明细), the contract between the catalogue and the settlement engine.

The catalogue (医保目录, :mod:`yibao.catalog.model`) classifies an HIS fee line into an
:class:`Item`; the engine (:mod:`yibao.settlement`) splits and pays it. Both import it from here,
below both, so neither package imports the other for it (no import cycle); the engine's model
re-exports it. Pure data: no I/O, no clock. Field names follow the national 2204 interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# chrgitm_lv 收费项目等级
CLASS_A = "01"  # 甲类: fully covered
CLASS_B = "02"  # 乙类: covered after the first-pay share (先行自付)
CLASS_C = "03"  # 丙类 / 目录外: not covered (全自费)


@dataclass(frozen=True, slots=True)
class Item:
    """One classified fee line (费用明细) as the engine sees it.

    ``det_item_fee_sumamt`` is the line amount in fen (the HIS's own figure, normally
    ``line_amount(pric, cnt)``). ``pric_uplmt_amt`` is the per-unit payment standard/price limit
    (支付标准/限价) in fen; the part of the line above ``pric_uplmt_amt × cnt`` is over-limit
    (超限价, ``overlmt_amt``). ``selfpay_prop`` is the first-pay ratio (先行自付比例) already resolved
    for the region (0 for 甲类; ignored for 丙类).
    """

    feedetl_sn: str
    med_list_codg: str
    name: str
    list_type: str  # 目录类别: "101" 西药中成药, "102" 中药饮片, "201" 医疗服务项目, "301" 医用耗材
    chrgitm_lv: str  # "01" 甲 / "02" 乙 / "03" 丙
    med_chrgitm_type: str  # 医疗收费项目类别 (code table med_chrgitm_type)
    det_item_fee_sumamt: int  # fen
    cnt: Decimal
    pric: Decimal  # yuan per unit, up to 6 decimals
    selfpay_prop: Decimal = Decimal(0)
    pric_uplmt_amt: int | None = None  # fen per unit; None = no limit
    lmt_used_flag: str = "0"  # 限制使用标志: "1" limited use
    hosp_appr_flag: str = "0"  # 医院审批标志: "1" approved, "2" refused, "0" not needed
    hi_nego_drug_flag: str = "0"  # 国谈药品标志
    vol_procurement_flag: str = "0"  # 集采标志 (带量采购)
    in_catalog: bool = True  # False: not found in the region's catalogue (目录外) → 全自费

"""Code tables of the catalogue (目录代码表): list types, fee categories, item classes, approval
flags, and which fields a regional layer may override (nhsa-interface.md §3.6, §3.13)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from yibao.items import CLASS_A, CLASS_B, CLASS_C

# 目录类别 list_type (nhsa-interface.md §3.13, [HN127]).
LIST_TYPES: Mapping[str, str] = {
    "101": "西药中成药",
    "102": "中药饮片",
    "103": "自制剂",
    "104": "民族药",
    "105": "其他",
    "106": "中药配方颗粒",
    "201": "医疗服务项目",
    "301": "医用耗材",
}

# 医疗收费项目类别 med_chrgitm_type (nhsa-interface.md §3.6).
MED_CHRGITM_TYPES: Mapping[str, str] = {
    "01": "床位费",
    "02": "诊察费",
    "03": "检查费",
    "04": "化验费",
    "05": "治疗费",
    "06": "手术费",
    "07": "护理费",
    "08": "卫生材料费",
    "09": "西药费",
    "10": "中药饮片费",
    "11": "中成药费",
    "12": "一般诊疗费",
    "13": "挂号费",
    "14": "其他费",
}

# Which fee categories fit which list type (a consistency rule of ours, not a national table).
CHRGITM_TYPES_BY_LIST: Mapping[str, frozenset[str]] = {
    "101": frozenset({"09", "11"}),
    "102": frozenset({"10"}),
    "103": frozenset({"09", "11", "14"}),
    "104": frozenset({"09", "11"}),
    "105": frozenset(MED_CHRGITM_TYPES),
    "106": frozenset({"10", "11"}),
    "201": frozenset({"01", "02", "03", "04", "05", "06", "07", "12", "13", "14"}),
    "301": frozenset({"08"}),
}

CHRGITM_LVS: Mapping[str, str] = {CLASS_A: "甲类", CLASS_B: "乙类", CLASS_C: "丙类"}

# 医院审批标志 hosp_appr_flag (nhsa-interface.md §3.13): 0 无须审批, 1 审批通过, 2 审批不通过.
HOSP_APPR_FLAGS: Mapping[str, str] = {"0": "无须审批", "1": "审批通过", "2": "审批不通过"}

Action = Literal["add", "change", "remove"]
ACTIONS: tuple[Action, ...] = ("add", "change", "remove")

# Fields a city ``change`` row may override; everything else is the province's.
OVERRIDABLE_FIELDS: tuple[str, ...] = (
    "chrgitm_lv",
    "selfpay_prop",
    "pric",
    "pric_uplmt_amt",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "memo",
)

# Entry fields copied from an ``add`` row (in this order).
ENTRY_FIELDS: tuple[str, ...] = (
    "name",
    "list_type",
    "chrgitm_lv",
    "med_chrgitm_type",
    "pric",
    "pric_uplmt_amt",
    "prcunt",
    "drug_dosform",
    "drug_spec",
    "prodentp_name",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "memo",
)

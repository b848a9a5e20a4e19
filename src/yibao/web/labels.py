"""Chinese labels of national codes for display (代码名称).

Tables shipped in :mod:`yibao.codes` are used through :func:`code_label`; the few the console
needs that are not (yet) shipped there are listed here from reference/nhsa-interface.md §3
(3.1 insutype, 3.2 med_type [JX], 3.4 psn_type [JX], 3.7 fund_pay_type [JX], 3.12 hosp_lv).
"""

from __future__ import annotations

from yibao import codes

INSUTYPE = {
    "310": "职工基本医疗保险",
    "320": "公务员医疗补助",
    "330": "大额医疗费用补助",
    "340": "离休人员医疗保障",
    "390": "城乡居民基本医疗保险",
    "392": "城乡居民大病医疗保险",
    "510": "生育保险",
}

PSN_TYPE = {
    "11": "在职",
    "21": "退休",
    "31": "离休",
    "32": "老红军",
    "33": "一至六级残废军人",
    "34": "医疗照顾人员",
    "41": "学龄前儿童",
    "42": "中小学生",
    "43": "大学生",
    "50": "成年居民（非从业）",
    "60": "老年居民",
    "91": "其他人员",
}

MED_TYPE = {
    "11": "普通门诊",
    "12": "门诊挂号",
    "13": "急诊",
    "14": "门诊慢特病",
    "18": "特药购药",
    "21": "普通住院",
    "22": "外伤住院",
    "28": "日间手术病房",
    "41": "定点药店购药",
    "51": "生育门诊",
    "52": "生育住院",
    "9901": "门诊两病",
}

FUND_PAY_TYPE = {
    "310100": "职工基本医疗保险统筹基金",
    "310200": "职工基本医疗保险个人账户",
    "320100": "公务员医疗补助基金",
    "330100": "大额医疗费用补助基金",
    "340100": "离休人员医疗保障基金",
    "370100": "企业补充医疗保险基金",
    "390100": "城乡居民基本医疗保险基金",
    "390200": "城乡居民大病医疗保险基金",
    "610100": "医疗救助基金",
}

HOSP_LV = {
    "1": "三级特等",
    "2": "三级甲等",
    "3": "三级乙等",
    "4": "三级丙等",
    "5": "二级甲等",
    "6": "二级乙等",
    "7": "二级丙等",
    "8": "一级甲等",
    "9": "一级乙等",
    "10": "一级丙等",
    "11": "无等级",
}

_LOCAL = {
    "insutype": INSUTYPE,
    "psn_type": PSN_TYPE,
    "med_type": MED_TYPE,
    "fund_pay_type": FUND_PAY_TYPE,
    "hosp_lv": HOSP_LV,
}


def code_label(table: str, code: str | None) -> str:
    """``code_label("insutype", "310")`` → ``职工基本医疗保险``; the code itself when unknown."""
    if code is None or code == "":
        return ""
    try:
        label = codes.label(table, code)
    except codes.UnknownCodeTable:
        label = _LOCAL.get(table, {}).get(code, code)
    return label


def with_code(table: str, code: str | None) -> str:
    """Label and code: ``职工基本医疗保险（310）``."""
    if not code:
        return "—"
    label = code_label(table, code)
    return code if label == code else f"{label}（{code}）"

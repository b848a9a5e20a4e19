"""Funding parameters (筹资与待遇资格参数) of the parameter catalogue, used by :mod:`yibao.funds`.

Contribution rates and bases (缴费费率、缴费基数), resident contributions and fiscal subsidies
(居民个人缴费、财政补助), 资助参保 shares by assistance class, relief and deferral (减征、缓缴),
personal-account credits (个人账户划入), benefit eligibility (等待期、欠费暂停) and the bureau's
balance-month thresholds (可支付月数). Same file format as every other key (docs/policy-format.md).
"""

from __future__ import annotations

from yibao.policy.spec import ParamSpec
from yibao.policy.spec import spec as _p

FUNDS_SPECS: dict[str, ParamSpec] = {
    # 职工医保 (insutype 310), per month
    "contribution.employee.employer_rate": _p("ratio", "职工医保单位缴费费率"),
    "contribution.employee.employee_rate": _p("ratio", "职工医保个人缴费费率"),
    "contribution.employee.base_floor": _p("amount", "缴费基数下限(元/月)"),
    "contribution.employee.base_ceiling": _p("amount", "缴费基数上限(元/月)"),
    "contribution.employee.large_amount_monthly": _p(
        "amount", "大额(重大疾病)医疗补助单位缴费(元/人·月)", default=0
    ),
    "contribution.employee.large_amount_rate": _p(
        "ratio", "大额医疗补助(地方补充)单位缴费费率(按缴费基数)", default=0
    ),
    "contribution.flexible.rate": _p(
        "ratio", "灵活就业人员缴费费率(合计; 未设置=单位+个人费率)", default=None
    ),
    "contribution.civil_servant.rate": _p(
        "ratio", "公务员医疗补助财政拨付费率(按缴费基数)", default=0
    ),
    "contribution.due_day": _p("int", "每月缴费截止日"),
    "contribution.late_fee_daily_rate": _p("ratio", "滞纳金日费率", default=0),
    # 阶段性减征 and 缓缴 (per unit: an approval record is required as well)
    "contribution.relief.employer_rate": _p("ratio", "阶段性减征期间单位费率", default=None),
    "contribution.relief.unit_types": _p("codes", "可享受减征的单位类型", default=[]),
    "contribution.deferral.max_months": _p("int", "缓缴最长月数(0=不允许缓缴)", default=0),
    "contribution.deferral.unit_types": _p("codes", "可申请缓缴的单位类型", default=[]),
    "contribution.deferral.late_fee_waived": _p("bool", "缓缴期间免收滞纳金", default=True),
    # 城乡居民医保 (insutype 390), per year
    "contribution.resident.personal": _p("amount", "居民医保个人缴费(元/人·年)"),
    "contribution.resident.subsidy": _p("amount", "居民医保财政补助(元/人·年)"),
    "contribution.resident.serious_per_capita": _p(
        "amount", "大病保险筹资(从居民医保基金划拨, 元/人·年)", default=0
    ),
    "contribution.resident.collection_start_month": _p("int", "集中参保期开始月份(上一年)"),
    "contribution.resident.collection_end_month": _p("int", "集中参保期结束月份(上一年)"),
    "contribution.assistance.share": _p(
        "ratio", "资助参保比例(个人缴费部分)", ("class",), default=0
    ),
    "contribution.assistance.fixed": _p(
        "amount", "资助参保定额(元/人·年)", ("class",), default=None
    ),
    # 个人账户划入
    "account.employee_share": _p("ratio", "个人缴费划入个人账户的比例", default=1),
    "account.employer_share": _p("ratio", "单位缴费划入个人账户的比例"),
    "account.cap_rate": _p("ratio", "在职职工个人账户月划入上限(占缴费基数)", default=None),
    "account.retiree_monthly_credit": _p("amount", "退休人员个人账户定额划入(元/月)", default=0),
    # 待遇资格
    "benefit.arrears_suspend_months": _p("int", "欠费满N个月暂停待遇(0=不暂停)", default=0),
    "benefit.resident.waiting_fixed_months": _p("int", "居民医保固定等待期(月)", default=0),
    "benefit.resident.waiting_per_gap_year": _p("int", "每断保一年增加的变动等待期(月)", default=0),
    "benefit.employee.waiting_months_first": _p("int", "职工首次参保等待期(月)", default=0),
    "benefit.employee.interrupt_months": _p("int", "职工断缴满N个月视为中断(0=不计)", default=0),
    "benefit.employee.waiting_months_after_interrupt": _p(
        "int", "职工中断后再参保等待期(月)", default=0
    ),
    # 可支付月数 (累计结存可支付月数) thresholds
    "fund.months_alert_low": _p("int", "可支付月数预警下限(结余不足)"),
    "fund.months_low": _p("int", "可支付月数合理区间下限"),
    "fund.months_high": _p("int", "可支付月数合理区间上限"),
    "fund.months_alert_high": _p("int", "可支付月数预警上限(结余过多)"),
}

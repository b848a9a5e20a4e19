"""The parameter catalogue (参数目录): every key a policy file may set, its kind and Chinese label.

Keys with ``{scheme}`` exist for ``employee`` (职工, insutype 310) and ``resident`` (居民, 390);
keys with ``{setting}`` for ``inpatient`` (住院), ``outpatient`` (门诊统筹) and ``chronic``
(门诊慢特病). A key not listed here is refused by the loader (unknown key).

Kinds: ``amount`` (yuan, ≤ 2 decimals), ``ratio`` (0..1, ≤ 4 decimals), ``int``, ``bool``,
``enum``, ``codes`` (list of strings), ``bands`` (list of ``{from, ratio}``), ``ratio_or_bands``,
``cap`` (``none``, an amount, or steps by enrolment months), ``xr_rule`` (cross-region rule),
``diseases`` (门慢特病 list), ``setting_map`` (med_type → setting), ``item_classes`` (特定项目类别),
``class_ratios`` (item class → fund ratio); payment reform adds ``factor`` (> 0, ≤ 4 decimals, in
1/10000), ``decimal`` (≥ 0, ≤ 4 decimals) and ``overrun_bands`` (list of ``{upto, fund_share}``).
A parameter with ``dims`` may be given as a table over those dimensions (see policy.model).
"""

from __future__ import annotations

from yibao.policy.schema_funds import FUNDS_SPECS  # funding keys (issue 13)
from yibao.policy.spec import ParamSpec
from yibao.policy.spec import spec as _p

SETTING_NAMES = {"inpatient": "住院", "outpatient": "门诊统筹", "chronic": "门诊慢特病"}
SCHEME_NAMES = {"employee": "职工", "resident": "居民"}
FUND_TYPES = ("390200", "330100", "310300", "390300")

_GLOBAL: dict[str, ParamSpec] = {
    "region.avg_wage_annual": _p("amount", "上年度在岗职工年平均工资", default=0),
    "med_type.setting": _p("setting_map", "医疗类别对应待遇类型"),
    "catalog.item_classes": _p("item_classes", "按特定比例支付的项目类别", default={}),
    "account.pays_fulamt_ownpay": _p("bool", "个人账户可支付全自费费用", default=False),
    "account.pays_overlmt": _p("bool", "个人账户可支付超限价费用", default=False),
    "assistance.enabled": _p("bool", "医疗救助一站式结算", default=False),
    "assistance.settings": _p(
        "codes", "医疗救助适用待遇类型", default=["outpatient", "chronic", "inpatient"]
    ),
    "assistance.base_includes_deductible": _p("bool", "救助基数含起付线", default=True),
    "assistance.deductible": _p("amount", "年度救助起付标准", ("class", "setting"), default=0),
    "assistance.ratio": _p("ratio", "救助比例", ("class", "setting"), default=0),
    "assistance.cap": _p("cap", "年度救助限额(门诊住院合计)", ("class",), default="none"),
    "assistance.setting_cap": _p("cap", "分类救助限额", ("class", "setting"), default="none"),
    "assistance.tilt_threshold": _p("amount", "倾斜救助起付(年度累计自付)", ("class",), default=0),
    "assistance.tilt_ratio": _p("ratio", "倾斜救助比例", ("class",), default=0),
    "assistance.tilt_cap": _p("cap", "倾斜救助年度限额", ("class",), default="none"),
}

_PER_SETTING: dict[str, ParamSpec] = {
    "covered": _p("bool", "统筹基金支付", default=True),
    "deductible": _p("amount", "起付线", ("group", "level")),
    "deductible_later": _p("amount", "再次住院起付线", ("group", "level"), default=None),
    "deductible_mode": _p(
        "enum", "起付线方式", default="per_admission", choices=("per_admission", "annual")
    ),
    "deductible_recharge_days": _p("int", "连续住院重新计算起付线天数(0=不重计)", default=0),
    "deductible_exempt_med_types": _p("codes", "免起付线医疗类别", default=[]),
    "deductible_annual_cap": _p("amount", "年度累计起付线上限(0=不设)", default=0),
    "ratio": _p("ratio_or_bands", "统筹基金支付比例", ("group", "level")),
    "cap": _p("cap", "统筹基金年度最高支付限额", ("group",), default="none"),
    "cap_basis": _p("enum", "限额计算口径", default="fund", choices=("fund", "eligible")),
    "class_ratio": _p("class_ratios", "特定项目类别统筹基金支付比例", default={}),
    "cap_pool": _p(
        "enum",
        "限额共用池",
        default="",
        choices=("", "inpatient", "outpatient", "chronic", "basic"),
    ),
    "cross_region": _p(
        "xr_rule", "异地就医待遇调整", ("scope", "filing"), default={"adjust": "none"}
    ),
}

_SERIOUS: dict[str, ParamSpec] = {
    "enabled": _p("bool", "大病保险/大额补助", default=False),
    "fund_pay_type": _p("enum", "大病/大额基金支付类型", default="390200", choices=FUND_TYPES),
    "settings": _p("codes", "大病/大额适用待遇类型", default=["inpatient", "chronic"]),
    "nego_outpatient": _p("bool", "门诊国谈药个人负担计入大病基数", default=False),
    "base_includes_copay": _p("bool", "基数含统筹内个人分担", default=True),
    "base_includes_deductible": _p("bool", "基数含起付线", default=False),
    "base_includes_over_cap": _p("bool", "基数含超统筹限额费用", default=True),
    "base_excludes_xr_reduction": _p("bool", "基数不含异地降低部分", default=False),
    "over_cap_ratio": _p("ratio", "超统筹限额部分支付比例(单列)", default=None),
    "deductible": _p("amount", "大病/大额年度起付线", default=0),
    "bands": _p("bands", "大病/大额分段比例"),
    "cap": _p("cap", "大病/大额年度限额", default="none"),
    "cross_region": _p(
        "xr_rule", "大病异地待遇调整", ("scope", "filing"), default={"adjust": "none"}
    ),
    "tilt_classes": _p("codes", "倾斜人群(救助类别)", default=[]),
    "tilt_deductible_factor": _p("ratio", "倾斜人群起付线系数", default=1),
    "tilt_plus_pp": _p("ratio", "倾斜人群每段提高比例", default=0),
    "tilt_no_cap": _p("bool", "倾斜人群取消封顶", default=False),
    "tilt_deductible": _p("amount", "倾斜人群起付线(直接指定)", default=None),
    "tilt_bands": _p("bands", "倾斜人群分段比例(直接指定)", default=None),
}

_CIVIL: dict[str, ParamSpec] = {
    "employee.civil_servant.enabled": _p("bool", "公务员医疗补助", default=False),
    "employee.civil_servant.settings": _p(
        "codes", "公务员补助适用待遇类型", default=["inpatient", "chronic"]
    ),
    "employee.civil_servant.base_includes_deductible": _p(
        "bool", "公务员补助基数含起付线", default=True
    ),
    "employee.civil_servant.ratio": _p("ratio", "公务员补助比例", ("group",), default=0),
    "employee.civil_servant.cap": _p("cap", "公务员补助年度限额", default="none"),
}


#: payment reform (支付方式改革, docs/payment-reform.md): DRG/DIP, advance, 特例单议, 医共体
DEDUCTIONS = [
    "psn_part_amt",
    "hosp_part_amt",
    "hifmi_pay",
    "hifob_pay",
    "cvlserv_pay",
    "maf_pay",
    "hifes_pay",
    "hifdm_pay",
    "oth_pay",
]
_PAYMENT: dict[str, ParamSpec] = {
    "payment.method": _p("enum", "住院付费方式", default="none", choices=("none", "drg", "dip")),
    "payment.level_coefficient": _p("factor", "医疗机构等级系数", ("level",), default=1),
    "payment.min_stay_days": _p("int", "住院天数不超过此值按项目付费", default=2),
    "payment.max_stay_days": _p("int", "住院天数达到此值按项目付费", default=60),
    "payment.fund_due.deductions": _p("codes", "基金应支付扣除项(结算字段)", default=DEDUCTIONS),
    "payment.advance_ratio": _p("ratio", "月度预结算拨付比例"),
    "payment.deposit_ratio": _p("ratio", "质量保证金预留比例", default=0),
    "payment.deposit_release_ratio": _p("ratio", "年度清算质量保证金返还比例", default=1),
    "payment.list.require_approval": _p("bool", "结算清单须审核通过方可纳入支付", default=False),
    "payment.special.cap_ratio": _p("ratio", "特例单议病例数上限比例"),
    "payment.drg.fund_budget": _p("amount", "DRG年度统筹基金预算"),
    "payment.drg.reimbursement_ratio": _p("ratio", "DRG预算报销比例(基金÷费用)"),
    "payment.drg.planned_weight_total": _p("decimal", "DRG年度预计总权重"),
    "payment.drg.high_ratio": _p("factor", "DRG高倍率病例倍数", ("level",)),
    "payment.drg.low_ratio": _p("ratio", "DRG低倍率病例比例"),
    "payment.drg.high_rule": _p(
        "enum", "DRG高倍率病例付费", default="by_item", choices=("by_item", "standard")
    ),
    "payment.drg.low_rule": _p(
        "enum", "DRG低倍率病例付费", default="by_item", choices=("by_item", "standard")
    ),
    "payment.dip.fund_budget": _p("amount", "DIP年度统筹基金预算"),
    "payment.dip.reimbursement_ratio": _p("ratio", "DIP预算报销比例(基金÷费用)"),
    "payment.dip.planned_score_total": _p("decimal", "DIP年度预计总分值"),
    "payment.dip.high_ratio": _p("factor", "DIP高倍率病例倍数", default=2),
    "payment.dip.low_ratio": _p("ratio", "DIP低倍率病例比例", default=0.5),
    "payment.ycm.retain_share": _p("ratio", "医共体结余留用比例"),
    "payment.ycm.retain_cap": _p("ratio", "医共体结余留用上限(占预算)"),
    "payment.ycm.overrun_bands": _p("overrun_bands", "医共体合理超支分担分档"),
    "payment.ycm.growth_rate": _p("ratio", "医共体预算年度增长率", default=0),
}


def _build() -> dict[str, ParamSpec]:
    specs = dict(_GLOBAL)
    specs.update(_PAYMENT)
    specs.update(_CIVIL)
    for scheme, sname in SCHEME_NAMES.items():
        for setting, tname in SETTING_NAMES.items():
            for name, spec in _PER_SETTING.items():
                specs[f"{scheme}.{setting}.{name}"] = ParamSpec(
                    spec.kind,
                    f"{sname}{tname}{spec.label}",
                    spec.dims,
                    spec.default,
                    spec.choices,
                    spec.has_default,
                )
        specs[f"{scheme}.chronic.diseases"] = _p("diseases", f"{sname}门诊慢特病病种", default={})
        for name, spec in _SERIOUS.items():
            specs[f"{scheme}.serious.{name}"] = ParamSpec(
                spec.kind,
                f"{sname}{spec.label}",
                spec.dims,
                spec.default,
                spec.choices,
                spec.has_default,
            )
    specs.update(FUNDS_SPECS)
    # 零星报销 (issue 16): the promised time from application to payment (承诺办结时限)
    specs["claims.time_limit_days"] = _p("int", "零星报销承诺办结时限(自申请至支付, 自然日)", default=None)
    return specs


SPECS: dict[str, ParamSpec] = _build()

# Keys that moved elsewhere: a file that still sets one is refused with where it lives now.
MOVED: dict[str, str] = {
    "catalog.first_pay_ratio": (
        "the 乙类 default first-pay ratio (乙类先行自付比例) lives in the catalogue: "
        "catalogs/<region>/region.yaml selfpay_defaults (docs/catalog.md)"
    ),
}

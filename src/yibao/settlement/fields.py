"""Chinese names of the settlement's national output fields (结算信息字段名称), reference
nhsa-interface.md §2207 setlinfo; used by ``yibao calc`` and by the trace's parameter values."""

from __future__ import annotations

SETLINFO_LABELS = {
    "medfee_sumamt": "医疗费总额",
    "fulamt_ownpay_amt": "全自费金额",
    "overlmt_selfpay": "超限价自费费用",
    "preselfpay_amt": "先行自付金额",
    "inscp_scp_amt": "符合政策范围金额",
    "act_pay_dedc": "实际支付起付线",
    "hifp_pay": "基本医疗保险统筹基金支出",
    "pool_prop_selfpay": "统筹基金支付比例",
    "hifmi_pay": "居民大病保险资金支出",
    "hifob_pay": "职工大额医疗费用补助基金支出",
    "cvlserv_pay": "公务员医疗补助资金支出",
    "maf_pay": "医疗救助基金支出",
    "oth_pay": "其他支出",
    "fund_pay_sumamt": "基金支付总额",
    "psn_part_amt": "个人负担总金额",
    "acct_pay": "个人账户支出",
    "acct_mulaid_pay": "其中: 共济账户支付",
    "psn_cash_pay": "个人现金支出",
    "hosp_part_amt": "医院负担金额",
    "balc": "个人账户余额",
}

# fields of the national setlinfo that the engine's own SetlInfo does not carry
FIELD_LABELS = {
    **SETLINFO_LABELS,
    "hifes_pay": "企业补充医疗保险基金支出",
    "hifdm_pay": "伤残人员医疗保障基金支出",  # [HN127]
}

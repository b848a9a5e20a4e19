"""The claims dataset (测算数据集): Arrow schemas of the bill and item tables, and the layout.

A dataset is a folder::

    manifest.json                        source, period, counts, schema version, partitions
    year=2025/region=440300/bucket=007/bills.parquet
    year=2025/region=440300/bucket=007/items.parquet

Partitions are by 医保年度, insured region (参保地) and a hash bucket of the person: every bill of
a person-year is in one partition, contiguous and in settlement order (``seq``), because
deductibles and caps are consumed in that order (the replay of a partition needs nothing from any other). docs/simulation-data.md
describes every column; :data:`BILL_DOCS` and :data:`ITEM_DOCS` are its source.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

_DICT = pa.dictionary(pa.int32(), pa.string())

BILL_COLUMNS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    # name, type, nullable, description
    ("bill_id", pa.int64(), False, "结算序号: unique, increasing with the rows; items refer to it"),
    ("psn_key", pa.int64(), False, "参保人化名键: keyed hash of psn_no (no name, ID or psn_no)"),
    ("year", pa.int16(), False, "医保年度 (calendar year of begntime)"),
    ("begntime", pa.date32(), False, "就诊/入院日期 (the policy date unless policy_date)"),
    ("endtime", pa.date32(), True, "出院日期 (inpatient; long stays may re-charge the deductible)"),
    (
        "seq",
        pa.int32(),
        False,
        "结算顺序: order of the person's settlements in the year (increasing)",
    ),
    ("policy_date", pa.date32(), True, "政策日期 when not begntime (case files only)"),
    ("insuplc_admdvs", _DICT, False, "参保地医保区划 (6 digits): whose policy applies"),
    ("mdtrtarea_admvs", _DICT, False, "就医地医保区划: differs → 异地就医"),
    ("insutype", _DICT, False, "险种类型: 310 职工 / 390 居民 (391, 380)"),
    ("psn_type", _DICT, False, "人员类别: 11 在职, 21 退休, 41–43 学生儿童, 50 成年, 60 老年 …"),
    ("age", pa.int16(), False, "年龄 on the service date (周岁)"),
    ("tier", _DICT, True, "参保档次 (深圳 1/2)"),
    ("enrol_months", pa.int32(), False, "连续参保月数 on the service date"),
    ("cvlserv_flag", pa.bool_(), False, "公务员标志"),
    ("pool_only", pa.bool_(), False, "单建统筹 (employee without a personal account, 珠海)"),
    (
        "assist_class",
        _DICT,
        True,
        "医疗救助类别 in force on the date (tekun, dibao, …; highest first)",
    ),
    ("med_type", _DICT, False, "医疗类别 (11 普通门诊, 14 门诊慢特病, 21 住院, 41 药店 …)"),
    ("hosp_lv", _DICT, False, "医院等级 code 1–14"),
    ("level", _DICT, True, "起付线医院级别 0–3 when given directly"),
    ("admission_no", pa.int32(), True, "本年度第几次住院 when given (else counted)"),
    ("filing", _DICT, False, "异地备案类型: long_term/referral/emergency/temporary/unfiled"),
    ("dise_codg", _DICT, True, "门诊慢特病病种编码"),
    ("acct_used_flag", _DICT, False, "个人账户使用标志 0/1/2"),
    (
        "acct_open",
        pa.int64(),
        False,
        "个人账户余额 before the person's first bill of the year (fen)",
    ),
    ("mulaid_open", pa.int64(), False, "共济账户可用余额 before the first bill of the year (fen)"),
    ("rec_hifp_pay", pa.int64(), True, "recorded 统筹基金支出 (exported settlements only)"),
    ("rec_fund_pay_sumamt", pa.int64(), True, "recorded 基金支付总额 (exported only)"),
    ("rec_psn_part_amt", pa.int64(), True, "recorded 个人负担总金额 (exported only)"),
)

ITEM_COLUMNS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    ("bill_id", pa.int64(), False, "the bill (rows in the same order as the bills)"),
    ("amount", pa.int64(), False, "明细金额 det_item_fee_sumamt (fen, ≥ 0)"),
    ("chrgitm_lv", _DICT, False, "收费项目等级 01 甲 / 02 乙 / 03 丙"),
    (
        "selfpay_units",
        pa.int16(),
        True,
        "乙类先行自付比例 in 1/10000; null = the catalogue default of the treatment place",
    ),
    ("pric_uplmt_amt", pa.int64(), True, "支付标准/限价 per unit (fen); null = none"),
    ("cnt_units", pa.int64(), False, "数量 × 10000 (the limit applies to 限价 × 数量)"),
    ("in_catalog", pa.bool_(), False, "在目录内 (false: 目录外 → 全自费)"),
    ("lmt_refused", pa.bool_(), False, "限制使用 and 医院审批不通过 → 全自费"),
    ("nego", pa.bool_(), False, "国谈药品 (深圳: counts toward the 大病 base on 门诊统筹 bills)"),
    (
        "list_type",
        _DICT,
        True,
        "目录类别 101 西药中成药 / 102 中药饮片 / 201 医疗服务 / 301 医用耗材",
    ),
    ("med_list_codg", _DICT, True, "医保目录编码 (item classes may list codes)"),
    ("pric_fen", pa.int64(), True, "单价 in fen (item classes may set a minimum price)"),
)


def _schema(cols: tuple[tuple[str, pa.DataType, bool, str], ...]) -> pa.Schema:
    return pa.schema([pa.field(n, t, nullable=null) for n, t, null, _ in cols])


BILL_SCHEMA = _schema(BILL_COLUMNS)
ITEM_SCHEMA = _schema(ITEM_COLUMNS)
BILL_DOCS = {n: d for n, _, _, d in BILL_COLUMNS}
ITEM_DOCS = {n: d for n, _, _, d in ITEM_COLUMNS}
DICT_COLUMNS = tuple(n for n, t, _, _ in BILL_COLUMNS if t == _DICT)
ITEM_DICT_COLUMNS = tuple(n for n, t, _, _ in ITEM_COLUMNS if t == _DICT)


def partition_dir(year: int, region: str, bucket: int) -> str:
    """The relative folder of one partition."""
    return f"year={year}/region={region}/bucket={bucket:03d}"

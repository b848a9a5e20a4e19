"""The catalogue (医保目录) as pure data and rules: no I/O, no database, no clock.

Three modules: :mod:`~yibao.catalog.model.codes` (code tables), :mod:`~yibao.catalog.model.layers`
(rows, entries and how a region's layers fold into one entry) and
:mod:`~yibao.catalog.model.lines` (classifying and splitting HIS fee lines); this package
re-exports their names.

A region's catalogue is built from *layers*: the province list (省目录, e.g. 440000) and, below
it, city or county overrides (地市调整, e.g. 440300) that change an item's class (甲/乙/丙), its
first-pay ratio (先行自付比例) or its payment standard (支付标准), or add or remove items. Each
layer holds dated rows (``begndate``..``enddate``, both inclusive) per national code
(``med_list_codg``). :func:`resolve_entry` folds the layers for one code on one date into a
:class:`CatalogEntry`; :func:`classify_line` turns an HIS fee line (2204 ``feedetail``) into the
engine's :class:`~yibao.items.Item`; :func:`split_line` computes the 2204 ``result``
amounts of one line (全自费 / 超限价 / 先行自付 / 符合政策范围).

Field names follow the national interface: 1312 医保目录信息查询 (``list_type``, ``chrgitm_lv``,
``med_chrgitm_type``, ``lmt_used_flag``, ``begndate``, ``enddate``, ``vali_flag``,
``updt_time``), 1318 限价 (``hilist_pric_uplmt_amt`` → ``pric_uplmt_amt`` per unit), 1319
先自付比例 (``selfpay_prop``), 1301 西药中成药目录 (``drug_dosform``, ``drug_spec``,
``prodentp_name``, ``lmt_usescp``) and 2204 ``result`` (``hi_nego_drug_flag``, ``overlmt_amt``…).
"""

from __future__ import annotations

from yibao.catalog.model.codes import (
    ACTIONS,
    CHRGITM_LVS,
    CHRGITM_TYPES_BY_LIST,
    ENTRY_FIELDS,
    HOSP_APPR_FLAGS,
    LIST_TYPES,
    MED_CHRGITM_TYPES,
    OVERRIDABLE_FIELDS,
    Action,
)
from yibao.catalog.model.layers import (
    CatalogDataError,
    CatalogEntry,
    CatalogRow,
    Region,
    SelfpayDefault,
    parent_candidates,
    region_chain,
    region_default,
    resolve_entry,
)
from yibao.catalog.model.lines import (
    AMOUNT_TOLERANCE_FEN,
    ClassifiedLine,
    FeeLine,
    LineRefusal,
    LineSplit,
    check_line,
    classify_line,
    classify_lines,
    split_line,
)

__all__ = [
    "ACTIONS",
    "AMOUNT_TOLERANCE_FEN",
    "CHRGITM_LVS",
    "CHRGITM_TYPES_BY_LIST",
    "ENTRY_FIELDS",
    "HOSP_APPR_FLAGS",
    "LIST_TYPES",
    "MED_CHRGITM_TYPES",
    "OVERRIDABLE_FIELDS",
    "Action",
    "CatalogDataError",
    "CatalogEntry",
    "CatalogRow",
    "ClassifiedLine",
    "FeeLine",
    "LineRefusal",
    "LineSplit",
    "Region",
    "SelfpayDefault",
    "check_line",
    "classify_line",
    "classify_lines",
    "parent_candidates",
    "region_chain",
    "region_default",
    "resolve_entry",
    "split_line",
]

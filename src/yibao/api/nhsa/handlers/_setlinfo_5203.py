"""The 5203 结算信息查询 ``setlinfo`` with the spec's full field list, in the spec's order.

Fields (nhsa-interface.md §2.12, [JX] 表229; the same list and order in a public HIS client's
5203 model): the settlement block of 2207 with the person, the institution, the visit and the
handling around it. Money as 2-decimal JSON numbers, ``age`` (4,1) and ``pool_prop_selfpay``
(5,4) as numbers, codes and dates as text. 5203 names two amounts differently from 2207:
``psn_pay`` (个人支付金额 = 2207's ``psn_part_amt``) and ``cash_payamt`` (现金支付金额 = 2207's
``psn_cash_pay``); both spellings are sent so a client written against either edition finds its
field.

``refd_setl_flag`` (退费结算标志, 0 否 / 1 是) is "1" on a cancellation (the negative settlement
of 2208/2305/2103 or of a 2601 冲正) **and** on the settlement it cancelled, so a HIS that asks
5203 about its settlement after an uncertain 2208 or a 2601 sees that it no longer stands.

Fields Yibao does not keep are sent empty: ``invono`` (the HIS's invoice number is checked in
2207 but not stored) and ``opter_name`` when the operator is not registered. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

#: [JX] 表229 order (5203 setlinfo)
FIELDS_5203: tuple[str, ...] = (
    "setl_id", "mdtrt_id", "psn_no", "psn_name", "psn_cert_type", "certno", "gend", "naty",
    "brdy", "age", "insutype", "psn_type", "cvlserv_flag", "flxempe_flag", "nwb_flag",
    "insu_optins", "emp_name", "pay_loc", "fixmedins_code", "fixmedins_name", "hosp_lv",
    "fixmedins_poolarea", "lmtpric_hosp_lv", "dedc_hosp_lv", "begndate", "enddate", "setl_time",
    "mdtrt_cert_type", "med_type", "clr_type", "clr_way", "clr_optins", "medfee_sumamt",
    "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc",
    "hifp_pay", "pool_prop_selfpay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay",
    "maf_pay", "oth_pay", "fund_pay_sumamt", "psn_pay", "acct_pay", "cash_payamt", "balc",
    "acct_mulaid_pay", "medins_setl_id", "refd_setl_flag", "year", "dise_codg", "dise_name",
    "invono", "opter_id", "opter_name", "opt_time",
)  # fmt: skip

#: 2207 fields kept after the spec's list (a client of the 2207 block finds them too)
EXTRA_FIELDS: tuple[str, ...] = (
    "psn_part_amt", "psn_cash_pay", "hosp_part_amt", "hifdm_pay", "mid_setl_flag",
)  # fmt: skip

#: 新生儿 (neonatal period): up to 28 days after birth
NEWBORN_DAYS = 28


def nwb_flag(brdy: date, visit_day: date) -> str:
    """新生儿标志: "1" when the visit started within 28 days of birth."""
    return "1" if 0 <= (visit_day - brdy).days <= NEWBORN_DAYS else "0"


def refd_setl_flag(kind: str, cancelled_by: str | None) -> str:
    """退费结算标志 of a stored settlement: a cancellation, or a settlement since cancelled."""
    return "1" if kind == "cancel" or cancelled_by else "0"


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else ""


def setlinfo_5203(
    national: Mapping[str, Any],
    *,
    flxempe_flag: str,
    nwb: str,
    insu_optins: str,
    emp_name: str,
    pay_loc: str,
    institution: Mapping[str, str],
    begn: datetime | None,
    end: datetime | None,
    refd: str,
    year: str,
    dise_codg: str,
    dise_name: str,
    opter_id: str,
    opter_name: str,
    mid_setl_flag: str = "0",
) -> dict[str, Any]:
    """The 5203 block from the 2207 block (``national``, China-time moments) and the rest."""
    merged: dict[str, Any] = {
        **national,
        "flxempe_flag": flxempe_flag,
        "nwb_flag": nwb,
        "insu_optins": insu_optins,
        "emp_name": emp_name,
        "pay_loc": pay_loc,
        **institution,
        "begndate": _day(begn),
        "enddate": _day(end or begn),
        "psn_pay": national.get("psn_part_amt"),
        "cash_payamt": national.get("psn_cash_pay"),
        "refd_setl_flag": refd,
        "year": year,
        "dise_codg": dise_codg,
        "dise_name": dise_name,
        "invono": "",
        "opter_id": opter_id,
        "opter_name": opter_name,
        "opt_time": national.get("setl_time", ""),
        "mid_setl_flag": mid_setl_flag,
    }
    out = {name: merged.get(name, "") for name in FIELDS_5203}
    out.update({name: merged[name] for name in EXTRA_FIELDS if name in merged})
    return out

"""The last step: the settlement's amounts in national field names (``setlinfo``), the funds'
lines (``setldetail``), the item split, the accumulator deltas and the trace."""

from __future__ import annotations

from yibao.settlement.arith import ratio_dec
from yibao.settlement.bill import Bill
from yibao.settlement.model import Accumulators, SetlInfo, SettlementResult


def deltas(b: Bill) -> Accumulators:
    """What this settlement adds to the person's year-to-date totals.

    Positional arguments in field order (a 16-keyword dataclass call costs ~2 µs more, on every
    settlement); tests/unit/settlement/test_steps.py checks the order.
    """
    setting = b.setting
    return Accumulators(
        b.acc.year,  # year
        b.admissions,  # admissions
        b.d_dedc,  # dedc
        b.d_inscp,  # inscp
        b.d_hifp,  # hifp
        b.d_elig,  # eligible
        b.d_chronic,  # chronic
        b.serious_base if b.serious_fpt else 0,  # serious_base
        b.serious_pay,  # serious_pay
        b.cvl_pay,  # cvlserv_pay
        {setting: b.maf_base} if b.maf_base else {},  # maf_base
        {setting: b.maf1} if b.maf1 else {},  # maf_pay
        b.maf2_base,  # maf2_base
        b.maf2,  # maf2_pay
        -b.own,  # acct_balc
        -b.mulaid,  # mulaid_balc
    )


def close(b: Bill) -> SettlementResult:
    """The result of the bill (``SetlInfo`` positional, in field order, as above)."""
    fpt, serious_pay, enc, person = b.serious_fpt, b.serious_pay, b.enc, b.person
    hifmi = serious_pay if fpt in ("390200", "390300") else 0
    hifob = serious_pay if fpt == "330100" else 0
    clr = "41" if enc.med_type == "41" else ("21" if b.setting == "inpatient" else "11")
    info = SetlInfo(
        b.tot,  # medfee_sumamt
        b.ful,  # fulamt_ownpay_amt
        b.over,  # overlmt_selfpay
        b.pre,  # preselfpay_amt
        b.inscp,  # inscp_scp_amt
        b.act_dedc,  # act_pay_dedc
        b.hifp,  # hifp_pay
        ratio_dec(b.prop_units),  # pool_prop_selfpay
        b.cvl_pay,  # cvlserv_pay
        0,  # hifes_pay
        hifmi,  # hifmi_pay
        hifob,  # hifob_pay
        b.maf1 + b.maf2,  # maf_pay
        serious_pay - hifmi - hifob,  # oth_pay
        b.fund_sum,  # fund_pay_sumamt
        b.psn_part,  # psn_part_amt
        b.own + b.mulaid,  # acct_pay
        b.cash,  # psn_cash_pay
        0,  # hosp_part_amt
        b.acc.acct_balc - b.own,  # balc
        b.mulaid,  # acct_mulaid_pay
        enc.med_type,  # med_type
        person.insutype,  # insutype
        person.psn_type,  # psn_type
        "1" if person.cvlserv_flag else "0",  # cvlserv_flag
        clr,  # clr_type
    )
    return SettlementResult(
        b.policy.admdvs, b.policy.on, info, tuple(b.details), tuple(b.splits), deltas(b),
        tuple(b.trace),
    )  # fmt: skip

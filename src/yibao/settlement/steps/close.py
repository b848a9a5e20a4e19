"""The last step: the settlement's amounts in national field names (``setlinfo``), the funds'
lines (``setldetail``), the item split, the accumulator deltas and the trace."""

from __future__ import annotations

from yibao.settlement.arith import ratio_dec
from yibao.settlement.bill import Bill
from yibao.settlement.model import Accumulators, SetlInfo, SettlementResult


def deltas(b: Bill) -> Accumulators:
    """What this settlement adds to the person's year-to-date totals."""
    setting = b.setting
    return Accumulators(
        year=b.acc.year,
        admissions=b.admissions,
        dedc=b.d_dedc,
        inscp=b.d_inscp,
        hifp=b.d_hifp,
        eligible=b.d_elig,
        chronic=b.d_chronic,
        serious_base=b.serious_base if b.serious_fpt else 0,
        serious_pay=b.serious_pay,
        cvlserv_pay=b.cvl_pay,
        maf_base={setting: b.maf_base} if b.maf_base else {},
        maf_pay={setting: b.maf1} if b.maf1 else {},
        maf2_base=b.maf2_base,
        maf2_pay=b.maf2,
        acct_balc=-b.own,
        mulaid_balc=-b.mulaid,
    )


def close(b: Bill) -> SettlementResult:
    """The result of the bill."""
    fpt, serious_pay, enc = b.serious_fpt, b.serious_pay, b.enc
    hifmi = serious_pay if fpt in ("390200", "390300") else 0
    hifob = serious_pay if fpt == "330100" else 0
    clr = "41" if enc.med_type == "41" else ("21" if b.setting == "inpatient" else "11")
    info = SetlInfo(
        medfee_sumamt=b.tot, fulamt_ownpay_amt=b.ful, overlmt_selfpay=b.over,
        preselfpay_amt=b.pre, inscp_scp_amt=b.inscp, act_pay_dedc=b.act_dedc, hifp_pay=b.hifp,
        pool_prop_selfpay=ratio_dec(b.prop_units), cvlserv_pay=b.cvl_pay, hifes_pay=0,
        hifmi_pay=hifmi, hifob_pay=hifob, maf_pay=b.maf1 + b.maf2,
        oth_pay=serious_pay - hifmi - hifob, fund_pay_sumamt=b.fund_sum,
        psn_part_amt=b.psn_part, acct_pay=b.own + b.mulaid, psn_cash_pay=b.cash,
        hosp_part_amt=0, balc=b.acc.acct_balc - b.own, acct_mulaid_pay=b.mulaid,
        med_type=enc.med_type, insutype=b.person.insutype, psn_type=b.person.psn_type,
        cvlserv_flag="1" if b.person.cvlserv_flag else "0", clr_type=clr,
    )  # fmt: skip
    return SettlementResult(
        b.policy.admdvs, b.policy.on, info, tuple(b.details), tuple(b.splits), deltas(b),
        tuple(b.trace),
    )  # fmt: skip

"""Each step of the engine alone: a bill opened for its benefit line, the figures of the steps
before it set by hand, then the one step; its amounts, counters and trace line(s) with the
parameters it used (value applied, reference or assumed). Hand computations in docstrings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.unit.settlement.conftest import item, policy
from yibao.settlement.bill import Bill
from yibao.settlement.model import (
    Accumulators,
    AssistanceClass,
    Encounter,
    Person,
    SettlementError,
    TraceStep,
)
from yibao.settlement.steps.account import account, cash
from yibao.settlement.steps.assistance import assistance
from yibao.settlement.steps.civil import civil_servant
from yibao.settlement.steps.close import close
from yibao.settlement.steps.deductible import deductible
from yibao.settlement.steps.line import benefit_line, open_bill
from yibao.settlement.steps.pooled import pooled_fund
from yibao.settlement.steps.serious import serious
from yibao.settlement.steps.split import split_items

D = date(2025, 7, 1)
WORKER = Person("W", "310", "11", "440100")
GZ_FLAT = {  # 广州 inpatient made plain for hand computation
    "employee.inpatient.deductible": {"value": 1000, "reference": "测试 起付线 2025"},
    "employee.inpatient.ratio": {"value": 0.9, "reference": "测试 比例 2025"},
    "employee.inpatient.cap": {"value": 50000, "reference": "测试 限额 2025"},
}


def bill(person: Person = WORKER, *items: object, acc: Accumulators | None = None,
         med_type: str = "21", ov: dict | None = None, **kw: object) -> Bill:  # fmt: skip
    enc = Encounter(med_type, kw.pop("where", "440100"), D, tuple(items) or (item("1", 100),),  # type: ignore[arg-type]
                    hosp_lv=kw.pop("hosp_lv", "2"), acct_used_flag=kw.pop("flag", "0"), **kw)  # type: ignore[arg-type]  # fmt: skip
    return open_bill(person, enc, acc or Accumulators(2025), policy("440100", **(ov or GZ_FLAT)))


def params(step: TraceStep) -> dict[str, object]:
    return {u.key: u.value for u in step.params}


# --------------------------------------------------------------------------- open, line


def test_open_bill_finds_the_benefit_line() -> None:
    b = bill(Person("R", "310", "21", "440100", pool_only=True, tier=None), where="440300",
             filing="referral")  # fmt: skip
    assert (b.scheme, b.setting, b.level, b.scope) == ("employee", "inpatient", "3", "in_province")
    assert b.groups == ("retired_pool_only", "retired")
    assert b.cls is None and b.basic is not None and b.trace == []


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"med_type": "99"}, "med_type"),
        ({"hosp_lv": "77"}, "hosp_lv"),
        ({"flag": "9"}, "acct_used_flag"),
        ({"where": "110100", "filing": "holiday"}, "filing"),
    ],
)
def test_open_bill_refuses_bad_input_naming_the_field(kw: dict, field: str) -> None:
    with pytest.raises(SettlementError, match=f"^{field}:"):
        bill(WORKER, **kw)


def test_benefit_line_is_traced_in_chinese_with_the_setting_it_applied() -> None:
    p = Person("T", "390", "50", "441481", age=70, assistance=(AssistanceClass("tekun", D),))
    enc = Encounter("11", "440300", D, (item("1", 10),), filing="temporary")
    b = open_bill(p, enc, Accumulators(2025), policy("441481"))
    benefit_line(b)
    (step,) = b.trace
    assert step.step == "line" and step.amount == 0
    assert (
        step.detail
        == "门诊统筹；人群 60岁以上居民；医院级别 一级以下/社区；省内异地就医（其他临时外出）；救助类别 特困人员"
    )
    assert params(step) == {"med_type.setting": {"11": "outpatient"}}


# --------------------------------------------------------------------------- split


def test_split_items_totals_and_trace() -> None:
    """甲 100; 乙 200 × 10 % = 20 先行自付; 丙 50 全自费; 甲 300 above its limit 250 → 50 超限价."""
    b = bill(WORKER, item("1", 100), item("2", 200, "02", "0.1"), item("3", 50, "03"),
             item("4", 300, pric_uplmt_amt=25_000))  # fmt: skip
    split_items(b)
    assert (b.tot, b.ful, b.over, b.pre, b.inscp) == (65_000, 5_000, 5_000, 2_000, 53_000)
    assert [s.memo for s in b.splits] == ["", "", "丙类全自费", ""]
    (step,) = b.trace
    assert step.step == "split" and step.amount == 53_000 and step.params == ()
    assert (
        step.detail
        == "医疗费总额 650.00 = 全自费 50.00 + 超限价 50.00 + 先行自付 20.00 + 政策范围内 530.00"
    )


def test_split_items_adds_a_cross_region_extra_first_pay_and_names_the_rule() -> None:
    """乙 1000 × 10 % = 100; extra 20 % of the remaining 900 = 180; 甲 500 × 20 % = 100."""
    rule = {"default": {"default": {"adjust": "extra_first_pay", "value": 0.2}}}
    b = bill(WORKER, item("1", 1000, "02", "0.1"), item("2", 500), where="110100",
             ov={**GZ_FLAT, "employee.inpatient.cross_region": rule})  # fmt: skip
    split_items(b)
    assert b.pre == 38_000 and b.inscp == 112_000
    assert "employee.inpatient.cross_region" in params(b.trace[0])


def test_split_items_refuses_a_negative_line() -> None:
    b = bill(WORKER, replace(item("9", 1), det_item_fee_sumamt=-100))
    with pytest.raises(SettlementError, match=r"^det_item_fee_sumamt: 明细 9"):
        split_items(b)


# --------------------------------------------------------------------------- deductible


def test_deductible_takes_the_line_deductible_and_traces_its_parameters() -> None:
    b = bill()
    b.inscp = 500_000
    deductible(b)
    assert b.act_dedc == 100_000
    assert b.d_dedc == {"inpatient": 100_000}
    (step,) = b.trace
    used = params(step)
    assert used["employee.inpatient.deductible"] == 100_000
    assert used["employee.inpatient.deductible_mode"] == "per_admission"
    assert step.params[0].use.reference == "测试 起付线 2025"


def test_deductible_is_at_most_the_policy_range_amount_and_exempt_types_are_named() -> None:
    b = bill()
    b.inscp = 30_000
    deductible(b)
    assert b.act_dedc == 30_000
    psych = bill(med_type="21303")
    psych.inscp = 30_000
    deductible(psych)
    assert psych.act_dedc == 0
    assert "employee.inpatient.deductible_exempt_med_types" in params(psych.trace[0])


def test_deductible_charges_again_for_a_long_stay() -> None:
    """广州: every 90 days of a stay is a new deductible: 181 days → 3 × 1000."""
    b = bill(endtime=date(2025, 12, 29))
    b.inscp = 1_000_000
    deductible(b)
    assert b.act_dedc == 300_000
    assert "连续住院 181 天计 3 次" in b.trace[0].detail


# --------------------------------------------------------------------------- pooled fund


def test_pooled_fund_pays_the_ratio_up_to_the_cap_and_records_its_counters() -> None:
    """(60000 − 1000) × 90 % = 53100, but only 50000 − 10000 = 40000 is left under the cap;
    it is reached at 40000 / 90 % = 44444.44 of eligible cost, so 59000 − 44444.44 is over it."""
    b = bill(acc=Accumulators(2025, hifp={"inpatient": 1_000_000}))
    b.inscp, b.act_dedc = 6_000_000, 100_000
    pooled_fund(b)
    assert b.hifp == 4_000_000 and b.over_cap == 1_455_556
    assert b.d_hifp == {"inpatient": 4_000_000} and b.d_inscp == {"inpatient": 6_000_000}
    assert b.admissions == 1 and b.prop_units == 9000
    (step,) = b.trace
    assert params(step)["employee.inpatient.ratio"] == 9000
    assert params(step)["employee.inpatient.cap"] == 5_000_000
    assert b.details[0].fund_pay_type == "310100" and b.details[0].crt_payb_lmt_amt == 4_000_000


def test_pooled_fund_pays_an_item_class_at_its_own_ratio_after_the_deductible() -> None:
    """Rest 500 − deductible 1000 → 0; the class 3000 − the other 500 of the deductible = 2500
    × 70 % = 1750."""
    ov = {**GZ_FLAT,
          "catalog.item_classes": {"value": {"implant": {"name": "植入材料", "codes": ["CODE2"]}},
                                   "assumed": True, "reason": "测试"},
          "employee.inpatient.class_ratio": {"implant": 0.7}}  # fmt: skip
    b = bill(WORKER, item("1", 500), replace(item("2", 3000), list_type="301"), ov=ov)
    split_items(b)
    assert b.class_inscp == {"implant": 300_000}
    b.act_dedc = 100_000
    pooled_fund(b)
    assert b.hifp == 175_000
    step = b.trace[-1]
    assert params(step)["employee.inpatient.class_ratio"] == (("植入材料", 7000),)
    assert "其中植入材料 2500.00 × 比例 0.7000 = 1750.00" in step.detail
    assert [u.use.assumed for u in step.params if u.key == "catalog.item_classes"] == [True]


def test_pooled_fund_not_covered_pays_nothing_and_says_so() -> None:
    b = bill(ov={**GZ_FLAT, "employee.inpatient.covered": False})
    b.inscp = 10_000
    pooled_fund(b)
    assert b.hifp == 0 and b.trace[0].detail == "本次不予统筹支付：政策规定住院不由统筹基金支付"
    assert params(b.trace[0]) == {"employee.inpatient.covered": False}


def test_pooled_fund_not_paid_across_provinces_unfiled_names_that_reason() -> None:
    """The trace says which reason applied: here 跨省异地未备案, not the line's coverage."""
    rule = {"cross_province": {"unfiled": {"adjust": "not_paid"}, "default": {"adjust": "none"}}}
    b = bill(where="110100", filing="unfiled",
             ov={**GZ_FLAT, "employee.inpatient.cross_region": rule})  # fmt: skip
    b.inscp = 10_000
    pooled_fund(b)
    assert b.hifp == 0
    assert b.trace[0].detail == "本次不予统筹支付：跨省异地就医（未备案），参保地规定不予统筹支付"
    assert "employee.inpatient.cross_region" in params(b.trace[0])
    b = bill(where="110100", filing="long_term",
             ov={**GZ_FLAT, "employee.inpatient.cross_region": rule})  # fmt: skip
    b.inscp = 10_000
    pooled_fund(b)
    assert b.hifp > 0 and "不予统筹支付" not in str(b.trace[0].detail)


# --------------------------------------------------------------------------- second tier


def test_serious_pays_bands_above_its_annual_deductible() -> None:
    """Base = co-pay 5000 + over-cap 20000 = 25000 on top of 0 YTD; deductible 10000;
    (25000 − 10000) × 60 % = 9000."""
    ov = {**GZ_FLAT, "employee.serious.enabled": True, "employee.serious.deductible": 10000,
          "employee.serious.bands": [{"from": 0, "ratio": 0.6}],
          "employee.serious.base_includes_copay": True,
          "employee.serious.base_includes_over_cap": True}  # fmt: skip
    b = bill(ov=ov)
    b.inscp, b.act_dedc, b.hifp, b.over_cap = 7_600_000, 100_000, 5_000_000, 2_000_000
    serious(b)
    assert b.serious_base == 2_500_000 and b.serious_pay == 900_000
    used = params(b.trace[0])
    assert used["employee.serious.deductible"] == 1_000_000
    assert used["employee.serious.bands"] == ((0, 6000),)


def test_civil_servant_pays_its_ratio_of_what_is_left() -> None:
    """Left after the funds: 10000 − 6000 − 1000 = 3000 (deductible included) × 50 % = 1500."""
    ov = {**GZ_FLAT, "employee.civil_servant.enabled": True, "employee.civil_servant.ratio": 0.5}
    b = bill(Person("C", "310", "11", "440100", cvlserv_flag=True), ov=ov)
    b.inscp, b.act_dedc, b.hifp, b.serious_pay = 1_000_000, 100_000, 600_000, 100_000
    civil_servant(b)
    assert b.cvl_pay == 150_000
    assert params(b.trace[0])["employee.civil_servant.ratio"] == 5000
    not_flagged = bill(ov=ov)
    civil_servant(not_flagged)
    assert not_flagged.trace == [] and not_flagged.cvl_pay == 0


def test_assistance_then_tilt() -> None:
    """兴宁 特困 100 %: base 3000 → 3000; nothing is left for the tilt."""
    p = Person("T", "390", "50", "441481", age=50, assistance=(AssistanceClass("tekun", D),))
    enc = Encounter("21", "441481", D, (item("1", 10),), hosp_lv="5")
    b = open_bill(p, enc, Accumulators(2025), policy("441481"))
    b.inscp, b.hifp = 1_000_000, 700_000
    assistance(b)
    assert b.maf_base == 300_000 and b.maf1 == 300_000 and b.maf2 == 0
    assert b.trace[0].step == "assistance" and "救助类别 特困人员" in b.trace[0].detail
    assert params(b.trace[0])["assistance.ratio"] == 10_000


# --------------------------------------------------------------------------- account, cash, close


def test_account_pays_what_it_may_then_cash() -> None:
    """Person's share 900 (of which 100 全自费, not payable from the account); balance 500."""
    b = bill(acc=Accumulators(2025, acct_balc=50_000), flag="1")
    b.tot, b.ful, b.hifp = 100_000, 10_000, 10_000
    account(b)
    assert (b.fund_sum, b.psn_part, b.own, b.mulaid) == (10_000, 90_000, 50_000, 0)
    cash(b)
    assert b.cash == 40_000
    assert [t.step for t in b.trace] == ["account", "cash"]
    assert params(b.trace[0]) == {
        "account.pays_fulamt_ownpay": False,
        "account.pays_overlmt": False,
    }
    assert "使用本人账户" in b.trace[0].detail


def test_close_builds_setlinfo_and_deltas_from_the_bill() -> None:
    b = bill()
    b.tot = b.inscp = 10_000
    b.hifp = b.fund_sum = 9_000
    b.psn_part = b.cash = 1_000
    b.d_hifp = {"inpatient": 9_000}
    r = close(b)
    assert (r.setlinfo.hifp_pay, r.setlinfo.psn_cash_pay, r.setlinfo.clr_type) == (
        9_000,
        1_000,
        "21",
    )
    assert r.deltas.hifp == {"inpatient": 9_000} and r.admdvs == "440100"


def test_close_fills_every_field_by_name() -> None:
    """close() builds SetlInfo and the deltas positionally (for speed): each field must get the
    figure of the same name."""
    b = bill(Person("C", "310", "11", "440100", cvlserv_flag=True), flag="2")
    figures = ("tot", "ful", "over", "pre", "inscp", "act_dedc", "hifp", "cvl_pay", "maf1", "maf2",
               "fund_sum", "psn_part", "own", "mulaid", "cash", "serious_pay", "serious_base",
               "maf_base", "maf2_base", "admissions")  # fmt: skip
    for n, name in enumerate(figures, 1):
        setattr(b, name, n * 100)
    b.serious_fpt, b.prop_units = "330100", 8500
    b.acc = Accumulators(2025, acct_balc=1_000_000)
    r = close(b)
    s, d = r.setlinfo, r.deltas
    assert (s.medfee_sumamt, s.fulamt_ownpay_amt, s.overlmt_selfpay, s.preselfpay_amt) == (
        100, 200, 300, 400)  # fmt: skip
    assert (s.inscp_scp_amt, s.act_pay_dedc, s.hifp_pay, s.cvlserv_pay) == (500, 600, 700, 800)
    assert (s.maf_pay, s.fund_pay_sumamt, s.psn_part_amt, s.acct_pay) == (1900, 1100, 1200, 2700)
    assert (s.acct_mulaid_pay, s.psn_cash_pay, s.hifob_pay, s.hifmi_pay, s.oth_pay) == (
        1400, 1500, 1600, 0, 0)  # fmt: skip
    assert (s.hifes_pay, s.hosp_part_amt, s.balc) == (0, 0, 1_000_000 - 1300)
    assert str(s.pool_prop_selfpay) == "0.8500"
    assert (s.med_type, s.insutype, s.psn_type, s.cvlserv_flag, s.clr_type) == (
        "21", "310", "11", "1", "21")  # fmt: skip
    assert (d.year, d.admissions, d.serious_base, d.serious_pay, d.cvlserv_pay) == (
        2025, 2000, 1700, 1600, 800)  # fmt: skip
    assert (d.maf_base, d.maf_pay, d.maf2_base, d.maf2_pay) == (
        {"inpatient": 1800}, {"inpatient": 900}, 1900, 1000)  # fmt: skip
    assert (d.acct_balc, d.mulaid_balc) == (-1300, -1400)
    assert d.dedc is b.d_dedc and d.inscp is b.d_inscp and d.hifp is b.d_hifp
    assert d.eligible is b.d_elig and d.chronic is b.d_chronic

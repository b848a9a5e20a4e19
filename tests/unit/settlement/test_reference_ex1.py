"""EX1 (黑龙江省医疗保障局 2020): 乙类 first-pay, deductible 1300, ratio 80 % → fund 6560."""

from __future__ import annotations

from datetime import date

from tests.unit.settlement.conftest import item, policy
from yibao.settlement.engine import apply_deltas, reverse, settle
from yibao.settlement.model import Accumulators, Encounter, Person


def test_ex1_employee_inpatient_first_pay() -> None:
    pol = policy(
        "440100",
        **{
            "employee.inpatient.deductible": 1300,
            "employee.inpatient.ratio": 0.8,
        },
    )
    person = Person("P-EX1", "310", "11", "440100")
    items = (item("1", 2000), item("2", 3000), item("3", 5000, lv="02", prop="0.1"))
    enc = Encounter("21", "440100", date(2025, 7, 1), items, hosp_lv="5", acct_used_flag="0")
    acc = Accumulators(2025)
    r = settle(person, enc, acc, pol)
    s = r.setlinfo
    assert (s.medfee_sumamt, s.preselfpay_amt, s.inscp_scp_amt) == (1_000_000, 50_000, 950_000)
    assert (s.act_pay_dedc, s.hifp_pay, s.psn_part_amt) == (130_000, 656_000, 344_000)
    assert s.psn_cash_pay == 344_000
    after = apply_deltas(acc, r.deltas)
    assert after.admissions == 1 and after.hifp == {"inpatient": 656_000}
    restored = apply_deltas(after, reverse(r).deltas)
    assert restored.to_dict() == acc.to_dict()
    assert reverse(r).setlinfo.hifp_pay == -656_000

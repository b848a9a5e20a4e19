"""Pure checkout helpers: accumulators ↔ counters, amount checks, pay_loc, national output."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from yibao.checkout import model
from yibao.settlement.model import Accumulators


def test_counters_round_trip_without_account_balances() -> None:
    acc = Accumulators(
        year=2026,
        admissions=2,
        dedc={"inpatient": 90_000},
        hifp={"inpatient": 1_234, "outpatient": 0},
        serious_base=5,
        acct_balc=777,
    )
    flat = model.flatten(acc)
    assert flat == {
        "admissions": 2,
        "dedc.inpatient": 90_000,
        "hifp.inpatient": 1_234,
        "serious_base": 5,
    }
    back = model.unflatten(flat, 2026, acct_balc=777)
    assert back.to_dict() == acc.to_dict()
    assert model.flatten(acc.negated()) == {k: -v for k, v in flat.items()}


def test_claims_must_equal_ours_exactly() -> None:
    ours = {n: 100 for n in model.CLAIMED_AMOUNTS}
    model.check_claims({"medfee_sumamt": 100, "inscp_scp_amt": None}, ours)
    with pytest.raises(model.AmountMismatch) as exc:
        model.check_claims({"medfee_sumamt": 100, "preselfpay_amt": 101}, ours)
    assert exc.value.field == "preselfpay_amt" and "1.00" in str(exc.value)


@pytest.mark.parametrize(
    ("insured", "treated", "loc"),
    [("440300", "440300", "2"), ("440100", "440300", "3"), ("421381", "440300", "4")],
)
def test_pay_loc(insured: str, treated: str, loc: str) -> None:
    assert model.pay_loc(insured, treated) == loc


def test_national_setlinfo_has_two_decimal_amounts_and_the_msgid() -> None:
    record = {n: 12_345 for n in model.SETLINFO_AMOUNTS} | {
        "mdtrt_id": "M1",
        "setl_id": "S1",
        "psn_no": "P1",
        "balc": -5,
        "pool_prop_selfpay": "0.6",
        "clr_type": "11",
    }
    out = model.national_setlinfo(
        record,
        person=None,
        age=None,
        mdtrt_cert_type="02",
        setl_time=datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC),
        msgid="H1",
        clr_way="01",
        clr_optins="440300",
    )
    assert out["medfee_sumamt"] == Decimal("123.45") and out["balc"] == Decimal("-0.05")
    assert out["pool_prop_selfpay"] == Decimal("0.6000")
    assert out["setl_time"] == "2026-11-22 09:02:03"  # China time
    assert out["medins_setl_id"] == "H1" and out["setl_id"] == "S1"
    pre = model.national_setlinfo(
        record, person=None, age=None, mdtrt_cert_type="02", setl_time=None, msgid="H2",
        clr_way="01", clr_optins="440300",
    )  # fmt: skip
    assert "setl_id" not in pre

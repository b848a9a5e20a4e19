"""Properties under random *policies*: random deductibles, bands, caps (fund or eligible basis),
cross-region rules, 大病 bases and tilts, 公务员补助 and 医疗救助 layers — so every rule variant is
exercised, not only the shipped numbers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.settlement.test_properties import YEAR, _check_result, encounters, items
from yibao.policy.loader import resolve
from yibao.settlement.engine import _group_chain, apply_deltas, reverse, settle
from yibao.settlement.model import Accumulators, AssistanceClass, Person

yuan = st.integers(0, 50_000)
ratio = st.sampled_from((0, 0.3, 0.5, 0.6, 0.75, 0.8, 0.85, 0.9, 0.95, 1))


@st.composite
def bands(draw: st.DrawFn) -> list[dict[str, Any]]:
    starts = sorted(set(draw(st.lists(st.integers(0, 100_000), min_size=1, max_size=3))))
    return [{"from": f, "ratio": draw(ratio)} for f in starts]


@st.composite
def caps(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(("none", "amount", "steps")))
    if kind == "none":
        return "none"
    if kind == "amount":
        return draw(st.integers(0, 200_000))
    return [
        {"from_months": 0, "amount": draw(st.integers(0, 50_000))},
        {"from_months": 12, "wage_multiple": 2},
    ]


@st.composite
def xr_rules(draw: st.DrawFn) -> dict[str, Any]:
    adjust = draw(
        st.sampled_from(
            ("none", "multiply", "minus_pp", "set_ratio", "extra_first_pay", "not_paid")
        )
    )
    rule: dict[str, Any] = {"adjust": adjust}
    if adjust in ("multiply", "minus_pp", "set_ratio", "extra_first_pay"):
        rule["value"] = draw(ratio)
    if draw(st.booleans()):
        rule["deductible"] = draw(yuan)
    return {"default": {"default": rule}}


@st.composite
def policies(draw: st.DrawFn, scheme: str) -> dict[str, Any]:
    ov: dict[str, Any] = {"region.avg_wage_annual": draw(st.integers(0, 150_000))}
    for setting in ("inpatient", "outpatient", "chronic"):
        p = f"{scheme}.{setting}."
        ov[p + "covered"] = draw(st.booleans())
        ov[p + "deductible"] = draw(yuan)
        ov[p + "deductible_later"] = draw(st.none() | yuan)
        ov[p + "deductible_mode"] = draw(st.sampled_from(("per_admission", "annual")))
        ov[p + "deductible_recharge_days"] = draw(st.sampled_from((0, 30, 90)))
        ov[p + "deductible_annual_cap"] = draw(st.sampled_from((0, 1000, 5000)))
        ov[p + "ratio"] = draw(ratio | bands())
        ov[p + "cap"] = draw(caps())
        ov[p + "cap_basis"] = draw(st.sampled_from(("fund", "eligible")))
        ov[p + "cap_pool"] = draw(st.sampled_from(("", "basic")))
        ov[p + "cross_region"] = draw(xr_rules())
    ov[f"{scheme}.chronic.diseases"] = {
        "MT001": {"name": "测试病种", "limit": draw(st.integers(0, 20_000))}
    }
    s = f"{scheme}.serious."
    ov[s + "enabled"] = draw(st.booleans())
    ov[s + "settings"] = draw(
        st.sampled_from(
            (["inpatient"], ["inpatient", "chronic"], ["inpatient", "outpatient", "chronic"])
        )
    )
    for flag in (
        "base_includes_copay",
        "base_includes_deductible",
        "base_includes_over_cap",
        "base_excludes_xr_reduction",
        "tilt_no_cap",
    ):
        ov[s + flag] = draw(st.booleans())
    ov[s + "over_cap_ratio"] = draw(st.none() | ratio)
    ov[s + "deductible"] = draw(yuan)
    ov[s + "bands"] = draw(bands())
    ov[s + "cap"] = draw(caps())
    ov[s + "cross_region"] = draw(xr_rules())
    ov[s + "tilt_classes"] = ["tekun", "dibao"]
    ov[s + "tilt_deductible_factor"] = 0.5
    ov[s + "tilt_plus_pp"] = 0.05
    ov["employee.civil_servant.enabled"] = draw(st.booleans())
    ov["employee.civil_servant.ratio"] = draw(ratio)
    ov["employee.civil_servant.cap"] = draw(caps())
    ov["employee.civil_servant.base_includes_deductible"] = draw(st.booleans())
    ov["assistance.enabled"] = draw(st.booleans())
    ov["assistance.base_includes_deductible"] = draw(st.booleans())
    ov["assistance.deductible"] = draw(yuan)
    ov["assistance.ratio"] = draw(ratio)
    ov["assistance.cap"] = draw(caps())
    ov["assistance.setting_cap"] = draw(caps())
    ov["assistance.tilt_threshold"] = draw(yuan)
    ov["assistance.tilt_ratio"] = draw(ratio)
    ov["assistance.tilt_cap"] = draw(caps())
    ov["account.pays_fulamt_ownpay"] = draw(st.booleans())
    return ov


@st.composite
def cases(draw: st.DrawFn) -> tuple[Person, dict[str, Any]]:
    insutype = draw(st.sampled_from(("310", "390")))
    scheme = "employee" if insutype == "310" else "resident"
    cls = draw(st.none() | st.sampled_from(("tekun", "dibao", "dibao_edge")))
    person = Person(
        "P", insutype, draw(st.sampled_from(("11", "21", "50", "60"))), "421381",
        age=draw(st.integers(0, 90)), cvlserv_flag=draw(st.booleans()),
        enrol_months=draw(st.integers(0, 30)),
        assistance=() if cls is None else (AssistanceClass(cls, date(YEAR, 1, 1)),),
    )  # fmt: skip
    return person, draw(policies(scheme))


def _caps_hold(person: Person, pol: Any, acc: Accumulators, med_type: str, paid: int) -> None:
    """After a settlement whose line paid ``paid``, that line's cap holds on its pool."""
    scheme = "employee" if person.insutype == "310" else "resident"
    wage = pol.value("region.avg_wage_annual")
    setting = pol.value("med_type.setting").get(med_type)
    if setting in ("inpatient", "outpatient", "chronic") and paid:
        p = f"{scheme}.{setting}."
        cap = pol.pick(p + "cap", _group_chain(person, scheme)).amount_for(
            person.enrol_months, wage
        )
        pool = pol.value(p + "cap_pool") or setting
        used = acc.eligible if pol.value(p + "cap_basis") == "eligible" else acc.hifp
        if cap is not None:
            assert used.get(pool, 0) <= cap, (pool, cap, used)
    if acc.chronic:
        assert acc.chronic.get("MT001", 0) <= pol.value(f"{scheme}.chronic.diseases")["MT001"].limit
    tilted = any(a.cls in ("tekun", "dibao") for a in person.assistance)
    scap = pol.value(f"{scheme}.serious.cap").amount_for(person.enrol_months, wage)
    if scap is not None and not tilted:
        assert acc.serious_pay <= scap
    ccap = pol.value("employee.civil_servant.cap").amount_for(person.enrol_months, wage)
    if ccap is not None:
        assert acc.cvlserv_pay <= ccap
    for a in person.assistance:
        mcap = pol.pick("assistance.cap", (a.cls,)).amount_for(person.enrol_months, wage)
        if mcap is not None:
            assert sum(acc.maf_pay.values()) <= mcap
        tcap = pol.pick("assistance.tilt_cap", (a.cls,)).amount_for(person.enrol_months, wage)
        if tcap is not None:
            assert acc.maf2_pay <= tcap


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_policies_keep_identities_caps_and_exact_reversal(data: st.DataObject) -> None:
    person, ov = data.draw(cases())
    pol = resolve("421381", date(YEAR, 7, 1), ov)
    acc = start = Accumulators(
        YEAR,
        acct_balc=data.draw(st.integers(0, 500_000)),
        mulaid_balc=data.draw(st.integers(0, 100_000)),
    )
    day = date(YEAR, 1, 5)
    for _ in range(data.draw(st.integers(1, 5))):
        enc = data.draw(encounters(person, day))
        r = settle(person, enc, acc, pol)
        _check_result(r)
        after = apply_deltas(acc, r.deltas)
        assert apply_deltas(after, reverse(r).deltas) == acc
        acc = after
        _caps_hold(person, pol, acc, enc.med_type, r.setlinfo.hifp_pay)
        day += timedelta(days=data.draw(st.integers(0, 60)))
    assert acc.acct_balc >= 0 and acc.mulaid_balc >= 0
    assert start.year == acc.year


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_policies_never_lower_the_patients_share_for_a_larger_bill(
    data: st.DataObject,
) -> None:
    person, ov = data.draw(cases())
    pol = resolve("421381", date(YEAR, 7, 1), ov)
    enc = data.draw(encounters(person, date(YEAR, 6, 1)))
    extra = data.draw(items())
    acc = Accumulators(
        YEAR,
        admissions=data.draw(st.integers(0, 2)),
        serious_base=data.draw(st.integers(0, 3_000_000)),
    )
    small = settle(person, enc, acc, pol).setlinfo
    from dataclasses import replace

    large = settle(person, replace(enc, items=(*enc.items, extra)), acc, pol).setlinfo
    assert large.psn_part_amt >= small.psn_part_amt

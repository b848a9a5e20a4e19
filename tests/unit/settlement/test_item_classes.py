"""Item classes paid at their own fund ratio (特定项目类别, ``catalog.item_classes`` and
``{scheme}.{setting}.class_ratio``): membership, refusals, and the engine's identities, caps,
exact reversal and monotonicity under random policies with random classes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.settlement.conftest import item, policy
from tests.unit.settlement.test_properties import YEAR, _check_result, encounters, items
from tests.unit.settlement.test_properties_random_policy import _caps_hold, cases
from yibao.policy.loader import PolicyFileError, resolve
from yibao.policy.model import ItemClass, PolicyError
from yibao.settlement.engine import apply_deltas, reverse, settle
from yibao.settlement.model import Accumulators, Encounter, Item, Person

CLASSES = {
    "implant": {"name": "进口植入材料", "codes": ["C1", "C2"]},
    "high_value": {"name": "高值耗材", "list_types": ["301"], "min_price": 1000},
}


def test_membership_by_code_or_by_every_criterion() -> None:
    hv = ItemClass("hv", "高值耗材", ("301",), frozenset({"C9"}), 100_000)
    assert hv.matches("301", "X", 100_000) and not hv.matches("301", "X", 99_999)
    assert not hv.matches("101", "X", 500_000) and hv.matches("101", "C9", 1)
    assert not ItemClass("c", "仅编码", codes=frozenset({"A"})).matches("301", "B", 10**9)


def test_a_ratio_for_an_undefined_class_is_refused() -> None:
    pol = policy("440100", **{"employee.inpatient.class_ratio": {"implant": 0.7}})
    enc = Encounter("21", "440100", date(2025, 7, 1), (item("1", 100),), hosp_lv="2")
    with pytest.raises(PolicyError, match="class_ratio: class 'implant' is not defined"):
        settle(Person("W", "310", "11", "440100"), enc, Accumulators(2025), pol)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ({"Bad-Code": {"name": "x", "codes": ["A"]}}, "lower-case letters"),
        ({"c": {"name": "x"}}, "give 'codes', 'list_types' or 'min_price'"),
        ({"c": {"name": "x", "codes": "A"}}, "expected a list of codes"),
        ({"c": {"name": "x", "min_price": -1}}, "negative"),
        ({"c": {"name": "x", "codes": ["A"], "ratio": 0.5}}, "unknown field"),
    ],
)
def test_bad_item_classes_are_refused_naming_the_rule(value: Any, rule: str) -> None:
    with pytest.raises(PolicyFileError, match=rule):
        resolve("440100", date(2025, 7, 1), {"catalog.item_classes": value})


@st.composite
def class_items(draw: st.DrawFn) -> Item:
    it = draw(items())
    code = draw(st.sampled_from(("C1", "C2", "X")))
    lt = draw(st.sampled_from(("301", "101")))
    return replace(it, med_list_codg=code, list_type=lt)


@st.composite
def with_classes(draw: st.DrawFn) -> tuple[Person, dict[str, Any]]:
    person, ov = draw(cases())
    scheme = "employee" if person.insutype == "310" else "resident"
    ov["catalog.item_classes"] = CLASSES
    ratio = st.sampled_from((0, 0.5, 0.7, 0.9, 1))
    for setting in ("inpatient", "outpatient", "chronic"):
        chosen = draw(
            st.lists(st.sampled_from(tuple(CLASSES)), unique=True, min_size=1, max_size=2)
        )
        ov[f"{scheme}.{setting}.class_ratio"] = {c: draw(ratio) for c in chosen}
    return person, ov


def _bill(data: st.DataObject, person: Person, day: date) -> Encounter:
    enc = data.draw(encounters(person, day))
    return replace(enc, items=tuple(data.draw(st.lists(class_items(), min_size=1, max_size=8))))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_identities_caps_and_exact_reversal_with_item_classes(data: st.DataObject) -> None:
    person, ov = data.draw(with_classes())
    pol = resolve("421381", date(YEAR, 7, 1), ov)
    acc = Accumulators(YEAR, acct_balc=data.draw(st.integers(0, 500_000)))
    day = date(YEAR, 1, 5)
    for _ in range(data.draw(st.integers(1, 4))):
        enc = _bill(data, person, day)
        r = settle(person, enc, acc, pol)
        _check_result(r)
        after = apply_deltas(acc, r.deltas)
        assert apply_deltas(after, reverse(r).deltas) == acc
        acc = after
        _caps_hold(person, pol, acc, enc.med_type, r.setlinfo.hifp_pay)
        day += timedelta(days=data.draw(st.integers(0, 60)))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_a_larger_bill_never_lowers_the_patients_share_with_item_classes(
    data: st.DataObject,
) -> None:
    person, ov = data.draw(with_classes())
    pol = resolve("421381", date(YEAR, 7, 1), ov)
    enc = _bill(data, person, date(YEAR, 6, 1))
    extra = data.draw(class_items())
    acc = Accumulators(YEAR, admissions=data.draw(st.integers(0, 2)))
    small = settle(person, enc, acc, pol).setlinfo
    large = settle(person, replace(enc, items=(*enc.items, extra)), acc, pol).setlinfo
    assert large.psn_part_amt >= small.psn_part_amt

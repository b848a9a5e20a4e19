"""The one trace serialiser (``yibao.settlement.trace.to_json``) and its reader: every parameter
with the value applied in Chinese and its reference or assumption; every stored form readable."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.settlement.test_properties import YEAR, encounters, people
from tests.unit.settlement.test_properties_random_policy import cases
from yibao.policy.loader import resolve
from yibao.policy.model import Cap, CapStep, DiseaseRule, ItemClass, XrRule
from yibao.settlement.case import load_case
from yibao.settlement.engine import settle
from yibao.settlement.model import Accumulators, Person, SettlementError
from yibao.settlement.trace import read, to_json
from yibao.settlement.trace_values import applied, pct, written, yuan

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
RAW = re.compile(r"\b(none|None|True|False|true|false|default)\b|[{}\[\]]")


def _check_param(p: dict[str, object]) -> None:
    assert set(p) in (
        {"key", "label", "value", "since", "region", "reference"},
        {"key", "label", "value", "since", "region", "assumed", "reason"},
    ), p
    assert p["value"] and not RAW.search(str(p["value"])), p
    assert p.get("reference") or (p.get("assumed") is True and p.get("reason")), p


def test_every_golden_trace_names_each_parameter_value_and_source() -> None:
    for path in sorted(GOLDEN.glob("*.yaml")):
        for result in load_case(path).run_all():
            steps = to_json(result)
            assert json.loads(json.dumps(steps, ensure_ascii=False)) == steps
            assert [s["step"] for s in steps][:2] == ["split", "line"]
            for s in steps:
                assert re.fullmatch(r"-?\d+\.\d\d", s["amount"]), s
                for p in s["params"]:
                    _check_param(p)


def test_values_are_the_ones_applied_to_the_bill() -> None:
    """珠海 职工在职 二级: 起付线 500 (not the whole table), ratio 93 %, cap for 8 months 8万."""
    result = load_case(GOLDEN / "zhuhai_eligible_cap.yaml").run()
    by_key = {p["key"]: p for s in to_json(result) for p in s["params"]}
    assert by_key["employee.inpatient.deductible"]["value"] == "500.00 元"
    assert by_key["employee.inpatient.ratio"]["value"] == "93%"
    assert by_key["employee.inpatient.cap"]["value"] == "80,000.00 元"
    assert by_key["employee.inpatient.cap_basis"]["value"].startswith("按核准医疗费用")
    assert by_key["employee.inpatient.ratio"]["region"] == "440400"
    assert "m.qebk.com" in by_key["employee.inpatient.ratio"]["reference"]
    assumed = by_key["account.pays_fulamt_ownpay"]
    assert assumed["assumed"] is True and "未找到" in assumed["reason"] and assumed["value"] == "否"


def test_formatting_in_chinese() -> None:
    assert yuan(123456) == "1,234.56 元" and yuan(5) == "0.05 元"
    assert (pct(9300), pct(9250), pct(9375), pct(0)) == ("93%", "92.5%", "93.75%", "0%")
    assert applied("employee.inpatient.cap", None) == "不设封顶"
    assert applied("employee.inpatient.deductible_later", None) == "无"
    assert applied("employee.serious.bands", ((0, 7000), (3_000_000, 8000))) == (
        "70%；累计 30,000.00 元 以上 80%"
    )
    assert applied("employee.serious.tilt_plus_pp", 500) == "每段提高 5 个百分点"
    assert applied("employee.inpatient.cross_region", XrRule("minus_pp", 2000)) == (
        "支付比例降低 20 个百分点"
    )
    assert applied("employee.inpatient.cross_region", XrRule("set_ratio", 4500, 160_000)) == (
        "支付比例为 45%；起付线 1,600.00 元"
    )
    assert applied("employee.inpatient.deductible_recharge_days", 90) == "90 天"
    assert applied("employee.serious.fund_pay_type", "330100") != "330100"
    assert applied(
        "employee.chronic.diseases", DiseaseRule("M1", "高血压", 50_000, 8000, None)
    ) == ("高血压（M1）；年度限额 500.00 元；支付比例 80%")
    cls = ItemClass("hv", "高值耗材", ("301",), frozenset({"X"}), 100_000)
    assert applied("catalog.item_classes", (cls,)) == (
        "高值耗材（目录类别 医用耗材且单价不低于 1,000.00 元，或指定的 1 个目录编码）"
    )
    steps = Cap((CapStep(0, 2_000_000, None), CapStep(72, None, 60_000)))
    assert applied("employee.inpatient.cap", steps) == (
        "连续参保 0 个月起 20,000.00 元；连续参保 72 个月起 6 倍上年度在岗职工年平均工资"
    )
    assert applied("resident.serious.settings", ("inpatient", "chronic")) == "住院、门诊慢特病"


def test_values_as_written_in_older_traces_read_in_chinese() -> None:
    assert written("employee.inpatient.deductible", '{"default":{"default":300,"2":500}}') == (
        "其他 300.00 元，二级 500.00 元"
    )
    assert written(
        "employee.inpatient.ratio", '{"active":{"default":0.94,"2":0.93},"retired":0.95}'
    ) == ("在职：其他 94%，二级 93%；退休：95%")
    assert written("employee.inpatient.ratio", '{"active":0.94,"retired":0.95}') == (
        "在职：94%；退休：95%"
    )
    assert written("employee.inpatient.cap", "none") == "不设封顶"
    assert written("employee.serious.bands", '[{"from":0,"ratio":0.7}]') == "70%"
    assert written("account.pays_overlmt", "false") == "否"
    assert written("not.a.key", '{"x":1}') == '{"x":1}'


def test_reader_reads_every_stored_form() -> None:
    new = {"step": "pooled", "label": "统筹基金", "amount": "12.34", "detail": "d",
           "params": [{"key": "employee.inpatient.ratio", "label": "比例", "value": "90%",
                       "since": "2024-01-01", "region": "440400", "reference": "文件 2024"},
                      {"key": "account.pays_overlmt", "label": "超限价", "value": "否",
                       "since": "1900-01-01", "region": "-", "reference": "默认"}]}  # fmt: skip
    older = {"step": "x", "label": "起付线", "amount": 1600,
             "params": [{"key": "employee.inpatient.ratio", "label": "比例",
                         "value": '{"active":0.9}', "since": "2022-12-01",
                         "source": "假设：没有来源", "assumed": True, "region": "440100"}]}  # fmt: skip
    oldest = {"step": "deductible", "label": "起付线", "amount": 100,
              "params": ["employee.inpatient.deductible"]}  # fmt: skip
    a, b, c = read([new, older, oldest, "junk", 3])
    assert (a.label, a.amount, a.detail) == ("统筹基金", 1234, "d")
    assert a.params[0].value == "90%" and a.params[0].reference == "文件 2024"
    assert a.params[1].default and a.params[1].since == "" and a.params[1].region == ""
    assert b.amount == 1600 and b.params[0].value == "在职：90%"
    assert b.params[0].assumed and b.params[0].reference == "没有来源"
    assert c.params[0].name == "职工住院起付线" and c.params[0].value == ""
    assert read({"reverses": "X"}) == [] and read(None) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_settlement_serialises_and_reads_back(data: st.DataObject) -> None:
    person: Person = data.draw(people())
    enc = data.draw(encounters(person, date(YEAR, 7, 1)))
    try:
        result = settle(
            person, enc, Accumulators(YEAR), resolve(person.insuplc_admdvs, enc.begntime)
        )
    except SettlementError:
        return
    steps = to_json(result)
    json.dumps(steps, ensure_ascii=False)
    views = read(steps)
    assert [v.label for v in views] == [s["label"] for s in steps]
    for s, v in zip(steps, views, strict=True):
        for p, pv in zip(s["params"], v.params, strict=True):
            _check_param(p)
            assert pv.value == p["value"] and pv.reference


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_parameter_of_a_random_policy_reads_in_chinese(data: st.DataObject) -> None:
    """Random deductibles, bands, caps by enrolment and wage, cross-region rules, tilts …"""
    person, overrides = data.draw(cases())
    enc = data.draw(encounters(person, date(YEAR, 7, 1)))
    try:
        pol = resolve(person.insuplc_admdvs, enc.begntime, overrides)
        result = settle(person, enc, Accumulators(YEAR), pol)
    except SettlementError:
        return
    for s in to_json(result):
        for p in s["params"]:
            _check_param(p)

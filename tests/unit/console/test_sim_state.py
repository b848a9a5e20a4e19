"""The simulators' step state in the address (sealed) and the counter's presets."""

from __future__ import annotations

import pytest

from yibao.web import sim
from yibao.web.sim_presets import presets


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_SECRET_KEY", "unit-test-platform-secret")


def test_sealed_state_round_trips_and_hides_the_person() -> None:
    c = sim.Counter("H44010000001", psn_no="4401000000000001", certno="440103199001011234")
    token = sim.seal({"c": c.to_json(), "stage": "items", "message": "已识别参保人：张三"})
    assert "440103199001011234" not in token and "张三" not in token
    back = sim.unseal(token)
    assert sim.Counter.from_json(back["c"]) == c and back["stage"] == "items"


@pytest.mark.parametrize("bad", ["", "not-a-token", "gAAAAABfakefakefake"])
def test_a_foreign_or_broken_state_is_refused_in_chinese(bad: str) -> None:
    with pytest.raises(sim.SimError, match="页面已过期"):
        sim.unseal(bad)


def test_a_state_sealed_under_another_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = sim.seal({"stage": "settled"})
    monkeypatch.setenv("YIBAO_SECRET_KEY", "another-deployment")
    with pytest.raises(sim.SimError):
        sim.unseal(token)


def _preset(code: str) -> dict[str, str]:
    return {i["name"]: i["preset"] for i in presets(sim.Counter(code)) if i["preset"]}


def test_a_hospital_presets_an_ordinary_outpatient_visit() -> None:
    got = _preset("H44010000001")
    assert got.pop("挂号费") == "1" and got.pop("普通门诊诊查费") == "1"
    assert len(got) == 1 and list(got.values()) == ["24"]  # one box of a tablet or capsule


def test_a_pharmacy_presets_two_boxes_and_no_hospital_fees() -> None:
    items = presets(sim.Counter("P44010000001"))
    assert {i["lt"] for i in items} <= {"101", "102"}
    assert sorted(_preset("P44010000001").values()) == ["24", "24"]

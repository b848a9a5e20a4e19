"""Campaign plans and progress (pure): the 广水 file's figures, refusals, forecasts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.campaigns.model import CampaignFileError, Cohort, parse_plan
from yibao.campaigns.progress import compute, forecast
from yibao.campaigns.service import read_file

FILE = Path(__file__).resolve().parents[3] / "campaigns" / "421381-guangshui-2021.yaml"


def plan_raw() -> dict[str, object]:
    return read_file(FILE.read_text(encoding="utf-8"))


def test_guangshui_plan_quotes_the_seed_exactly() -> None:
    p = parse_plan(plan_raw())
    assert (p.admdvs, p.base, p.target_rate, p.deadline) == (
        "421381",
        720643,
        Decimal("0.60"),
        date(2021, 12, 31),
    )
    assert p.overall_target == 432386  # ⌈0.6 × 720643⌉; printed "43.24万人"
    assert p.target_printed == "43.24万人"
    assert len(p.towns) == 17 and p.towns[0].name == "蔡河镇" and p.towns[-1].target == 37525
    assert sum(t.base for t in p.towns) == 678727
    assert p.towns_target_sum == 407238 and p.printed_total_target == 407236
    assert p.checks() == ["镇办任务数逐行合计 407238，表中印刷总计 407236（差 2 人）"]
    organ, enterprise, resident = p.categories
    assert (organ.target_rate, organ.deadline) == (Decimal("0.90"), date(2021, 11, 30))
    assert (enterprise.target_rate, enterprise.deadline) == (Decimal("0.90"), date(2021, 12, 31))
    assert resident.by_towns and resident.responsible == "各镇办"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("admdvs",), "4213", "admdvs"),
        (("overall", "target_rate"), 0.6, "overall.target_rate"),
        (("period", "end"), "2020-01-01", "period.end"),
        (("towns", "rows", 0, "target"), 99999, "towns.rows[0].target"),
        (("source", "title"), "", "source.title"),
    ],
)
def test_a_bad_file_is_refused_naming_the_field(
    path: tuple[object, ...], value: object, field: str
) -> None:
    raw = plan_raw()
    node: object = raw
    for k in path[:-1]:
        node = node[k]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    with pytest.raises(CampaignFileError) as e:
        parse_plan(raw)
    assert e.value.field == field


def _c(day: date | None, n: int, **kw: str) -> Cohort:
    base = {
        "insutype": "390",
        "psn_type": "50",
        "emp_type": "",
        "emp_no": "",
        "emp_name": "",
        "town": "应山街道",
    }
    base.update(kw)
    return Cohort(day=day, chnl_id="wechat" if day else "", n=n, **base)  # type: ignore[arg-type]


def test_progress_places_people_by_category_town_and_unit() -> None:
    p = parse_plan(plan_raw())
    cohorts = [
        _c(date(2021, 12, 1), 30), _c(None, 70),
        _c(date(2021, 11, 20), 9, insutype="310", psn_type="11", emp_type="20", emp_no="U1", town=""),
        _c(None, 1, insutype="310", psn_type="11", emp_type="20", emp_no="U1", town=""),
        _c(date(2021, 12, 20), 2, insutype="310", psn_type="21", emp_type="10", emp_no="U2", town="马坪镇"),
        _c(None, 5, town="不在表中的镇"),
    ]  # fmt: skip
    pr = compute(p, cohorts, date(2021, 12, 25))
    assert (pr.overall.registry_base, pr.overall.activated) == (117, 41)
    organ = pr.categories[0]
    assert (organ.registry_base, organ.activated, organ.target) == (10, 9, 9)  # ⌈0.9 × 10⌉
    assert organ.forecast is not None and organ.forecast.status == "done"
    town = next(t for t in pr.towns if t.name == "应山街道办事处")
    assert (town.registry_base, town.activated, town.target, town.plan_base) == (
        100,
        30,
        31483,
        52472,
    )
    mp = next(t for t in pr.towns if t.name == "马坪镇")
    assert (
        mp.activated == 2
    )  # a retiree of an enterprise counts with the residents (含企业职工退休人员)
    assert pr.unplaced_towns == {"不在表中的镇": 5}
    assert [u.key for u in pr.units] == ["U1"]
    assert pr.by_channel == {"wechat": 41}


@given(
    activated=st.integers(0, 10_000), target=st.integers(1, 10_000), recent=st.integers(0, 5_000),
    days_left=st.integers(-30, 120),
)  # fmt: skip
def test_forecast_is_consistent(activated: int, target: int, recent: int, days_left: int) -> None:
    as_of = date(2026, 1, 1)
    f = forecast(activated, target, recent, as_of, as_of + timedelta(days=days_left))
    if activated >= target:
        assert f.status == "done"
    elif days_left < 0:
        assert f.status == "overdue"
    else:
        assert f.projected == activated + recent * days_left // 7
        assert (f.status == "on_track") == (f.projected >= target)
        assert (
            f.needed_per_day is not None
            and f.needed_per_day * max(days_left, 1) >= target - activated
        )

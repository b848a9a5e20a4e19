"""Campaign progress (推进情况): counts, forecasts and rankings from registry cohorts. Pure.

Input: the plan and the region's cohorts (:class:`~yibao.campaigns.model.Cohort`: insured persons
grouped by category facts, town, unit, and the day and channel of their first activation up to
the as-of day). Output: one :class:`TargetProgress` per target (overall, category, town, unit),
each with its forecast at the current daily rate (the last :data:`WINDOW_DAYS` days).

Forecast (进度预判): ``done`` 已完成 when activated ≥ target; ``overdue`` 逾期未完成 when the
as-of day is past the deadline; otherwise ``projected = activated + ⌊recent × days_left /
window⌋`` and ``on_track`` 可按期完成 if projected ≥ target, else ``at_risk`` 进度滞后, with the
daily count still needed ``⌈(target − activated) / days_left⌉``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from yibao.campaigns.model import Cohort, Plan, category_of, ceil_share, town_index, town_of

WINDOW_DAYS = 7
STATUS_LABELS = {
    "done": "已完成",
    "on_track": "可按期完成",
    "at_risk": "进度滞后",
    "overdue": "逾期未完成",
}
LEVEL_LABELS = {"overall": "全市", "category": "参保类别", "town": "镇办", "unit": "单位"}


@dataclass(frozen=True, slots=True)
class Forecast:
    status: str
    projected: int
    days_left: int
    needed_per_day: int | None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def forecast(activated: int, target: int, recent: int, as_of: date, deadline: date,
             window: int = WINDOW_DAYS) -> Forecast:  # fmt: skip
    """Where ``activated`` will be at ``deadline`` at the rate of ``recent`` per ``window`` days."""
    days_left = (deadline - as_of).days
    if activated >= target:
        return Forecast("done", activated, max(days_left, 0), None)
    if days_left < 0:
        return Forecast("overdue", activated, days_left, None)
    projected = activated + (recent * days_left) // window
    needed = math.ceil((target - activated) / days_left) if days_left else target - activated
    return Forecast("on_track" if projected >= target else "at_risk", projected, days_left, needed)


@dataclass(slots=True)
class TargetProgress:
    """One target's progress (目标进度)."""

    level: str
    key: str
    name: str
    responsible: str
    deadline: date
    target: int
    plan_base: int | None  # the plan's insured count for this target, when it gives one
    registry_base: int  # insured in the registry today (same rule)
    activated: int = 0
    recent: int = 0  # first activations in the window before the as-of day
    forecast: Forecast | None = None
    note: str = ""

    @property
    def completion(self) -> Decimal:
        """activated / target (1 when the target is 0)."""
        return Decimal(self.activated) / self.target if self.target else Decimal(1)

    @property
    def rate(self) -> Decimal | None:
        """Activation rate over the registry's insured (激活率)."""
        return Decimal(self.activated) / self.registry_base if self.registry_base else None

    @property
    def gap(self) -> int:
        return max(self.target - self.activated, 0)


@dataclass(slots=True)
class Progress:
    """Everything the campaign pages and the 通报 show, as of one day."""

    plan: Plan
    as_of: date
    overall: TargetProgress
    categories: list[TargetProgress]
    towns: list[TargetProgress]
    units: list[TargetProgress]
    by_day: dict[date, dict[str, int]]  # day → channel → first activations (in the period)
    by_channel: dict[str, int]  # channel → activated (cumulative, as of)
    unplaced_towns: dict[str, int] = field(default_factory=dict)  # registry town → insured

    def ranked(self, rows: list[TargetProgress]) -> list[TargetProgress]:
        """Best first: completion of target, then activation count (排名)."""
        return sorted(rows, key=lambda t: (-t.completion, -t.activated, t.key))


def _add(t: TargetProgress, c: Cohort, since: date) -> None:
    t.registry_base += c.n
    if c.day is not None:
        t.activated += c.n
        if c.day > since:
            t.recent += c.n


def compute(plan: Plan, cohorts: Iterable[Cohort], as_of: date) -> Progress:
    """Progress of every target of ``plan`` as of the end of ``as_of``."""
    since = as_of - timedelta(days=WINDOW_DAYS)
    overall = TargetProgress("overall", plan.admdvs, plan.region_name, plan.responsible,
                             plan.deadline, plan.overall_target, plan.base, 0)  # fmt: skip
    cats = {c.code: TargetProgress("category", c.code, c.name, c.responsible, c.deadline,
                                   plan.towns_target_sum if c.by_towns else 0, None, 0)
            for c in plan.categories}  # fmt: skip
    towns = {t.name: TargetProgress("town", t.name, t.name, f"{t.name}（镇办）",
                                    _town_deadline(plan), t.target, t.base, 0)
             for t in plan.towns}  # fmt: skip
    units: dict[str, TargetProgress] = {}
    unit_rates: dict[str, Decimal] = {}
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_channel: dict[str, int] = defaultdict(int)
    unplaced: dict[str, int] = defaultdict(int)
    index = town_index(plan)
    for c in cohorts:
        _add(overall, c, since)
        if c.day is not None:
            by_channel[c.chnl_id] += c.n
            if plan.start <= c.day <= min(as_of, plan.end):
                by_day[c.day][c.chnl_id] += c.n
        cat = category_of(plan, c)
        if cat is None:
            continue
        _add(cats[cat.code], c, since)
        if cat.by_towns:
            name = town_of(index, c.town)
            if name is None:
                unplaced[c.town or "（未登记镇办）"] += c.n
            else:
                _add(towns[name], c, since)
        if cat.per_unit and c.emp_no:
            u = units.get(c.emp_no)
            if u is None:
                u = units[c.emp_no] = TargetProgress("unit", c.emp_no, c.emp_name or c.emp_no,
                                                     c.emp_name or c.emp_no, cat.deadline, 0, None, 0,
                                                     note=cat.name)  # fmt: skip
                unit_rates[c.emp_no] = cat.target_rate or Decimal(1)
            _add(u, c, since)
    for cat in plan.categories:
        if not cat.by_towns and cat.target_rate is not None:
            cats[cat.code].target = ceil_share(cat.target_rate, cats[cat.code].registry_base)
    for emp_no, u in units.items():
        u.target = ceil_share(unit_rates[emp_no], u.registry_base)
    every = [overall, *cats.values(), *towns.values(), *units.values()]
    for t in every:
        t.forecast = forecast(t.activated, t.target, t.recent, as_of, t.deadline)
    return Progress(plan, as_of, overall, list(cats.values()), list(towns.values()),
                    sorted(units.values(), key=lambda u: u.key),
                    {d: dict(v) for d, v in sorted(by_day.items())}, dict(by_channel),
                    dict(unplaced))  # fmt: skip


def _town_deadline(plan: Plan) -> date:
    for c in plan.categories:
        if c.by_towns:
            return c.deadline
    return plan.deadline

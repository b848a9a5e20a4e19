"""Activation campaigns (医保电子凭证推广激活): the plan as data, and who counts where. Pure.

A campaign plan (推广方案) names a region, a period, an overall target (a rate of the insured or a
count) with its deadline, categories of insured (机关事业 / 企业 / 城乡居民), each with its own
target, deadline and responsible party (所在单位, 用工单位, 各镇办), and a table of towns (镇办)
with their counts. :func:`parse_plan` checks a campaign file (``campaigns/*.yaml``) and refuses a
bad one naming the field and the rule; :func:`category_of` and :func:`town_of` place a registry
cohort in the plan. Progress and forecasts: :mod:`yibao.campaigns.progress`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

TARGET_TOWNS = "towns"


class CampaignFileError(ValueError):
    """A campaign file (or form) that breaks a rule; ``field`` names where, the text says why."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Category:
    """An insured category (参保对象类别) with its own target, deadline and responsible party."""

    code: str
    name: str
    text: str
    insutype: str  # "310", "390" or "any"
    unit_types: tuple[str, ...]
    psn_types: tuple[str, ...]
    rest: bool  # everyone not placed in an earlier category
    target_rate: Decimal | None
    by_towns: bool  # the target is the town table's
    deadline: date
    responsible: str
    per_unit: bool  # each unit (单位) answers for its own staff at target_rate


@dataclass(frozen=True, slots=True)
class Town:
    """One row of the town table (镇办): the plan's base (参保人数) and count target (激活任务数)."""

    name: str
    base: int
    target: int
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """A campaign plan (推广方案) as checked data."""

    id: str
    name: str
    admdvs: str
    region_name: str
    source: Mapping[str, str]
    start: date
    end: date
    start_note: str
    overall_text: str
    base: int | None  # the plan's insured count (全市参保总人数); None: the registry's
    target_rate: Decimal | None
    target_count: int | None
    target_printed: str
    deadline: date
    responsible: str
    categories: tuple[Category, ...]
    channels: tuple[str, ...]
    towns: tuple[Town, ...]
    towns_title: str
    towns_rate: Decimal | None
    printed_total_target: int | None

    @property
    def overall_target(self) -> int:
        """The overall count to reach: the given count, or ⌈rate × plan base⌉ (0.6 × 720643
        = 432385.8 → 432386, since "达到 60%" needs the whole person)."""
        if self.target_count is not None:
            return self.target_count
        assert self.target_rate is not None and self.base is not None
        return ceil_share(self.target_rate, self.base)

    @property
    def towns_target_sum(self) -> int:
        return sum(t.target for t in self.towns)

    def checks(self) -> list[str]:
        """Derived checks on the plan's own figures (reported, never edited)."""
        out: list[str] = []
        if (
            self.printed_total_target is not None
            and self.printed_total_target != self.towns_target_sum
        ):
            out.append(
                f"镇办任务数逐行合计 {self.towns_target_sum}，表中印刷总计 {self.printed_total_target}"
                f"（差 {self.towns_target_sum - self.printed_total_target} 人）"
            )
        if self.towns_rate is not None:
            for t in self.towns:
                if round_share(self.towns_rate, t.base) != t.target:
                    out.append(
                        f"{t.name}: 任务数 {t.target} ≠ 参保人数 {t.base} × {self.towns_rate}"
                    )
        return out


def ceil_share(rate: Decimal, base: int) -> int:
    """⌈rate × base⌉ (exact decimal arithmetic)."""
    return math.ceil(rate * base)


def round_share(rate: Decimal, base: int) -> int:
    """rate × base rounded half-up (how the plan's town table was computed)."""
    return int((rate * base).to_integral_value(rounding="ROUND_HALF_UP"))


# ---- parsing ------------------------------------------------------------------------------------


def _req(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] in (None, ""):
        raise CampaignFileError(f"{where}{key}", "必填")
    return raw[key]


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    if default is not None and raw.get(key) in (None, ""):
        return default
    v = _req(raw, key, where)
    if not isinstance(v, str | int):
        raise CampaignFileError(f"{where}{key}", "应为文本")
    return str(v).strip()


def _date(raw: Mapping[str, Any], key: str, where: str) -> date:
    v = _req(raw, key, where)
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise CampaignFileError(f"{where}{key}", f"日期格式应为 YYYY-MM-DD，收到 {v!r}") from None


def _count(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> int | None:
    v = raw.get(key)
    if v is None and not required:
        return None
    v = _req(raw, key, where)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise CampaignFileError(f"{where}{key}", f"应为非负整数（人数），收到 {v!r}")
    return v


def _rate(raw: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    v = raw.get(key)
    if v is None:
        return None
    if isinstance(v, float):
        raise CampaignFileError(
            f"{where}{key}", '比例请写成带引号的小数（如 "0.60"），避免二进制浮点'
        )
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise CampaignFileError(f"{where}{key}", f"应为 0 到 1 之间的小数，收到 {v!r}") from None
    if not Decimal(0) < d <= Decimal(1):
        raise CampaignFileError(f"{where}{key}", f"应在 (0, 1] 之间，收到 {v}")
    return d


def _codes(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    v = raw.get(key) or []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise CampaignFileError(f"{where}{key}", "应为带引号的代码列表")
    return tuple(v)


def _category(raw: Mapping[str, Any], where: str) -> Category:
    code = _text(raw, "code", where)
    insutype = _text(raw, "insutype", where, default="any")
    if insutype not in ("310", "390", "any"):
        raise CampaignFileError(f"{where}insutype", "应为 310、390 或 any")
    by_towns = raw.get("target") == TARGET_TOWNS
    rate = _rate(raw, "target_rate", where)
    if rate is None and not by_towns:
        raise CampaignFileError(f"{where}target_rate", "须给出激活率目标，或 target: towns")
    return Category(
        code=code,
        name=_text(raw, "name", where),
        text=_text(raw, "text", where, default=""),
        insutype=insutype,
        unit_types=_codes(raw, "unit_types", where),
        psn_types=_codes(raw, "psn_types", where),
        rest=bool(raw.get("rest", False)),
        target_rate=rate,
        by_towns=by_towns,
        deadline=_date(raw, "deadline", where),
        responsible=_text(raw, "responsible", where),
        per_unit=bool(raw.get("per_unit", False)),
    )


def _towns(raw: Mapping[str, Any]) -> tuple[tuple[Town, ...], str, Decimal | None, int | None]:
    if not raw:
        return (), "", None, None
    rows = raw.get("rows") or []
    if not isinstance(rows, list):
        raise CampaignFileError("towns.rows", "应为列表")
    out: list[Town] = []
    seen: set[str] = set()
    for i, r in enumerate(rows):
        w = f"towns.rows[{i}]."
        if not isinstance(r, Mapping):
            raise CampaignFileError(w.rstrip("."), "应为 {name, base, target}")
        t = Town(_text(r, "name", w), _count(r, "base", w) or 0, _count(r, "target", w) or 0,
                 tuple(str(a) for a in r.get("aliases") or ()))  # fmt: skip
        if t.target > t.base:
            raise CampaignFileError(f"{w}target", f"任务数 {t.target} 大于参保人数 {t.base}")
        for n in (t.name, *t.aliases):
            if n in seen:
                raise CampaignFileError(f"{w}name", f"镇办名称或别名“{n}”重复")
            seen.add(n)
        out.append(t)
    return (tuple(out), str(raw.get("title") or ""), _rate(raw, "target_rate", "towns."),
            _count(raw, "printed_total_target", "towns.", required=False))  # fmt: skip


def parse_plan(raw: Mapping[str, Any]) -> Plan:
    """Check a campaign file's content; :class:`CampaignFileError` names the first broken rule."""
    if not isinstance(raw, Mapping):
        raise CampaignFileError("(file)", "应为 YAML 映射")
    cid = _text(raw, "id", "")
    if not (1 <= len(cid) <= 30 and cid.replace("-", "").replace("_", "").isalnum()):
        raise CampaignFileError("id", "应为 1–30 位字母、数字、- 或 _")
    admdvs = _text(raw, "admdvs", "")
    if not (len(admdvs) == 6 and admdvs.isdigit()):
        raise CampaignFileError("admdvs", f"应为 6 位医保区划代码，收到 {admdvs!r}")
    period = _req(raw, "period", "")
    overall = _req(raw, "overall", "")
    start, end = _date(period, "start", "period."), _date(period, "end", "period.")
    if end < start:
        raise CampaignFileError("period.end", "结束日期早于开始日期")
    rate, count = (
        _rate(overall, "target_rate", "overall."),
        _count(overall, "target_count", "overall.", required=False),
    )
    base = _count(overall, "base", "overall.", required=False)
    if count is None and (rate is None or base is None):
        raise CampaignFileError(
            "overall.target_rate", "须给出 target_count，或 target_rate 与 base"
        )
    cats = tuple(
        _category(c, f"categories[{i}].") for i, c in enumerate(raw.get("categories") or [])
    )
    if len({c.code for c in cats}) != len(cats):
        raise CampaignFileError("categories", "类别代码重复")
    towns, title, towns_rate, printed = _towns(raw.get("towns") or {})
    if any(c.by_towns for c in cats) and not towns:
        raise CampaignFileError("towns.rows", "有类别按镇办任务表考核，但没有镇办任务表")
    source = raw.get("source") or {}
    if not isinstance(source, Mapping) or not source.get("title"):
        raise CampaignFileError("source.title", "须注明方案出处（文件名称、发文单位）")
    note = str(period.get("start_reason") or "") if period.get("start_assumed") else ""
    return Plan(
        id=cid, name=_text(raw, "name", ""), admdvs=admdvs,
        region_name=_text(raw, "region_name", "", default=admdvs),
        source={str(k): str(v) for k, v in source.items()}, start=start, end=end, start_note=note,
        overall_text=_text(overall, "text", "overall.", default=""), base=base, target_rate=rate,
        target_count=count, target_printed=_text(overall, "target_printed", "overall.", default=""),
        deadline=_date(overall, "deadline", "overall."),
        responsible=_text(overall, "responsible", "overall."), categories=cats,
        channels=tuple(str(c) for c in raw.get("channels") or ()), towns=towns, towns_title=title,
        towns_rate=towns_rate, printed_total_target=printed,
    )  # fmt: skip


# ---- placing a registry cohort in the plan ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cohort:
    """Insured persons with the same facts (registry today; activation day and channel, if any)."""

    insutype: str
    psn_type: str
    emp_type: str
    emp_no: str
    emp_name: str
    town: str
    day: date | None  # first activation day (China time); None: not activated by the as-of day
    chnl_id: str
    n: int


def category_of(plan: Plan, c: Cohort) -> Category | None:
    """The first category whose rule the cohort meets (``rest`` takes whoever is left)."""
    for cat in plan.categories:
        if cat.rest:
            return cat
        if cat.insutype != "any" and c.insutype != cat.insutype:
            continue
        if cat.unit_types and c.emp_type not in cat.unit_types:
            continue
        if cat.psn_types and c.psn_type not in cat.psn_types:
            continue
        return cat
    return None


def town_index(plan: Plan) -> dict[str, str]:
    """Registry spelling (name or alias) → the plan's town name."""
    out: dict[str, str] = {}
    for t in plan.towns:
        for n in (t.name, *t.aliases):
            out[n] = t.name
    return out


def town_of(index: Mapping[str, str], registry_town: str) -> str | None:
    return index.get(registry_town.strip())


def plan_towns(plan: Plan) -> Sequence[Town]:
    return plan.towns

"""Resolved policy (政策参数) for one pooling region (统筹区) on one date. Pure data, no I/O.

A :class:`ResolvedPolicy` is what the settlement engine reads: every parameter in force on the
service date, already converted to integers (fen for amounts, 1/10000 units for ratios), each
with the :class:`ParamUse` (key, shown value, reference) that the engine copies into its trace.

Parameter values may be tables over *dimensions* (group, hospital level, setting, assistance
class, cross-region scope and filing). :meth:`ResolvedPolicy.pick` walks such a table, falling
back to the ``default`` entry at each level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Dimensions a parameter table may be keyed by, and their allowed keys ("default" always allowed).
GROUPS = (
    "active",  # 在职
    "retired",  # 退休
    "tier1_active",  # 一档在职 (Shenzhen)
    "tier1_retired",  # 一档退休
    "tier2_active",  # 二档在职
    "tier2_retired",  # 二档退休
    "active_pool_only",  # 单建统筹在职 (employee insurance without a personal account)
    "retired_pool_only",  # 单建统筹退休 (珠海: paid like 在职, not like 统账结合退休)
    "minor",  # 未成年人及在校学生 (residents)
    "adult",  # 其他成年居民
    "senior",  # 60岁及以上居民
)
LEVELS = ("0", "1", "2", "3")  # 0 一级以下/社康, 1 一级, 2 二级, 3 三级 (起付线医院等级)
SETTINGS = ("inpatient", "outpatient", "chronic")  # 住院 / 门诊统筹 / 门诊慢特病
ASSISTANCE_CLASSES = (
    "tekun",  # 特困人员
    "orphan",  # 孤儿、事实无人抚养儿童
    "dibao",  # 低保对象
    "poverty_return",  # 返贫致贫人口
    "dibao_edge",  # 低保边缘家庭成员
    "monitored",  # 易返贫致贫监测对象
    "illness_poverty",  # 因病致贫重病患者
)
SCOPES = ("in_province", "cross_province")  # 省内异地 / 跨省异地
FILINGS = (
    "long_term",
    "referral",
    "emergency",
    "temporary",
    "unfiled",
)  # 长期/转诊/急诊/临时/未备案
XR_ADJUSTMENTS = ("none", "multiply", "minus_pp", "set_ratio", "extra_first_pay", "not_paid")

# Chinese names of every dimension key (for traces and pages; "default" is 其他).
KEY_LABELS: dict[str, str] = {
    "active": "在职",
    "retired": "退休",
    "tier1_active": "一档在职",
    "tier1_retired": "一档退休",
    "tier2_active": "二档在职",
    "tier2_retired": "二档退休",
    "active_pool_only": "单建统筹在职",
    "retired_pool_only": "单建统筹退休",
    "minor": "未成年人及在校学生",
    "adult": "成年居民",
    "senior": "60岁以上居民",
    "0": "一级以下/社区",
    "1": "一级",
    "2": "二级",
    "3": "三级",
    "inpatient": "住院",
    "outpatient": "门诊统筹",
    "chronic": "门诊慢特病",
    "account_only": "仅个人账户/现金",
    "tekun": "特困人员",
    "orphan": "孤儿/事实无人抚养儿童",
    "dibao": "低保对象",
    "poverty_return": "返贫致贫人口",
    "dibao_edge": "低保边缘家庭成员",
    "monitored": "易返贫致贫监测对象",
    "illness_poverty": "因病致贫重病患者",
    "in_province": "省内异地",
    "cross_province": "跨省异地",
    "long_term": "长期居住/异地安置",
    "referral": "转诊转院",
    "emergency": "急诊抢救",
    "temporary": "其他临时外出",
    "unfiled": "未备案",
    "default": "其他",
}

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "group": GROUPS,
    "level": LEVELS,
    "setting": SETTINGS,
    "class": ASSISTANCE_CLASSES,
    "scope": SCOPES,
    "filing": FILINGS,
}


class PolicyError(ValueError):
    """A policy that cannot be used (政策参数错误): names the file or region, the key and the rule."""


@dataclass(frozen=True, slots=True)
class ParamUse:
    """One parameter as used: key, its Chinese label, the value as written, since when, and why."""

    key: str
    label: str
    shown: str
    since: date
    reference: str
    assumed: bool
    region: str

    def source(self) -> str:
        """The reference, or the reason for an assumption (假设)."""
        return ("假设：" + self.reference) if self.assumed else self.reference


@dataclass(frozen=True, slots=True)
class CapStep:
    """One step of a cap (最高支付限额) by months of continuous enrolment (连续参保月数)."""

    from_months: int
    amount: int | None  # fen; None: use wage_multiple
    wage_multiple_units: int | None  # 1/10000 units of the annual average wage


@dataclass(frozen=True, slots=True)
class Cap:
    """A cap: ``None`` steps means no cap (不设封顶)."""

    steps: tuple[CapStep, ...] | None

    def amount_for(self, enrol_months: int, avg_wage: int) -> int | None:
        """The cap in fen for a person with ``enrol_months`` of continuous enrolment."""
        if self.steps is None:
            return None
        chosen = self.steps[0]
        for step in self.steps:
            if step.from_months <= enrol_months:
                chosen = step
        if chosen.amount is not None:
            return chosen.amount
        units = chosen.wage_multiple_units or 0
        return avg_wage * units // 10_000


NO_CAP = Cap(None)

# Bands: ascending (from_fen, ratio_units) pairs on a cumulative axis; positions below the first
# ``from`` pay nothing.
Bands = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class XrRule:
    """Cross-region adjustment (异地就医待遇调整) for one scope × filing type."""

    adjust: str  # one of XR_ADJUSTMENTS
    value_units: int = 0  # multiplier, pp cut, set ratio or extra first-pay (1/10000)
    deductible: int | None = None  # fen; replaces the in-city deductible when set


XR_NONE = XrRule("none")


@dataclass(frozen=True, slots=True)
class DiseaseRule:
    """One 门诊慢特病 (outpatient chronic/special disease) in the region's list."""

    code: str
    name: str
    limit: int | None  # fen per year of fund payment for this disease; None = no own limit
    ratio: int | Bands | None  # overrides the chronic ratio when set
    deductible: int | None  # overrides the chronic deductible when set


@dataclass(frozen=True, slots=True)
class ItemClass:
    """A class of catalogue items that a region pays at its own fund ratio (特定项目类别), e.g.
    imported implants (进口植入类医用耗材) or high-value consumables (高值医用耗材).

    An item belongs to the class when its national code (医保目录编码) is listed in ``codes``,
    or when it meets every criterion given: its list type (目录类别) is in ``list_types`` and its
    unit price (单价, fen) is at least ``min_price``. The class's first-pay share is the item's own
    (catalogue ``selfpay_prop``); its fund ratio is ``{scheme}.{setting}.class_ratio``.
    """

    code: str
    name: str
    list_types: tuple[str, ...] = ()
    codes: frozenset[str] = frozenset()
    min_price: int | None = None  # fen per unit

    def matches(self, list_type: str, med_list_codg: str, unit_price_fen: int) -> bool:
        if med_list_codg in self.codes:
            return True
        if not self.list_types and self.min_price is None:
            return False
        if self.list_types and list_type not in self.list_types:
            return False
        return self.min_price is None or unit_price_fen >= self.min_price


@dataclass(frozen=True, slots=True)
class ResolvedParam:
    """A parameter's normalised value (ints, tuples, dicts) and how it was obtained."""

    value: Any
    use: ParamUse


@dataclass(frozen=True)
class ResolvedPolicy:
    """Every parameter in force for ``admdvs`` on ``on`` (inheritance and overrides applied)."""

    admdvs: str
    name: str
    on: date
    chain: tuple[str, ...]  # region codes searched, most specific first
    params: dict[str, ResolvedParam]
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, key: str) -> bool:
        return key in self.params

    def value(self, key: str) -> Any:
        """The normalised value of ``key``; :class:`PolicyError` if none is in force."""
        p = self.params.get(key)
        if p is None:
            raise PolicyError(f"{self.admdvs}: {key}: no value in force on {self.on.isoformat()}")
        return p.value

    def use(self, key: str) -> ParamUse:
        p = self.params.get(key)
        if p is None:
            raise PolicyError(f"{self.admdvs}: {key}: no value in force on {self.on.isoformat()}")
        return p.use

    def pick(self, key: str, *chains: tuple[str, ...]) -> Any:
        """Look up a dimensioned table: for each dimension, try the keys in ``chain`` then
        ``default``. A scalar (leaf) met early applies to every remaining dimension."""
        node = self.value(key)
        for chain in chains:
            if not isinstance(node, dict) or "__leaf__" in node:
                return node
            for k in chain:
                if k in node:
                    node = node[k]
                    break
            else:
                if "default" in node:
                    node = node["default"]
                else:
                    raise PolicyError(
                        f"{self.admdvs}: {key}: no entry for {'/'.join(chain) or '-'} "
                        f"and no 'default' on {self.on.isoformat()}"
                    )
        if isinstance(node, dict) and "__leaf__" not in node:
            raise PolicyError(f"{self.admdvs}: {key}: table deeper than expected")
        return node


def leaf(value: Any) -> Any:
    """Unwrap a structured leaf stored as ``{"__leaf__": value}``."""
    if isinstance(value, dict) and "__leaf__" in value:
        return value["__leaf__"]
    return value

"""What the fund owes an institution for one case under DRG or DIP (病例支付). Pure.

payment-reform.md §5.7, §5.8, §6.2, §7.2:

- **DRG** (按病组): ``value = weight × coefficient × rate``; the rate (费率, 元/权重) is the
  region's cost budget ÷ the year's total weight (provisional: the planned total; year end: the
  actual one).
- **DIP** (按病种分值): ``value = settled score × coefficient × point value`` (点值, 元/分).
- **Outliers** (高倍率/低倍率), with the region's thresholds: DRG compares the cost with the
  case's standard at the provisional rate and pays by item (``by_item``) or the standard; DIP
  compares the cost with last year's average cost of the group at the institution's level:
  high ``[(cost ÷ avg − k) + 1] × score``, low ``(cost ÷ avg) × score``.
- **Excluded** (按项目): stays of at most ``min_stay`` or at least ``max_stay`` days, cases that
  could not be grouped, regions paying by item: the fund pays what the counter settlement said.
- **特例单议** approved: by item (``value = cost − deducted``) or at a raised weight/score.
- **Fund's payment** ``fund_due = max(0, value − Σ deductions)``, the deductions being the
  ``setlinfo`` amounts the region lists (default: everything the basic pooled fund did not pay,
  "DRG应支付 = 支付标准 − (医疗总费用 − 基本统筹基金)", §7.2 item 3). The difference
  ``fund_due − hifp_pay`` is what the ledger adjusts (调整额).

Units: ratios and factors are integers of 1/10000 (as the policy loader gives them); money is
fen; rates and point values are yuan ``Decimal`` with 4 places; weights and scores 4 places.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

UNIT = 10_000
Q4 = Decimal("0.0001")
METHODS = ("none", "drg", "dip")
MODES = {
    "group": "按病组/病种付费",
    "high": "高倍率病例",
    "low": "低倍率病例",
    "special_item": "特例单议·按项目付费",
    "special_raised": "特例单议·提高支付标准",
    "excluded": "不纳入（按项目付费）",
}


class PayError(ValueError):
    """A payment that cannot be computed (支付计算错误), e.g. a budget with no cases."""


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a case's payment explanation (支付过程)."""

    step: str
    label: str
    amount: int
    detail: str
    params: tuple[Any, ...] = ()  # yibao.policy.model.ParamUse

    def as_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "label": self.label,
            "amount": self.amount,
            "detail": self.detail,
            "params": [{"key": p.key, "value": p.shown, "source": p.source()} for p in self.params],
        }


@dataclass(frozen=True)
class PayParams:
    """The region's payment parameters for one institution (its level already picked)."""

    method: str  # none | drg | dip
    coef: int = UNIT  # level/institution coefficient (等级系数), 1/10000
    high_ratio: int = 3 * UNIT
    low_ratio: int = UNIT // 2
    high_rule: str = "by_item"  # DRG: by_item | standard
    low_rule: str = "by_item"
    min_stay_days: int = 2  # stays of at most this many days are paid by item
    max_stay_days: int = 60  # stays of at least this many days are paid by item
    deductions: tuple[str, ...] = ()
    uses: Mapping[str, Any] = field(default_factory=dict)  # key → ParamUse, for the trace

    def use(self, *keys: str) -> tuple[Any, ...]:
        return tuple(self.uses[k] for k in keys if k in self.uses)


@dataclass(frozen=True, slots=True)
class Grouping:
    """A case's group as payment needs it (分组结果)."""

    ok: bool
    code: str = ""
    name: str = ""
    units: Decimal = Decimal(0)  # DRG weight or DIP score (as published)
    avg_cost: int = 0  # DIP: last year's average cost of the group at this level (fen)


@dataclass(frozen=True, slots=True)
class Special:
    """An approved 特例单议 result for the case."""

    exit_type: str  # "1" by item | "2" raised standard
    deducted: int = 0  # fen removed as unreasonable (by item)
    units: Decimal = Decimal(0)  # raised weight/score


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The counter settlement of the case (fen)."""

    setl_id: str
    medfee_sumamt: int
    hifp_pay: int
    stay_days: int
    amounts: Mapping[str, int]  # setlinfo amounts by field name
    cross_region: bool = False  # 异地就医: insured elsewhere


@dataclass(frozen=True)
class CaseValue:
    """A case's payment at one rate or point value (病例结算值)."""

    mode: str  # a key of MODES
    units: Decimal  # weight × coef or settled score × coef in the budget's denominator
    value: int  # 病组支付标准 / 病种结算值 (fen): what the case is worth to the institution
    by_item: int  # value paid by item, outside the denominator (fen)
    deductions: int
    fund_due: int  # 基金应支付
    item_fund: int  # what the counter settlement charged the basic pooled fund (hifp_pay)
    trace: tuple[TraceStep, ...]

    @property
    def adjustment(self) -> int:
        """调整额: what the ledger moves between the fund and the institution for this case."""
        return self.fund_due - self.item_fund


def fen_of(units: Decimal, unit_value: Decimal) -> int:
    """``units × unit_value`` yuan → fen, half up (the one rounding of a case value)."""
    return int((units * unit_value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def q4(d: Decimal) -> Decimal:
    return d.quantize(Q4, rounding=ROUND_HALF_UP)


def _units_text(method: str) -> str:
    return "权重" if method == "drg" else "分值"


def _excluded(p: PayParams, f: CaseFacts, g: Grouping) -> str:
    if p.method == "none":
        return "本统筹区未实行DRG/DIP付费"
    if f.cross_region:
        return "异地就医病例"
    if f.stay_days <= p.min_stay_days:
        return f"住院{f.stay_days}天，不超过{p.min_stay_days}天"
    if f.stay_days >= p.max_stay_days:
        return f"住院{f.stay_days}天，达到{p.max_stay_days}天"
    if not g.ok:
        return "未能入组"
    return ""


def _fund_due(p: PayParams, f: CaseFacts, value: int, steps: list[TraceStep]) -> tuple[int, int]:
    parts = [(k, f.amounts.get(k, 0)) for k in p.deductions]
    total = sum(v for _, v in parts)
    text = " + ".join(f"{k} {v / 100:.2f}" for k, v in parts if v) or "无"
    steps.append(
        TraceStep("deduct", "扣除项", total, f"扣除 {text}", p.use("payment.fund_due.deductions"))
    )
    due = max(0, value - total)
    steps.append(
        TraceStep(
            "fund_due",
            "基金应支付",
            due,
            f"{value / 100:.2f} − {total / 100:.2f}" + ("，不低于0" if value < total else ""),
        )
    )
    return total, due


def value_case(
    p: PayParams,
    f: CaseFacts,
    g: Grouping,
    *,
    unit_value: Decimal,
    classify_value: Decimal,
    special: Special | None = None,
) -> CaseValue:
    """The case's value and the fund's payment at ``unit_value`` (rate or point value).

    ``classify_value`` is the provisional rate used to classify DRG outliers, so a case keeps its
    outlier status when the year-end rate is recomputed.
    """
    steps: list[TraceStep] = []
    why = _excluded(p, f, g) if special is None else ""
    if why:
        steps.append(
            TraceStep(
                "excluded",
                "按项目付费",
                f.hifp_pay,
                f"{why}：基金按即时结算的统筹支付 {f.hifp_pay / 100:.2f}",
                p.use("payment.method", "payment.min_stay_days", "payment.max_stay_days"),
            )
        )
        return CaseValue(
            "excluded", Decimal(0), f.hifp_pay, 0, 0, f.hifp_pay, f.hifp_pay, tuple(steps)
        )
    name = _units_text(p.method)
    coef = Decimal(p.coef) / UNIT
    if special is not None and special.exit_type == "1":
        value = f.medfee_sumamt - special.deducted
        steps.append(
            TraceStep(
                "special",
                "特例单议·按项目付费",
                value,
                f"医疗费用 {f.medfee_sumamt / 100:.2f} − 核减 {special.deducted / 100:.2f}",
            )
        )
        ded, due = _fund_due(p, f, value, steps)
        return CaseValue(
            "special_item", Decimal(0), value, value, ded, due, f.hifp_pay, tuple(steps)
        )
    base = special.units if special is not None else g.units
    if special is not None:
        steps.append(
            TraceStep(
                "special", "特例单议·提高支付标准", 0, f"{name}由 {g.units} 提高为 {special.units}"
            )
        )
    units, mode = q4(base * coef), "special_raised" if special is not None else "group"
    steps.append(
        TraceStep(
            "group",
            f"{g.code} {g.name}",
            0,
            f"{name} {base} × 系数 {coef} = {units}",
            p.use("payment.level_coefficient"),
        )
    )
    cost = f.medfee_sumamt
    if special is None and p.method == "drg":
        standard = fen_of(units, classify_value)
        outlier = ""
        if cost * UNIT > standard * p.high_ratio:
            outlier = "high"
        elif cost * UNIT < standard * p.low_ratio:
            outlier = "low"
        if outlier:
            mode = outlier
            k = Decimal(p.high_ratio if outlier == "high" else p.low_ratio) / UNIT
            rule = p.high_rule if outlier == "high" else p.low_rule
            sign = ">" if outlier == "high" else "<"
            detail = (
                f"医疗费用 {cost / 100:.2f} {sign} 预算费率下标准 {standard / 100:.2f} × {k}"
                + ("，按项目付费" if rule == "by_item" else "，仍按病组标准付费")
            )
            keys = (f"payment.drg.{outlier}_ratio", f"payment.drg.{outlier}_rule")
            steps.append(TraceStep(outlier, MODES[outlier], cost, detail, p.use(*keys)))
            if rule == "by_item":
                ded, due = _fund_due(p, f, cost, steps)
                return CaseValue(
                    outlier, Decimal(0), cost, cost, ded, due, f.hifp_pay, tuple(steps)
                )
    elif special is None and p.method == "dip" and g.avg_cost > 0:
        ratio = Decimal(cost) / Decimal(g.avg_cost)
        k_hi, k_lo = Decimal(p.high_ratio) / UNIT, Decimal(p.low_ratio) / UNIT
        if ratio > k_hi:
            mode, units = "high", q4(((ratio - k_hi) + 1) * base * coef)
            formula = (
                f"[({cost / 100:.2f} ÷ {g.avg_cost / 100:.2f} − {k_hi}) + 1] × {base} × {coef}"
            )
        elif ratio < k_lo:
            mode, units = "low", q4(ratio * base * coef)
            formula = f"({cost / 100:.2f} ÷ {g.avg_cost / 100:.2f}) × {base} × {coef}"
        if mode in ("high", "low"):
            steps.append(
                TraceStep(
                    mode,
                    MODES[mode],
                    0,
                    f"结算分值 = {formula} = {units}",
                    p.use(f"payment.dip.{mode}_ratio"),
                )
            )
    value = fen_of(units, unit_value)
    unit_name = "费率" if p.method == "drg" else "点值"
    steps.append(TraceStep("value", "病例结算值", value, f"{units} × {unit_name} {unit_value} 元"))
    ded, due = _fund_due(p, f, value, steps)
    return CaseValue(mode, units, value, 0, ded, due, f.hifp_pay, tuple(steps))


def cost_budget(fund_budget: int, reimbursement_ratio: int) -> int:
    """The budget in total-cost terms (费用总额预算) = fund budget ÷ reimbursement ratio (fen)."""
    if reimbursement_ratio <= 0:
        raise PayError("报销比例须大于0")
    q, r = divmod(fund_budget * UNIT, reimbursement_ratio)
    return q + (1 if 2 * r >= reimbursement_ratio else 0)


def unit_value(pool: int, total_units: Decimal) -> Decimal:
    """Rate or point value (元/权重, 元/分) = pool (fen) ÷ total units, 4 places half up."""
    if total_units <= 0:
        raise PayError("总权重/总分值为0，无法计算费率或点值")
    if pool <= 0:
        raise PayError(f"可分配预算 {pool / 100:.2f} 元不足（按项目付费病例已超出预算）")
    return q4(Decimal(pool) / 100 / total_units)

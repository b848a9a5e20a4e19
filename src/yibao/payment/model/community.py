"""County medical-community global budget (紧密型县域医共体 总额付费、结余留用、合理超支分担). Pure.

payment-reform.md §8.4 (structure only; every parameter is dated policy data per region):

- **Budget** B for the year; first year = average of the last three years' pooled-fund spending
  on the community's insured × (1 + growth), later years = last year's budget × (1 + g) (广东
  2025 notice as reported, §8.2). :func:`first_year_budget` and :func:`next_year_budget`.
- **Monthly allocation** B ÷ 12, the remainder in December, so the twelve sum to B.
- **Year end** with S the fund spending charged to the community (its insured anywhere):

  - S ≤ B: ``retained = min(retain_share × (B − S), retain_cap × B)``; the fund's final
    obligation ``F = S + retained``;
  - S > B: each band ``(upto, fund_share)`` takes the part of the overrun between the previous
    band's ``upto × B`` and its own (``upto`` none: no upper edge); the fund pays
    ``fund_share`` of it; ``F = B + Σ fund parts``; the rest of the overrun stays with the
    community (合理超支分担).

Every ratio × amount is rounded once, half up, to the fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yibao.money import apply_ratio_units

UNIT = 10_000


class CommunityError(ValueError):
    """A budget rule that cannot be applied (医共体预算错误)."""


@dataclass(frozen=True, slots=True)
class Band:
    """One overrun band: overrun up to ``upto`` × B (None: unbounded); fund pays ``fund_share``."""

    upto: int | None  # 1/10000 of the budget
    fund_share: int  # 1/10000


@dataclass(frozen=True, slots=True)
class BandPart:
    band: Band
    lower: int  # fen (overrun axis)
    upper: int | None
    part: int  # overrun inside the band (fen)
    fund: int  # the fund's share of it (fen)


@dataclass(frozen=True)
class YearEnd:
    """The year-end settlement of a community (医共体年度结算)."""

    budget: int
    spending: int
    surplus: int  # B − S when positive
    retained: int  # 结余留用
    retain_capped: bool
    overrun: int  # S − B when positive
    fund_overrun: int  # 合理超支分担: the fund's part
    community_overrun: int  # the community's part
    parts: tuple[BandPart, ...]
    final: int  # F: the fund's final obligation for the year
    lines: tuple[str, ...]


def monthly_allocation(budget: int, month: int) -> int:
    """The allocation of month ``month`` (1–12); Σ of the twelve equals ``budget`` exactly."""
    if not 1 <= month <= 12:
        raise CommunityError(f"月份须为1–12，收到{month}")
    base = budget // 12
    return budget - 11 * base if month == 12 else base


def allocated_through(budget: int, month: int) -> int:
    """Allocations of months 1 … ``month``."""
    return sum(monthly_allocation(budget, m) for m in range(1, month + 1))


def check_bands(bands: Sequence[Band]) -> None:
    if not bands:
        raise CommunityError("超支分担分档不能为空")
    last = 0
    for i, b in enumerate(bands):
        if not 0 <= b.fund_share <= UNIT:
            raise CommunityError(f"第{i + 1}档基金分担比例须在0–1之间")
        if b.upto is None:
            if i != len(bands) - 1:
                raise CommunityError("只有最后一档可以不设上限")
            continue
        if b.upto <= last:
            raise CommunityError(f"第{i + 1}档上限须大于上一档")
        last = b.upto


def year_end(
    budget: int, spending: int, *, retain_share: int, retain_cap: int, bands: Sequence[Band]
) -> YearEnd:
    """The year-end rule on budget B and spending S (fen)."""
    if budget <= 0:
        raise CommunityError("年度预算须大于0（零预算无法计算结余或超支）")
    check_bands(bands)
    lines: list[str] = [
        f"年度预算 B = {budget / 100:.2f} 元，实际基金支出 S = {spending / 100:.2f} 元"
    ]
    if spending <= budget:
        surplus = budget - spending
        share = apply_ratio_units(surplus, retain_share)
        cap = apply_ratio_units(budget, retain_cap)
        retained = min(share, cap)
        lines.append(
            f"结余 {surplus / 100:.2f} × 留用比例 {retain_share / UNIT} = {share / 100:.2f}；"
            f"上限 B × {retain_cap / UNIT} = {cap / 100:.2f}；结余留用 {retained / 100:.2f}"
        )
        return YearEnd(
            budget,
            spending,
            surplus,
            retained,
            share > cap,
            0,
            0,
            0,
            (),
            spending + retained,
            tuple(lines),
        )
    overrun = spending - budget
    parts: list[BandPart] = []
    lower = 0
    for b in bands:
        upper = None if b.upto is None else apply_ratio_units(budget, b.upto)
        top = overrun if upper is None else min(overrun, upper)
        part = max(0, top - lower)
        fund = apply_ratio_units(part, b.fund_share)
        parts.append(BandPart(b, lower, upper, part, fund))
        edge = "以上" if upper is None else f"至 {upper / 100:.2f}"
        lines.append(
            f"超支 {lower / 100:.2f} {edge}：{part / 100:.2f} × 基金分担 {b.fund_share / UNIT}"
            f" = {fund / 100:.2f}"
        )
        if upper is None or overrun <= upper:
            break
        lower = upper
    covered = parts[-1].upper is None or overrun <= (parts[-1].upper or 0)
    if not covered:
        lines.append(
            f"超过最后一档上限的 {(overrun - (parts[-1].upper or 0)) / 100:.2f} 由医共体承担"
        )
    fund_overrun = sum(p.fund for p in parts)
    lines.append(
        f"基金分担 {fund_overrun / 100:.2f}，医共体承担 {(overrun - fund_overrun) / 100:.2f}"
    )
    return YearEnd(
        budget,
        spending,
        0,
        0,
        False,
        overrun,
        fund_overrun,
        overrun - fund_overrun,
        tuple(parts),
        budget + fund_overrun,
        tuple(lines),
    )


def first_year_budget(history: Sequence[int], growth: int) -> int:
    """首年预算 = 前三年医共体参保人统筹基金医疗费用的平均值 × (1 + 增长率) (fen, half up)."""
    if len(history) != 3:
        raise CommunityError("首年预算需要前三年的基金支出")
    total = sum(history)
    base = (2 * total + 3) // 6  # average of three, half up
    return base + apply_ratio_units(base, growth)


def next_year_budget(previous: int, growth: int) -> int:
    """次年预算 = 上年预算 × (1 + 增长率) (fen, half up)."""
    return previous + apply_ratio_units(previous, growth)

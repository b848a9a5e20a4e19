"""特例单议 (special-case review, 3601–3604): application states, the cap, the decision. Pure.

payment-reform.md §4: the institution applies case by case with reasons and items (3602), may
change or withdraw (3603, ``vali_flag=0``) while nobody has reviewed it; two different experts
give opinions in the console (approve/refuse with a written opinion); the application is approved
only when both approve (一例一议、专家审核); refused otherwise. The number of live applications
of an institution in a year is capped at a share of its DRG/DIP cases (DIP ≤ 5‰ of discharges,
2025 暂行办法 Art. 20; the DRG share is a parameter).

Exit types (``appy_exit_type``/``exit_type``, dictionary EXIT_TYPE NOT FOUND in the interface):
Yibao uses ``1`` 按项目付费 and ``2`` 提高支付标准.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SUBMITTED, IN_REVIEW, APPROVED, REFUSED, WITHDRAWN = (
    "submitted",
    "in_review",
    "approved",
    "refused",
    "withdrawn",
)
STATE_LABELS = {
    SUBMITTED: "待评审",
    IN_REVIEW: "评审中（已有一位专家意见）",
    APPROVED: "审定通过",
    REFUSED: "审定不通过",
    WITHDRAWN: "已撤销",
}
EXIT_BY_ITEM, EXIT_RAISED = "1", "2"
EXIT_LABELS = {EXIT_BY_ITEM: "按项目付费", EXIT_RAISED: "提高支付标准"}
REVIEWERS = 2
UNIT = 10_000


class SpecialError(ValueError):
    """A 特例单议 action that breaks a rule (特例单议规则)."""


@dataclass(frozen=True, slots=True)
class Opinion:
    reviewer: str  # console username
    approve: bool
    text: str


def live(state: str) -> bool:
    """Counts against the cap: not withdrawn and not refused."""
    return state in (SUBMITTED, IN_REVIEW, APPROVED)


def cap_of(cases: int, cap_ratio: int) -> int:
    """How many live applications an institution may have: ⌊cases × ratio⌋."""
    return cases * cap_ratio // UNIT


def check_cap(live_count: int, cases: int, cap_ratio: int) -> None:
    """Refuse the (n+1)-th application above the cap."""
    cap = cap_of(cases, cap_ratio)
    if live_count + 1 > cap:
        raise SpecialError(
            f"特例单议申请已达上限：本年度DRG/DIP病例 {cases} 例 × 比例 {cap_ratio / UNIT}"
            f" = {cap} 例，已有有效申请 {live_count} 例"
        )


def check_editable(state: str) -> None:
    if state != SUBMITTED:
        raise SpecialError(f"申请状态为「{STATE_LABELS.get(state, state)}」，不能修改或撤销")


def add_opinion(state: str, opinions: Sequence[Opinion], new: Opinion) -> str:
    """The state after ``new``; refuses a third opinion, a repeat reviewer, an empty opinion."""
    if state not in (SUBMITTED, IN_REVIEW):
        raise SpecialError(f"申请状态为「{STATE_LABELS.get(state, state)}」，不能再评审")
    if not new.text.strip():
        raise SpecialError("评审意见不能为空")
    if any(o.reviewer == new.reviewer for o in opinions):
        raise SpecialError("同一专家不能重复评审同一申请（须两位不同专家）")
    all_ops = [*opinions, new]
    if len(all_ops) < REVIEWERS:
        return IN_REVIEW
    return APPROVED if all(o.approve for o in all_ops) else REFUSED

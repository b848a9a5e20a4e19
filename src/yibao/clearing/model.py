"""Clearing between pooling regions (异地清算): statement lines, netting and the approval workflow.

Pure: no I/O, no clock. A statement covers one month (清算期, ``YYYY-MM``, by settlement date) and
one unordered pair of regions. Each cross-region settlement or cancellation (负数) of the month
between the two is one line. A line's clearing amount is what the treatment region advanced on
the insured region's behalf — the fund lines except the personal account (310200) plus
``acct_pay`` — exactly what the ledger moves into the clearing accounts
(``yibao.ledger.model.build_settlement_chain``). The two directions are netted; the region that
owes more pays the difference (清算拨付).

Workflow: 草稿 ``draft`` → 已确认 ``confirmed`` (经办确认) → 已审批 ``approved`` (a different user;
the payment is posted to the ledger in the same transaction). An approver may send a confirmed
statement back (退回 → ``draft``). A draft may be re-run; a confirmed or approved one is frozen.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

FPT_PERSONAL_ACCOUNT = "310200"

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class ClearingError(ValueError):
    """A refused clearing request; the message (中文) names the field or the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class State(StrEnum):
    DRAFT = "draft"  # 草稿
    CONFIRMED = "confirmed"  # 已确认
    APPROVED = "approved"  # 已审批 (posted)


STATE_NAMES = {State.DRAFT: "草稿", State.CONFIRMED: "已确认", State.APPROVED: "已审批并拨付"}


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` period."""
    m = _PERIOD.match(period or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ClearingError("month", f"清算期 {period!r} 须为 YYYY-MM")
    y, mo = int(m.group(1)), int(m.group(2))
    return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])


def pair_of(a: str, b: str) -> tuple[str, str]:
    """The unordered pair of two distinct 6-digit regions, smaller code first."""
    for name, v in (("region", a), ("region", b)):
        if not (len(v) == 6 and v.isdigit()):
            raise ClearingError(name, f"{v!r} 不是6位医保区划代码")
    if a == b:
        raise ClearingError("pair", f"清算双方不能相同 ({a})")
    return (a, b) if a < b else (b, a)


def statement_id(period: str, pair: tuple[str, str]) -> str:
    """``CLR-YYYYMM-A-B`` (one statement per month and pair)."""
    return f"CLR-{period.replace('-', '')}-{pair[0]}-{pair[1]}"


def clearing_amount(setldetail: Iterable[Mapping[str, object]], acct_pay: int) -> int:
    """Fund lines except the personal account, plus ``acct_pay`` (fen; negative if cancelled)."""
    total = acct_pay
    for row in setldetail:
        if str(row.get("fund_pay_type", "")) == FPT_PERSONAL_ACCOUNT:
            continue
        v = row.get("fund_payamt", 0)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ClearingError("setldetail.fund_payamt", f"须为整数分，收到 {v!r}")
        total += v
    return total


@dataclass(frozen=True, slots=True)
class Line:
    """One settlement or cancellation on a statement (清算明细), amounts in fen."""

    setl_id: str
    kind: str  # settle | cancel
    reverses: str | None
    psn_no: str
    fixmedins_code: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    med_type: str
    clr_type: str
    setl_date: date
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    psn_cash_pay: int
    clearing_amt: int


@dataclass(frozen=True, slots=True)
class Direction:
    """Totals of one direction: ``insured`` region's people treated in ``treatment`` region."""

    insured: str
    treatment: str
    settlements: int = 0
    cancellations: int = 0
    medfee_sumamt: int = 0
    fund_pay_sumamt: int = 0
    acct_pay: int = 0
    psn_cash_pay: int = 0
    clearing_amt: int = 0  # what ``insured`` owes ``treatment``


@dataclass(frozen=True, slots=True)
class Totals:
    """A statement's figures: both directions and the net payment."""

    pair: tuple[str, str]
    directions: tuple[Direction, Direction]
    payer: str | None  # None: nothing to pay
    payee: str | None
    net_amount: int  # ≥ 0
    by_clr_type: Mapping[str, int] = field(default_factory=dict)


def totals(pair: tuple[str, str], lines: Sequence[Line]) -> Totals:
    """Sum the lines per direction and net them (fen-exact)."""
    a, b = pair
    acc: dict[tuple[str, str], dict[str, int]] = {
        (a, b): dict.fromkeys(_SUMS, 0),
        (b, a): dict.fromkeys(_SUMS, 0),
    }
    by_type: dict[str, int] = {}
    for ln in lines:
        key = (ln.insuplc_admdvs, ln.mdtrtarea_admvs)
        if key not in acc:
            raise ClearingError("setl_id", f"{ln.setl_id} 不属于 {a}–{b} 之间的异地结算")
        d = acc[key]
        d["settlements" if ln.kind == "settle" else "cancellations"] += 1
        for name in (
            "medfee_sumamt",
            "fund_pay_sumamt",
            "acct_pay",
            "psn_cash_pay",
            "clearing_amt",
        ):
            d[name] += getattr(ln, name)
        by_type[ln.clr_type] = by_type.get(ln.clr_type, 0) + ln.clearing_amt
    da = Direction(a, b, **acc[(a, b)])
    db = Direction(b, a, **acc[(b, a)])
    net = da.clearing_amt - db.clearing_amt
    payer: str | None
    payee: str | None
    if net > 0:
        payer, payee = a, b
    elif net < 0:
        payer, payee = b, a
    else:
        payer = payee = None
    return Totals(pair, (da, db), payer, payee, abs(net), dict(sorted(by_type.items())))


_SUMS = (
    "settlements", "cancellations", "medfee_sumamt", "fund_pay_sumamt", "acct_pay",
    "psn_cash_pay", "clearing_amt",
)  # fmt: skip


def can_rerun(state: State) -> None:
    if state is not State.DRAFT:
        raise ClearingError(
            "state",
            f"清算单状态为「{STATE_NAMES[state]}」，已冻结，不能重新生成（只有草稿可以重算）",
        )


def confirm(state: State, actor: str) -> State:
    """经办确认: draft → confirmed."""
    if not actor:
        raise ClearingError("operator", "须提供操作员")
    if state is not State.DRAFT:
        raise ClearingError("state", f"清算单状态为「{STATE_NAMES[state]}」，只有草稿可以确认")
    return State.CONFIRMED


def approve(state: State, actor: str, confirmed_by: str) -> State:
    """审批: confirmed → approved, by someone other than the confirmer (双人复核)."""
    if not actor:
        raise ClearingError("operator", "须提供操作员")
    if state is State.DRAFT:
        raise ClearingError("state", "清算单尚未确认，不能审批")
    if state is State.APPROVED:
        raise ClearingError("state", "清算单已审批，不能重复审批")
    if actor == confirmed_by:
        raise ClearingError("operator", f"审批人不能与确认人相同（{actor}），须两人分别办理")
    return State.APPROVED


def send_back(state: State, actor: str, confirmed_by: str, reason: str) -> State:
    """退回: confirmed → draft (by an approver, with a reason)."""
    if not reason.strip():
        raise ClearingError("reason", "退回须填写原因")
    if state is not State.CONFIRMED:
        raise ClearingError("state", f"清算单状态为「{STATE_NAMES[state]}」，只有已确认的可以退回")
    if actor == confirmed_by:
        raise ClearingError("operator", "确认人不能退回自己确认的清算单")
    return State.DRAFT

"""Funds use cases (缴费与基金业务): assessment (核定), relief and deferral approvals (减征、缓缴),
budget transfers and interest. Each public function is one transaction.

Collection through the tax bureau is in :mod:`yibao.funds.collection`, personal-account credits
in :mod:`yibao.funds.accounts`, relief and deferral approvals in :mod:`yibao.funds.approvals`,
benefit status in :mod:`yibao.funds.benefits`; this module re-exports them so callers import one
service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.db.tables import audit
from yibao.funds import benefits, postings, rules, store, store_assess
from yibao.funds.accounts import carry_over_opening, check_accounts, credit_retirees
from yibao.funds.approvals import approve
from yibao.funds.collection import (
    ImportResult,
    export_tax_file,
    import_payments,
    pay_from_family_account,
)
from yibao.funds.model import (
    EmployeeRules,
    FundsError,
    add_months,
    due_date,
    month_end,
    period_text,
    resident_contribution,
)
from yibao.funds.postings import ASSISTANCE, CIVIL, RESIDENT, SERIOUS, Leg, bank, fund
from yibao.ledger import post_chain
from yibao.registry.model import ASSISTANCE_CLASSES

__all__ = [
    "AssessResult",
    "FundsError",
    "ImportResult",
    "approve",
    "assess_month",
    "assess_residents",
    "carry_over_opening",
    "check_accounts",
    "credit_retirees",
    "export_tax_file",
    "import_payments",
    "pay_from_family_account",
    "post_transfer",
    "refresh_benefits",
]

TRANSFER_KINDS = {"budget_transfer": "财政预算拨入", "interest": "利息收入"}


@dataclass(frozen=True, slots=True)
class AssessResult:
    """One assessment run (核定批次): rows assessed, bills made, amount (fen)."""

    region: str
    scheme: str
    period: str
    run_no: int
    rows: int
    bills: int
    amount: int

    @property
    def nothing_new(self) -> bool:
        return self.rows == 0


def _region(region: str) -> str:
    if not (len(region) == 6 and region.isdigit()):
        raise FundsError("ADMDVS_INVALID", "医保区划应为6位数字", "admdvs")
    return region


def assess_month(
    engine: sa.Engine, region: str, period: date, *, actor: str, refresh: bool = True
) -> AssessResult:
    """核定 one month for every employee and flexible worker of the region not yet assessed.

    Idempotent: a second run assesses only persons added since (a supplementary run with its own
    bills) and otherwise changes nothing. The budget's 公务员医疗补助 for the run is posted to
    320100 at once (财政按核定拨付).
    """
    _region(region)
    rules_ = rules.employee_rules(region, period)
    due = due_date(period, rules_.due_day)
    try:
        return _assess_month(engine, region, period, rules_, due, actor, refresh)
    except _NothingNew as nothing:
        return AssessResult(region, "employee", period_text(period), nothing.run_no, 0, 0, 0)


class _NothingNew(Exception):
    """Nothing to assess: the run is rolled back (an empty run is not recorded)."""

    def __init__(self, run_no: int) -> None:
        super().__init__(run_no)
        self.run_no = run_no


def _assess_month(
    engine: sa.Engine,
    region: str,
    period: date,
    rules_: EmployeeRules,
    due: date,
    actor: str,
    refresh: bool,
) -> AssessResult:
    with engine.begin() as conn:
        run_no = store_assess.next_run_no(conn, region, "employee", period)
        run_id = store_assess.insert_run(conn, region, "employee", period, run_no, actor)
        rows, bills, amount, civil = store_assess.assess_employees(
            conn, region=region, period=period, period_end=month_end(period), due=due,
            run_id=run_id, run_no=run_no, rules=rules_,
        )  # fmt: skip
        if rows == 0:
            raise _NothingNew(run_no - 1)
        store_assess.finish_run(conn, run_id, rows, bills, amount)
        if civil:
            ref = f"civil:{region}:{period_text(period)}:{run_no}"
            leg = Leg(bank(region), fund(region, CIVIL), civil, "fiscal_subsidy")
            _post(conn, ref, region, "civil_servant", CIVIL, civil, period, [leg], actor)
        audit(conn, actor, "funds.assess", region, period=period_text(period), run_no=run_no,
              rows=rows, bills=bills, amount=amount)  # fmt: skip
        if refresh:
            persons = list(
                conn.execute(
                    sa.text(
                        "SELECT a.psn_no FROM funds_bill b JOIN funds_assessment a"
                        " ON a.bill_no = b.bill_no WHERE b.run_id = :r"
                    ),
                    {"r": run_id},
                ).scalars()
            )
            benefits.refresh(conn, persons)
    return AssessResult(region, "employee", period_text(period), run_no, rows, bills, amount)


def _post(
    conn: sa.Connection,
    ref: str,
    region: str,
    kind: str,
    fpt: str,
    amount: int,
    value_date: date,
    legs: list[Leg],
    actor: str,
    memo: dict[str, object] | None = None,
) -> str:
    """Post a funds chain ``ref`` and record it (idempotent on ``ref``)."""
    chain = postings.chain(ref, value_date, legs, {"kind": kind, **(memo or {})})
    post_chain(conn, chain)
    if store.posting_exists(conn, ref) is None:
        store.insert_posting(
            conn,
            {"ref": ref, "region": region, "kind": kind, "fund_pay_type": fpt, "amount": amount,
             "value_date": value_date, "chain_id": ref, "memo": memo or {}, "actor": actor},
        )  # fmt: skip
    return ref


def _assisted_by_type(region: str, year: int) -> dict[str, tuple[int, str]]:
    """psn_idet_type → (assisted amount, policy class) for the year's rules."""
    r = rules.resident_rules(region, year)
    out: dict[str, tuple[int, str]] = {}
    for code, (key, _) in ASSISTANCE_CLASSES.items():
        c = resident_contribution(r, (key,))
        out[code] = (c.assisted, c.assist_class)
    return out


def assess_residents(
    engine: sa.Engine,
    region: str,
    year: int,
    *,
    on: date,
    actor: str,
    psn_no: str | None = None,
) -> AssessResult:
    """居民医保 annual collection (年度集中征收) for ``year``, or one person's mid-year enrolment.

    Assistance classes valid when cover starts (January 1, or ``on`` if later) decide 资助参保 (the most generous class wins): the
    assistance fund's part is posted at once (610100 → 390100); a person whose whole contribution
    it pays is covered from ``on`` with no bill, the fiscal subsidy and the 大病 allocation posted
    with it. Everyone else gets a bill for their own part, due at the end of the collection period
    (or on ``on`` when assessed after it).
    """
    _region(region)
    r = rules.resident_rules(region, year)
    due = max(r.collection_end(year), on)
    by_type = _assisted_by_type(region, year)
    with engine.begin() as conn:
        # classes valid when cover starts (the 民政 list for next year is known in the
        # collection period), or on the assessment date when that is later (mid-year)
        ident_on = max(on, date(year, 1, 1))
        cands = store_assess.resident_candidates(conn, region, year, ident_on, psn_no)
        period = date(year, 1, 1)
        run_no = store_assess.next_run_no(conn, region, "resident", period)
        if not cands:
            return AssessResult(region, "resident", str(year), run_no - 1, 0, 0, 0)
        run_id = store_assess.insert_run(conn, region, "resident", period, run_no, actor)
        assist_ref = f"assist:{region}:{year}:{run_no}"
        rows: list[dict[str, Any]] = []
        bills: list[dict[str, Any]] = []
        legs_by_class: dict[str, int] = {}
        full = {"subsidy": 0, "serious": 0, "n": 0}
        for person, cover_from, idents in cands:
            best = max((by_type[t] for t in idents if t in by_type), default=(0, ""))
            assisted = min(best[0], r.personal)
            own = r.personal - assisted
            bill_no = f"{region}{year}R{person}-{run_no}" if own else None
            if assisted:
                legs_by_class[best[1]] = legs_by_class.get(best[1], 0) + assisted
            if not own:
                full["subsidy"] += r.subsidy
                full["serious"] += r.serious
                full["n"] += 1
            rows.append(
                {"year": year, "psn_no": person, "region": region, "bill_no": bill_no,
                 "run_id": run_id, "cover_from": cover_from, "personal": r.personal,
                 "assisted": assisted, "own": own, "subsidy": r.subsidy, "serious": r.serious,
                 "assist_class": best[1] if assisted else "",
                 "assist_chain": assist_ref if assisted else None,
                 "settled_on": None if own else on}
            )  # fmt: skip
            if bill_no:
                bills.append(
                    {"bill_no": bill_no, "region": region, "scheme": "resident",
                     "payer_kind": "person", "payer_id": person, "period": period,
                     "due_date": due, "employer": 0, "employee": own, "large_amount": 0,
                     "amount": own, "persons": 1, "run_id": run_id}
                )  # fmt: skip
        store_assess.insert_bills(conn, bills)
        store_assess.insert_residents(conn, rows)
        amount = sum(b["amount"] for b in bills)
        store_assess.finish_run(conn, run_id, len(rows), len(bills), amount)
        if legs_by_class or full["n"]:
            legs = [
                Leg(fund(region, ASSISTANCE), fund(region, RESIDENT), amt, "assistance_subsidy")
                for _, amt in sorted(legs_by_class.items())
            ]
            legs.append(
                Leg(bank(region), fund(region, RESIDENT), full["subsidy"], "fiscal_subsidy")
            )
            legs.append(
                Leg(
                    fund(region, RESIDENT),
                    fund(region, SERIOUS),
                    full["serious"],
                    "fund_allocation",
                )
            )
            memo = {"year": year, "by_class": legs_by_class, "fully_assisted": full["n"],
                    "certifying_region": region}  # fmt: skip
            _post(conn, assist_ref, region, "assistance", RESIDENT,
                  sum(legs_by_class.values()), on, legs, actor, memo)  # fmt: skip
        audit(conn, actor, "funds.assess_residents", region, year=year, run_no=run_no,
              rows=len(rows), bills=len(bills), amount=amount)  # fmt: skip
        benefits.refresh(conn, [str(row["psn_no"]) for row in rows])
    return AssessResult(region, "resident", str(year), run_no, len(rows), len(bills), amount)



def post_transfer(
    engine: sa.Engine,
    *,
    region: str,
    fund_pay_type: str,
    kind: str,
    amount: int,
    value_date: date,
    ref: str,
    actor: str,
    memo: str = "",
) -> str:
    """Budget transfer (财政预算拨入) or interest (利息收入) into one fund; idempotent on ``ref``."""
    _region(region)
    if kind not in TRANSFER_KINDS:
        raise FundsError("KIND_INVALID", f"类型应为{'、'.join(TRANSFER_KINDS)}", "kind")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise FundsError("AMOUNT_INVALID", "金额必须为正整数分", "amount")
    if not ref or len(ref) > 60 or ":" in ref:
        raise FundsError("REF_INVALID", "业务流水号为1至60位且不含冒号", "ref")
    chain_id = f"{kind}:{region}:{ref}"
    with engine.begin() as conn:
        leg = Leg(bank(region), fund(region, fund_pay_type), amount, kind)
        _post(conn, chain_id, region, kind, fund_pay_type, amount, value_date, [leg], actor,
              {"memo": memo})  # fmt: skip
        audit(conn, actor, f"funds.{kind}", region, fund=fund_pay_type, amount=amount, ref=ref)
    return chain_id


def refresh_benefits(engine: sa.Engine, region: str) -> int:
    """Re-derive every benefit block of the region's assessed persons (after a policy change)."""
    with engine.begin() as conn:
        return benefits.refresh_region(conn, _region(region))


def next_month(period: date) -> date:
    return add_months(period, 1)

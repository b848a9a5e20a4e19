"""What a settlement of a stored visit reads (结算所需数据), in one statement.

The visit, its unsettled fee lines, the person's year counters, the registry facts (with the
personal account's balance), a ``setl_id`` sequence value when settling and, for care outside
the insured region, the person's cross-region filings (备案) and what the presented credential
names (就诊凭证核验). Nothing is locked: the writes check
that the visit, the counters and the balance are still as read (a conflict runs the flow again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yibao.db.flow import Flow, Q, Read
from yibao.encounter import statements as encounter_sql
from yibao.encounter.statements import Counters, Visit
from yibao.encounter.store import StoredFeeLine
from yibao.filing import store as filing_store
from yibao.filing.model import Filing
from yibao.registry import store as registry_store
from yibao.registry.store import SettlementFacts
from yibao.voucher import presence
from yibao.voucher.presence import Facts as PresenceFacts
from yibao.voucher.presence import Presented


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """Everything a settlement or pre-settlement of one visit starts from."""

    visit: Visit
    lines: list[StoredFeeLine]
    counters: Counters
    person: SettlementFacts | None
    filings: list[Filing]
    setl_seq: int | None  # drawn when settling
    presence: PresenceFacts | None = None  # what the presented credential names (when given)

    @property
    def acct_balc(self) -> int:
        """The personal account's balance as read (0 without an account)."""
        return self.person[3] if self.person is not None else 0


def visit_facts(
    mdtrt_id: str,
    psn_no: str,
    *,
    fixmedins_code: str,
    settle: bool,
    cross_region: bool,
    presented: Presented | None = None,
) -> Flow[VisitFacts]:
    """Read the facts of visit ``mdtrt_id`` of ``psn_no`` at ``fixmedins_code`` (one statement;
    a second only when the stored visit turns out to be 异地 although the request said local)."""
    qs: list[Q] = [
        encounter_sql.visit(mdtrt_id),
        encounter_sql.unsettled_lines(mdtrt_id),
        encounter_sql.accumulators_of_visit(mdtrt_id),
        registry_store.settlement_facts_q(psn_no),
    ]
    if settle:
        qs.append(encounter_sql.SETL_SEQ)
    if presented is not None:
        qs.append(presence.facts_q(psn_no, presented))
    if cross_region:
        qs.append(filing_store.cross_region_filings(psn_no))
    res: list[Any] = yield Read(*qs)
    visit = encounter_sql.visit_of(res[0], mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no)
    filings = res[-1] if cross_region else None
    if filings is None and visit.encounter.cross_region:
        (filings,) = yield Read(filing_store.cross_region_filings(psn_no))
    return VisitFacts(
        visit=visit,
        lines=encounter_sql.lines_of(res[1]),
        counters=encounter_sql.counters_of(res[2]),
        person=registry_store.facts_of_json(res[3]),
        filings=filing_store.filings_of(filings or []),
        setl_seq=int(res[4]) if settle else None,
        presence=presence.facts_of_json(res[5 if settle else 4]) if presented else None,
    )


def check_presence(
    facts: VisitFacts, presented: Presented | None, *, fixmedins_code: str, now: Any, where: str
) -> None:
    """The presented credential names the visit's person at this counter (issue 10: every
    settling call proves the patient's presence); :class:`PresenceRefused` otherwise."""
    if presented is None or facts.presence is None:
        return
    presence.check(
        presented,
        facts.presence,
        psn_no=facts.visit.encounter.psn_no,
        fixmedins_code=fixmedins_code,
        now=now,
        where=where,
    )

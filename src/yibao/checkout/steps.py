"""Steps every settlement of a stored visit shares (门诊/住院): read, price, record.

The flows (:mod:`~yibao.checkout.settle_visit`, :mod:`~yibao.checkout.settle_stay`) differ only
in their state-machine step and in how the bill is drawn from the visit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from yibao.checkout.bills import Bill, Caller, Priced
from yibao.checkout.facts import VisitFacts, check_presence, visit_facts
from yibao.checkout.pricing import price_bill
from yibao.checkout.record import Recorded, record, setl_id_for
from yibao.db.flow import Flow
from yibao.encounter.model import Encounter
from yibao.settlement.trace import to_json as trace_json
from yibao.voucher.presence import Presented


def read_visit(
    caller: Caller,
    mdtrt_id: str,
    psn_no: str,
    insuplc_admdvs: str,
    *,
    settle: bool,
    presented: Presented | None,
    now: datetime,
) -> Flow[VisitFacts]:
    """The visit's facts (filings read at once when the request says 异地), its person's
    presence checked first (就诊凭证核验)."""
    facts = yield from visit_facts(
        mdtrt_id,
        psn_no,
        fixmedins_code=caller.fixmedins_code,
        settle=settle,
        cross_region=bool(insuplc_admdvs) and insuplc_admdvs != caller.admdvs,
        presented=presented,
    )
    check_presence(
        facts, presented, fixmedins_code=caller.fixmedins_code, now=now, where="input.data"
    )
    return facts


def price(caller: Caller, bill: Bill, facts: VisitFacts) -> Priced:
    """The engine's split of ``bill`` with what was read."""
    return price_bill(
        bill,
        facts.person,
        facts.counters.counters,
        mdtrtarea_admvs=facts.visit.encounter.mdtrtarea_admvs,
        hosp_lv=caller.pricing_hosp_lv,
        filings=facts.filings,
        setl_seq=facts.setl_seq,
    )


def record_visit(
    facts: VisitFacts,
    transition: Callable[[Encounter, str, int], Encounter],
    priced: Priced,
    *,
    msgid: str,
    now: datetime,
    sns: Sequence[str],
    claimed: Mapping[str, int | None],
    mdtrt_cert_type: str,
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
) -> Recorded:
    """The writes and outcome of settling the priced bill of a stored visit."""
    enc = facts.visit.encounter
    assert facts.setl_seq is not None
    return record(
        enc,
        transition,
        priced,
        setl_id=setl_id_for(enc, now, facts.setl_seq),
        msgid=msgid,
        now=now,
        sns=sns,
        counters=facts.counters,
        acct_balc=facts.acct_balc,
        trace=trace_json(priced.result),
        claimed=claimed,
        mdtrt_cert_type=mdtrt_cert_type,
        chrg_bchno=chrg_bchno,
        mid_setl=mid_setl,
    )

"""药店结算 2102 and 药店预结算 2101 (one-shot: no registration), as flows.

One statement reads the buyer's registry facts, the year's counters, the sequence values for the
visit and the settlement, the filings (异地) and the pharmacy's catalogue for the drug lines; the
engine splits the bill; the visit, its lines (already settled), the settlement, counters, account
and ledger chain are written in one statement with the caller's message-log row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yibao.catalog import statements as catalog_sql
from yibao.catalog.model import ClassifiedLine
from yibao.checkout import model
from yibao.checkout.admission import insured_region
from yibao.checkout.bills import Bill, Caller, Priced, Settled
from yibao.checkout.fees import classified_or_refused
from yibao.checkout.pricing import price_bill
from yibao.checkout.record import record, setl_id_for
from yibao.checkout.visits import catalog_lines, splits_of
from yibao.db.flow import Flow, Q, Read, W, Write
from yibao.encounter import model as enc_model
from yibao.encounter import statements as encounter_sql
from yibao.encounter.fees import FeeLine, check_lines
from yibao.encounter.ids import KIND_LETTER, format_id
from yibao.encounter.model import Encounter, Kind
from yibao.encounter.records import business_day
from yibao.filing import store as filing_store
from yibao.registry import store as registry_store
from yibao.settlement.engine import service_year
from yibao.settlement.trace import to_json as trace_json
from yibao.voucher import presence
from yibao.voucher.presence import Presented

W_INFO = "input.druginfo"


@dataclass(frozen=True, slots=True)
class Purchase:
    """What the pharmacy sends with 2101/2102."""

    psn_no: str
    insutype: str
    med_type: str
    begntime: datetime  # China time
    acct_used_flag: str
    medfee_sumamt: int
    dise_codg: str | None
    lines: tuple[FeeLine, ...]
    insuplc_admdvs: str  # the envelope's (may be empty)
    mdtrt_cert_type: str
    info: dict[str, Any]
    presented: Presented | None = None  # the credential shown (就诊凭证), checked first


@dataclass(frozen=True, slots=True)
class Priced2101:
    """A priced purchase and its classified lines (2101/2102 ``detlcutinfo``)."""

    priced: Priced
    classified: list[ClassifiedLine]


def _price(
    caller: Caller, p: Purchase, now: datetime, *, settle: bool
) -> Flow[tuple[Priced2101, Any]]:
    day = p.begntime.date()
    year = service_year(day)
    lines = catalog_lines(p.lines)
    qs: list[Q] = [
        registry_store.settlement_facts_q(p.psn_no),
        *catalog_sql.classification_qs(caller.admdvs, day, lines),
    ]
    given = p.insuplc_admdvs
    if given:
        qs.append(encounter_sql.accumulators_of(p.psn_no, given, year))
    if given and given != caller.admdvs:
        qs.append(filing_store.cross_region_filings(p.psn_no))
    if settle:
        qs += [encounter_sql.SETL_SEQ, encounter_sql.MDTRT_SEQ]
    if p.presented is not None:
        qs.append(presence.facts_q(p.psn_no, p.presented))
    res: list[Any] = yield Read(*qs)
    if p.presented is not None:
        presence.check(
            p.presented,
            presence.facts_of_json(res.pop()),
            psn_no=p.psn_no,
            fixmedins_code=caller.fixmedins_code,
            now=now,
            where=W_INFO,
        )
    facts = registry_store.facts_of_json(res[0])
    region = insured_region(facts, p.psn_no, p.insutype, day, given, W_INFO)
    result = yield from catalog_sql.classify_read(caller.admdvs, day, lines, res[1:4])
    classified = classified_or_refused(result)
    at = 4
    if given:
        acc, at = res[at], at + 1
    else:
        (acc,) = yield Read(encounter_sql.accumulators_of(p.psn_no, region, year))
    filings: Any = []
    if given and given != caller.admdvs:
        filings, at = res[at], at + 1
    elif region != caller.admdvs:
        (filings,) = yield Read(filing_store.cross_region_filings(p.psn_no))
    counters = encounter_sql.counters_of(acc)
    bill = Bill(
        psn_no=p.psn_no,
        insutype=p.insutype,
        insuplc_admdvs=region,
        med_type=p.med_type,
        service_date=day,
        items=tuple(c.item for c in classified),
        acct_used_flag=p.acct_used_flag,
        dise_codg=p.dise_codg,
    )
    priced = price_bill(
        bill,
        facts,
        counters.counters,
        mdtrtarea_admvs=caller.admdvs,
        hosp_lv=caller.pricing_hosp_lv,
        filings=filing_store.filings_of(filings),
    )
    model.check_claims({"medfee_sumamt": p.medfee_sumamt}, priced.setlinfo)
    return Priced2101(priced, classified), (counters, res[at:], facts)


def price_pharmacy(caller: Caller, p: Purchase, now: datetime) -> Flow[Priced2101]:
    """2101 药店预结算: the split the purchase would get now; writes nothing."""
    done, _ = yield from _price(caller, p, now, settle=False)
    return done


@dataclass(frozen=True, slots=True)
class SettlePurchase:
    """2102: settle ``purchase`` at ``caller``, answering request ``msgid`` at ``now``."""

    caller: Caller
    purchase: Purchase
    msgid: str
    now: datetime


def settle_pharmacy(cmd: SettlePurchase) -> Flow[tuple[Settled, list[ClassifiedLine]]]:
    """2102 药店结算: the visit is created settled, with its lines, in the same write."""
    p, caller = cmd.purchase, cmd.caller
    done, (counters, seqs, facts) = yield from _price(caller, p, cmd.now, settle=True)
    setl_seq, mdtrt_seq = int(seqs[0]), int(seqs[1])
    splits = check_lines(p.lines, splits_of(done.classified))
    mdtrt_id = format_id(
        caller.admdvs, KIND_LETTER[Kind.PHARMACY], business_day(p.begntime), mdtrt_seq
    )
    enc = enc_model.open_pharmacy_sale(
        mdtrt_id=mdtrt_id,
        psn_no=p.psn_no,
        insutype=p.insutype,
        med_type=p.med_type,
        fixmedins_code=caller.fixmedins_code,
        insuplc_admdvs=done.priced.bill.insuplc_admdvs,
        mdtrtarea_admvs=caller.admdvs,
        line_count=len(p.lines),
    )

    def visit_writes(after: Encounter, setl_id: str) -> list[W]:
        return [
            encounter_sql.insert_visit(after, msgid=cmd.msgid, begntime=p.begntime, info=p.info),
            encounter_sql.insert_lines(
                mdtrt_id, p.lines, splits, msgid=cmd.msgid, settled_setl_id=setl_id
            ),
        ]

    rec = record(
        enc,
        lambda e, setl_id, _n: enc_model.settle_pharmacy(e, setl_id),
        done.priced,
        setl_id=setl_id_for(enc, cmd.now, setl_seq),
        msgid=cmd.msgid,
        now=cmd.now,
        sns=[ln.feedetl_sn for ln in p.lines],
        counters=counters,
        acct_balc=facts[3] if facts else 0,
        trace=trace_json(done.priced.result),
        mdtrt_cert_type=p.mdtrt_cert_type,
        visit_writes=visit_writes,
    )
    yield Write(*rec.writes)
    return rec.settled, done.classified

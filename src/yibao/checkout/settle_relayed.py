"""The insured province's side of a cross-province settlement (跨省, 参保地结算), as flows.

The treatment province sends the bill through the hub, its items already classified by its own
catalogue (就医地目录); here the person's policy, filings, counters and account split it
(参保地政策) and the settlement is recorded on a stub visit of the treatment institution, so
that 5xxx queries, reconciliation and the ledger see it like any other. Same pricing and
recording steps as a local settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from yibao.checkout.bills import PHARMACY_HOSP_LV, Bill, Priced, Settled
from yibao.checkout.pricing import price_bill
from yibao.checkout.record import record, setl_id_for
from yibao.db.flow import Flow, Q, Read, W, Write
from yibao.encounter import model as enc_model
from yibao.encounter import statements as encounter_sql
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.ids import KIND_LETTER, format_id
from yibao.encounter.model import Encounter, Kind
from yibao.encounter.records import business_day
from yibao.filing import store as filing_store
from yibao.registry import store as registry_store
from yibao.registry.store import SettlementFacts
from yibao.settlement.engine import service_year
from yibao.settlement.model import Item
from yibao.settlement.trace import to_json as trace_json


@dataclass(frozen=True, slots=True)
class RelayedBill:
    """A bill relayed from another province, for the insured person ``psn_no`` here."""

    relay_id: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    fixmedins_code: str
    fixmedins_name: str
    hosp_lv: str
    med_type: str
    begndate: date
    items: tuple[Item, ...]
    enddate: date | None = None
    emergency: bool = False
    acct_used_flag: str = "0"
    dise_codg: str | None = None
    mid_setl: bool = False


@dataclass(frozen=True, slots=True)
class _Read:
    priced: Priced
    facts: SettlementFacts | None
    counters: encounter_sql.Counters
    seqs: list[Any]


def _price(b: RelayedBill, now: datetime, *, settle: bool) -> Flow[_Read]:
    year = service_year(b.begndate)
    qs: list[Q] = [
        registry_store.settlement_facts_q(b.psn_no),
        encounter_sql.accumulators_of(b.psn_no, b.insuplc_admdvs, year),
        filing_store.cross_region_filings(b.psn_no),
    ]
    if settle:
        qs += [encounter_sql.SETL_SEQ, encounter_sql.MDTRT_SEQ]
    res: list[Any] = yield Read(*qs)
    facts = registry_store.facts_of_json(res[0])
    counters = encounter_sql.counters_of(res[1])
    bill = Bill(
        b.psn_no,
        b.insutype,
        b.insuplc_admdvs,
        b.med_type,
        b.begndate,
        b.items,
        acct_used_flag=b.acct_used_flag,
        dise_codg=b.dise_codg,
        endtime=b.enddate,
        emergency=b.emergency,
    )
    priced = price_bill(
        bill,
        facts,
        counters.counters,
        mdtrtarea_admvs=b.mdtrtarea_admvs,
        hosp_lv=b.hosp_lv or PHARMACY_HOSP_LV,
        filings=filing_store.filings_of(res[2]),
        settle_date=max(business_day(now), b.enddate or b.begndate),
    )
    return _Read(priced, facts, counters, res[3:])


def price_relayed(b: RelayedBill, now: datetime) -> Flow[Priced]:
    """预结算 (dry run): the split this side would record now; writes nothing."""
    got = yield from _price(b, now, settle=False)
    return got.priced


def settle_relayed(b: RelayedBill, now: datetime) -> Flow[tuple[Priced, Settled]]:
    """结算: the split recorded on a stub visit (its lines already settled) with counters,
    account and ledger chain, all in one write."""
    got = yield from _price(b, now, settle=True)
    setl_seq, mdtrt_seq = int(got.seqs[0]), int(got.seqs[1])
    result = got.priced.result
    lines = [
        FeeLine(
            i.feedetl_sn, i.med_list_codg, i.med_list_codg, i.det_item_fee_sumamt, i.cnt, i.pric
        )
        for i in b.items
    ]
    splits = {
        s.feedetl_sn: LineSplit(
            s.feedetl_sn,
            s.chrgitm_lv,
            s.med_chrgitm_type,
            s.fulamt_ownpay_amt,
            s.overlmt_amt,
            s.preselfpay_amt,
            s.inscp_scp_amt,
            s.selfpay_prop,
            s.pric_uplmt_amt,
        )
        for s in result.items
    }
    mdtrt_id = format_id(
        b.mdtrtarea_admvs, KIND_LETTER[Kind.PHARMACY], business_day(now), mdtrt_seq
    )
    enc = enc_model.open_pharmacy_sale(
        mdtrt_id=mdtrt_id,
        psn_no=b.psn_no,
        insutype=b.insutype,
        med_type=b.med_type,
        fixmedins_code=b.fixmedins_code,
        insuplc_admdvs=b.insuplc_admdvs,
        mdtrtarea_admvs=b.mdtrtarea_admvs,
        line_count=len(lines),
    )
    info = {
        "relay_id": b.relay_id,
        "relayed": True,
        "fixmedins_name": b.fixmedins_name,
        "mid_setl": b.mid_setl,
    }

    def visit_writes(after: Encounter, setl_id: str) -> list[W]:
        return [
            encounter_sql.insert_visit(after, msgid=b.relay_id, begntime=now, info=info),
            encounter_sql.insert_lines(
                mdtrt_id, lines, splits, msgid=b.relay_id, settled_setl_id=setl_id
            ),
        ]

    rec = record(
        enc,
        lambda e, setl_id, _n: enc_model.settle_pharmacy(e, setl_id),
        got.priced,
        setl_id=setl_id_for(enc, now, setl_seq),
        msgid=b.relay_id,
        now=now,
        sns=[ln.feedetl_sn for ln in lines],
        counters=got.counters,
        acct_balc=got.facts[3] if got.facts else 0,
        trace=trace_json(result),
        mid_setl=b.mid_setl,
        visit_writes=visit_writes,
    )
    yield Write(*rec.writes)
    return got.priced, rec.settled

"""The amount of a 零星报销 claim: the SAME engine and policy as direct settlement, as a flow.

One read gets what a pharmacy settlement (2102) reads: the registry facts, the treatment place's
catalogue for the fee lines, the year's counters and (异地) the filings. The bill is priced by
:func:`yibao.checkout.pricing.price_bill` (insured place's policy, treatment place's catalogue,
filing status) with the personal account not used (the claimant already paid in cash). At
approval (复核) the accumulator deltas are written with the same optimistic check a settlement
uses, so a 零报 consumes deductible and caps exactly like a settlement would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from yibao.catalog import statements as catalog_sql
from yibao.catalog.model import ClassifiedLine
from yibao.catalog.model import FeeLine as CatalogLine
from yibao.checkout.admission import insured_region
from yibao.checkout.bills import EMERGENCY_MED_TYPES, Bill, CheckoutError, Priced
from yibao.checkout.fees import classified_or_refused
from yibao.checkout.pricing import price_bill
from yibao.claims.model import FeeRow
from yibao.db.flow import Flow, Q, Read, W, Write
from yibao.encounter import amounts
from yibao.encounter import statements as encounter_sql
from yibao.encounter.statements import Counters
from yibao.filing import store as filing_store
from yibao.registry import store as registry_store
from yibao.settlement.engine import service_year
from yibao.settlement.trace import to_json as trace_json

WHERE = "claim"


@dataclass(frozen=True, slots=True)
class ClaimBill:
    """What a claim asks to be priced: who, where, when, and the fee list."""

    psn_no: str
    insutype: str
    med_type: str
    mdtrtarea_admvs: str  # 就医地 (the treating institution's region)
    hosp_lv: str
    begndate: date
    enddate: date
    dise_codg: str
    fees: tuple[FeeRow, ...]
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class PricedClaim:
    priced: Priced
    classified: list[ClassifiedLine]
    counters: Counters

    @property
    def fund_total(self) -> int:
        return int(str(self.priced.setlinfo["fund_pay_sumamt"]))

    def funds(self) -> dict[str, int]:
        """fund_pay_type → fen, the fund lines of ``setldetail`` (personal account excluded)."""
        out: dict[str, int] = {}
        for d in self.priced.setldetail:
            fpt = str(d["fund_pay_type"])
            if fpt != "310200":
                out[fpt] = out.get(fpt, 0) + int(str(d["fund_payamt"]))
        return out

    def trace(self) -> Any:
        return trace_json(self.priced.result)


def _lines(fees: tuple[FeeRow, ...]) -> list[CatalogLine]:
    return [CatalogLine(f.feedetl_sn, f.med_list_codg, f.pric, f.cnt, f.amount, f.medins_list_codg)
            for f in fees]  # fmt: skip


def price_claim(c: ClaimBill) -> Flow[PricedClaim]:
    """Price ``c`` as direct settlement would have on its discharge day; writes nothing.
    :class:`CheckoutError` for a refusal (not insured, a line the catalogue refuses, …)."""
    day, year = c.begndate, service_year(c.begndate)
    lines = _lines(c.fees)
    res: list[Any] = yield Read(
        registry_store.settlement_facts_q(c.psn_no),
        *catalog_sql.classification_qs(c.mdtrtarea_admvs, day, lines),
        filing_store.cross_region_filings(c.psn_no),
    )
    facts = registry_store.facts_of_json(res[0])
    region = insured_region(facts, c.psn_no, c.insutype, day, "", WHERE)
    result = yield from catalog_sql.classify_read(c.mdtrtarea_admvs, day, lines, res[1:4])
    classified = classified_or_refused(result)
    (acc,) = yield Read(encounter_sql.accumulators_of(c.psn_no, region, year))
    counters = encounter_sql.counters_of(acc)
    bill = Bill(
        psn_no=c.psn_no, insutype=c.insutype, insuplc_admdvs=region, med_type=c.med_type,
        service_date=day, items=tuple(x.item for x in classified), acct_used_flag="0",
        dise_codg=c.dise_codg or None, endtime=c.enddate,
        emergency=c.emergency or c.med_type in EMERGENCY_MED_TYPES,
    )  # fmt: skip
    priced = price_bill(bill, facts, counters.counters, mdtrtarea_admvs=c.mdtrtarea_admvs,
                        hosp_lv=c.hosp_lv, filings=filing_store.filings_of(res[4] or []),
                        settle_date=c.enddate)  # fmt: skip
    amounts.check_identities(amounts.amounts_of(priced.setlinfo))
    return PricedClaim(priced, classified, counters)


def consume(p: PricedClaim, extra: list[W]) -> Flow[None]:
    """Write the accumulator deltas (if nobody changed the counters since the read) with
    ``extra`` (the ledger chain) in one statement."""
    b = p.priced
    yield Write(
        encounter_sql.write_counters(b.bill.psn_no, b.bill.insuplc_admdvs, b.acc_year, p.counters,
                                     amounts.add_counters(p.counters.counters, b.deltas)),
        *extra,
    )  # fmt: skip


def region_of(p: PricedClaim) -> str:
    return p.priced.bill.insuplc_admdvs


__all__ = ["CheckoutError", "ClaimBill", "PricedClaim", "Q", "consume", "price_claim"]

"""Recording a priced bill (结算记账): the settlement row, counters, account and ledger. Pure.

:func:`record` checks the HIS's amounts and the identities, moves the visit's state machine, and
returns the statements that write everything in one round trip (with the caller's commit) and
the :class:`Settled` outcome the handler answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from yibao.checkout import model
from yibao.checkout.bills import CheckoutError, Priced, Settled
from yibao.db.flow import W
from yibao.encounter import statements as encounter_sql
from yibao.encounter.amounts import add_counters, amounts_of, check_identities
from yibao.encounter.ids import SETTLEMENT_LETTER, format_id
from yibao.encounter.model import Encounter
from yibao.encounter.records import SettlementRecord, business_day, settlement_row
from yibao.encounter.statements import Counters
from yibao.ledger import statements as ledger_sql
from yibao.ledger.model import LedgerError, build_settlement_chain, posting_from_setlinfo
from yibao.registry import accounts


@dataclass(frozen=True, slots=True)
class Recorded:
    """The writes of one settlement and its outcome."""

    writes: list[W]
    settled: Settled


def setl_id_for(enc: Encounter, now: datetime, seq: int) -> str:
    """The new settlement's ``setl_id`` (treatment region, business day, sequence value)."""
    return format_id(enc.mdtrtarea_admvs, SETTLEMENT_LETTER, business_day(now), seq)


def record(
    before: Encounter,
    transition: Callable[[Encounter, str, int], Encounter],
    priced: Priced,
    *,
    setl_id: str,
    msgid: str,
    now: datetime,
    sns: Sequence[str],
    counters: Counters,
    acct_balc: int,
    trace: object,
    claimed: Mapping[str, int | None] | None = None,
    mdtrt_cert_type: str = "",
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
    visit_writes: Callable[[Encounter, str], list[W]] | None = None,
) -> Recorded:
    """Plan the writes of ``priced`` for the visit ``before`` (as read by the flow).

    ``transition(before, setl_id, settled_lines)`` is the flow's state-machine step (2207, 2304
    or 2102); ``counters`` and ``acct_balc`` are as read (the writes check them).
    ``visit_writes(after, setl_id)`` replaces the stored visit's update (a pharmacy sale inserts
    its visit and lines, settled, in the same statement). Raises :class:`~yibao.checkout.model.AmountMismatch` when the HIS's amounts differ
    and :class:`CheckoutError` when the account cannot pay; nothing is written then."""
    if claimed:
        model.check_claims(claimed, priced.setlinfo)
    info = dict(priced.setlinfo)
    info.update(medins_setl_id=msgid, mdtrt_cert_type=mdtrt_cert_type, setl_id=setl_id)
    info["mdtrt_id"] = before.mdtrt_id
    check_identities(amounts_of(info))
    after = transition(before, setl_id, len(sns))
    row = settlement_row(
        after,
        setl_id,
        "settle",
        msgid,
        info,
        priced.setldetail,
        trace,
        priced.deltas,
        priced.acc_year,
        None,
        now,
        str(info["clr_type"]),
        model.CLR_WAY_BY_ITEM,
        before.mdtrtarea_admvs,
        mid_setl,
        chrg_bchno or "",
        sorted(sns),
    )
    if visit_writes is None:
        writes = [
            encounter_sql.settle_lines(before.mdtrt_id, setl_id, sns),
            encounter_sql.save_visit(before, after),
        ]
    else:
        writes = visit_writes(after, setl_id)
    writes += [
        encounter_sql.write_counters(
            before.psn_no,
            before.insuplc_admdvs,
            priced.acc_year,
            counters,
            add_counters(counters.counters, priced.deltas),
        ),
        encounter_sql.insert_settlement(row),
    ]
    own = int(str(info["acct_pay"])) - int(str(info["acct_mulaid_pay"]))
    balc = int(str(info["balc"]))
    if own:
        try:
            writes += accounts.debit_writes(
                before.psn_no, own, acct_balc, ref=setl_id, memo=f"结算 {setl_id}"
            )
        except accounts.AccountError as exc:
            raise CheckoutError(f"acct_pay: {exc}") from exc
        balc = acct_balc - own
    try:
        chain = build_settlement_chain(
            posting_from_setlinfo(
                info,
                priced.setldetail,
                msgid=msgid,
                fixmedins_code=before.fixmedins_code,
                insuplc_admdvs=before.insuplc_admdvs,
                mdtrtarea_admvs=before.mdtrtarea_admvs,
                value_date=business_day(now),
                psn_no=before.psn_no,
                setl_id=setl_id,
            )
        )
    except LedgerError as exc:
        raise CheckoutError(f"基金记账失败：{exc}") from exc
    writes += ledger_sql.post_chain(chain)
    rec = SettlementRecord(
        setl_id,
        before.mdtrt_id,
        "settle",
        msgid,
        info,
        list(priced.setldetail),
        dict(priced.deltas),
        priced.acc_year,
        None,
        now,
        after,
        sorted(sns),
    )
    return Recorded(writes, Settled(rec, balc, priced.person, priced.snapshot.age))

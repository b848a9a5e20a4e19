"""Checkout (结算编排): one settlement from the registry, the catalogue, the engine, the
accumulators, the personal account and the ledger — all in the caller's ONE transaction.

Order of a settlement (2207 / 2304 / 2102)::

    lock accumulators (FOR UPDATE, per person × insured region × year)
    → registry snapshot (read after the lock) → engine Person; stored split → engine Items; policy of the insured region
    → settle() → check the HIS's amounts → record settlement + accumulator deltas (encounter)
    → personal-account debit (registry; row-locked, never below zero) → ledger chain (ledger)

Pre-settlement (2206 / 2303 / 2101) reads the same inputs without locks and writes nothing.
A cancellation (2208 / 2305 / 2103, 2601) is a NEW settlement: every amount and delta negated,
with a new ``setl_id``, the account credited back and the ledger's mirror chain. Lock order is
always accumulators → account row, so two settlements of one person queue instead of deadlocking,
and never both use the same deductible or cap room.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from yibao.catalog import service as catalog
from yibao.catalog.model import ClassifiedLine
from yibao.catalog.model import FeeLine as CatalogLine
from yibao.checkout import model
from yibao.checkout.model import AmountMismatch
from yibao.encounter import service as encounters
from yibao.encounter import store as encounter_store
from yibao.encounter.model import Encounter
from yibao.encounter.service import SettlementRecord, business_day
from yibao.filing.service import filing_status
from yibao.institutions.model import Institution
from yibao.ledger import LedgerError, post_reversal, post_settlement, posting_from_setlinfo
from yibao.policy import PolicyError, resolve
from yibao.registry import accounts
from yibao.registry import store as registry_store
from yibao.registry.model import NotEnrolled, RegistrySnapshot, build_snapshot
from yibao.registry.model import Person as RegistryPerson
from yibao.settlement.engine import service_year
from yibao.settlement.engine import settle as engine_settle
from yibao.settlement.model import Encounter as EngineEncounter
from yibao.settlement.model import Item, SettlementError, SettlementResult
from yibao.settlement.trace import to_json as trace_json

__all__ = [
    "AmountMismatch",
    "Bill",
    "CheckoutError",
    "Priced",
    "Settled",
    "cancel",
    "classify",
    "price",
    "price_at",
    "settle",
]

PHARMACY_HOSP_LV = "11"  # 无等级: a retail pharmacy has no hospital level (§3.12)


class CheckoutError(ValueError):
    """A settlement the platform refuses (业务拒绝); ``err_msg`` is for the HIS."""

    def __init__(self, err_msg: str) -> None:
        super().__init__(err_msg)
        self.err_msg = err_msg


@dataclass(frozen=True, slots=True)
class Bill:
    """What is to be settled: who, under which insurance, where, and the classified items."""

    psn_no: str
    insutype: str
    insuplc_admdvs: str
    med_type: str
    service_date: date
    items: tuple[Item, ...]
    acct_used_flag: str = "1"
    psn_setlway: str = "01"
    dise_codg: str | None = None
    endtime: date | None = None
    emergency: bool = False  # 急诊抢救: deemed filed (视同备案) when treated in another region


EMERGENCY_MED_TYPES = frozenset({"13", "1301"})  # 急诊 (med_type code table §3.2)


@dataclass(frozen=True, slots=True)
class Priced:
    """A computed settlement not yet recorded (pre-settlement answer, or settlement input)."""

    bill: Bill
    result: SettlementResult
    snapshot: RegistrySnapshot
    person: RegistryPerson
    acc_year: int
    setlinfo: dict[str, object]  # fen
    setldetail: list[dict[str, object]]  # fen
    deltas: dict[str, int]  # flat accumulator deltas
    setl_seq: int | None = None  # drawn with the accumulator lock: the settlement's setl_id
    filing: str = "unfiled"  # the filing status (备案) the split used (异地就医)


@dataclass(frozen=True, slots=True)
class Settled:
    """A recorded settlement or cancellation and the account balance after it."""

    record: SettlementRecord
    balc: int
    person: RegistryPerson | None


# ---- classification -------------------------------------------------------------------------


def classify(
    conn: sa.Connection, admdvs: str, on_date: date, lines: Sequence[CatalogLine]
) -> list[ClassifiedLine]:
    """Classify fee lines by the treatment place's catalogue; refuse the first bad line."""
    try:
        return catalog.classify_or_raise(conn, admdvs, on_date, lines)
    except catalog.ClassificationRefused as exc:
        first = exc.refusals[0] if getattr(exc, "refusals", None) else None
        raise CheckoutError(first.message if first is not None else str(exc)) from exc


# ---- pricing --------------------------------------------------------------------------------


def _snapshot(
    conn: sa.Connection, psn_no: str, insutype: str, on: date
) -> tuple[RegistrySnapshot, RegistryPerson]:
    """The registry's settlement snapshot and the person, in one read.

    Built from the registry's store and pure ``build_snapshot`` (as
    :func:`yibao.registry.service.snapshot_for_settlement` does) without the household reads:
    settlement does not use 共济 (mutual-aid) accounts yet, and each read is a round trip.
    """
    facts = registry_store.settlement_facts(conn, psn_no)
    if facts is None:
        raise CheckoutError(f"psn_no: 人员编号 {psn_no} 不存在")
    person, enrolments, identities, balc = facts
    try:
        snap = build_snapshot(person, enrolments, identities, balc, insutype, on)
    except NotEnrolled as exc:
        raise CheckoutError(f"insutype: {exc}") from exc
    return snap, person


def price(conn: sa.Connection, institution: Institution, bill: Bill, *, lock: bool) -> Priced:
    """Run the engine for ``bill`` treated at ``institution``; with ``lock`` the person's
    accumulators stay locked until the caller's transaction ends (settlement), without it
    nothing is written."""
    return price_at(
        conn,
        bill,
        mdtrtarea_admvs=institution.admdvs,
        hosp_lv=institution.hosp_lv or PHARMACY_HOSP_LV,
        lock=lock,
    )


def price_at(
    conn: sa.Connection,
    bill: Bill,
    *,
    mdtrtarea_admvs: str,
    hosp_lv: str,
    lock: bool,
    settle_date: date | None = None,
) -> Priced:
    """:func:`price` for a treatment region and hospital level given directly (the insured
    province pricing a bill relayed through the hub, 跨省). ``settle_date`` is the day the
    filing must still be valid on (default: the bill's discharge date)."""
    year = service_year(bill.service_date)
    setl_seq = None
    if lock:  # first the lock, then every read: a concurrent settlement of the person is done
        locked = encounter_store.lock_accumulators(
            conn, bill.psn_no, bill.insuplc_admdvs, year, setl_seq=True
        )
        counters, setl_seq = dict(locked.counters), locked.setl_seq
    else:
        counters = encounter_store.read_accumulators(conn, bill.psn_no, bill.insuplc_admdvs, year)
    snap, person = _snapshot(conn, bill.psn_no, bill.insutype, bill.service_date)
    if snap.insuplc_admdvs != bill.insuplc_admdvs:
        raise CheckoutError(
            f"insuplc_admdvs: 参保地医保区划须为 {snap.insuplc_admdvs}（见【1101】insuinfo），"
            f"收到 {bill.insuplc_admdvs}"
        )
    # The account balance is read after the accumulator lock: the person's other settlements
    # are serialised by that lock, and a concurrent credit (划入) only raises the balance; the
    # debit itself (accounts.post) locks the account row and never lets it go below zero.
    balc = snap.acct_balance_fen
    try:
        policy = resolve(bill.insuplc_admdvs, bill.service_date)
    except PolicyError as exc:
        raise CheckoutError(
            f"insuplc_admdvs: 参保地 {bill.insuplc_admdvs} 在 {bill.service_date} 无可用的医保政策：{exc}"
        ) from exc
    filing = "unfiled"
    if bill.insuplc_admdvs != mdtrtarea_admvs:  # 异地就医: the filing (备案) sets the ratio
        filing = filing_status(
            conn,
            bill.psn_no,
            bill.insuplc_admdvs,
            mdtrtarea_admvs,
            bill.service_date,
            emergency=bill.emergency or bill.med_type in EMERGENCY_MED_TYPES,
            settle_date=settle_date or bill.endtime,
        )
    enc = EngineEncounter(
        med_type=bill.med_type,
        mdtrtarea_admvs=mdtrtarea_admvs,
        begntime=bill.service_date,
        items=bill.items,
        hosp_lv=hosp_lv,
        endtime=bill.endtime,
        dise_codg=bill.dise_codg or None,
        acct_used_flag=bill.acct_used_flag,
        psn_setlway=bill.psn_setlway,
        filing=filing,
    )
    acc = model.unflatten(counters, year, acct_balc=balc)
    try:
        result = engine_settle(model.engine_person(snap), enc, acc, policy)
    except SettlementError as exc:
        raise CheckoutError(f"结算失败：{exc}") from exc
    except PolicyError as exc:
        raise CheckoutError(f"结算失败（政策参数）：{exc}") from exc
    info = model.setlinfo_fen(result)
    info["psn_no"] = bill.psn_no
    return Priced(
        bill=bill,
        result=result,
        snapshot=snap,
        person=person,
        acc_year=year,
        setlinfo=info,
        setldetail=model.setldetail_fen(result),
        deltas=model.flatten(result.deltas),
        setl_seq=setl_seq,
        filing=filing,
    )


# ---- settlement -----------------------------------------------------------------------------


def settle(
    conn: sa.Connection,
    enc: Encounter,
    priced: Priced,
    *,
    msgid: str,
    setl_time: datetime,
    claimed: Mapping[str, int | None] | None = None,
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
    mdtrt_cert_type: str = "",
) -> Settled:
    """Record ``priced`` (computed under lock) for ``enc``: settlement row, accumulators,
    account debit and ledger chain. Raises :class:`AmountMismatch` before any write when the
    HIS's amounts differ from ours."""
    if claimed:
        model.check_claims(claimed, priced.setlinfo)
    info = dict(priced.setlinfo)
    info["medins_setl_id"] = msgid
    info["mdtrt_cert_type"] = mdtrt_cert_type
    clr_optins = enc.mdtrtarea_admvs  # the treatment place's agency pays the institution
    rec = encounters.record_settlement(
        conn,
        enc,
        msgid=msgid,
        setlinfo=info,
        setldetail=priced.setldetail,
        trace=trace_json(priced.result),
        accumulator_deltas=priced.deltas,
        acc_year=priced.acc_year,
        setl_time=setl_time,
        clr_type=str(info["clr_type"]),
        clr_way=model.CLR_WAY_BY_ITEM,
        clr_optins=clr_optins,
        chrg_bchno=chrg_bchno,
        mid_setl=mid_setl,
        setl_id=(
            None
            if priced.setl_seq is None
            else encounters.setl_id_of(
                enc.mdtrtarea_admvs, business_day(setl_time), priced.setl_seq
            )
        ),
    )
    own = int(str(info["acct_pay"])) - int(str(info["acct_mulaid_pay"]))
    balc = int(str(info["balc"]))
    if own:
        try:
            balc = accounts.post(
                conn, enc.psn_no, -own, ref=rec.setl_id, memo=f"结算 {rec.setl_id}"
            ).balc_after_fen
        except accounts.AccountError as exc:
            raise CheckoutError(f"acct_pay: {exc}") from exc
    try:
        post_settlement(
            conn,
            posting_from_setlinfo(
                rec.setlinfo,
                rec.setldetail,
                msgid=msgid,
                fixmedins_code=enc.fixmedins_code,
                insuplc_admdvs=enc.insuplc_admdvs,
                mdtrtarea_admvs=enc.mdtrtarea_admvs,
                value_date=business_day(setl_time),
                psn_no=enc.psn_no,
                setl_id=rec.setl_id,
            ),
        )
    except LedgerError as exc:
        raise CheckoutError(f"基金记账失败：{exc}") from exc
    return Settled(rec, balc, priced.person)


def cancel(
    conn: sa.Connection,
    enc: Encounter,
    setl_id: str,
    *,
    msgid: str,
    setl_time: datetime,
) -> Settled:
    """Cancel settlement ``setl_id`` of ``enc`` (撤销/冲正): a new negative settlement with a new
    ``setl_id``, the accumulator deltas subtracted, the account credited back and the ledger's
    mirror chain — in the caller's transaction. A settlement relayed from another province's
    deployment (跨省) is reversed there through the hub first (:mod:`yibao.hub.gateway_relay`)."""
    from yibao.hub import gateway_relay

    relay_id = gateway_relay.relay_id_of(conn, setl_id)
    if relay_id is not None:
        return gateway_relay.cancel(conn, enc, setl_id, relay_id, msgid=msgid, now=setl_time)
    rec = encounters.record_cancellation(
        conn, enc, original_setl_id=setl_id, msgid=msgid, setl_time=setl_time
    )
    own = -(int(str(rec.setlinfo["acct_pay"])) - int(str(rec.setlinfo["acct_mulaid_pay"])))
    balc = registry_store.balance(conn, enc.psn_no)
    if own:
        try:
            balc = accounts.post(
                conn, enc.psn_no, own, ref=rec.setl_id, memo=f"撤销 {setl_id}"
            ).balc_after_fen
        except accounts.AccountError as exc:
            raise CheckoutError(f"acct_pay: {exc}") from exc
    try:
        post_reversal(conn, setl_id, rec.setl_id, msgid=msgid, value_date=business_day(setl_time))
    except LedgerError as exc:
        raise CheckoutError(f"基金冲销记账失败：{exc}") from exc
    person = registry_store.get_person(conn, enc.psn_no)
    return Settled(rec, balc, person)


def settlement_by_msgid(
    conn: sa.Connection, fixmedins_code: str, msgid: str
) -> dict[str, Any] | None:
    """The settlement (kind ``settle``) recorded by request ``msgid`` of an institution."""
    t = encounter_store.encounter_settlement
    row = (
        conn.execute(
            sa.select(t).where(
                t.c.fixmedins_code == fixmedins_code, t.c.msgid == msgid, t.c.kind == "settle"
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def settlement_record(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    """A stored settlement or cancellation record (encounter store), or None."""
    return encounter_store.load_settlement(conn, setl_id)

"""撤销 2208/2305/2103 (and 2601 冲正 of a settlement): a new negative settlement, as a flow.

Every amount and accumulator delta of the original negated under a new ``setl_id``, its fee lines
released, the personal account refunded and the ledger's mirror chain posted — never an edit. A
settlement relayed from another province (跨省) is reversed there through the hub first; its
accumulators and account live there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yibao.checkout.bills import Caller, CheckoutError, Settled
from yibao.checkout.ports import HubFailed, HubPort
from yibao.checkout.record import setl_id_for
from yibao.db.flow import Call, Flow, Read, W, Write
from yibao.encounter import model as enc_model
from yibao.encounter import statements as encounter_sql
from yibao.encounter.amounts import add_counters, negate_setldetail, negate_setlinfo
from yibao.encounter.records import SettlementRecord, business_day, settlement_row
from yibao.ledger import settlement_chain_id
from yibao.ledger import statements as ledger_sql
from yibao.ledger.model import mirror_chain
from yibao.registry import accounts
from yibao.registry import store as registry_store


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel settlement ``setl_id`` of visit ``mdtrt_id`` (request ``msgid`` at ``now``)."""

    caller: Caller
    mdtrt_id: str
    psn_no: str
    setl_id: str
    msgid: str
    now: datetime
    hub: HubPort | None = None


def _reverse_remotely(hub: HubPort | None, relay_id: str, insuplc: str, mdtrtarea: str) -> Call:
    def run() -> None:
        if hub is None:
            raise CheckoutError("跨省异地就医：未配置跨省中转，不能冲正")
        try:
            hub.reverse(relay_id, insuplc, mdtrtarea)
        except HubFailed as e:
            raise CheckoutError(f"跨省异地就医：参保地冲正未完成：{e.message}") from None

    return Call(run)


def cancel_settlement(cmd: Cancel) -> Flow[Settled]:
    """The cancellation of one settlement (see the module docstring)."""
    res: list[Any] = yield Read(
        encounter_sql.visit(cmd.mdtrt_id),
        encounter_sql.settlement(cmd.setl_id),
        encounter_sql.accumulators_of_settlement(cmd.setl_id),
        encounter_sql.SETL_SEQ,
        registry_store.settlement_facts_q(cmd.psn_no),
        accounts.balance_q(cmd.psn_no),
        ledger_sql.chain_q(settlement_chain_id(cmd.setl_id)),
    )
    visit = encounter_sql.visit_of(
        res[0], cmd.mdtrt_id, fixmedins_code=cmd.caller.fixmedins_code, psn_no=cmd.psn_no
    )
    enc = visit.encounter
    orig = encounter_sql.original_of(res[1], cmd.setl_id)
    if orig is None or orig.mdtrt_id != enc.mdtrt_id or orig.kind != "settle":
        raise enc_model.IllegalTransition(
            enc, enc_model.CANCEL_INFNO[enc.kind], f"结算ID {cmd.setl_id} 不存在或不属于本次就诊"
        )
    enc_model.cancel(enc, setl_id=cmd.setl_id)  # the state check
    relay_id = str(orig.setlinfo.get("relay_id") or "")
    if relay_id:
        yield _reverse_remotely(cmd.hub, relay_id, enc.insuplc_admdvs, enc.mdtrtarea_admvs)
    new_id = setl_id_for(enc, cmd.now, int(res[3]))
    after = enc_model.cancel(enc, setl_id=cmd.setl_id, released_lines=orig.lines_attached)
    deltas = {k: -v for k, v in orig.deltas.items()}
    info = negate_setlinfo(orig.setlinfo)
    info.update(setl_id=new_id, mdtrt_id=enc.mdtrt_id, medins_setl_id=cmd.msgid)
    detail = negate_setldetail(orig.setldetail)
    row = settlement_row(
        enc,
        new_id,
        "cancel",
        cmd.msgid,
        info,
        detail,
        {"reverses": cmd.setl_id},
        deltas,
        orig.acc_year,
        cmd.setl_id,
        cmd.now,
        orig.clr_type,
        orig.clr_way,
        orig.clr_optins,
        orig.mid_setl,
        orig.chrg_bchno,
        orig.feedetl_sns,
    )
    writes: list[W] = []
    if orig.lines_attached:
        writes.append(encounter_sql.release_lines(cmd.setl_id, orig.lines_attached))
    writes.append(encounter_sql.save_visit(enc, after))
    if any(deltas.values()):
        counters = encounter_sql.counters_of(res[2])
        after_counters = add_counters(counters.counters, deltas)
        writes.append(
            encounter_sql.write_counters(
                orig.psn_no, orig.insuplc_admdvs, orig.acc_year, counters, after_counters
            )
        )
    writes.append(encounter_sql.insert_settlement(row))
    refund = int(orig.setlinfo.get("acct_pay", 0)) - int(orig.setlinfo.get("acct_mulaid_pay", 0))
    balc_before = res[5]
    balc = int(str(info.get("balc", 0) or 0))
    if refund and not relay_id:
        writes += accounts.credit_writes(
            enc.psn_no, refund, balc_before, ref=new_id, memo=f"撤销 {cmd.setl_id}"
        )
        balc = int(balc_before or 0) + refund
    original_chain = ledger_sql.chain_of(res[6])
    if original_chain is not None:
        writes += ledger_sql.post_chain(
            mirror_chain(
                original_chain,
                chain_id=settlement_chain_id(new_id),
                setl_id=new_id,
                msgid=cmd.msgid,
                value_date=business_day(cmd.now),
            )
        )
    yield Write(*writes)
    facts = registry_store.facts_of_json(res[4])
    rec = SettlementRecord(
        new_id,
        enc.mdtrt_id,
        "cancel",
        cmd.msgid,
        info,
        detail,
        deltas,
        orig.acc_year,
        cmd.setl_id,
        cmd.now,
        after,
        orig.feedetl_sns,
    )
    return Settled(rec, balc, facts[0] if facts else None)

"""门诊结算 2207 and 门诊预结算 2206 (a registered visit's uploaded fees), as flows.

One statement reads the visit, its unsettled lines, the person's counters, the registry facts
with the account balance, a ``setl_id`` sequence value and the filings; the engine splits the
bill; the writes (each capability's, checked against what was read) go out with the caller's
message-log row as one statement. The pre-settlement reads the same and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yibao.checkout import steps
from yibao.checkout.bills import Bill, Caller, CheckoutInputError, Priced, Settled
from yibao.checkout.facts import VisitFacts
from yibao.checkout.visits import china_date, is_emergency, items_of, stored_exp_content
from yibao.db.flow import Flow, Write
from yibao.encounter import model as enc_model
from yibao.encounter.model import Encounter
from yibao.voucher.presence import Presented

W = "input.data"


@dataclass(frozen=True, slots=True)
class VisitBill:
    """What the HIS sends with 2206/2207 about the visit to settle."""

    mdtrt_id: str
    psn_no: str
    med_type: str
    insutype: str
    acct_used_flag: str
    psn_setlway: str
    chrg_bchno: str | None  # None: every unsettled batch ("0000")
    insuplc_admdvs: str  # the envelope's (参保地)
    exp_content: Any = None
    presented: Presented | None = None  # the credential shown (就诊凭证), checked first


@dataclass(frozen=True, slots=True)
class SettleVisit:
    """2207: settle ``bill`` for ``caller``, answering request ``msgid`` at ``now``."""

    caller: Caller
    bill: VisitBill
    claimed: Mapping[str, int | None]
    mdtrt_cert_type: str
    msgid: str
    now: datetime


def _bill(req: VisitBill, facts: VisitFacts, infno: str, now: datetime) -> tuple[Bill, list[str]]:
    enc = facts.visit.encounter
    if enc.med_type and req.med_type != enc.med_type:
        raise CheckoutInputError(f"{W}.med_type", f"须与【2203】上传的医疗类别 {enc.med_type} 一致")
    if req.insutype != enc.insutype:
        raise CheckoutInputError(f"{W}.insutype", f"须与挂号时的险种类型 {enc.insutype} 一致")
    batches = enc_model.batches_to_settle(enc, infno, req.chrg_bchno)
    lines = [s for s in facts.lines if s.line.chrg_bchno in batches]
    begn = facts.visit.begntime or now
    bill = Bill(
        psn_no=enc.psn_no,
        insutype=enc.insutype,
        insuplc_admdvs=enc.insuplc_admdvs,
        med_type=req.med_type,
        service_date=china_date(begn),
        items=items_of(lines),
        acct_used_flag=req.acct_used_flag,
        psn_setlway=req.psn_setlway,
        dise_codg=facts.visit.dise_codg or None,
        emergency=is_emergency(req.exp_content, stored_exp_content(facts.visit.info)),
    )
    return bill, [s.line.feedetl_sn for s in lines]


def price_visit(caller: Caller, req: VisitBill, now: datetime) -> Flow[Priced]:
    """2206 门诊预结算: the split the visit's unsettled fees would get now; writes nothing."""
    facts = yield from steps.read_visit(
        caller,
        req.mdtrt_id,
        req.psn_no,
        req.insuplc_admdvs,
        settle=False,
        presented=req.presented,
        now=now,
    )
    enc_model.pre_settle_outpatient(facts.visit.encounter, req.chrg_bchno)
    bill, _ = _bill(req, facts, "2206", now)
    return steps.price(caller, bill, facts)


def _settle_step(chrg_bchno: str | None) -> Any:
    def step(enc: Encounter, setl_id: str, settled_lines: int) -> Encounter:
        return enc_model.settle_outpatient(enc, chrg_bchno, setl_id, settled_lines)

    return step


def settle_visit(cmd: SettleVisit) -> Flow[Settled]:
    """2207 门诊结算."""
    req = cmd.bill
    facts = yield from steps.read_visit(
        cmd.caller,
        req.mdtrt_id,
        req.psn_no,
        req.insuplc_admdvs,
        settle=True,
        presented=req.presented,
        now=cmd.now,
    )
    enc_model.settle_outpatient(facts.visit.encounter, req.chrg_bchno, "", 0)  # the state check
    bill, sns = _bill(req, facts, "2207", cmd.now)
    done = steps.record_visit(
        facts,
        _settle_step(req.chrg_bchno),
        steps.price(cmd.caller, bill, facts),
        msgid=cmd.msgid,
        now=cmd.now,
        sns=sns,
        claimed=cmd.claimed,
        mdtrt_cert_type=cmd.mdtrt_cert_type,
        chrg_bchno=req.chrg_bchno,
    )
    yield Write(*done.writes)
    return done.settled

"""住院结算 2304 (中途结算 with ``mid_setl``) and 住院预结算 2303, as flows.

A stay settles every unsettled fee line: at discharge (出院结算), or while the patient stays
(中途结算: the stay goes on, later lines settle later). Dates: admission day for policy and
counters, discharge day for the filing's validity (备案). Same read, price and record steps as an
outpatient visit (:mod:`yibao.checkout.steps`).
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


@dataclass(frozen=True, slots=True)
class StayBill:
    """What the HIS sends with 2303/2304 about the stay to settle."""

    mdtrt_id: str
    psn_no: str
    insutype: str
    acct_used_flag: str
    psn_setlway: str
    mid_setl: bool  # 中途结算
    insuplc_admdvs: str  # the envelope's (参保地)
    exp_content: Any = None
    presented: Presented | None = None  # the credential shown (就诊凭证), checked first


@dataclass(frozen=True, slots=True)
class SettleStay:
    """2304: settle ``bill`` for ``caller``, answering request ``msgid`` at ``now``."""

    caller: Caller
    bill: StayBill
    claimed: Mapping[str, int | None]
    mdtrt_cert_type: str
    msgid: str
    now: datetime


def _bill(req: StayBill, facts: VisitFacts, now: datetime) -> tuple[Bill, list[str]]:
    enc = facts.visit.encounter
    if req.insutype != enc.insutype:
        raise CheckoutInputError("input.data.insutype", f"须与入院时的险种类型 {enc.insutype} 一致")
    begn = facts.visit.begntime or now
    end = facts.visit.endtime
    bill = Bill(
        psn_no=enc.psn_no,
        insutype=enc.insutype,
        insuplc_admdvs=enc.insuplc_admdvs,
        med_type=enc.med_type,
        service_date=china_date(begn),
        endtime=china_date(end) if end else None,
        items=items_of(facts.lines),
        acct_used_flag=req.acct_used_flag,
        psn_setlway=req.psn_setlway,
        dise_codg=facts.visit.dise_codg or None,
        emergency=is_emergency(stored_exp_content(facts.visit.info), req.exp_content),
    )
    return bill, [s.line.feedetl_sn for s in facts.lines]


def price_stay(caller: Caller, req: StayBill, now: datetime) -> Flow[Priced]:
    """2303 住院预结算: the split the stay's unsettled fees would get now; writes nothing."""
    facts = yield from steps.read_visit(
        caller,
        req.mdtrt_id,
        req.psn_no,
        req.insuplc_admdvs,
        settle=False,
        presented=req.presented,
        now=now,
    )
    enc_model.pre_settle_inpatient(facts.visit.encounter, req.mid_setl)
    bill, _ = _bill(req, facts, now)
    return steps.price(caller, bill, facts)


def _step(mid_setl: bool) -> Any:
    def step(enc: Encounter, setl_id: str, settled_lines: int) -> Encounter:
        return enc_model.settle_inpatient(enc, setl_id, mid_setl)

    return step


def settle_stay(cmd: SettleStay) -> Flow[Settled]:
    """2304 住院结算 (出院结算, or 中途结算)."""
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
    enc_model.settle_inpatient(facts.visit.encounter, "", req.mid_setl)  # the state check
    bill, sns = _bill(req, facts, cmd.now)
    done = steps.record_visit(
        facts,
        _step(req.mid_setl),
        steps.price(cmd.caller, bill, facts),
        msgid=cmd.msgid,
        now=cmd.now,
        sns=sns,
        claimed=cmd.claimed,
        mdtrt_cert_type=cmd.mdtrt_cert_type,
        mid_setl=req.mid_setl,
    )
    yield Write(*done.writes)
    return done.settled

"""2601 冲正 (reversal of a transaction whose outcome the HIS never saw), as a flow.

Reversible (nhsa-interface.md §2.10): 2102 药店结算, 2207 门诊结算, 2304 住院结算, 2401 入院办理
([HN127]), and — as the [JX]/[HN13] editions also list — the cancellations 2103 药店结算撤销,
2208 门诊结算撤销 and 2305 住院结算撤销. What the original msgid came to decides:

- never processed → its msgid is closed with a logged refusal, so a late original is refused;
- failed (infcode -1) → nothing to undo;
- settled → the settlement is cancelled (:mod:`yibao.checkout.cancel`) unless it already was;
- admitted (2401) → the admission is cancelled (refused while fees or settlements exist);
- a cancellation that went through → refused with what stands (ADR 0015): a cancellation is
  never undone by 冲正 — that would charge the person's account and the funds again without the
  person at the counter — the answer names the cancelled settlement and its cancellation, so
  the HIS knows its refund is done; to charge again the HIS settles anew.

A late original racing the closing row fails on the message log's key; either way exactly one of
them holds the msgid. Idempotent: the 2601's own msgid replays; another 2601 changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yibao.checkout.bills import Caller, CheckoutError
from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.checkout.ports import HubPort
from yibao.db.flow import Flow, Q, Read, W, Write
from yibao.encounter import model as enc_model
from yibao.encounter import statements as encounter_sql
from yibao.gateway import store as gateway_store
from yibao.gateway.service import CLOSED_PREFIX

SETTLEMENTS = ("2102", "2207", "2304")
CANCELLATIONS = ("2103", "2208", "2305")  # [JX]/[HN13] only (ADR 0015)
ADMISSION = "2401"
REVERSIBLE = ("2102", "2103", "2207", "2208", "2304", "2305", ADMISSION)  # the [JX] order

_ORIGINAL = (
    "SELECT json_build_array(infno, infcode, psn_no) FROM gateway_message"
    " WHERE fixmedins_code = %(fix)s AND msgid = %(msgid)s"
)
_SETTLED = (
    "SELECT json_build_array(s.setl_id, s.mdtrt_id, s.psn_no, EXISTS (SELECT 1 FROM"
    " encounter_settlement c WHERE c.reverses = s.setl_id)) FROM encounter_settlement s"
    " WHERE s.fixmedins_code = %(fix)s AND s.msgid = %(msgid)s AND s.kind = 'settle'"
)
_CANCELLED = (
    "SELECT json_build_array(c.setl_id, c.reverses) FROM encounter_settlement c"
    " WHERE c.fixmedins_code = %(fix)s AND c.msgid = %(msgid)s AND c.kind = 'cancel'"
)
_ADMITTED = (
    "SELECT json_build_array(mdtrt_id, psn_no) FROM encounter WHERE fixmedins_code = %(fix)s"
    " AND msgid = %(msgid)s AND kind = 'inpatient'"
)

#: (err_msg) → (the response envelope's bytes, its inf_refmsgid): supplied by the gateway
Closing = Callable[[str], tuple[bytes, str]]


@dataclass(frozen=True, slots=True)
class Reverse:
    """2601 of ``omsgid`` (infno ``oinfno``) of ``psn_no``, by request ``msgid`` at ``now``."""

    caller: Caller
    psn_no: str
    omsgid: str
    oinfno: str
    msgid: str
    opter: str
    now: datetime
    closing: Closing
    hub: HubPort | None = None


def _close(cmd: Reverse) -> W:
    err = f"该交易已被【2601】冲正（冲正报文ID {cmd.msgid}），不再办理"
    body, ref = cmd.closing(err)
    return W(
        gateway_store.INSERT_MESSAGE,
        {
            "fix": cmd.caller.fixmedins_code,
            "msgid": cmd.omsgid,
            "infno": cmd.oinfno,
            "hash": f"{CLOSED_PREFIX}{cmd.msgid}",
            "request": "",
            "infcode": -1,
            "err_msg": err,
            "psn_no": cmd.psn_no,
            "opter": cmd.opter,
            "ref": ref,
            "ctype": "application/json; charset=utf-8",
            "response": body,
        },
    )


def reverse(cmd: Reverse) -> Flow[None]:
    """Undo what ``cmd.omsgid`` did (see the module docstring)."""
    key = {"fix": cmd.caller.fixmedins_code, "msgid": cmd.omsgid}
    original, settled, admitted, cancelled = yield Read(
        Q(_ORIGINAL, key), Q(_SETTLED, key), Q(_ADMITTED, key), Q(_CANCELLED, key)
    )
    w = "input.data"
    if original is None:  # never processed: close the msgid
        yield Write(_close(cmd))
        return None
    infno, infcode, psn_no = original
    if infno != cmd.oinfno:
        raise CheckoutError(
            f"{w}.oinfno: 原报文 {cmd.omsgid} 的交易编号为 {infno}，收到 {cmd.oinfno}"
        )
    if psn_no and psn_no != cmd.psn_no:
        raise CheckoutError(f"{w}.psn_no: 与原交易的人员编号 {psn_no} 不一致")
    if infcode != 0:
        return None  # the original failed: nothing was written
    if cmd.oinfno in CANCELLATIONS:
        if cancelled is not None:
            raise CheckoutError(
                f"{w}.omsgid: 原交易【{cmd.oinfno}】已办理成功：结算 {cancelled[1]} 已撤销"
                f"（撤销结算ID {cancelled[0]}），撤销不能冲正；如需重新收费，请重新上传费用并结算"
            )
        return None
    if cmd.oinfno in SETTLEMENTS:
        if settled is None or settled[3]:
            return None  # already cancelled (撤销 or an earlier 冲正)
        yield from cancel_settlement(
            Cancel(cmd.caller, settled[1], settled[2], settled[0], cmd.msgid, cmd.now, cmd.hub)
        )
        return None
    if admitted is not None:
        yield from _cancel_admission(cmd, admitted)
    return None


def _cancel_admission(cmd: Reverse, admitted: list[Any]) -> Flow[None]:
    (row,) = yield Read(encounter_sql.visit(admitted[0]))
    enc = encounter_sql.visit_of(
        row, admitted[0], fixmedins_code=cmd.caller.fixmedins_code, psn_no=admitted[1]
    ).encounter
    if enc.state is not enc_model.State.ADMISSION_CANCELLED:
        yield Write(encounter_sql.save_visit(enc, enc_model.cancel_admission(enc)))
    return None

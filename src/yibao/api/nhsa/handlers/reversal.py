"""2601 冲正交易 (nhsa-interface.md §2.10): undo a transaction whose outcome the HIS never saw.

Input ``data{psn_no, omsgid, oinfno}``; no business output. Reversible (§2.10, [HN127]): 2102 药店结算,
2207 门诊结算, 2304 住院结算, 2401 入院办理. The original's msgid is claimed first (waiting for an in-flight original):

- the original was never processed → its msgid is closed (a late original is then refused);
- it failed (infcode -1) → nothing to undo;
- it settled → a cancellation (new negative settlement, mirror ledger chain, account credit)
  unless it is already cancelled (2208/2103/2305 or an earlier 2601);
- it admitted (2401) → the admission is cancelled (refused while fees or settlements exist).

Idempotent: the 2601 msgid replays; another 2601 of the same original changes nothing more.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from yibao.api.nhsa import envelope, fields
from yibao.api.nhsa.answers import JSON, envelope_bytes
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.checkout import service as checkout
from yibao.encounter import service as encounters
from yibao.encounter import store as encounter_store
from yibao.encounter.model import State
from yibao.gateway import store as gateway_store

SETTLEMENTS = ("2102", "2207", "2304")
ADMISSION = "2401"
REVERSIBLE = (*SETTLEMENTS, ADMISSION)


def _claim_unprocessed(ctx: Context, omsgid: str, oinfno: str, psn_no: str) -> bool:
    """Claim the original's msgid if it was never processed, recording it as refused so that
    its late arrival cannot settle; ``False`` when the original exists (it is then committed:
    the claim waits for a concurrent original to finish)."""
    fix = ctx.institution.fixmedins_code
    claimed = gateway_store.claim(
        ctx.conn,
        fix,
        omsgid,
        oinfno,
        request_hash=f"reversed-by:{ctx.msgid}",
        request="",
        opter=ctx.operator.opter_no,
    )
    if claimed is None:
        return False
    err = f"该交易已被【2601】冲正（冲正报文ID {ctx.msgid}），不再办理"
    # the closed msgid's answer, stored once: every later arrival gets these same bytes
    body, ref = envelope_bytes(
        ctx.now, ctx.now, ctx.envelope.mdtrtarea_admvs, infcode=envelope.INFCODE_FAIL, err_msg=err
    )
    gateway_store.complete(
        ctx.conn,
        fix,
        omsgid,
        claimed,
        infcode=-1,
        err_msg=err,
        psn_no=psn_no,
        inf_refmsgid=ref,
        content_type=JSON,
        response=body,
    )
    return True


def _admission_of(ctx: Context, omsgid: str) -> str | None:
    t = encounter_store.encounter
    return ctx.conn.execute(
        sa.select(t.c.mdtrt_id).where(
            t.c.fixmedins_code == ctx.institution.fixmedins_code,
            t.c.msgid == omsgid,
            t.c.kind == "inpatient",
        )
    ).scalar_one_or_none()


@transaction("2601", "冲正交易")
def reverse(ctx: Context) -> dict[str, Any]:
    data = ctx.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    omsgid = fields.text(data, "omsgid", w, required=True, max_len=64, label="原发送方报文ID")
    oinfno = fields.text(data, "oinfno", w, required=True, max_len=6, label="原交易编号")
    if oinfno not in REVERSIBLE:
        raise InputError(
            f"{w}.oinfno", f"交易【{oinfno}】不支持冲正，可冲正：{'、'.join(REVERSIBLE)}"
        )
    if omsgid == ctx.msgid:
        raise InputError(f"{w}.omsgid", "不能冲正本报文自身")
    fix = ctx.institution.fixmedins_code
    if _claim_unprocessed(ctx, omsgid, oinfno, psn_no):
        return {}
    original = gateway_store.find(ctx.conn, fix, omsgid)
    if original is None:  # pragma: no cover - the claim saw a row that is gone
        raise BusinessError(f"{w}.omsgid: 原交易 {omsgid} 状态未知，请重试")
    if original.infno != oinfno:
        raise BusinessError(
            f"{w}.oinfno: 原报文 {omsgid} 的交易编号为 {original.infno}，收到 {oinfno}"
        )
    if original.psn_no and original.psn_no != psn_no:
        raise BusinessError(f"{w}.psn_no: 与原交易的人员编号 {original.psn_no} 不一致")
    if original.infcode != 0:
        return {}  # the original failed: nothing was written
    if oinfno in SETTLEMENTS:
        rec = checkout.settlement_by_msgid(ctx.conn, fix, omsgid)
        if rec is None or encounter_store.cancellation_of(ctx.conn, rec["setl_id"]):
            return {}  # already cancelled (撤销 or an earlier 冲正)
        with common.refusals():
            enc = encounters.load(ctx.conn, rec["mdtrt_id"], fixmedins_code=fix)
            checkout.cancel(ctx.conn, enc, rec["setl_id"], msgid=ctx.msgid, setl_time=ctx.now)
        return {}
    mdtrt_id = _admission_of(ctx, omsgid)
    if mdtrt_id is None:
        return {}
    with common.refusals():
        enc = encounters.load(ctx.conn, mdtrt_id, fixmedins_code=fix)
        if enc.state is not State.ADMISSION_CANCELLED:
            encounters.cancel_admission(ctx.conn, mdtrt_id, psn_no=enc.psn_no, fixmedins_code=fix)
    return {}

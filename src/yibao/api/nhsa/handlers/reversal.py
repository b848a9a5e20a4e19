"""2601 冲正交易 (nhsa-interface.md §2.10): undo a transaction whose outcome the HIS never saw.

Input ``data{psn_no, omsgid, oinfno}``; no business output. The use case is
:mod:`yibao.checkout.reversal`.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.answers import envelope_bytes
from yibao.api.nhsa.dispatcher import Request, transaction
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _settle_common as common
from yibao.checkout.reversal import REVERSIBLE, Reverse
from yibao.checkout.reversal import reverse as checkout_reverse
from yibao.db.flow import Flow
from yibao.hub.port import HUB
from yibao.wire import envelope


@transaction("2601", "冲正交易")
def reverse(req: Request) -> Flow[dict[str, Any]]:
    data = req.node("data")
    w = "input.data"
    psn_no = fields.text(data, "psn_no", w, required=True, max_len=30, label="人员编号")
    omsgid = fields.text(data, "omsgid", w, required=True, max_len=64, label="原发送方报文ID")
    oinfno = fields.text(data, "oinfno", w, required=True, max_len=6, label="原交易编号")
    if oinfno not in REVERSIBLE:
        raise InputError(
            f"{w}.oinfno", f"交易【{oinfno}】不支持冲正，可冲正：{'、'.join(REVERSIBLE)}"
        )
    if omsgid == req.msgid:
        raise InputError(f"{w}.omsgid", "不能冲正本报文自身")

    def closing(err: str) -> tuple[bytes, str]:
        # the closed msgid's answer, stored once: every later arrival gets these same bytes
        return envelope_bytes(
            req.now,
            req.now,
            req.envelope.mdtrtarea_admvs,
            infcode=envelope.INFCODE_FAIL,
            err_msg=err,
        )

    cmd = Reverse(
        common.caller(req),
        psn_no,
        omsgid,
        oinfno,
        req.msgid,
        req.envelope.opter,
        req.now,
        closing,
        HUB,
    )
    with common.refusals():
        yield from checkout_reverse(cmd)
    return {}

"""药店结算 2102 linked to an e-prescription (外购处方: drug rows with ``rx_circ_flag`` 1 and
``rxno`` = the prescription's ``hiRxno``), as a flow around checkout's own use case.

:func:`settle_prescribed` reads the prescription first, checks it (valid, unused, downloaded by this
pharmacy, its signature verified and the pharmacist's review passed, the drugs on it), then runs
:func:`yibao.checkout.settle_pharmacy.settle_pharmacy` and adds, to the settlement's one write
statement, the prescription's move to 已使用 (optimistic on its version: two fills racing, one
conflicts and writes nothing). A prescription can so be filled once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from yibao.catalog.model import ClassifiedLine
from yibao.checkout.bills import Settled
from yibao.checkout.settle_pharmacy import SettlePurchase, settle_pharmacy
from yibao.db.flow import Flow, Q, Read, Write
from yibao.encounter.fees import FeeLine
from yibao.online import store
from yibao.online.model import OnlineError, require_fillable

_RX = "SELECT row_to_json(r) FROM online_rx r WHERE hi_rxno = %(id)s"


def prescription_of(lines: Sequence[FeeLine]) -> str:
    """The prescription the purchase fills ('' when no line is 外购处方)."""
    rxnos = {
        str(ln.extra.get("rxno") or "") for ln in lines if str(ln.extra.get("rx_circ_flag")) == "1"
    }
    rxnos.discard("")
    if len(rxnos) > 1:
        raise OnlineError("input.drugdetail.rxno", "一次结算只能对应一张电子处方")
    if any(str(ln.extra.get("rx_circ_flag")) == "1" and not ln.extra.get("rxno") for ln in lines):
        raise OnlineError("input.drugdetail.rxno", "外购处方标志为1时须传处方号（hiRxno）")
    return rxnos.pop() if rxnos else ""


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def check(
    rx: dict[str, Any] | None, pharmacy: str, lines: Sequence[FeeLine], now: datetime
) -> None:
    """Why this purchase may not fill the prescription (:class:`OnlineError`), else nothing."""
    if rx is None or rx.get("phase") != "uploaded":
        raise OnlineError("input.drugdetail.rxno", "电子处方不存在或未上传")
    require_fillable(rx["rx_stas"], rx["used_stas"], _moment(rx["vali_end_time"]), now)
    disp = rx.get("dispense") or {}
    if disp.get("fixmedinsCode") != pharmacy:
        raise OnlineError(
            "input.drugdetail.rxno", "处方未由本机构下载（须参保人授权并【7204】下载）"
        )
    if not disp.get("rxSignVerifySn"):
        raise OnlineError("input.drugdetail.rxno", "处方未经【7205】签名核验")
    if rx.get("chk_stas") != "1":
        raise OnlineError("input.drugdetail.rxno", "处方未经药师审方通过（【7206】）")
    allowed = {
        str(d.get("medListCodg")) for d in (rx.get("precheck") or {}).get("rxdrugdetail", [])
    }
    for ln in lines:
        if str(ln.extra.get("rx_circ_flag")) == "1" and ln.med_list_codg not in allowed:
            raise OnlineError(
                "input.drugdetail.med_list_codg", f"{ln.med_list_codg} 不在处方药品中"
            )


def settle_prescribed(
    cmd: SettlePurchase, hi_rxno: str
) -> Flow[tuple[Settled, list[ClassifiedLine]]]:
    """2102 filling ``hi_rxno`` (see the module docstring)."""
    (rx,) = yield Read(Q(_RX, {"id": hi_rxno}))
    check(rx, cmd.caller.fixmedins_code, cmd.purchase.lines, cmd.now)
    settled, classified = yield from settle_pharmacy(cmd)
    setl_id = settled.record.setl_id
    disp = {**(rx.get("dispense") or {}), "setlTime": cmd.now.isoformat(), "setlId": setl_id}
    yield Write(
        store.rx_update(hi_rxno, int(rx["version"]), used_stas="2", setl_id=setl_id, dispense=disp),
        store.add_event(
            hi_rxno, "settle", "2", setlId=setl_id, fixmedinsCode=cmd.caller.fixmedins_code
        ),
    )
    return settled, classified

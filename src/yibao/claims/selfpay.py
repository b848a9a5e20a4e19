"""Self-pay patient data ([HN127] 4261–4263): what a later 零报 is checked against.

An institution uploads a self-pay patient's visit and fee lines (4261, full or update), checks
its uploaded total (4262 对账), and lists the 零报 claims whose invoice total differs from what it
uploaded (4263). The comparison is fen-exact (funds-and-services.md §4.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from yibao.claims import store


class SelfpayRefused(ValueError):
    """A refusal about the stored state (no upload for that visit, …)."""


def upload(conn: sa.Connection, fixmedins_code: str, *, full: bool, visit: Mapping[str, Any],
           diseases: Sequence[Mapping[str, Any]], fees: Sequence[Mapping[str, Any]], msgid: str,
           now: datetime) -> int:  # fmt: skip
    """4261: store (``full``: replace) the visit and its fee rows; returns the valid fee total
    (fen). Rows with ``valiFlag`` 0 are kept as invalidated and do not count."""
    mdtrt_id = str(visit["mdtrtId"])
    prior = store.selfpay_get(conn, fixmedins_code, mdtrt_id)
    rows: dict[str, Any] = {} if full or prior is None else dict(prior["fees"])
    for f in fees:
        rows[str(f["bkkpSn"])] = dict(f)
    total = sum(int(f["fee_fen"]) for f in rows.values() if str(f.get("valiFlag", "1")) == "1")
    store.selfpay_put(conn, {
        "fixmedins_code": fixmedins_code, "mdtrt_id": mdtrt_id, "certno": str(visit["certno"]),
        "psn_cert_type": str(visit["psnCertType"]), "psn_name": str(visit["psnName"]),
        "med_type": str(visit["medType"]), "begntime": visit["begntime"],
        "visit": {k: v for k, v in visit.items() if k != "begntime"} | {"begntime": str(visit["begntime"])},
        "diseases": [dict(d) for d in diseases] if full or prior is None else (list(prior["diseases"]) + [dict(d) for d in diseases]),
        "fees": rows, "fee_total": total, "msgid": msgid, "uploaded_at": now,
    })  # fmt: skip
    return total


def reconcile(
    conn: sa.Connection, fixmedins_code: str, mdtrt_id: str, total: int
) -> tuple[bool, str]:
    """4262: (balanced, remark) of the institution's total against what it uploaded."""
    up = store.selfpay_get(conn, fixmedins_code, mdtrt_id)
    if up is None:
        raise SelfpayRefused(f"就诊事件 {mdtrt_id} 未上传自费病人费用明细（4261）")
    stored = int(up["fee_total"])
    if stored == total:
        return True, f"平账：费用总额 {total / 100:.2f} 元，明细 {len(up['fees'])} 条"
    return (
        False,
        f"不平账：上传明细合计 {stored / 100:.2f} 元，对账总额 {total / 100:.2f} 元，差额 {(total - stored) / 100:.2f} 元",
    )


def mismatches(conn: sa.Connection, fixmedins_code: str, *, page: int, size: int, mdtrt_id: str = "",
               certno: str = "") -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """4263: the institution's 零报 claims whose invoice total ≠ its uploaded total."""
    return store.mismatches(conn, fixmedins_code, mdtrt_id=mdtrt_id, certno=certno,
                            offset=(page - 1) * size, limit=size)  # fmt: skip

"""The insured side of a cross-province relay (参保地): compute, record, reverse. One transaction.

The split is computed here with this deployment's registry, filings (备案), policy and
accumulators — "就医地目录、参保地政策" (nhsa-interface.md §5.2): the items arrive already
classified by the treatment place. The settlement is recorded like any other (encounter
settlement row with ``insuplc_admdvs`` ≠ ``mdtrtarea_admvs``, accumulators, personal account,
ledger chain: checkout's flows, :mod:`yibao.checkout.settle_relayed`) as a one-shot visit whose ``msgid`` is the ``relay_id``,
so this deployment's monthly clearing includes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from yibao.checkout.bills import Caller, CheckoutError, Priced, Settled
from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.checkout.settle_relayed import RelayedBill, price_relayed, settle_relayed
from yibao.db import hot
from yibao.db.flow import run as run_flow
from yibao.encounter import service as encounters
from yibao.hub import store
from yibao.hub.model import (
    PRICED,
    REFUSED,
    REVERSED,
    SETTLED,
    RelayRequest,
    request_hash,
    split_to_json,
)
from yibao.registry import service as registry
from yibao.registry.model import Person
from yibao.settlement.trace import to_json as trace_json
from yibao.voucher.base import resolve_ec_token
from yibao.voucher.model import EcError, parse_code
from yibao.voucher.service import VoucherService


class Conflict(ValueError):
    """The same relay_id with different content (幂等冲突)."""


def _refused(relay_id: str, msg: str) -> dict[str, Any]:
    return {"relay_id": relay_id, "status": REFUSED, "err_msg": msg}


def settle(
    conn: sa.Connection, raw: dict[str, Any], *, province: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """Settle a relayed request once; a retry returns the stored answer (success or refusal).

    A request whose ``relay_id`` was already reversed is refused (the reversal wins).
    """
    now = now or datetime.now(UTC)
    try:
        req = RelayRequest.from_json(raw)
    except ValueError as e:
        return _refused(str(raw.get("relay_id", "")), str(e))
    digest = request_hash(req.to_json())
    store.lock(conn, req.relay_id)
    row = store.get(conn, store.inbound, req.relay_id)
    if row is not None:
        if row["status"] == REVERSED:
            return _refused(req.relay_id, f"relay_id {req.relay_id} 已冲正，不能再结算")
        if row["request_hash"] != digest:
            raise Conflict(f"relay_id {req.relay_id} 已用于另一笔不同内容的结算")
        return dict(row["response"])
    answer = _compute_and_record(conn, req, province, now)
    store.upsert(
        conn, store.inbound, req.relay_id, request_hash=digest, status=answer["status"],
        response=answer, psn_no=answer.get("psn_no", ""), setl_id=answer.get("insu_setl_id", ""),
    )
    return answer


@dataclass(frozen=True, slots=True)
class _Computed:
    """The insured side's split of a relayed request (and its record, when settled)."""

    req: RelayRequest
    psn_no: str
    priced: Priced
    settled: Settled | None = None

    @property
    def person(self) -> Person:
        return self.priced.person


def _relayed(req: RelayRequest, psn_no: str) -> RelayedBill:
    return RelayedBill(
        relay_id=req.relay_id, psn_no=psn_no, insutype=req.insutype,
        insuplc_admdvs=req.insuplc_admdvs, mdtrtarea_admvs=req.mdtrtarea_admvs,
        fixmedins_code=req.fixmedins_code, fixmedins_name=req.fixmedins_name,
        hosp_lv=req.hosp_lv, med_type=req.med_type, begndate=req.begndate, items=req.items,
        enddate=req.enddate, emergency=req.emergency, acct_used_flag=req.acct_used_flag,
        dise_codg=req.dise_codg, mid_setl=req.mid_setl,
    )


def _compute(
    conn: sa.Connection, req: RelayRequest, province: str, now: datetime, *, settle: bool
) -> _Computed | dict[str, Any]:
    """Split ``req`` with this province's registry, filings, policy, accumulators and account
    (checkout's flows, in the caller's transaction); with ``settle`` also record it, else
    nothing is written (a dry run, 预结算). A refusal is returned as the answer dict."""
    if province and req.insuplc_admdvs[:2] != province:
        return _refused(
            req.relay_id, f"insuplc_admdvs: {req.insuplc_admdvs} 不属于本省 ({province})"
        )
    psn_no = registry.find_psn_no_by_cert(conn, req.psn_cert_type, req.certno)
    if psn_no is None:
        return _refused(req.relay_id, "certno: 参保地查无此人")
    bill = _relayed(req, psn_no)
    try:
        if settle:
            priced, settled = run_flow(hot.driver(conn), settle_relayed(bill, now))
            return _Computed(req, psn_no, priced, settled)
        return _Computed(req, psn_no, run_flow(hot.driver(conn), price_relayed(bill, now)))
    except CheckoutError as e:
        return _refused(req.relay_id, e.err_msg)


def _person_json(c: _Computed) -> dict[str, str]:
    """The person facts the treatment side shows in ``setlinfo`` (表93: name … age)."""
    p = c.person
    return {"psn_name": p.psn_name, "psn_cert_type": p.psn_cert_type, "certno": p.certno,
            "gend": p.gend, "naty": p.naty or "", "brdy": p.brdy.isoformat(),
            "age": str(c.priced.snapshot.age)}  # fmt: skip


def _answer(
    c: _Computed,
    status: str,
    setlinfo: Mapping[str, Any],
    setldetail: Sequence[Mapping[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    result = c.priced.result
    return {
        "relay_id": c.req.relay_id,
        "status": status,
        "psn_no": c.psn_no,
        **extra,
        "filing": c.priced.filing,
        "acc_year": c.priced.acc_year,
        "person": _person_json(c),
        "setlinfo": {k: (v if isinstance(v, int | str) else str(v)) for k, v in setlinfo.items()},
        "setldetail": [dict(d) for d in setldetail],
        "items": [split_to_json(s) for s in result.items],
        "trace": trace_json(result),
    }


@contextmanager
def dry_run(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A READ ONLY transaction that is rolled back: the insured side's 预结算 stores nothing."""
    with engine.connect() as conn:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        try:
            yield conn
        finally:
            conn.rollback()


def price(
    conn: sa.Connection, raw: dict[str, Any], *, province: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """预结算 (dry run) of a relayed request: the split this side would record now, from the
    same policy, filings, accumulators and account balance, with no lock and no write at all
    (the caller runs it in a read-only transaction). Safe to repeat: the same request against
    the same state answers the same; the ``relay_id`` is only echoed and reserves nothing, so
    a later settle (any id) is unaffected."""
    now = now or datetime.now(UTC)
    try:
        req = RelayRequest.from_json(raw)
    except ValueError as e:
        return _refused(str(raw.get("relay_id", "")), str(e))
    got = _compute(conn, req, province, now, settle=False)
    if isinstance(got, dict):
        return got
    return _answer(got, PRICED, got.priced.setlinfo, got.priced.setldetail)


def _compute_and_record(
    conn: sa.Connection, req: RelayRequest, province: str, now: datetime
) -> dict[str, Any]:
    got = _compute(conn, req, province, now, settle=True)
    if isinstance(got, dict):
        return got
    assert got.settled is not None
    rec = got.settled.record
    return _answer(got, SETTLED, rec.setlinfo, rec.setldetail, insu_setl_id=rec.setl_id)


def reverse(conn: sa.Connection, relay_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """冲正 a relayed settlement: cancel it if it was recorded, and leave a tombstone either way
    (a settle arriving later is refused). Idempotent."""
    now = now or datetime.now(UTC)
    store.lock(conn, relay_id)
    row = store.get(conn, store.inbound, relay_id)
    if row is not None and row["status"] == REVERSED:
        return dict(row["response"])
    cancel_id = ""
    if row is not None and row["status"] == SETTLED:
        rec = encounters.settlement(conn, row["setl_id"])
        assert rec is not None
        caller = Caller(rec["fixmedins_code"], "", rec["mdtrtarea_admvs"], "")
        cmd = Cancel(
            caller, rec["mdtrt_id"], rec["psn_no"], row["setl_id"], f"{relay_id}.rev", now
        )
        cancel_id = run_flow(hot.driver(conn), cancel_settlement(cmd)).record.setl_id
    answer = {"relay_id": relay_id, "status": REVERSED, "cancel_setl_id": cancel_id,
              "was": row["status"] if row else "unknown"}  # fmt: skip
    store.upsert(
        conn, store.inbound, relay_id, request_hash=row["request_hash"] if row else "",
        status=REVERSED, response=answer, cancel_setl_id=cancel_id,
    )
    return answer


def person_info(conn: sa.Connection, raw: dict[str, Any], *, node: str) -> dict[str, Any]:
    """The 1101 answer (人员信息获取) for a person of this province, for a treatment side
    elsewhere; the disclosure is audited by the registry (actor ``hub:<node>``).

    The person is named by certificate (``psn_cert_type``/``certno``) or by an e-voucher
    ``ec_token`` (医保电子凭证, mdtrt_cert_type 01), which must have been issued by this province
    for the presenting institution ``org_id`` and still be valid."""
    try:
        on_date = date.fromisoformat(str(raw.get("on_date", "")))
    except ValueError:
        return {"status": REFUSED, "err_msg": "on_date: 日期格式须为 yyyy-MM-dd"}
    token = str(raw.get("ec_token") or "")
    actor = f"hub:{node}"
    if token:
        org_id = str(raw.get("org_id") or "")
        try:
            psn_no: str | None = resolve_ec_token(conn, token, org_id, datetime.now(UTC))
        except EcError as e:
            return {"status": REFUSED, "error": e.key, "err_msg": f"mdtrt_cert_no: {e.message}"}
        actor = f"hub:{node}/org:{org_id}"
    else:
        certno = str(raw.get("certno", ""))
        cert_type = str(raw.get("psn_cert_type", "01"))
        psn_no = registry.find_psn_no_by_cert(conn, cert_type, certno) if certno else None
    if psn_no is None:
        return {"status": REFUSED, "err_msg": "certno: 参保地查无此人"}
    out = registry.person_info_1101(conn, psn_no, on_date, actor=actor, purpose="1101-relay")
    return {"status": "ok", "output": out}


def ec_query(svc: VoucherService, raw: dict[str, Any], *, province: str) -> dict[str, Any]:
    """Exchange a code this province issued (ec.query / 6101), scanned by institution
    ``orgId`` in another province: the usual checks (signature, expiry, single use, voucher
    and channel) and an ecToken bound to that institution. ``{"status": "ok", "data": …}`` or
    ``{"status": "refused", "code", "error", "message"}``."""
    qr = str(raw.get("qrCode") or "")
    try:
        claims, _, _ = parse_code(qr)
        if province and claims.admdvs[:2] != province:
            raise EcError("EC_CODE_FOREIGN", f"参保地 {claims.admdvs} 不属于本省 ({province})")
        data = svc.exchange(
            qr, org_id=str(raw.get("orgId") or ""),
            business_type=str(raw.get("businessType") or ""),
            operator_id=str(raw.get("operatorId") or ""),
            operator_name=str(raw.get("operatorName") or ""),
            office_id=str(raw.get("officeId") or ""), office_name=str(raw.get("officeName") or ""),
            out_biz_no=str(raw.get("outBizNo") or ""),
        )  # fmt: skip
    except EcError as e:
        return {"status": REFUSED, "code": e.code, "error": e.key, "message": e.message}
    return {"status": "ok", "data": data}

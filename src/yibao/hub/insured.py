"""The insured side of a cross-province relay (参保地): compute, record, reverse. One transaction.

The split is computed here with this deployment's registry, filings (备案), policy and
accumulators — "就医地目录、参保地政策" (nhsa-interface.md §5.2): the items arrive already
classified by the treatment place. The settlement is recorded like any other (encounter
settlement row with ``insuplc_admdvs`` ≠ ``mdtrtarea_admvs``, accumulators, personal account,
ledger chain via helper G's checkout) as a one-shot visit whose ``msgid`` is the ``relay_id``,
so this deployment's monthly clearing includes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from yibao.checkout import service as checkout
from yibao.encounter import service as encounters
from yibao.encounter.fees import FeeLine, LineSplit
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
    )  # fmt: skip
    return answer


@dataclass(frozen=True, slots=True)
class _Computed:
    """The insured side's split of a relayed request, not yet recorded."""

    req: RelayRequest
    psn_no: str
    filing: str
    year: int
    priced: checkout.Priced
    person: Person


def _compute(
    conn: sa.Connection, req: RelayRequest, province: str, now: datetime, *, lock: bool
) -> _Computed | dict[str, Any]:
    """Split ``req`` with this province's registry, filings, policy, accumulators and account.

    With ``lock`` the accumulator and account rows stay locked until the transaction ends (a
    settlement); without it nothing is locked or written (a dry run, 预结算). A refusal is
    returned as the answer dict.
    """
    if province and req.insuplc_admdvs[:2] != province:
        return _refused(
            req.relay_id, f"insuplc_admdvs: {req.insuplc_admdvs} 不属于本省 ({province})"
        )
    psn_no = registry.find_psn_no_by_cert(conn, req.psn_cert_type, req.certno)
    if psn_no is None:
        return _refused(req.relay_id, "certno: 参保地查无此人")
    bill = checkout.Bill(
        psn_no, req.insutype, req.insuplc_admdvs, req.med_type, req.begndate, req.items,
        acct_used_flag=req.acct_used_flag, dise_codg=req.dise_codg, endtime=req.enddate,
        emergency=req.emergency,
    )  # fmt: skip
    try:  # the same pricing as a local settlement, at the relayed treatment region and level
        priced = checkout.price_at(
            conn,
            bill,
            mdtrtarea_admvs=req.mdtrtarea_admvs,
            hosp_lv=req.hosp_lv or checkout.PHARMACY_HOSP_LV,
            lock=lock,
            settle_date=max(encounters.business_day(now), req.enddate or req.begndate),
        )
    except checkout.CheckoutError as e:
        return _refused(req.relay_id, e.err_msg)
    return _Computed(req, psn_no, priced.filing, priced.acc_year, priced, priced.person)


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
        "filing": c.filing,
        "acc_year": c.year,
        "person": _person_json(c),
        "setlinfo": {k: (v if isinstance(v, int | str) else str(v)) for k, v in setlinfo.items()},
        "setldetail": [dict(d) for d in setldetail],
        "items": [split_to_json(s) for s in result.items],
        "trace": trace_json(result),
    }


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
    got = _compute(conn, req, province, now, lock=False)
    if isinstance(got, dict):
        return got
    return _answer(got, PRICED, got.priced.setlinfo, got.priced.setldetail)


def _compute_and_record(
    conn: sa.Connection, req: RelayRequest, province: str, now: datetime
) -> dict[str, Any]:
    got = _compute(conn, req, province, now, lock=True)
    if isinstance(got, dict):
        return got
    result = got.priced.result
    lines = [
        FeeLine(
            i.feedetl_sn, i.med_list_codg, i.med_list_codg, i.det_item_fee_sumamt, i.cnt, i.pric
        )
        for i in req.items
    ]
    splits = [
        LineSplit(
            s.feedetl_sn,
            s.chrgitm_lv,
            s.med_chrgitm_type,
            s.fulamt_ownpay_amt,
            s.overlmt_amt,
            s.preselfpay_amt,
            s.inscp_scp_amt,
            s.selfpay_prop,
            s.pric_uplmt_amt,
        )
        for s in result.items
    ]
    visit = encounters.open_pharmacy_sale(
        conn, psn_no=got.psn_no, insutype=req.insutype, med_type=req.med_type,
        fixmedins_code=req.fixmedins_code, insuplc_admdvs=req.insuplc_admdvs,
        mdtrtarea_admvs=req.mdtrtarea_admvs, begntime=now, lines=lines, splits=splits,
        msgid=req.relay_id,
        info={"relay_id": req.relay_id, "relayed": True, "fixmedins_name": req.fixmedins_name,
              "mid_setl": req.mid_setl},
    )  # fmt: skip
    try:
        done = checkout.settle(
            conn, visit, got.priced, msgid=req.relay_id, setl_time=now, mid_setl=req.mid_setl
        )
    except checkout.CheckoutError as e:
        raise RuntimeError(e.err_msg) from e  # rolls the whole transaction back
    return _answer(
        got, SETTLED, done.record.setlinfo, done.record.setldetail,
        insu_setl_id=done.record.setl_id,
    )  # fmt: skip


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
        visit = encounters.load(conn, rec["mdtrt_id"])
        done = checkout.cancel(conn, visit, row["setl_id"], msgid=f"{relay_id}.rev", setl_time=now)
        cancel_id = done.record.setl_id
    answer = {"relay_id": relay_id, "status": REVERSED, "cancel_setl_id": cancel_id,
              "was": row["status"] if row else "unknown"}  # fmt: skip
    store.upsert(
        conn, store.inbound, relay_id, request_hash=row["request_hash"] if row else "",
        status=REVERSED, response=answer, cancel_setl_id=cancel_id,
    )  # fmt: skip
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

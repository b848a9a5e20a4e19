"""零星报销 use cases: apply (channel or counter), accept, review, approve, pay, refuse.

Every use case runs in one transaction; a refusal changes nothing. The amount is priced by the
settlement engine through :mod:`yibao.claims.pricing` (one flow on the transaction's psycopg
connection); approval writes the accumulator deltas and the fund → payable chain, payment the
payable → bank chain (docs/claims.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from yibao.checkout.bills import CheckoutError
from yibao.claims import model as m
from yibao.claims import store
from yibao.claims.model import ClaimError, ClaimRefused
from yibao.claims.pricing import ClaimBill, PricedClaim, consume, price_claim
from yibao.clock import CHINA
from yibao.db import flow, hot
from yibao.db.tables import audit
from yibao.institutions import service as institutions
from yibao.ledger import statements as ledger_sql
from yibao.policy import PolicyError, resolve
from yibao.registry import store as registry_store

DEFAULT_LIMIT_DAYS = 20


def now() -> datetime:
    return datetime.now(CHINA)


@dataclass(frozen=True, slots=True)
class Upload:
    kind: str
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Application:
    """A 零报 application (申请) as the channel API or the counter gives it."""

    source: str  # "counter" or "chnl:<chnl_id>"
    request_id: str
    psn_no: str
    insutype: str
    med_type: str
    fixmedins_code: str
    begndate: date
    enddate: date
    reason: str
    payee_name: str
    payee_bank: str
    payee_account: str
    fee_rows: Sequence[Mapping[str, object]]
    invoices: Sequence[Mapping[str, object]]
    files: Sequence[Upload] = ()
    fixmedins_name: str = ""  # needed when the institution is not registered with us
    mdtrtarea_admvs: str = ""
    hosp_lv: str = ""
    dise_codg: str = ""
    mdtrt_id: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def time_limit_days(region: str, on: date) -> int:
    """``claims.time_limit_days`` in force for ``region`` on ``on`` (dated policy data)."""
    try:
        p = resolve(region, on)
        return (
            int(p.value("claims.time_limit_days"))
            if p.has("claims.time_limit_days")
            else DEFAULT_LIMIT_DAYS
        )
    except PolicyError:
        return DEFAULT_LIMIT_DAYS


def _fingerprint(a: Application) -> str:
    body: dict[str, Any] = {f: getattr(a, f) for f in a.__dataclass_fields__ if f != "files"}
    body["files"] = [hashlib.sha256(f.content).hexdigest() for f in a.files]
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def _where(conn: sa.Connection, a: Application) -> tuple[str, str, str]:
    inst = institutions.get(conn, a.fixmedins_code) if a.fixmedins_code else None
    if inst is not None:
        return inst.fixmedins_name, inst.admdvs, inst.hosp_lv or "11"
    for k, v in (
        ("fixmedins_name", a.fixmedins_name),
        ("mdtrtarea_admvs", a.mdtrtarea_admvs),
        ("hosp_lv", a.hosp_lv),
    ):
        if not v:
            raise ClaimError(
                k, "就医机构不是本平台登记的定点机构时须填写机构名称、就医地区划和医院等级"
            )
    if not (len(a.mdtrtarea_admvs) == 6 and a.mdtrtarea_admvs.isdigit()):
        raise ClaimError("mdtrtarea_admvs", "应为6位医保区划代码")
    return a.fixmedins_name, a.mdtrtarea_admvs, a.hosp_lv


def _files(a: Application) -> list[dict[str, Any]]:
    out = []
    for i, f in enumerate(a.files, 1):
        if f.kind not in m.FILE_KINDS:
            raise ClaimError(f"files[{i - 1}].kind", f"应为 {'/'.join(m.FILE_KINDS)}")
        if not f.content or len(f.content) > m.MAX_FILE_BYTES:
            raise ClaimError(f"files[{i - 1}]", "文件不能为空且不超过5MB")
        out.append({"seq": i, "kind": f.kind, "filename": f.filename[:200] or f"file{i}",
                    "media_type": f.media_type or "application/octet-stream", "size": len(f.content),
                    "sha256": hashlib.sha256(f.content).hexdigest(), "content": f.content})  # fmt: skip
    if not any(f["kind"] == "invoice" for f in out):
        raise ClaimError("files", "须上传发票（kind=invoice）")
    return out


def _selfpay_check(
    conn: sa.Connection, fix: str, mdtrt_id: str, total: int
) -> dict[str, Any] | None:
    """Invoice total vs the institution's 4261 upload of the same visit (fen-exact)."""
    if not mdtrt_id:
        return None
    up = store.selfpay_get(conn, fix, mdtrt_id)
    if up is None:
        return {"uploaded": False}
    return {"uploaded": True, "uploaded_total": int(up["fee_total"]), "invoice_total": total,
            "match": int(up["fee_total"]) == total, "certno": up["certno"]}  # fmt: skip


def apply(conn: sa.Connection, a: Application, at: datetime) -> str:
    """Store a checked application; idempotent on (source, request_id). Duplicate invoices or
    invoice files already claimed are refused with the claim that holds them."""
    fp = _fingerprint(a)
    prior = store.by_request(conn, a.source, a.request_id)
    if prior is not None:
        if prior["fingerprint"] != fp:
            raise ClaimError(
                "requestId", f"请求号 {a.request_id} 已用于另一内容的申请 {prior['claim_no']}"
            )
        return str(prior["claim_no"])
    if a.reason not in m.REASONS:
        raise ClaimError("reason", f"应为 {'/'.join(m.REASONS)}")
    if a.enddate < a.begndate:
        raise ClaimError("enddate", "出院（结束）日期早于就诊日期")
    fees, invoices = m.parse_fee_rows(a.fee_rows), m.parse_invoices(a.invoices)
    total = m.check_totals(fees, invoices)
    files = _files(a)
    dup = store.live_invoices(conn, [(i.inv_code, i.inv_no) for i in invoices])
    if dup:
        d = dup[0]
        raise ClaimError(
            "invoices",
            f"发票 {d['inv_code']}-{d['inv_no']} 已在报销申请 {d['claim_no']} 中，不能重复报销",
        )
    dup_files = store.live_files(conn, [f["sha256"] for f in files])
    if dup_files:
        d = dup_files[0]
        raise ClaimError(
            "files",
            f"文件“{d['filename']}”（SHA-256 {d['sha256'][:12]}…）已在报销申请 {d['claim_no']} 中提交过，疑似重复报销",
        )
    facts = registry_store.settlement_facts(conn, a.psn_no)
    enr = next(
        (
            e
            for e in (facts[1] if facts else [])
            if e.insutype == a.insutype and e.active_on(a.begndate)
        ),
        None,
    )
    if enr is None:
        raise ClaimError(
            "insutype", f"人员 {a.psn_no} 在 {a.begndate} 无有效的险种 {a.insutype} 参保"
        )
    name, area, hosp_lv = _where(conn, a)
    limit = time_limit_days(enr.insuplc_admdvs, at.date())
    claim_no = f"LB{enr.insuplc_admdvs}{at.astimezone(CHINA):%Y%m%d}{store.next_seq(conn):06d}"
    row = {
        "claim_no": claim_no, "source": a.source, "request_id": a.request_id, "fingerprint": fp,
        "psn_no": a.psn_no, "insutype": a.insutype, "insuplc_admdvs": enr.insuplc_admdvs,
        "mdtrtarea_admvs": area, "fixmedins_code": a.fixmedins_code, "fixmedins_name": name,
        "hosp_lv": hosp_lv, "med_type": a.med_type, "mdtrt_id": a.mdtrt_id, "begndate": a.begndate,
        "enddate": a.enddate, "dise_codg": a.dise_codg, "reason": a.reason,
        "payee_name": a.payee_name, "payee_bank": a.payee_bank, "payee_account": a.payee_account,
        "fee_rows": [{"feedetl_sn": f.feedetl_sn, "med_list_codg": f.med_list_codg,
                      "medins_list_codg": f.medins_list_codg, "name": f.name, "pric": str(f.pric),
                      "cnt": str(f.cnt), "amount": f.amount} for f in fees],
        "fee_total": total, "selfpay_check": _selfpay_check(conn, a.fixmedins_code, a.mdtrt_id, total),
        "status": m.SUBMITTED, "time_limit_days": limit,
        "due_date": at.astimezone(CHINA).date() + timedelta(days=limit), "submitted_at": at,
    }  # fmt: skip
    invs = [{"inv_code": i.inv_code, "inv_no": i.inv_no, "amount": i.amount, "inv_date": i.inv_date,
             "active": True} for i in invoices]  # fmt: skip
    store.insert(conn, row, invs, files)
    store.event(conn, claim_no, "submit", a.source, at, amount=total)
    audit(conn, a.source, "claim.submit", claim_no)
    return claim_no


def _bill(c: Mapping[str, Any]) -> ClaimBill:
    fees = m.parse_fee_rows(
        [{**f, "det_item_fee_sumamt": f"{int(f['amount']) / 100:.2f}"} for f in c["fee_rows"]]
    )
    return ClaimBill(c["psn_no"], c["insutype"], c["med_type"], c["mdtrtarea_admvs"], c["hosp_lv"],
                     c["begndate"], c["enddate"], c["dise_codg"], fees,
                     emergency=c["reason"] == "emergency")  # fmt: skip


def price(conn: sa.Connection, c: Mapping[str, Any]) -> PricedClaim:
    try:
        return flow.run(hot.driver(conn), price_claim(_bill(c)))
    except CheckoutError as exc:
        raise ClaimRefused(f"按结算规则计算失败：{exc.err_msg}") from None


def _claim(conn: sa.Connection, claim_no: str, allowed: Any) -> dict[str, Any]:
    c = store.get(conn, claim_no, lock=True)
    if c is None or (allowed is not None and not allowed(c["insuplc_admdvs"])):
        raise ClaimRefused(f"没有报销申请 {claim_no}，或不在您的管辖区域")
    return c


def _wf(c: Mapping[str, Any]) -> m.Workflow:
    return m.Workflow(
        c["status"], c["accepted_by"], c["reviewed_by"], c["approved_by"], c["paid_by"]
    )


def act(engine: sa.Engine, claim_no: str, action: str, actor: str, *, note: str = "",
        at: datetime | None = None, allowed: Any = None) -> dict[str, Any]:  # fmt: skip
    """One workflow step by ``actor``; returns the claim after it."""
    at = at or now()
    with engine.begin() as conn:
        c = _claim(conn, claim_no, allowed)
        wf = m.step(_wf(c), action, actor)
        values: dict[str, Any] = {"status": wf.status}
        amount: int | None = None
        if action == "accept":
            values.update(accepted_by=actor, accepted_at=at)
        elif action == "review":
            p = price(conn, c)
            amount = p.fund_total
            values.update(reviewed_by=actor, reviewed_at=at, reviewed_amt=amount, setlinfo=p.priced.setlinfo,
                          setldetail=p.priced.setldetail, trace=p.trace())  # fmt: skip
        elif action == "approve":
            p = price(conn, c)
            amount = p.fund_total
            chain = m.approval_chain(
                claim_no, c["psn_no"], c["insuplc_admdvs"], p.funds(), at.astimezone(CHINA).date()
            )
            try:
                flow.run(hot.driver(conn), consume(p, ledger_sql.post_chain(chain)))
            except flow.Conflict:
                raise ClaimRefused("该参保人的年度累计在复核时被其他结算修改，请重试") from None
            if amount != c["reviewed_amt"]:
                note = (
                    note + "；" if note else ""
                ) + f"复核时按最新年度累计重算，审核金额 {c['reviewed_amt'] / 100:.2f} 元"
            values.update(approved_by=actor, approved_at=at, reimburse_amt=amount, setlinfo=p.priced.setlinfo,
                          setldetail=p.priced.setldetail, trace=p.trace(), deltas=p.priced.deltas)  # fmt: skip
        elif action == "pay":
            amount = int(c["reimburse_amt"] or 0)
            chain = m.payment_chain(
                claim_no, c["psn_no"], c["insuplc_admdvs"], amount, at.astimezone(CHINA).date()
            )
            flow.run(hot.driver(conn), _post(chain))
            values.update(paid_by=actor, paid_at=at)
        elif action == "refuse":
            if not note.strip():
                raise ClaimRefused("不予报销须写明理由")
            values.update(refused_by=actor, refused_at=at, refuse_reason=note.strip())
            store.release(conn, claim_no)
        store.update(conn, claim_no, **values)
        store.event(conn, claim_no, action, actor, at, note, amount)
        audit(conn, actor, f"claim.{action}", claim_no)
        out = store.get(conn, claim_no)
        assert out is not None
        return out


def _post(chain: Any) -> flow.Flow[None]:
    yield flow.Write(*ledger_sql.post_chain(chain))


def holder(conn: sa.Connection, chnl_id: str, chnl_user_id: str) -> str:
    """The person a channel user is authorised for (active authorisation and e-voucher)."""
    from yibao.voucher.store import ec_authorization, ec_voucher

    row = conn.execute(
        sa.select(ec_authorization.c.psn_no, ec_voucher.c.status)
        .join(ec_voucher, ec_voucher.c.psn_no == ec_authorization.c.psn_no, isouter=True)
        .where(
            ec_authorization.c.chnl_id == chnl_id,
            ec_authorization.c.chnl_user_id == chnl_user_id,
            ec_authorization.c.status == "active",
        )
    ).first()
    if row is None or row.status != "active":
        raise ClaimRefused("渠道用户未授权或电子凭证未激活")
    return str(row.psn_no)


def get(conn: sa.Connection, claim_no: str, allowed: Any = None) -> dict[str, Any] | None:
    c = store.get(conn, claim_no)
    if c is None or (allowed is not None and not allowed(c["insuplc_admdvs"])):
        return None
    c["events"] = store.events(conn, claim_no)
    c["invoices"] = store.invoices(conn, claim_no)
    c["files"] = store.files(conn, claim_no)
    return c


def file_content(conn: sa.Connection, claim_no: str, seq: int) -> dict[str, Any] | None:
    return next((f for f in store.files(conn, claim_no, content=True) if f["seq"] == seq), None)


def listing(
    conn: sa.Connection, *, prefixes: list[str] | None, status: str = "", psn_no: str = ""
) -> list[dict[str, Any]]:
    return store.listing(conn, prefixes=prefixes, status=status, psn_no=psn_no)


def time_limit_of(c: Mapping[str, Any], today: date) -> m.TimeLimit:
    return m.time_limit(
        c["submitted_at"], int(c["time_limit_days"]), today, c.get("paid_at"), c.get("refused_at")
    )


def overdue(
    conn: sa.Connection, today: date, prefixes: list[str] | None = None
) -> list[dict[str, Any]]:
    return store.overdue(conn, today, prefixes)

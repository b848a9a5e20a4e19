"""The hub role (跨省结算中转): forward settlements and reversals to the insured province, keep one
relay record per ``relay_id``, and compare the provinces' monthly clearing figures.

Network calls never run inside a database transaction: the relay record is written
``pending`` first, the insured side is called, then the outcome is stored. A timeout leaves the
record ``pending``; the treatment side then sends a reversal (冲正), which the hub forwards the
same way, so both ends agree that the settlement did not happen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from yibao.clearing.model import ClearingError, clearing_amount, period_bounds
from yibao.encounter.service import business_day
from yibao.hub import store
from yibao.hub.http import signed_post
from yibao.hub.model import (
    PENDING,
    REFUSED,
    REVERSED,
    SETTLED,
    RelayRequest,
    province,
    request_hash,
)
from yibao.hub.settings import HubSettings


class HubError(Exception):
    """A relay the hub cannot do; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _today() -> date:
    return business_day(datetime.now(UTC))


def _amounts(answer: Mapping[str, Any]) -> tuple[int, int]:
    info = answer.get("setlinfo") or {}
    acct = int(info.get("acct_pay", 0) or 0)
    return int(info.get("medfee_sumamt", 0) or 0), clearing_amount(
        answer.get("setldetail") or [], acct
    )


def relay_settle(
    engine: sa.Engine, raw: dict[str, Any], *, from_node: str, cfg: HubSettings
) -> dict[str, Any]:
    """Forward one settlement to the insured province; idempotent on ``relay_id``."""
    try:
        req = RelayRequest.from_json(raw)
    except ValueError as e:
        raise HubError(422, str(e)) from None
    payload = req.to_json()
    digest = request_hash(payload)
    target = province(req.insuplc_admdvs)
    peer = cfg.peers.get(target)
    if peer is None:
        raise HubError(422, f"insuplc_admdvs: 省份 {target} 未接入中转平台")
    with engine.begin() as conn:
        store.lock(conn, req.relay_id)
        row = store.get(conn, store.relay, req.relay_id)
        if row is not None:
            if row["request_hash"] != digest and row["status"] != REVERSED:
                raise HubError(409, f"relay_id {req.relay_id} 已用于另一笔不同内容的结算")
            if row["status"] in (SETTLED, REFUSED):
                return dict(row["response"])
            if row["status"] == REVERSED:
                return {"relay_id": req.relay_id, "status": REFUSED,
                        "err_msg": f"relay_id {req.relay_id} 已冲正，不能再结算"}  # fmt: skip
        else:
            store.upsert(
                conn, store.relay, req.relay_id, from_node=from_node, to_province=target,
                insuplc_admdvs=req.insuplc_admdvs, mdtrtarea_admvs=req.mdtrtarea_admvs,
                status=PENDING, request_hash=digest, request=payload, created_at=sa.func.now(),
            )  # fmt: skip
    try:
        r = signed_post(peer, "/api/hub/insured/settle", payload, secret=cfg.secret, node="hub",
                        timeout=cfg.timeout)  # fmt: skip
    except httpx.HTTPError as e:
        raise HubError(
            504, f"参保地 ({target}) 无应答：{type(e).__name__}", status_=PENDING
        ) from None
    if r.status_code != 200:
        raise HubError(502, f"参保地 ({target}) 返回 HTTP {r.status_code}：{r.text[:200]}")
    answer: dict[str, Any] = r.json()
    medfee, amt = _amounts(answer) if answer.get("status") == SETTLED else (0, 0)
    with engine.begin() as conn:
        store.lock(conn, req.relay_id)
        row = store.get(conn, store.relay, req.relay_id)
        if row is not None and row["status"] == REVERSED:  # a reversal overtook this answer
            return {"relay_id": req.relay_id, "status": REFUSED, "err_msg": "已冲正"}
        store.update(
            conn, store.relay, req.relay_id, status=answer.get("status", REFUSED), response=answer,
            medfee_sumamt=medfee, clearing_amt=amt,
            settled_on=_today() if answer.get("status") == SETTLED else None,
        )  # fmt: skip
    return answer


def relay_reverse(
    engine: sa.Engine, raw: dict[str, Any], *, from_node: str, cfg: HubSettings
) -> dict[str, Any]:
    """Forward a reversal (冲正) of ``relay_id`` to the insured province; idempotent."""
    relay_id = str(raw.get("relay_id", ""))
    insuplc = str(raw.get("insuplc_admdvs", ""))
    if not relay_id or not (len(insuplc) == 6 and insuplc.isdigit()):
        raise HubError(422, "relay_id 与 insuplc_admdvs 必填")
    peer = cfg.peers.get(province(insuplc))
    if peer is None:
        raise HubError(422, f"insuplc_admdvs: 省份 {province(insuplc)} 未接入中转平台")
    with engine.connect() as conn:
        row = store.get(conn, store.relay, relay_id)
    if row is not None and row["status"] == REVERSED:
        return dict(row["response"])
    try:
        r = signed_post(peer, "/api/hub/insured/reverse", {"relay_id": relay_id}, secret=cfg.secret,
                        node="hub", timeout=cfg.timeout)  # fmt: skip
    except httpx.HTTPError as e:
        raise HubError(504, f"参保地无应答：{type(e).__name__}") from None
    if r.status_code != 200:
        raise HubError(502, f"参保地返回 HTTP {r.status_code}：{r.text[:200]}")
    answer: dict[str, Any] = r.json()
    with engine.begin() as conn:
        store.lock(conn, relay_id)
        values: dict[str, Any] = {"status": REVERSED, "response": answer, "reversed_on": _today()}
        if row is None:
            values.update(
                from_node=from_node, to_province=province(insuplc), insuplc_admdvs=insuplc,
                mdtrtarea_admvs=str(raw.get("mdtrtarea_admvs", "")), request_hash="",
                request={}, created_at=sa.func.now(),
            )  # fmt: skip
        if row is None:
            store.upsert(conn, store.relay, relay_id, **values)
        else:
            store.update(conn, store.relay, relay_id, **values)
    return answer


def relay_record(engine: sa.Engine, relay_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = store.get(conn, store.relay, relay_id)
    if row is None:
        return None
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()}


def hub_figures(conn: sa.Connection, period: str) -> dict[str, dict[str, int]]:
    """Per direction ``"<insured prov>-><treatment prov>"``: relays settled (+) and reversed (−)
    in the month, as count and clearing amount (fen), from the hub's relay records."""
    first, last = period_bounds(period)
    r = store.relay
    out: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        sa.select(
            r.c.insuplc_admdvs,
            r.c.mdtrtarea_admvs,
            r.c.clearing_amt,
            r.c.settled_on,
            r.c.reversed_on,
        ).where(r.c.settled_on.is_not(None))
    )
    for ins, trt, amt, settled_on, reversed_on in rows:
        key = f"{province(ins)}->{province(trt)}"
        d = out.setdefault(key, {"count": 0, "clearing_amt": 0})
        if first <= settled_on <= last:
            d["count"] += 1
            d["clearing_amt"] += int(amt)
        if reversed_on is not None and first <= reversed_on <= last:
            d["count"] += 1
            d["clearing_amt"] -= int(amt)
    return out


def report_clearing(
    engine: sa.Engine, period: str, node_province: str, figures: Mapping[str, Mapping[str, int]]
) -> dict[str, Any]:
    """A province reports its own view of the month; the answer compares it with the hub's."""
    if len(node_province) != 2 or not node_province.isdigit():
        raise HubError(422, "province: 须为两位省份代码")
    with engine.begin() as conn:
        hub = hub_figures(conn, period)
        for key in set(figures) | {k for k in hub if node_province in k.split("->")}:
            a, _, b = key.partition("->")
            pa, pb = sorted((a, b))
            conn.execute(
                sa.text(
                    "INSERT INTO hub_clearing_report (period, province_a, province_b, node, figures) "
                    "VALUES (:p, :a, :b, :n, CAST(:f AS jsonb)) ON CONFLICT (period, province_a, "
                    "province_b, node) DO UPDATE SET figures = EXCLUDED.figures, updated_at = now()"
                ),
                {"p": period, "a": pa, "b": pb, "n": node_province,
                 "f": json.dumps({k: dict(v) for k, v in figures.items() if k in (f"{pa}->{pb}", f"{pb}->{pa}")})},
            )  # fmt: skip
    rows = []
    for key in sorted(set(figures) | {k for k in hub if node_province in k.split("->")}):
        theirs = dict(figures.get(key, {"count": 0, "clearing_amt": 0}))
        ours = hub.get(key, {"count": 0, "clearing_amt": 0})
        rows.append({"direction": key, "province": theirs, "hub": ours,
                     "agree": theirs.get("clearing_amt") == ours["clearing_amt"]})  # fmt: skip
    return {"period": period, "province": node_province, "directions": rows,
            "agree": all(r["agree"] for r in rows)}  # fmt: skip


def _peer(cfg: HubSettings, insuplc: str) -> str:
    if not (len(insuplc) == 6 and insuplc.isdigit()):
        raise HubError(422, "insuplc_admdvs: 须为6位医保区划代码")
    peer = cfg.peers.get(province(insuplc))
    if peer is None:
        raise HubError(422, f"insuplc_admdvs: 省份 {province(insuplc)} 未接入中转平台")
    return peer


def _forward(cfg: HubSettings, insuplc: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` to the insured province's ``path``; nothing is stored at the hub."""
    peer = _peer(cfg, insuplc)
    try:
        r = signed_post(peer, path, payload, secret=cfg.secret, node="hub", timeout=cfg.timeout)
    except httpx.HTTPError as e:
        raise HubError(504, f"参保地无应答：{type(e).__name__}") from None
    if r.status_code != 200:
        raise HubError(502, f"参保地返回 HTTP {r.status_code}：{r.text[:200]}")
    return dict(r.json())


def relay_person(engine: sa.Engine, raw: dict[str, Any], *, cfg: HubSettings) -> dict[str, Any]:
    """Forward a person lookup (1101) to the province of ``insuplc_admdvs``; nothing is stored.

    The person is named by certificate (``psn_cert_type``/``certno``) or by an e-voucher
    ``ec_token`` with the ``org_id`` of the institution that presents it (医保电子凭证)."""
    insuplc = str(raw.get("insuplc_admdvs", ""))
    keys = ("psn_cert_type", "certno", "on_date", "ec_token", "org_id")
    payload = {k: raw.get(k) for k in keys if raw.get(k) is not None}
    return _forward(cfg, insuplc, "/api/hub/insured/person", payload)


def relay_price(
    engine: sa.Engine, raw: dict[str, Any], *, from_node: str, cfg: HubSettings
) -> dict[str, Any]:
    """Forward a dry run (预结算) to the insured province. Nothing is stored here or there, so
    it is safe to repeat and reserves nothing: a later settle with any ``relay_id`` is
    unaffected (the hub's relay records are for settlements only)."""
    try:
        req = RelayRequest.from_json(raw)
    except ValueError as e:
        raise HubError(422, str(e)) from None
    return _forward(cfg, req.insuplc_admdvs, "/api/hub/insured/price", req.to_json())


def relay_ec_query(
    engine: sa.Engine, raw: dict[str, Any], *, from_node: str, cfg: HubSettings
) -> dict[str, Any]:
    """Forward a scanned e-voucher code (ec.query) to the province that issued it
    (``insuplc_admdvs`` = the code's region); that province verifies it and binds the ecToken
    to ``orgId``. Nothing is stored at the hub."""
    insuplc = str(raw.get("insuplc_admdvs", ""))
    keys = ("insuplc_admdvs", "qrCode", "orgId", "businessType", "operatorId", "operatorName",
            "officeId", "officeName", "outBizNo")  # fmt: skip
    payload = {k: str(raw.get(k) or "") for k in keys}
    if not payload["qrCode"] or not payload["orgId"]:
        raise HubError(422, "qrCode 与 orgId 必填")
    return _forward(cfg, insuplc, "/api/hub/insured/ec-query", payload)


def clearing_statement(engine: sa.Engine, period: str, node_province: str) -> dict[str, Any]:
    """The hub's inter-province statement (省间清算单) of a month for one province: per
    direction the hub's relay figures and what each province reported, and per pair of
    provinces who pays whom (the net of the two directions, from the hub's figures)."""
    if len(node_province) != 2 or not node_province.isdigit():
        raise HubError(422, "province: 须为两位省份代码")
    try:
        period_bounds(period)
    except ClearingError as e:
        raise HubError(422, f"period: {e.message}") from None
    t = store.clearing_report
    with engine.connect() as conn:
        hub = hub_figures(conn, period)
        rows = conn.execute(
            sa.select(t.c.province_a, t.c.province_b, t.c.node, t.c.figures, t.c.updated_at).where(
                t.c.period == period,
                sa.or_(t.c.province_a == node_province, t.c.province_b == node_province),
            )
        ).all()
    reported: dict[str, dict[str, Any]] = {}
    for _, _, node, figures, updated_at in rows:
        for key, value in (figures or {}).items():
            reported.setdefault(key, {})[node] = {
                **dict(value),
                "reported_at": updated_at.isoformat() if updated_at else None,
            }
    zero = {"count": 0, "clearing_amt": 0}
    keys = sorted({k for k in hub if node_province in k.split("->")} | set(reported))
    directions = []
    for key in keys:
        ours = hub.get(key, zero)
        theirs = reported.get(key, {})
        directions.append({
            "direction": key, "insured": key.split("->")[0], "treatment": key.split("->")[1],
            "hub": ours, "reports": theirs,
            "agree": bool(theirs) and all(
                v.get("clearing_amt") == ours["clearing_amt"] for v in theirs.values()
            ),
        })  # fmt: skip
    pairs = []
    for other in sorted({p for k in keys for p in k.split("->")} - {node_province}):
        owed_by_us = hub.get(f"{node_province}->{other}", zero)["clearing_amt"]
        owed_to_us = hub.get(f"{other}->{node_province}", zero)["clearing_amt"]
        net = owed_by_us - owed_to_us  # the insured province repays the treatment province
        pairs.append({
            "pair": [node_province, other],
            "payer": node_province if net > 0 else other if net < 0 else "",
            "payee": other if net > 0 else node_province if net < 0 else "",
            "net_amount": abs(net),
        })  # fmt: skip
    return {"period": period, "province": node_province, "directions": directions,
            "pairs": pairs, "agree": all(d["agree"] for d in directions)}  # fmt: skip

"""Treatment side of a cross-province settlement (就医地): relay through the hub, record locally.

For helper G's checkout, when ``insuplc_admdvs[:2]`` is not this deployment's province
(:func:`is_cross_province`)::

    from yibao.hub.client import relay_settlement, record_relayed, RelayError
    result = relay_settlement(RelayRequest(relay_id=ctx.msgid, ...classified items...))
    # result.setlinfo / setldetail / items: the insured side's split (fen)
    record_relayed(ctx.conn, visit, result, msgid=ctx.msgid, setl_time=ctx.now)

``relay_settlement`` succeeds only with the insured side's recorded settlement. A refusal
raises :class:`RelayError`; a timeout (or any unknown outcome) makes it send a reversal (冲正)
with the same ``relay_id`` before raising, so the settlement fails as a whole on both sides. If
even the reversal cannot be delivered the error is ``uncertain``: answer the HIS with a failure
and retry :func:`reverse_settlement` later (the hub and the insured side are idempotent, and a
settle arriving after its reversal is refused). Cancel (2208/2305/2103) or 2601 of a relayed
settlement: :func:`reverse_settlement`, then the local cancellation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from yibao.encounter import service as encounters
from yibao.encounter.model import Encounter
from yibao.hub.http import signed_get, signed_post
from yibao.hub.model import PRICED, REVERSED, SETTLED, RelayError, RelayRequest, province
from yibao.hub.settings import HubSettings
from yibao.ledger import post_reversal, post_settlement, posting_from_setlinfo

__all__ = [
    "RelayError",
    "RelayRequest",
    "RelayResult",
    "cancel_relayed",
    "clearing_statement",
    "is_cross_province",
    "price_settlement",
    "record_relayed",
    "relay_ec_query",
    "relay_person_info",
    "relay_settlement",
    "report_clearing",
    "reverse_settlement",
]


@dataclass(frozen=True, slots=True)
class RelayResult:
    """The insured side's settlement (amounts in fen, national field names)."""

    relay_id: str
    psn_no: str
    insu_setl_id: str
    filing: str
    setlinfo: Mapping[str, Any]
    setldetail: Sequence[Mapping[str, Any]]
    items: Sequence[Mapping[str, Any]]
    raw: Mapping[str, Any]


def is_cross_province(insuplc_admdvs: str, cfg: HubSettings | None = None) -> bool:
    """Whether a settlement must be relayed (the insured province is not this deployment's)."""
    cfg = cfg or HubSettings()
    return bool(cfg.province) and province(insuplc_admdvs) != cfg.province


def _post(cfg: HubSettings, path: str, payload: dict[str, Any]) -> httpx.Response:
    if not cfg.hub_url or not cfg.secret:
        raise RelayError("跨省中转未配置 (YIBAO_HUB_URL / YIBAO_HUB_SECRET)")
    return signed_post(
        cfg.hub_url, path, payload, secret=cfg.secret, node=cfg.node, timeout=cfg.timeout
    )


def relay_settlement(request: RelayRequest, *, cfg: HubSettings | None = None) -> RelayResult:
    """Settle ``request`` on the insured side through the hub, exactly once (see module doc)."""
    cfg = cfg or HubSettings()
    try:
        r = _post(cfg, "/api/hub/relay/settle", request.to_json())
        body: dict[str, Any] = (
            r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        )
    except (httpx.HTTPError, ValueError) as e:
        _reverse_or_raise(request, cfg, f"中转超时或中断：{type(e).__name__}")
        raise AssertionError("unreachable") from e
    if r.status_code in (502, 504) or (
        r.status_code == 200 and body.get("status") not in (SETTLED, "refused")
    ):
        _reverse_or_raise(
            request, cfg, str(body.get("message") or body.get("err_msg") or r.status_code)
        )
    if r.status_code != 200:
        raise RelayError(str(body.get("message") or f"中转平台拒绝：HTTP {r.status_code}"))
    if body.get("status") != SETTLED:
        raise RelayError(f"参保地拒绝结算：{body.get('err_msg', '')}")
    return RelayResult(
        relay_id=request.relay_id,
        psn_no=str(body["psn_no"]),
        insu_setl_id=str(body["insu_setl_id"]),
        filing=str(body.get("filing", "")),
        setlinfo=body["setlinfo"],
        setldetail=body["setldetail"],
        items=body["items"],
        raw=body,
    )


def price_settlement(request: RelayRequest, *, cfg: HubSettings | None = None) -> RelayResult:
    """预结算 (dry run) of ``request`` by the insured side through the hub: the split it would
    record now (its policy, filings, accumulators and account), with nothing written on any
    side. Safe to repeat; ``relay_id`` is only echoed (``insu_setl_id`` is empty). Raises
    :class:`RelayError` on a refusal or a hop failure (nothing to undo)."""
    cfg = cfg or HubSettings()
    try:
        r = _post(cfg, "/api/hub/relay/price", request.to_json())
        body: dict[str, Any] = (
            r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        )
    except (httpx.HTTPError, ValueError) as e:
        raise RelayError(f"中转平台无应答：{type(e).__name__}") from None
    if r.status_code != 200:
        raise RelayError(str(body.get("message") or f"中转平台拒绝：HTTP {r.status_code}"))
    if body.get("status") != PRICED:
        raise RelayError(f"参保地拒绝预结算：{body.get('err_msg', '')}")
    return RelayResult(
        relay_id=request.relay_id,
        psn_no=str(body["psn_no"]),
        insu_setl_id="",
        filing=str(body.get("filing", "")),
        setlinfo=body["setlinfo"],
        setldetail=body["setldetail"],
        items=body["items"],
        raw=body,
    )


def _reverse_or_raise(request: RelayRequest, cfg: HubSettings, why: str) -> None:
    try:
        reverse_settlement(
            request.relay_id, request.insuplc_admdvs, request.mdtrtarea_admvs, cfg=cfg
        )
    except RelayError as e:
        raise RelayError(
            f"{why}；冲正未完成，结果未知，请稍后重试冲正：{e.message}", uncertain=True
        ) from None
    raise RelayError(f"{why}；已冲正，本次结算未生效")


def reverse_settlement(
    relay_id: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str = "",
    *,
    cfg: HubSettings | None = None,
    attempts: int = 3,
) -> dict[str, Any]:
    """冲正 a relayed settlement through the hub (idempotent; retried ``attempts`` times)."""
    cfg = cfg or HubSettings()
    payload = {
        "relay_id": relay_id,
        "insuplc_admdvs": insuplc_admdvs,
        "mdtrtarea_admvs": mdtrtarea_admvs,
    }
    last = ""
    for n in range(attempts):
        try:
            r = _post(cfg, "/api/hub/relay/reverse", payload)
            if r.status_code == 200 and r.json().get("status") == REVERSED:
                return dict(r.json())
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as e:
            last = type(e).__name__
        time.sleep(0.2 * (n + 1))
    raise RelayError(f"冲正 {relay_id} 未成功：{last}", uncertain=True)


def record_relayed(
    conn: sa.Connection,
    visit: Encounter,
    result: RelayResult,
    *,
    msgid: str,
    setl_time: datetime,
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
) -> encounters.SettlementRecord:
    """Record the insured side's split on this side's visit and post the ledger chain (the
    treatment region advances the money against its clearing account). No accumulators change
    here: they live in the insured deployment. ``mid_setl``: a 中途结算 (the stay goes on)."""
    info = {**result.setlinfo, "medins_setl_id": msgid, "relay_id": result.relay_id,
            "insu_setl_id": result.insu_setl_id}  # fmt: skip
    rec = encounters.record_settlement(
        conn, visit, msgid=msgid, setlinfo=info, setldetail=list(result.setldetail),
        trace={"relayed": result.relay_id, "insu_setl_id": result.insu_setl_id, "filing": result.filing},
        accumulator_deltas={}, acc_year=int(result.raw.get("acc_year", setl_time.year)),
        setl_time=setl_time, clr_type=str(result.setlinfo.get("clr_type", "")),
        clr_optins=visit.mdtrtarea_admvs, chrg_bchno=chrg_bchno, mid_setl=mid_setl,
    )  # fmt: skip
    post_settlement(
        conn,
        posting_from_setlinfo(
            rec.setlinfo, rec.setldetail, msgid=msgid, fixmedins_code=visit.fixmedins_code,
            insuplc_admdvs=visit.insuplc_admdvs, mdtrtarea_admvs=visit.mdtrtarea_admvs,
            value_date=encounters.business_day(setl_time), psn_no=visit.psn_no, setl_id=rec.setl_id,
        ),
    )  # fmt: skip
    return rec


def cancel_relayed(
    conn: sa.Connection,
    visit: Encounter,
    setl_id: str,
    *,
    relay_id: str,
    msgid: str,
    setl_time: datetime,
    cfg: HubSettings | None = None,
) -> encounters.SettlementRecord:
    """撤销 a relayed settlement: reverse it on the insured side through the hub first (raises
    :class:`RelayError` if that fails — nothing is changed here then), then record this side's
    negative settlement and the ledger's mirror chain."""
    reverse_settlement(relay_id, visit.insuplc_admdvs, visit.mdtrtarea_admvs, cfg=cfg)
    rec = encounters.record_cancellation(
        conn, visit, original_setl_id=setl_id, msgid=msgid, setl_time=setl_time
    )
    post_reversal(
        conn, setl_id, rec.setl_id, msgid=msgid, value_date=encounters.business_day(setl_time)
    )
    return rec


def province_figures(
    conn: sa.Connection, period: str, own_province: str
) -> dict[str, dict[str, int]]:
    """This deployment's cross-province clearing figures of a month, per direction
    ``"<insured prov>-><treatment prov>"`` (from its clearing statements; run them first)."""
    from yibao.clearing import service as clearing

    out: dict[str, dict[str, int]] = {}
    for stmt in clearing.statements(conn, period):
        for d in stmt.totals["directions"]:
            a, b = province(d["insured"]), province(d["treatment"])
            if a == b or own_province not in (a, b):
                continue
            f = out.setdefault(f"{a}->{b}", {"count": 0, "clearing_amt": 0})
            f["count"] += int(d["settlements"]) + int(d["cancellations"])
            f["clearing_amt"] += int(d["clearing_amt"])
    return out


def report_clearing(
    conn: sa.Connection, period: str, *, cfg: HubSettings | None = None
) -> dict[str, Any]:
    """Send this province's monthly figures to the hub; the answer says per direction whether
    they agree with the hub's relay records (省间清算核对)."""
    cfg = cfg or HubSettings()
    if not cfg.province:
        raise RelayError("YIBAO_PROVINCE 未配置")
    figures = province_figures(conn, period, cfg.province)
    try:
        r = _post(
            cfg,
            "/api/hub/clearing/report",
            {"period": period, "province": cfg.province, "figures": figures},
        )
    except httpx.HTTPError as e:
        raise RelayError(f"中转平台无应答：{type(e).__name__}") from None
    if r.status_code != 200:
        raise RelayError(f"中转平台拒绝：HTTP {r.status_code} {r.text[:200]}")
    return dict(r.json())


def clearing_statement(period: str, *, cfg: HubSettings | None = None) -> dict[str, Any]:
    """The hub's inter-province statement (省间清算单) of ``period`` for this province: per
    direction the hub's relay figures and each province's report, per pair who pays whom."""
    cfg = cfg or HubSettings()
    if not cfg.province:
        raise RelayError("YIBAO_PROVINCE 未配置")
    if not cfg.hub_url or not cfg.secret:
        raise RelayError("跨省中转未配置 (YIBAO_HUB_URL / YIBAO_HUB_SECRET)")
    try:
        r = signed_get(cfg.hub_url, f"/api/hub/clearing/{period}/{cfg.province}",
                       secret=cfg.secret, node=cfg.node, timeout=cfg.timeout)  # fmt: skip
    except httpx.HTTPError as e:
        raise RelayError(f"中转平台无应答：{type(e).__name__}") from None
    if r.status_code != 200:
        raise RelayError(f"中转平台拒绝：HTTP {r.status_code} {r.text[:200]}")
    return dict(r.json())


def relay_ec_query(
    insuplc_admdvs: str, query: dict[str, str], *, cfg: HubSettings | None = None
) -> dict[str, Any]:
    """A scanned code issued by another province (ec.query), verified and exchanged there for
    an ecToken bound to ``query["orgId"]``. Answers ``{"status": "ok", "data": …}`` or
    ``{"status": "refused", "code", "error", "message"}``; raises :class:`RelayError` when the
    hub or the province cannot be reached."""
    cfg = cfg or HubSettings()
    try:
        r = _post(cfg, "/api/hub/relay/ec-query", {**query, "insuplc_admdvs": insuplc_admdvs})
    except httpx.HTTPError as e:
        raise RelayError(f"中转平台无应答：{type(e).__name__}") from None
    body = r.json() if r.status_code == 200 else {}
    if body.get("status") not in ("ok", "refused"):
        raise RelayError(f"中转平台拒绝：HTTP {r.status_code} {r.text[:200]}")
    return dict(body)


def relay_person_info(
    certno: str,
    insuplc_admdvs: str,
    on_date: date,
    *,
    psn_cert_type: str = "01",
    ec_token: str = "",
    org_id: str = "",
    cfg: HubSettings | None = None,
) -> dict[str, Any]:
    """1101 for a person insured in another province: the insured side's ``baseinfo`` /
    ``insuinfo`` / ``idetinfo`` output, through the hub. The person is named by ``certno``, or
    (医保电子凭证, mdtrt_cert_type 01) by the ``ec_token`` that province issued for institution
    ``org_id``, which it verifies. Raises :class:`RelayError`."""
    cfg = cfg or HubSettings()
    payload = {"psn_cert_type": psn_cert_type, "certno": certno, "insuplc_admdvs": insuplc_admdvs,
               "on_date": on_date.isoformat()}  # fmt: skip
    if ec_token:
        payload.update(ec_token=ec_token, org_id=org_id)
    try:
        r = _post(cfg, "/api/hub/relay/person", payload)
    except httpx.HTTPError as e:
        raise RelayError(f"中转平台无应答：{type(e).__name__}") from None
    body = r.json() if r.status_code == 200 else {}
    if body.get("status") != "ok":
        raise RelayError(
            str(body.get("err_msg") or f"中转平台拒绝：HTTP {r.status_code} {r.text[:200]}"),
            key=str(body.get("error") or ""),
        )
    return dict(body["output"])

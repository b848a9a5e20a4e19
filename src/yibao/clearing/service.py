"""Clearing use cases (异地清算): monthly run per pair of regions, confirm, approve (posts to the
ledger), send back, read, export. Every function runs in the caller's transaction.

Typical month::

    stmts = run(conn, "2026-10", actor="zhang")           # one draft per pair with traffic
    confirm(conn, stmts[0].stmt_id, actor="zhang")        # 经办确认
    approve(conn, stmts[0].stmt_id, actor="li", today=d)  # 审批 (another user) → ledger.post_clearing
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.clearing import model, store
from yibao.clearing.model import ClearingError, Line, State, Totals
from yibao.db.tables import audit
from yibao.ledger import post_clearing


@dataclass(frozen=True, slots=True)
class Statement:
    """A clearing statement (清算单) with its totals."""

    stmt_id: str
    period: str
    pair: tuple[str, str]
    state: State
    line_count: int
    totals: Mapping[str, Any]
    payer: str | None
    payee: str | None
    net_amount: int
    version: int
    created_by: str
    confirmed_by: str
    approved_by: str
    ledger_chain_id: str
    history: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["pair"] = list(self.pair)
        out["state_name"] = model.STATE_NAMES[self.state]
        return out


def _statement(row: Mapping[str, Any]) -> Statement:
    return Statement(
        row["stmt_id"], row["period"], (row["region_a"], row["region_b"]), State(row["state"]),
        row["line_count"], row["totals"], row["payer"], row["payee"], int(row["net_amount"]),
        row["version"], row["created_by"], row["confirmed_by"], row["approved_by"],
        row["ledger_chain_id"], list(row["history"]),
    )  # fmt: skip


def _totals_json(t: Totals) -> dict[str, Any]:
    return {
        "directions": [asdict(d) for d in t.directions],
        "by_clr_type": dict(t.by_clr_type),
        "payer": t.payer,
        "payee": t.payee,
        "net_amount": t.net_amount,
    }


def _event(action: str, actor: str, **extra: Any) -> sa.ColumnElement[Any]:
    entry = {"action": action, "actor": actor, **extra}
    return store.statement.c.history.op("||")(sa.cast([entry], store.statement.c.history.type))


def run(
    conn: sa.Connection,
    period: str,
    *,
    actor: str,
    pair: tuple[str, str] | None = None,
) -> list[Statement]:
    """Build (or rebuild, while still 草稿) the statements of ``period``.

    Without ``pair``: every pair of regions with cross-region settlements in the month. A
    confirmed or approved statement is left as it is (frozen). Idempotent: the same
    settlements give the same statement.
    """
    if not actor:
        raise ClearingError("operator", "须提供操作员")
    first, last = model.period_bounds(period)
    wanted = model.pair_of(*pair) if pair else None
    found = store.cross_region_settlements(conn, first, last, wanted)
    by_pair: dict[tuple[str, str], list[Line]] = {}
    if wanted:
        by_pair[wanted] = []
    for ln in found:
        by_pair.setdefault(model.pair_of(ln.insuplc_admdvs, ln.mdtrtarea_admvs), []).append(ln)
    out = []
    for p in sorted(by_pair):
        out.append(_build(conn, period, p, by_pair[p], actor))
    return out


def _build(
    conn: sa.Connection, period: str, pair: tuple[str, str], lines: list[Line], actor: str
) -> Statement:
    stmt_id = model.statement_id(period, pair)
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": stmt_id})
    existing = store.get(conn, stmt_id, lock=True)
    t = model.totals(pair, lines)
    figures = {
        "line_count": len(lines),
        "totals": _totals_json(t),
        "payer": t.payer,
        "payee": t.payee,
        "net_amount": t.net_amount,
    }
    if existing is None:
        store.insert_statement(
            conn,
            {
                "stmt_id": stmt_id,
                "period": period,
                "region_a": pair[0],
                "region_b": pair[1],
                "state": State.DRAFT.value,
                "created_by": actor,
                "created_at": sa.func.now(),
                "history": [{"action": "run", "actor": actor, "lines": len(lines)}],
                **figures,
            },
        )
    else:
        state = State(existing["state"])
        if state is not State.DRAFT:
            return _statement(existing)
        unchanged = existing["totals"] == figures["totals"] and existing["line_count"] == len(lines)
        if unchanged and [ln.setl_id for ln in store.lines(conn, stmt_id)] == [
            ln.setl_id for ln in lines
        ]:
            return _statement(existing)
        store.update_statement(
            conn,
            stmt_id,
            version=existing["version"] + 1,
            history=_event("rerun", actor, lines=len(lines)),
            **figures,
        )
    store.replace_lines(conn, stmt_id, lines)
    row = store.get(conn, stmt_id)
    assert row is not None
    return _statement(row)


def _load(conn: sa.Connection, stmt_id: str) -> dict[str, Any]:
    row = store.get(conn, stmt_id, lock=True)
    if row is None:
        raise ClearingError("stmt_id", f"清算单 {stmt_id} 不存在")
    return row


def confirm(
    conn: sa.Connection, stmt_id: str, *, actor: str, version: int | None = None
) -> Statement:
    """经办确认 (draft → confirmed). ``version``: refuse if the draft was re-run meanwhile."""
    row = _load(conn, stmt_id)
    if version is not None and version != row["version"]:
        raise ClearingError(
            "version",
            f"清算单已重新生成（版本 {row['version']}，确认的是版本 {version}），请核对后再确认",
        )
    new = model.confirm(State(row["state"]), actor)
    store.update_statement(
        conn, stmt_id, state=new.value, confirmed_by=actor, confirmed_at=sa.func.now(),
        history=_event("confirm", actor),
    )  # fmt: skip
    return _statement(_load(conn, stmt_id))


def approve(conn: sa.Connection, stmt_id: str, *, actor: str, today: date) -> Statement:
    """审批 (confirmed → approved) by a second user, and post the net payment to the ledger
    (``yibao.ledger.post_clearing``, idempotent on the statement id) in the same transaction."""
    row = _load(conn, stmt_id)
    new = model.approve(State(row["state"]), actor, row["confirmed_by"])
    chain = ""
    if row["net_amount"] > 0:
        res = post_clearing(
            conn, stmt_id, payer_region=row["payer"], payee_region=row["payee"],
            amount=int(row["net_amount"]), value_date=today, msgid=stmt_id,
        )  # fmt: skip
        chain = res.chain_id
    store.update_statement(
        conn, stmt_id, state=new.value, approved_by=actor, approved_at=sa.func.now(),
        ledger_chain_id=chain, history=_event("approve", actor, ledger_chain_id=chain),
    )  # fmt: skip
    return _statement(_load(conn, stmt_id))


def send_back(conn: sa.Connection, stmt_id: str, *, actor: str, reason: str) -> Statement:
    """退回 (confirmed → draft) with a reason, by someone other than the confirmer."""
    row = _load(conn, stmt_id)
    new = model.send_back(State(row["state"]), actor, row["confirmed_by"], reason)
    store.update_statement(
        conn, stmt_id, state=new.value, confirmed_by="", confirmed_at=None,
        history=_event("send_back", actor, reason=reason),
    )  # fmt: skip
    return _statement(_load(conn, stmt_id))


def get(conn: sa.Connection, stmt_id: str) -> Statement:
    row = store.get(conn, stmt_id)
    if row is None:
        raise ClearingError("stmt_id", f"清算单 {stmt_id} 不存在")
    return _statement(row)


def statements(conn: sa.Connection, period: str | None = None) -> list[Statement]:
    if period:
        model.period_bounds(period)
    return [_statement(r) for r in store.of_period(conn, period)]


def lines(conn: sa.Connection, stmt_id: str) -> list[Line]:
    get(conn, stmt_id)
    return store.lines(conn, stmt_id)


def record_hub_report(
    conn: sa.Connection, period: str, *, actor: str, answer: Mapping[str, Any]
) -> None:
    """Audit that ``actor`` sent ``period``'s report to the cross-province hub and what it said."""
    audit(conn, actor, "clearing.hub_report", period, agree=bool(answer["agree"]))

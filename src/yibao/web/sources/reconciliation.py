"""Reconciliation and clearing read model (对账与清算).

- 中心结算汇总: the centre's own totals per institution, day, 险种 and 清算类别 from the stored
  settlement records (net of cancellations) — what a 3201 is compared against;
- 3201 对账结果: the institutions' reconciliation calls as the gateway logged them
  (:mod:`yibao.gateway.queries`), with the result code (stmt_rslt: 平 / 中心多 / 医药机构多 / 数据不一致);
- 异地清算往来 and 基金余额: from the fund ledger (:func:`yibao.ledger.queries.account_balances`).

All filtered through :mod:`yibao.console.scoping`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from yibao.clearing import queries as clearing
from yibao.console.model import Scope
from yibao.encounter import queries as encounters
from yibao.gateway import queries as gateway
from yibao.institutions import queries as institutions
from yibao.ledger import queries as ledger
from yibao.web.labels import code_label, with_code
from yibao.web.regions import region_label
from yibao.web.unavailable import Unavailable

NO_SETTLEMENTS = Unavailable("结算记录尚未接入：结算服务尚未上线。", "encounter")
NO_RECON = Unavailable("对账结果尚未接入：定点机构对账（3201/3202）服务尚未上线。", "api/nhsa")
NO_LEDGER = Unavailable("基金账务数据尚未接入：基金账务服务尚未上线。", "ledger")
DAYS = 7


@dataclass(slots=True)
class ReconView:
    since: date
    totals: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    recon: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    clearing: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    statements: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    balances: list[dict[str, Any]] | Unavailable = field(default_factory=list)


def _yuan(fen: int) -> str:
    from yibao.web.render import yuan

    return yuan(fen)


def build(conn: sa.Connection, scope: Scope, today: date) -> ReconView:
    since = today - timedelta(days=DAYS - 1)
    return ReconView(
        since=since,
        totals=_totals(conn, scope, since, today),
        recon=_recon(conn, scope),
        clearing=_clearing(conn, scope, today),
        statements=_statements(conn, scope),
        balances=_balances(conn, scope, today),
    )


def _totals(
    conn: sa.Connection, scope: Scope, since: date, today: date
) -> list[dict[str, Any]] | Unavailable:
    if not encounters.available(conn):
        return NO_SETTLEMENTS
    names = institutions.names(conn)
    return [
        {
            "date": r["setl_date"].isoformat(),
            "fixmedins": names.get(r["fixmedins_code"], r["fixmedins_code"]),
            "insutype": code_label("insutype", r["insutype"]),
            "clr_type": with_code("clr_type", r["clr_type"]),
            "count": int(r["n"]),
            "medfee": _yuan(int(r["medfee"])),
            "fund": _yuan(int(r["fund"])),
            "acct": _yuan(int(r["acct"])),
        }
        for r in encounters.daily_totals(conn, scope, since, today)
    ]


def _recon(conn: sa.Connection, scope: Scope) -> list[dict[str, Any]] | Unavailable:
    if not gateway.available(conn):
        return NO_RECON
    from yibao.web.render import china_time

    rows = []
    names = institutions.names(conn)
    for r in gateway.messages(conn, scope, ("3201", "3202")):
        req = _json(r["request"])
        data = req.get("input", {}).get("data", {}) if isinstance(req.get("input"), dict) else {}
        out = _json(r["response"]).get("output") or {}
        info = out.get("stmtinfo") or out.get("fileinfo") or {}
        rslt = str(info.get("stmt_rslt", "")) if isinstance(info, dict) else ""
        rows.append(
            {
                "at": china_time(r["created_at"], "%Y-%m-%d %H:%M"),
                "fixmedins": names.get(r["fixmedins_code"]) or r["fixmedins_code"],
                "infno": "3201 对总账" if r["infno"] == "3201" else "3202 对明细账",
                "period": f"{data.get('stmt_begndate', '')} ~ {data.get('stmt_enddate', '')}",
                "insutype": code_label("insutype", str(data.get("insutype", ""))),
                "count": _grouped(data.get("fixmedins_setl_cnt", ""), places=0),
                "medfee": _grouped(data.get("medfee_sumamt", ""), places=2),
                "result": code_label("stmt_rslt", rslt)
                if rslt
                else ("已生成结果文件" if r["infno"] == "3202" else "—"),
                # 平 and a generated 3202 file are successes (green); 中心多 / 医药机构多 /
                # 数据不一致 are problems (red); anything else is neutral
                "tone": "ok"
                if rslt == "0" or (not rslt and r["infno"] == "3202")
                else ("bad" if rslt else ""),
                "detail": info.get("stmt_rslt_dscr", "") if isinstance(info, dict) else "",
            }
        )
    return rows


def _grouped(value: object, *, places: int) -> str:
    """A number as the institution sent it (yuan text or a count), with thousands separators."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value or "")
    return f"{d:,.{places}f}"


def _json(raw: object) -> dict[str, Any]:
    try:
        if isinstance(raw, bytes | bytearray | memoryview):
            raw = bytes(raw).decode("utf-8")
        value = json.loads(raw) if isinstance(raw, str) else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _clearing(conn: sa.Connection, scope: Scope, today: date) -> list[dict[str, Any]] | Unavailable:
    """Clearing positions between pooling regions (异地清算往来): who owes whom."""
    if not ledger.available(conn):
        return NO_LEDGER
    rows = []
    for b in ledger.account_balances(conn, today, kind="clearing"):
        parts = b.account_code.split(":")
        if len(parts) != 3:
            continue
        a, other = parts[1], parts[2]
        if a > other or not scope.allows_any_region(a, other) or scope.fixmedins_code:
            continue  # each pair once (CLR:a:b holds the negation of CLR:b:a)
        bal = b.balance
        if bal == 0:
            continue
        creditor, debtor = (a, other) if bal > 0 else (other, a)
        rows.append(
            {
                "creditor": region_label(creditor),
                "debtor": region_label(debtor),
                "amount": _yuan(abs(bal)),
                "as_of": today.isoformat(),
            }
        )
    return rows


def _statements(conn: sa.Connection, scope: Scope) -> list[dict[str, Any]] | Unavailable:
    """Monthly clearing statements between pooling regions (异地清算单) and their state."""
    if not clearing.available(conn):
        return Unavailable("异地清算单尚未接入：清算服务尚未上线。", "clearing")
    if scope.fixmedins_code is not None:
        return Unavailable("定点机构账户不显示统筹区之间的清算单。", "clearing")
    from yibao.clearing.model import STATE_NAMES, State

    rows = []
    for r in clearing.statements(conn, scope):
        try:
            state = STATE_NAMES[State(r["state"])]
        except ValueError:
            state = r["state"]
        rows.append(
            {
                "period": r["period"],
                "pair": f"{region_label(r['region_a'])} ⇄ {region_label(r['region_b'])}",
                "count": r["line_count"],
                "payer": region_label(r["payer"]) if r["payer"] else "—",
                "payee": region_label(r["payee"]) if r["payee"] else "—",
                "amount": _yuan(int(r["net_amount"] or 0)),
                "state": state,
            }
        )
    return rows


def _balances(conn: sa.Connection, scope: Scope, today: date) -> list[dict[str, Any]] | Unavailable:
    """Fund balances per pooling region (基金余额) as the ledger derives them."""
    if not ledger.available(conn):
        return NO_LEDGER
    if scope.fixmedins_code is not None:
        return Unavailable("定点机构账户不显示基金余额。", "ledger")
    return [
        {
            "region": region_label(b.region),
            "fund": with_code("fund_pay_type", b.fund_pay_type),
            "debits": _yuan(b.debits),
            "credits": _yuan(b.credits),
            "balance": _yuan(b.balance),
        }
        for b in sorted(
            ledger.account_balances(conn, today, kind="fund"),
            key=lambda x: (x.region, x.fund_pay_type),
        )
        if scope.allows_region(b.region)
    ]

"""County medical communities (紧密型县域医共体): members, budgets, monthly allocation, year end.

A community serves the insured of its county (insured region = the community's admdvs: the
population definition is NOT FOUND for Guangdong, payment-reform.md §8.3; Yibao's design
assumption). Its budget is for one fund type (default 390100 居民统筹). Each month the fund
allocates a twelfth to ``YCM:{id}`` and charges back what the fund paid for the community's
insured anywhere (inside the community, elsewhere in the county, out of county); at year end the
dated 结余留用 / 合理超支分担 rule of the region decides who keeps or bears the difference.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.institutions import service as institutions
from yibao.ledger import service as ledger
from yibao.payment import params, store_community
from yibao.payment.errors import PaymentInputError, PaymentRefused
from yibao.payment.model import community as rule
from yibao.payment.model import postings
from yibao.payment.service_runs import parse_month


def save(
    conn: sa.Connection,
    *,
    ycm_id: str,
    name: str,
    admdvs: str,
    lead: str,
    members: list[str],
    fund_pay_type: str = "390100",
    population: int = 0,
) -> None:
    """Create or update a community and its member list (the lead is always a member)."""
    if not ycm_id or ":" in ycm_id or len(ycm_id) > 30:
        raise PaymentInputError("ycm_id", "医共体编号须为1–30个字符且不含冒号")
    if not (len(admdvs) == 6 and admdvs.isdigit()):
        raise PaymentInputError("admdvs", f"医保区划须为6位数字，收到 {admdvs!r}")
    all_members = sorted({lead, *members})
    for code in all_members:
        inst = institutions.get(conn, code)
        if inst is None:
            raise PaymentInputError("members", f"定点医药机构 {code} 不存在")
        if inst.admdvs != admdvs:
            raise PaymentInputError("members", f"{code} 不在县域 {admdvs} 内")
    store_community.upsert_community(
        conn,
        {"ycm_id": ycm_id, "name": name, "admdvs": admdvs, "lead_fixmedins_code": lead,
         "fund_pay_type": fund_pay_type, "population": population},
        all_members,
    )  # fmt: skip


def _get(conn: sa.Connection, ycm_id: str) -> dict[str, Any]:
    found = store_community.communities(conn, ycm_id)
    if not found:
        raise PaymentRefused(f"医共体 {ycm_id} 不存在")
    return found[0]


def set_budget(
    conn: sa.Connection, ycm_id: str, year: int, amount: int, *, basis: str, actor: str
) -> None:
    c = _get(conn, ycm_id)
    if amount <= 0:
        raise PaymentInputError("amount", "年度预算须大于0")
    if store_community.year_of(conn, ycm_id, year) is not None:
        raise PaymentRefused(f"{c['name']} {year}年度已结算，预算不能再改")
    if store_community.months(conn, ycm_id, year):
        raise PaymentRefused(f"{c['name']} {year}年度已开始按月分配，预算不能再改")
    store_community.set_budget(conn, ycm_id, year, amount, basis, actor)


def suggest_budget(conn: sa.Connection, ycm_id: str, year: int) -> tuple[int, str]:
    """The rule's budget: last year's × (1 + g), or the first-year formula on three years."""
    c = _get(conn, ycm_id)
    growth = params.region(c["admdvs"], year).ratio("payment.ycm.growth_rate")
    prev = store_community.budget_of(conn, ycm_id, year - 1)
    if prev is not None:
        amount = rule.next_year_budget(int(prev["amount"]), growth)
        return amount, f"上年预算 {int(prev['amount']) / 100:.2f} × (1 + {growth / 10_000})"
    history = [
        sum(_spent(conn, c, date(y, 1, 1), date(y, 12, 31)).values())
        for y in (year - 3, year - 2, year - 1)
    ]
    amount = rule.first_year_budget(history, growth)
    shown = "、".join(f"{h / 100:.2f}" for h in history)
    return amount, f"前三年基金支出({shown})平均 × (1 + {growth / 10_000})"


def _spent(conn: sa.Connection, c: dict[str, Any], begin: date, end: date) -> dict[str, int]:
    return store_community.spending(
        conn,
        county=c["admdvs"],
        fund_pay_type=c["fund_pay_type"],
        members=c["members"],
        begin=begin,
        end=end,
    )


def run_month(conn: sa.Connection, ycm_id: str, month: str) -> dict[str, Any]:
    """Allocate a month's budget and charge the month's spending (once per month)."""
    c = _get(conn, ycm_id)
    year, m = parse_month(month)
    ym = f"{year}{m:02d}"
    if any(r["month"] == ym for r in store_community.months(conn, ycm_id, year)):
        raise PaymentRefused(f"{c['name']} {ym} 已分配")
    b = store_community.budget_of(conn, ycm_id, year)
    if b is None:
        raise PaymentRefused(f"{c['name']} 尚未设定{year}年度预算")
    last = date(year, m, monthrange(year, m)[1])
    spent = _spent(conn, c, date(year, m, 1), last)
    allocation = rule.monthly_allocation(int(b["amount"]), m)
    total = sum(spent.values())
    chain = postings.community_month(
        region=c["admdvs"], community=ycm_id, fpt=c["fund_pay_type"], month=ym, day=last,
        allocation=allocation, spending=total, memo=dict(spent),
    )  # fmt: skip
    if chain.transfers:
        ledger.post_chain(conn, chain)
    row = {"ycm_id": ycm_id, "month": ym, "allocation": allocation, "spending": total,
           "inside": spent["inside"], "outside": spent["outside"],
           "out_of_county": spent["out_of_county"], "chain_id": chain.chain_id}  # fmt: skip
    store_community.insert_month(conn, row)
    return row


def year_end(conn: sa.Connection, ycm_id: str, year: int) -> dict[str, Any]:
    """结余留用 / 合理超支分担 for the year; runs any month not yet allocated first."""
    c = _get(conn, ycm_id)
    if store_community.year_of(conn, ycm_id, year) is not None:
        raise PaymentRefused(f"{c['name']} {year}年度已结算")
    done = {r["month"] for r in store_community.months(conn, ycm_id, year)}
    for m in range(1, 13):
        if f"{year}{m:02d}" not in done:
            run_month(conn, ycm_id, f"{year}{m:02d}")
    months = store_community.months(conn, ycm_id, year)
    budget = sum(int(r["allocation"]) for r in months)
    spending = sum(int(r["spending"]) for r in months)
    share, cap, bands = params.region(c["admdvs"], year).community_rule()
    try:
        out = rule.year_end(budget, spending, retain_share=share, retain_cap=cap, bands=bands)
    except rule.CommunityError as exc:
        raise PaymentRefused(str(exc)) from exc
    returned = out.surplus - out.retained
    chain = postings.community_year_end(
        region=c["admdvs"], community=ycm_id, lead=c["lead_fixmedins_code"],
        fpt=c["fund_pay_type"], year=year, day=date(year, 12, 31), retained=out.retained,
        returned=returned, fund_overrun=out.fund_overrun, community_overrun=out.community_overrun,
        memo={"budget": budget, "spending": spending, "final": out.final},
    )  # fmt: skip
    if chain.transfers:
        ledger.post_chain(conn, chain)
    row = {"ycm_id": ycm_id, "year": year, "budget": budget, "spending": spending,
           "retained": out.retained, "returned": returned, "fund_overrun": out.fund_overrun,
           "community_overrun": out.community_overrun, "final": out.final,
           "lines": list(out.lines), "chain_id": chain.chain_id if chain.transfers else ""}  # fmt: skip
    store_community.insert_year(conn, row)
    return row


def execution(conn: sa.Connection, ycm_id: str, year: int, through: date) -> dict[str, Any]:
    """预算执行率: spending to date ÷ what was allocated so far, and ÷ the annual budget."""
    c = _get(conn, ycm_id)
    b = store_community.budget_of(conn, ycm_id, year)
    amount = int(b["amount"]) if b else 0
    end = min(through, date(year, 12, 31))
    spent = _spent(conn, c, date(year, 1, 1), end) if end.year == year else {}
    total = sum(spent.values())
    months = store_community.months(conn, ycm_id, year)
    allocated = sum(int(m["allocation"]) for m in months)  # what was actually allocated so far
    return {
        "community": c,
        "budget": amount,
        "allocated": allocated,
        "spending": total,
        "spending_parts": spent,
        "rate_of_allocated": (Decimal(total) / allocated) if allocated else None,
        "rate_of_budget": (Decimal(total) / amount) if amount else None,
        "months": months,
        "year_end": store_community.year_of(conn, ycm_id, year),
    }

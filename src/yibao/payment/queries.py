"""Read model of payment reform for the console and reports (预算执行率, 分组结果, CMI, 特例单议).

Pure reads in the caller's connection; the console filters by scope before showing anything.
CMI (病例组合指数) = Σ weight ÷ grouped cases for DRG (the published weights of the groups, whatever
the case was finally paid); for DIP the institution's average score ÷ the region's average score. Budget execution (预算执行率) = fund spending ÷ budget.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.db.probe import tables_exist
from yibao.institutions import service as institutions
from yibao.payment import params, service_community, store, store_community, store_runs
from yibao.payment import service_special as special
from yibao.payment.model.pay import MODES, PayError
from yibao.policy.model import PolicyError

Q4 = Decimal("0.0001")


def available(conn: sa.Connection) -> bool:
    """Whether settlement lists are stored here (the payment migration has run)."""
    return tables_exist(conn, "payment_setl_list")


@dataclass(slots=True)
class InstitutionRow:
    fixmedins_code: str
    fixmedins_name: str
    lists: int = 0
    grouped: int = 0
    cases: int = 0
    units: Decimal = Decimal(0)
    value: int = 0
    fund_due: int = 0
    item_fund: int = 0
    advanced: int = 0
    held: int = 0
    budget: int | None = None
    cmi: Decimal | None = None
    execution: Decimal | None = None
    year_end: dict[str, Any] | None = None
    modes: Counter[str] = field(default_factory=Counter)
    group_units: Decimal = Decimal(0)  # Σ published weight/score of the grouped lists (for CMI)


@dataclass(slots=True)
class RegionView:
    admdvs: str
    year: int
    method: str
    cost_budget: int | None
    provisional_unit_value: Decimal | None
    region_year: dict[str, Any] | None
    institutions: list[InstitutionRow]
    communities: list[dict[str, Any]]
    problem: str = ""

    @property
    def cases(self) -> int:
        return sum(r.cases for r in self.institutions)


def _ratio(a: Decimal | int, b: Decimal | int) -> Decimal | None:
    return (Decimal(a) / Decimal(b)).quantize(Q4) if b else None


def region_view(
    conn: sa.Connection, admdvs: str, year: int, today: date, *, fixmedins_code: str | None = None
) -> RegionView:
    """Everything the payment page shows for a region and year (one institution if given)."""
    method, budget, prov, problem = "none", None, None, ""
    try:
        rp = params.region(admdvs, year)
        method = rp.method
        if method in ("drg", "dip"):
            budget, prov = rp.cost_budget, rp.provisional_unit_value
    except (PolicyError, PayError) as exc:
        problem = str(exc)
    rows: dict[str, InstitutionRow] = {}

    def row(code: str) -> InstitutionRow:
        if code not in rows:
            inst = institutions.get(conn, code)
            rows[code] = InstitutionRow(code, inst.fixmedins_name if inst else code)
        return rows[code]

    for lst in store.lists_of(
        conn, admdvs=admdvs, year=year, fixmedins_code=fixmedins_code, limit=1_000_000
    ):
        r = row(lst["fixmedins_code"])
        r.lists += 1
        if lst["grp_status"] == "1" and (lst["grp_result"] or {}).get("units"):
            r.grouped += 1
            r.group_units += Decimal(lst["grp_result"]["units"])
    for c in store.cases_of(conn, admdvs=admdvs, year=year, fixmedins_code=fixmedins_code):
        r = row(c["fixmedins_code"])
        r.cases += 1
        r.units += Decimal(c["units"])
        r.value += int(c["final_value"] if c["final_value"] is not None else c["value"])
        r.fund_due += int(c["final_fund_due"] if c["final_fund_due"] is not None else c["fund_due"])
        r.item_fund += int(c["item_fund"])
        r.modes[MODES[c["mode"]]] += 1
    for a in store_runs.advances(conn, admdvs=admdvs, year=year, fixmedins_code=fixmedins_code):
        r = row(a["fixmedins_code"])
        r.advanced += int(a["advance"])
        r.held += int(a["hold"])
    budgets = store_runs.budgets(conn, year)
    ends = {e["fixmedins_code"]: e for e in store_runs.year_ends(conn, admdvs=admdvs, year=year)}
    grouped = [r for r in rows.values() if r.grouped]
    region_avg = _ratio(
        sum((r.group_units for r in grouped), Decimal(0)), sum(r.grouped for r in grouped)
    )
    for r in rows.values():
        avg = _ratio(r.group_units, r.grouped)
        r.cmi = (
            avg if method == "drg" else (_ratio(avg, region_avg) if avg and region_avg else None)
        )
        r.budget = budgets.get(r.fixmedins_code)
        r.execution = _ratio(r.fund_due, r.budget) if r.budget else None
        r.year_end = ends.get(r.fixmedins_code)
    comms = [
        service_community.execution(conn, c["ycm_id"], year, today)
        for c in store_community.communities(conn)
        if c["admdvs"] == admdvs and (fixmedins_code is None or fixmedins_code in c["members"])
    ]
    return RegionView(
        admdvs,
        year,
        method,
        budget,
        prov,
        store_runs.load_region_year(conn, admdvs, year),
        sorted(rows.values(), key=lambda r: r.fixmedins_code),
        comms,
        problem,
    )


def institution_cases(conn: sa.Connection, fixmedins_code: str, year: int) -> dict[str, Any]:
    """Group results (DRG/DIP 分组结果) and payments of one institution's lists in a year."""
    cases = {
        c["setl_id"]: c for c in store.cases_of(conn, fixmedins_code=fixmedins_code, year=year)
    }
    out = []
    groups: Counter[tuple[str, str]] = Counter()
    for lst in store.lists_of(conn, fixmedins_code=fixmedins_code, year=year, limit=1_000_000):
        g = lst["grp_result"] or {}
        if g.get("status") == "1":
            groups[(g.get("code", ""), g.get("name", ""))] += 1
        out.append({"list": lst, "group": g, "case": cases.get(lst["setl_id"])})
    inst = institutions.get(conn, fixmedins_code)
    return {
        "institution": inst,
        "rows": out,
        "groups": sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])),
    }


def case_detail(conn: sa.Connection, setl_id: str) -> dict[str, Any] | None:
    lst = store.load_list(conn, setl_id)
    if lst is None:
        return None
    return {"list": lst, "case": store.load_case(conn, setl_id)}


def special_queue(
    conn: sa.Connection,
    *,
    prefixes: tuple[str, ...] | None,
    fixmedins_code: str | None,
    states: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """特例单议 applications in scope, newest first, with opinions and the payment preview."""
    rows = special.search(
        conn, admdvs_prefixes=prefixes, fixmedins_code=fixmedins_code, states=states
    )
    for r in rows:
        inst = institutions.get(conn, r["fixmedins_code"])
        r["fixmedins_name"] = inst.fixmedins_name if inst else r["fixmedins_code"]
        r["preview"] = special.preview(conn, r)
        r["list"] = store.load_list(conn, r["setl_id"])
    return rows


def statement(conn: sa.Connection, admdvs: str, year: int, today: date) -> dict[str, Any]:
    """The year-end statement (年度清算表) content: region, institutions, cases, communities."""
    view = region_view(conn, admdvs, year, today)
    return {
        "view": view,
        "cases": store.cases_of(conn, admdvs=admdvs, year=year),
        "specials": special.search(conn, admdvs_prefixes=(admdvs,), limit=100_000),
    }


def communities(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every 医共体 with its members."""
    return store_community.communities(conn)

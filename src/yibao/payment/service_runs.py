"""Monthly advance (月度预结算) and year-end clearing (年度清算) of a region's DRG/DIP cases.

- **Monthly** (per region and month, run once per institution and month): every case whose list
  is submitted (or approved, if the region requires it) and passed QC, settled in the year up to
  the month's end and not valued yet, is valued at the **provisional** rate/point value (预算费率/
  点值 = cost budget ÷ planned total); per institution the fund posts the adjustment to the
  DRG/DIP amounts, pays ``advance_ratio`` of the month's fund due and withholds the quality
  deposit.
- **Year end** (per region and year, once): cases not valued yet are valued; the **final**
  rate/point value is the cost budget less what was paid by item, ÷ the year's actual total
  weight/score; each case is revalued; per institution the difference to what was posted goes to
  the ledger, the deposit is released (or forfeited), and the rest owed is paid.

Both run in the caller's transaction, serialised per region and year by an advisory lock.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.institutions import service as institutions
from yibao.ledger import service as ledger
from yibao.money import apply_ratio_units
from yibao.payment import params, store, store_runs, store_special, valuation
from yibao.payment.errors import PaymentRefused
from yibao.payment.model import pay, postings, settle
from yibao.payment.params import LEVEL_OF


@dataclass(slots=True)
class InstitutionRun:
    fixmedins_code: str
    cases: int = 0
    fund_due: int = 0
    item_fund: int = 0
    adjustments: dict[str, int] = field(default_factory=dict)
    advance: int = 0
    hold: int = 0
    skipped: str = ""


@dataclass(slots=True)
class MonthReport:
    admdvs: str
    month: str
    method: str
    unit_value: Decimal
    institutions: list[InstitutionRun]


def parse_month(text: str) -> tuple[int, int]:
    """``2025-06`` or ``202506`` → (2025, 6)."""
    t = text.replace("-", "")
    if len(t) != 6 or not t.isdigit() or not 1 <= int(t[4:]) <= 12:
        raise PaymentRefused(f"month: 月份格式须为 YYYY-MM，收到 {text!r}")
    return int(t[:4]), int(t[4:])


def _levels(conn: sa.Connection, codes: set[str]) -> dict[str, str]:
    out = {}
    for code in codes:
        inst = institutions.get(conn, code)
        out[code] = inst.dedc_hosp_lv if inst is not None else "9"
    return out


def _value(
    rp: params.RegionPayment,
    row: dict[str, Any],
    level: str,
    unit: Decimal,
    classify: Decimal,
    app: dict[str, Any] | None,
) -> pay.CaseValue:
    p = rp.for_level(level)
    return pay.value_case(
        p,
        valuation.facts(row),
        valuation.grouping(row, LEVEL_OF.get(level, "1")),
        unit_value=unit,
        classify_value=classify,
        special=valuation.special_of(app),
    )


def _open_year(conn: sa.Connection, admdvs: str, year: int) -> params.RegionPayment:
    rp = params.region(admdvs, year)
    if rp.method not in ("drg", "dip"):
        raise PaymentRefused(f"{admdvs}: {year}年未实行DRG/DIP付费（payment.method = {rp.method}）")
    store_runs.lock_region_year(conn, admdvs, year)
    if store_runs.load_region_year(conn, admdvs, year) is not None:
        raise PaymentRefused(f"{admdvs}: {year}年度已清算，不能再预结算或清算")
    return rp


def monthly_advance(conn: sa.Connection, admdvs: str, month: str, *, actor: str) -> MonthReport:
    """Run the month's advance for every institution of the region (idempotent per institution)."""
    try:
        return _monthly_advance(conn, admdvs, month, actor=actor)
    except pay.PayError as exc:
        raise PaymentRefused(f"{admdvs}: {exc}") from exc


def _monthly_advance(conn: sa.Connection, admdvs: str, month: str, *, actor: str) -> MonthReport:
    year, m = parse_month(month)
    ym = f"{year}{m:02d}"
    rp = _open_year(conn, admdvs, year)
    unit = rp.provisional_unit_value
    last = date(year, m, monthrange(year, m)[1])
    rows = store.eligible_cases(
        conn, admdvs, through=last, year=year, require_approval=rp.require_approval
    )
    by_inst: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_inst[r["fixmedins_code"]].append(r)
    levels = _levels(conn, set(by_inst))
    specials = store_special.approved_for(conn, [r["setl_id"] for r in rows])
    report = MonthReport(admdvs, ym, rp.method, unit, [])
    for code in sorted(by_inst):
        run = InstitutionRun(code)
        report.institutions.append(run)
        if store_runs.advance_exists(conn, code, ym):
            run.skipped = "本月已预结算；新增病例计入下月"
            continue
        case_rows = []
        for r in by_inst[code]:
            app = specials.get(r["setl_id"])
            v = _value(rp, r, levels[code], unit, unit, app)
            case_rows.append(
                valuation.case_row(
                    r,
                    v,
                    admdvs=admdvs,
                    year=year,
                    run_month=ym,
                    method=rp.method,
                    unit_value=unit,
                    appy_id=app["appy_id"] if app else None,
                )
            )
            run.cases += 1
            run.fund_due += v.fund_due
            run.item_fund += v.item_fund
            fpt = valuation.fund_type(r)
            run.adjustments[fpt] = run.adjustments.get(fpt, 0) + v.adjustment
        store.insert_cases(conn, case_rows)
        run.advance = apply_ratio_units(run.fund_due, rp.ratio("payment.advance_ratio"))
        run.hold = apply_ratio_units(run.fund_due, rp.ratio("payment.deposit_ratio"))
        chain = postings.monthly_advance(
            region=admdvs,
            inst=code,
            month=ym,
            day=last,
            adjustments=run.adjustments,
            advance=run.advance,
            hold=run.hold,
            memo={"cases": run.cases, "fund_due": run.fund_due, "unit_value": str(unit)},
        )
        if chain.transfers:
            ledger.post_chain(conn, chain)
        store_runs.insert_advance(
            conn,
            {
                "fixmedins_code": code,
                "month": ym,
                "admdvs": admdvs,
                "method": rp.method,
                "cases": run.cases,
                "fund_due": run.fund_due,
                "item_fund": run.item_fund,
                "adjustments": run.adjustments,
                "advance": run.advance,
                "hold": run.hold,
                "unit_value": unit,
                "chain_id": chain.chain_id if chain.transfers else "",
                "created_by": actor,
            },
        )
    return report


@dataclass(slots=True)
class YearReport:
    admdvs: str
    year: int
    method: str
    cost_budget: int
    by_item: int
    total_units: Decimal
    provisional_unit_value: Decimal
    final_unit_value: Decimal
    cases: int
    institutions: list[dict[str, Any]]


def year_end(conn: sa.Connection, admdvs: str, year: int, *, actor: str) -> YearReport:
    """Clear the region's year: final rate/point value, revaluation, ledger difference, payment."""
    try:
        return _year_end(conn, admdvs, year, actor=actor)
    except pay.PayError as exc:
        raise PaymentRefused(f"{admdvs}: {exc}") from exc


def _year_end(conn: sa.Connection, admdvs: str, year: int, *, actor: str) -> YearReport:
    rp = _open_year(conn, admdvs, year)
    prov = rp.provisional_unit_value
    late = store.eligible_cases(
        conn, admdvs, through=date(year, 12, 31), year=year, require_approval=rp.require_approval
    )
    specials = store_special.approved_for(conn, [r["setl_id"] for r in late])
    levels = _levels(conn, {r["fixmedins_code"] for r in late})
    store.insert_cases(
        conn,
        [
            valuation.case_row(
                r,
                _value(rp, r, levels[r["fixmedins_code"]], prov, prov, specials.get(r["setl_id"])),
                admdvs=admdvs,
                year=year,
                run_month="",
                method=rp.method,
                unit_value=prov,
                appy_id=(specials.get(r["setl_id"]) or {}).get("appy_id"),
            )
            for r in late
        ],
    )
    rows = store.valued_inputs(conn, admdvs, year)
    if not rows:
        raise PaymentRefused(f"{admdvs}: {year}年度无可清算的DRG/DIP病例")
    apps = store_special.approved_for(conn, [r["setl_id"] for r in rows])
    levels = _levels(conn, {r["fixmedins_code"] for r in rows})
    first = [
        _value(rp, r, levels[r["fixmedins_code"]], prov, prov, apps.get(r["setl_id"])) for r in rows
    ]
    by_item = sum(v.by_item for v in first)
    total_units = sum((v.units for v in first), Decimal(0))
    budget = rp.cost_budget
    final_unit = pay.unit_value(budget - by_item, total_units)
    per_inst: dict[str, dict[str, Any]] = {}
    finals = []
    for r in rows:
        v = _value(rp, r, levels[r["fixmedins_code"]], final_unit, prov, apps.get(r["setl_id"]))
        finals.append(
            {
                "setl_id": r["setl_id"],
                "final_mode": v.mode,
                "final_units": v.units,
                "final_value": v.value,
                "final_fund_due": v.fund_due,
                "final_unit_value": final_unit,
                "final_trace": [t.as_dict() for t in v.trace],
            }
        )
        posted = int(r["posted_fund_due"]) if r["run_month"] else int(r["item_fund"])
        acc = per_inst.setdefault(
            r["fixmedins_code"], {"cases": 0, "final": 0, "posted": 0, "adj": {}}
        )
        acc["cases"] += 1
        acc["final"] += v.fund_due
        acc["posted"] += posted
        fpt = valuation.fund_type(r)
        acc["adj"][fpt] = acc["adj"].get(fpt, 0) + v.fund_due - posted
    store.finalise_cases(conn, finals)
    advances = store_runs.advances(conn, admdvs=admdvs, year=year)
    release_ratio = rp.ratio("payment.deposit_release_ratio")
    out = []
    for code, acc in sorted(per_inst.items()):
        mine = [a for a in advances if a["fixmedins_code"] == code]
        res = settle.settle(
            acc["final"],
            sum(int(a["advance"]) for a in mine),
            sum(int(a["hold"]) for a in mine),
            release_ratio,
        )
        main_fpt = max(acc["adj"], key=lambda k: abs(acc["adj"][k])) if acc["adj"] else "390100"
        chain = postings.year_end(
            region=admdvs,
            inst=code,
            year=year,
            day=date(year, 12, 31),
            adjustments=acc["adj"],
            release=res.released,
            forfeit=res.forfeited,
            forfeit_fpt=main_fpt,
            offset=res.offset,
            final_payment=res.final_payment,
            memo={
                "final_fund_due": acc["final"],
                "advanced": res.advanced,
                "held": res.held,
                "receivable": res.receivable,
                "final_unit_value": str(final_unit),
            },
        )
        if chain.transfers:
            ledger.post_chain(conn, chain)
        row = {
            "fixmedins_code": code,
            "year": year,
            "admdvs": admdvs,
            "cases": acc["cases"],
            "final_fund_due": acc["final"],
            "posted_fund_due": acc["posted"],
            "advanced": res.advanced,
            "held": res.held,
            "released": res.released,
            "forfeited": res.forfeited,
            "offset": res.offset,
            "final_payment": res.final_payment,
            "receivable": res.receivable,
            "adjustments": acc["adj"],
            "chain_id": chain.chain_id if chain.transfers else "",
        }
        store_runs.insert_year_end(conn, row)
        out.append(row)
    store_runs.insert_region_year(
        conn,
        {
            "admdvs": admdvs,
            "year": year,
            "method": rp.method,
            "cost_budget": budget,
            "by_item": by_item,
            "total_units": total_units,
            "provisional_unit_value": prov,
            "final_unit_value": final_unit,
            "cases": len(rows),
            "created_by": actor,
        },
    )
    return YearReport(
        admdvs, year, rp.method, budget, by_item, total_units, prov, final_unit, len(rows), out
    )

"""Golden cases of payment reform (YAML a policy officer can read; amounts to the fen).

``tests/golden/payment/*.yaml``, by ``kind``:

- ``grouping``: cases through the shipped grouper tables (DRG 441481, DIP 440300);
- ``payment``: one case's value and the fund's payment at a given rate/point value;
- ``year_end``: a region's monthly advance and year-end clearing of several institutions;
- ``community``: the 医共体 year-end rule in each band, and the monthly allocation.

The runner only maps the YAML onto the pure model (``yibao.payment.model``); every number to
check is written in the file.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.money import yuan_to_fen
from yibao.payment import tables
from yibao.payment.model import community, dip, drg, pay, settle
from yibao.payment.model.case import GroupCase

HERE = Path(__file__).parent / "payment"
FILES = sorted(HERE.glob("*.yaml"))
UNIT = 10_000


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data.get("kind"), path
    return data


def fen(v: Any) -> int:
    return yuan_to_fen(Decimal(str(v)), "amount")


def units(v: Any) -> int:
    return int(Decimal(str(v)) * UNIT)


def test_every_kind_is_present() -> None:
    kinds = {load(p)["kind"] for p in FILES}
    assert kinds == {"grouping", "payment", "year_end", "community"}


# ---------------------------------------------------------------------------------- grouping


def _case(c: dict[str, Any]) -> GroupCase:
    for key in ("principal_dx", "main_proc"):  # codes must be quoted: 81.5100 is not "81.51"
        assert isinstance(c.get(key, ""), str), f"{c['name']}: quote {key} in the YAML"
    age_days = c.get("age_days")
    return GroupCase(
        principal_dx=c["principal_dx"],
        other_dx=tuple(c.get("other_dx") or ()),
        main_proc=str(c.get("main_proc") or ""),
        sex=str(c.get("sex") or ""),
        age_years=0 if age_days is not None else int(c.get("age", 50)),
        age_days=age_days,
        weight_g=c.get("weight_g"),
    )


GROUPING = [p for p in FILES if load(p)["kind"] == "grouping"]


@pytest.mark.parametrize("path", GROUPING, ids=[p.stem for p in GROUPING])
def test_grouping(path: Path) -> None:
    g = load(path)
    found = tables.library().find(g["method"], g["region"], date.fromisoformat(str(g["date"])))
    assert found is not None
    mdcs = set()
    for c in g["cases"]:
        want = c["expect"]
        if isinstance(found, drg.DrgTables):
            r = drg.group(found, _case(c))
            got = {
                "status": r.status.label,
                "mdc": r.mdc,
                "adrg": r.adrg,
                "drg": r.drg,
                "cc": r.cc_level,
                "weight": str(r.weight) if r.weight is not None else "",
            }
            mdcs.add(r.mdc)
        else:
            assert isinstance(found, dip.DipTables)
            d = dip.group(found, _case(c))
            got = {
                "status": d.status.label,
                "code": d.code,
                "kind": d.kind,
                "score": str(d.score) if d.score is not None else "",
            }
        want = {"status": "分组成功", **want}
        assert {k: got[k] for k in want} == want, c["name"]
    if g["method"] == "drg":  # a case for every MDC of the shipped subset
        assert {m.code for m in found.mdcs} <= mdcs  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------- payment


def _params(method: str, base: dict[str, Any], over: dict[str, Any] | None = None) -> pay.PayParams:
    p = {**base, **(over or {})}
    return pay.PayParams(
        method=method,
        coef=units(p.get("level_coefficient", 1)),
        high_ratio=units(p.get("high_ratio", 3)),
        low_ratio=units(p.get("low_ratio", "0.5")),
        high_rule=p.get("high_rule", "by_item"),
        low_rule=p.get("low_rule", "by_item"),
        min_stay_days=int(p.get("min_stay_days", 2)),
        max_stay_days=int(p.get("max_stay_days", 60)),
        deductions=tuple(p["deductions"]),
    )


def _facts(c: dict[str, Any]) -> pay.CaseFacts:
    amounts = {k: fen(c["settlement"].get(k, 0)) for k in AMOUNT_FIELDS}
    return pay.CaseFacts(
        "golden", amounts["medfee_sumamt"], amounts["hifp_pay"], int(c["stay_days"]), amounts
    )


def _grouping(c: dict[str, Any]) -> pay.Grouping:
    g = c["group"]
    if g.get("ok") is False:
        return pay.Grouping(False)
    return pay.Grouping(True, g["code"], "", Decimal(str(g["units"])), fen(g.get("avg_cost", 0)))


def _special(c: dict[str, Any]) -> pay.Special | None:
    s = c.get("special")
    if not s:
        return None
    return pay.Special(
        str(s["exit_type"]), fen(s.get("deducted", 0)), Decimal(str(s.get("units", 0)))
    )


def _yuan(v: int) -> str:
    return f"{Decimal(v) / 100:.2f}"


PAYMENT = [p for p in FILES if load(p)["kind"] == "payment"]


@pytest.mark.parametrize("path", PAYMENT, ids=[p.stem for p in PAYMENT])
def test_payment(path: Path) -> None:
    g = load(path)
    rate = Decimal(str(g["parameters"]["rate"]))
    for c in g["cases"]:
        p = _params(g["method"], g["parameters"], c.get("parameters"))
        v = pay.value_case(
            p, _facts(c), _grouping(c), unit_value=rate, classify_value=rate, special=_special(c)
        )
        got = {
            "mode": pay.MODES[v.mode],
            "units": str(v.units),
            "value": _yuan(v.value),
            "fund_due": _yuan(v.fund_due),
            "adjustment": _yuan(v.adjustment),
        }
        want = {k: str(x) for k, x in c["expect"].items()}
        assert {k: got[k] for k in want} == want, c["name"]
        assert v.trace, "every case explains itself"


# ---------------------------------------------------------------------------------- year end


YEAR_END = [p for p in FILES if load(p)["kind"] == "year_end"]


@pytest.mark.parametrize("path", YEAR_END, ids=[p.stem for p in YEAR_END])
def test_year_end(path: Path) -> None:
    g = load(path)
    exp = g["expect"]
    budget = pay.cost_budget(
        fen(g["budget"]["fund_budget"]), units(g["budget"]["reimbursement_ratio"])
    )
    prov = Decimal(str(g["provisional_rate"]))
    params = {
        k: _params(g["method"], g["parameters"], over) for k, over in g["institutions"].items()
    }
    monthly: dict[str, int] = defaultdict(int)
    first = []
    for c in g["cases"]:
        v = pay.value_case(
            params[c["institution"]], _facts(c), _grouping(c), unit_value=prov, classify_value=prov
        )
        monthly[c["institution"]] += v.fund_due
        first.append(v)
    advance = {k: (v * units(g["advance_ratio"]) + UNIT // 2) // UNIT for k, v in monthly.items()}
    hold = {k: (v * units(g["deposit_ratio"]) + UNIT // 2) // UNIT for k, v in monthly.items()}
    for k, m in exp["monthly"].items():
        got = {"fund_due": _yuan(monthly[k]), "advance": _yuan(advance[k]), "hold": _yuan(hold[k])}
        assert got == {a: str(b) for a, b in m.items()}, k
    by_item = sum(v.by_item for v in first)
    total = sum((v.units for v in first), Decimal(0))
    final_rate = pay.unit_value(budget - by_item, total)
    assert (_yuan(by_item), str(total), str(final_rate)) == (
        exp["by_item"],
        exp["total_units"],
        exp["final_rate"],
    )
    finals = [
        pay.value_case(
            params[c["institution"]],
            _facts(c),
            _grouping(c),
            unit_value=final_rate,
            classify_value=prov,
        )
        for c in g["cases"]
    ]
    assert [_yuan(v.fund_due) for v in finals] == exp["final_cases"]
    assert _yuan(sum(v.value for v in finals if v.units)) == exp["final_group_values"]
    per: dict[str, int] = defaultdict(int)
    for c, v in zip(g["cases"], finals, strict=True):
        per[c["institution"]] += v.fund_due
    for k, want in exp["institutions"].items():
        r = settle.settle(per[k], advance[k], hold[k], units(g["release_ratio"]))
        got = {
            "final": _yuan(r.final),
            "released": _yuan(r.released),
            "forfeited": _yuan(r.forfeited),
            "offset": _yuan(r.offset),
            "final_payment": _yuan(r.final_payment),
            "receivable": _yuan(r.receivable),
        }
        assert got == {a: str(b) for a, b in want.items()}, k


# ---------------------------------------------------------------------------------- 医共体


COMMUNITY = [p for p in FILES if load(p)["kind"] == "community"]


@pytest.mark.parametrize("path", COMMUNITY, ids=[p.stem for p in COMMUNITY])
def test_community(path: Path) -> None:
    g = load(path)
    p = g["parameters"]
    bands = [
        community.Band(None if b["upto"] == "none" else units(b["upto"]), units(b["fund_share"]))
        for b in p["overrun_bands"]
    ]
    for c in g["cases"]:
        want = c["expect"]
        args = (fen(c["budget"]), fen(c["spending"]))
        kw = {
            "retain_share": units(p["retain_share"]),
            "retain_cap": units(p["retain_cap"]),
            "bands": bands,
        }
        if "error" in want:
            with pytest.raises(community.CommunityError, match=want["error"]):
                community.year_end(*args, **kw)  # type: ignore[arg-type]
            continue
        r = community.year_end(*args, **kw)  # type: ignore[arg-type]
        got = {
            "retained": _yuan(r.retained),
            "capped": r.retain_capped,
            "fund_overrun": _yuan(r.fund_overrun),
            "community_overrun": _yuan(r.community_overrun),
            "final": _yuan(r.final),
        }
        assert {k: got[k] for k in want} == {
            k: v if isinstance(v, bool) else str(v) for k, v in want.items()
        }, c["name"]
        assert r.final == (
            r.spending + r.retained if r.spending <= r.budget else r.budget + r.fund_overrun
        )
    m = g["monthly_allocation"]
    b = fen(m["budget"])
    months = [community.monthly_allocation(b, k) for k in range(1, 13)]
    assert {_yuan(x) for x in months[:11]} == {m["expect"]["months_1_to_11"]}
    assert _yuan(months[11]) == m["expect"]["december"] and sum(months) == b

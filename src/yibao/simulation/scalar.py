"""The same bills through the scalar engine (逐笔结算对照): the reference for agreement checks.

Rebuilds each bill of a partition as the scalar engine's ``Person``/``Encounter``/``Item``s and
settles the person's bills in order with :func:`yibao.settlement.engine.settle`, carrying the
accumulators — exactly how checkout settles them one at a time. Used by the agreement tests and
by ``bench/simulate.py`` to count checked bills.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from yibao.catalog.defaults import default_first_pay
from yibao.policy.loader import resolve_in
from yibao.settlement.engine import settle
from yibao.settlement.model import Accumulators, AssistanceClass, Encounter, Item, Person
from yibao.simulation.kernel import OUTPUTS
from yibao.simulation.prepare import Prepared
from yibao.simulation.rules import POOLS, SETTINGS, Scenario

Arr = np.ndarray
_POLICIES: list[tuple[Scenario, dict[tuple[str, date], Any]]] = []  # recent scenarios' policies


def _items(rows: list[dict[str, Any]], first_pay: Any) -> tuple[Item, ...]:
    out = []
    for i, it in enumerate(rows):
        if it["selfpay_units"] is None and it["chrgitm_lv"] == "02":
            d = first_pay()
            prop = 0 if d is None else int(d.selfpay_prop * 10_000)
        else:
            prop = it["selfpay_units"] or 0
        cnt = Decimal(it["cnt_units"]) / 10_000
        out.append(
            Item(
                feedetl_sn=str(i + 1),
                med_list_codg=it.get("med_list_codg") or "",
                name="",
                list_type=it.get("list_type") or "",
                chrgitm_lv=it["chrgitm_lv"],
                med_chrgitm_type="09",
                det_item_fee_sumamt=it["amount"],
                cnt=cnt,
                pric=Decimal(it.get("pric_fen") or 0) / 100,
                selfpay_prop=(Decimal(prop) / 10_000) if it["chrgitm_lv"] == "02" else Decimal(0),
                pric_uplmt_amt=it["pric_uplmt_amt"],
                lmt_used_flag="1" if it["lmt_refused"] else "0",
                hosp_appr_flag="2" if it["lmt_refused"] else "0",
                hi_nego_drug_flag="1" if it["nego"] else "0",
                in_catalog=bool(it["in_catalog"]),
            )
        )
    return tuple(out)


def settle_rows(
    bills: pa.Table,
    items: pa.Table,
    scenario: Scenario,
    opening: Mapping[int, Accumulators] | None = None,
    only_groups: Iterable[int] | None = None,
) -> dict[int, dict[str, int]]:
    """Settle bills one by one (in the table's order); returns bill_id → setlinfo (fen, ratio
    units). ``only_groups``: settle only these person-years (group index in table order)."""
    by_bill: dict[int, list[dict[str, Any]]] = {}
    for it in items.to_pylist():
        by_bill.setdefault(it["bill_id"], []).append(it)
    wanted = None if only_groups is None else set(only_groups)
    out: dict[int, dict[str, int]] = {}
    acc: Accumulators | None = None
    key: tuple[int, int] | None = None
    group = -1
    policies: dict[tuple[str, date], Any] = {}
    if not scenario.overrides:
        policies = next((c for s, c in _POLICIES if s is scenario), policies)
        if not any(s is scenario for s, _ in _POLICIES):
            _POLICIES[:] = [(scenario, policies), *_POLICIES][:8]
    for b in bills.to_pylist():
        if (b["psn_key"], b["year"]) != key:
            key = (b["psn_key"], b["year"])
            group += 1
            acc = None
        if wanted is not None and group not in wanted:
            continue
        day: date = b["begntime"]
        on: date = b.get("policy_date") or day
        pol = policies.get((b["insuplc_admdvs"], on))
        if pol is None:
            pol = resolve_in(scenario.tree, b["insuplc_admdvs"], on, scenario.overrides)
            policies[(b["insuplc_admdvs"], on)] = pol
        if acc is None:
            start = (opening or {}).get(group)
            acc = Accumulators(year=b["year"]) if start is None else start
            acc = Accumulators.from_dict(
                {**acc.to_dict(), "acct_balc": b["acct_open"], "mulaid_balc": b["mulaid_open"]}
            )
        cls = b["assist_class"]
        person = Person(
            psn_no=str(b["psn_key"]),
            insutype=b["insutype"],
            psn_type=b["psn_type"],
            insuplc_admdvs=b["insuplc_admdvs"],
            age=b["age"],
            cvlserv_flag=bool(b["cvlserv_flag"]),
            tier=b["tier"],
            enrol_months=b["enrol_months"],
            assistance=() if cls is None else (AssistanceClass(cls, day, day),),
            pool_only=bool(b.get("pool_only")),
        )
        enc = Encounter(
            med_type=b["med_type"],
            mdtrtarea_admvs=b["mdtrtarea_admvs"],
            begntime=day,
            items=_items(
                by_bill.get(b["bill_id"], []),
                lambda area=b["mdtrtarea_admvs"], day=day: default_first_pay(area, day),
            ),
            hosp_lv=b["hosp_lv"],
            level=b["level"],
            endtime=b["endtime"],
            admission_no=b["admission_no"],
            filing=b["filing"],
            dise_codg=b["dise_codg"],
            acct_used_flag=b["acct_used_flag"],
        )
        result = settle(person, enc, acc, pol)
        acc = acc.plus(result.deltas)
        s = result.setlinfo
        row = {name: getattr(s, name) for name in OUTPUTS if name != "pool_prop_selfpay"}
        row["pool_prop_selfpay"] = int(s.pool_prop_selfpay * 10_000)
        out[b["bill_id"]] = row
    return out


def init_arrays(prep: Prepared, opening: Mapping[int, Accumulators]) -> dict[str, Arr]:
    """Opening accumulators per group as the drivers' state arrays (G, width)."""
    g = prep.groups.count
    dis = {d: i for i, d in enumerate(prep.dises)}
    out = {
        name: np.zeros((g, w), np.int64)
        for name, w in (
            ("adm", 1), ("inscp", 3), ("dedc", 3), ("elig", 4), ("hifp", 4),
            ("chron", max(len(dis), 1)), ("sbase", 1), ("spay", 1), ("cvl", 1), ("mbase", 3),
            ("mset", 3), ("mtot", 1), ("m2base", 1), ("m2pay", 1), ("own", 1), ("mul", 1),
        )
    }  # fmt: skip
    for gi, acc in opening.items():
        out["adm"][gi, 0] = acc.admissions
        for name, values, keys in (
            ("inscp", acc.inscp, SETTINGS), ("dedc", acc.dedc, SETTINGS),
            ("elig", acc.eligible, POOLS), ("hifp", acc.hifp, POOLS),
            ("mbase", acc.maf_base, SETTINGS), ("mset", acc.maf_pay, SETTINGS),
        ):  # fmt: skip
            for key, v in values.items():
                out[name][gi, keys.index(key)] = v
        for code, v in acc.chronic.items():
            if code in dis:
                out["chron"][gi, dis[code]] = v
        out["sbase"][gi, 0] = acc.serious_base
        out["spay"][gi, 0] = acc.serious_pay
        out["cvl"][gi, 0] = acc.cvlserv_pay
        out["mtot"][gi, 0] = sum(acc.maf_pay.values())
        out["m2base"][gi, 0] = acc.maf2_base
        out["m2pay"][gi, 0] = acc.maf2_pay
    return out

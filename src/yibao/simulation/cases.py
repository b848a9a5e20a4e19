"""Case files as a one-person dataset (案例 → 测算数据), so golden cases run through both engines.

A case (docs/cases.md) is one person's encounters with opening accumulators and optional
what-if overrides; here it becomes bill and item tables, the opening state and a scenario.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from yibao.policy.loader import default_tree
from yibao.settlement.case import Case
from yibao.settlement.engine import CLASS_PRIORITY
from yibao.settlement.model import Accumulators
from yibao.simulation.dataset import make_tables
from yibao.simulation.rules import Scenario


def case_tables(case: Case) -> tuple[pa.Table, pa.Table, dict[int, Accumulators], Scenario]:
    """(bills, items, opening accumulators by group, scenario) of a case."""
    p = case.person
    acc = case.accumulators
    steps = case.steps
    bills: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for n, step in enumerate(steps, 1):
        e = step.encounter
        held = {a.cls for a in p.assistance if a.active_on(e.begntime)}
        cls = next((c for c in CLASS_PRIORITY if c in held), None)
        bills.append(
            {
                "bill_id": n, "psn_key": 1, "begntime": e.begntime, "endtime": e.endtime,
                "seq": n, "policy_date": case.on if len(steps) == 1 else None,
                "insuplc_admdvs": p.insuplc_admdvs, "mdtrtarea_admvs": e.mdtrtarea_admvs,
                "insutype": p.insutype, "psn_type": p.psn_type, "age": p.age, "tier": p.tier,
                "enrol_months": p.enrol_months, "cvlserv_flag": p.cvlserv_flag,
                "pool_only": p.pool_only,
                "assist_class": cls, "med_type": e.med_type, "hosp_lv": e.hosp_lv,
                "level": e.level, "admission_no": e.admission_no, "filing": e.filing,
                "dise_codg": e.dise_codg, "acct_used_flag": e.acct_used_flag,
                "acct_open": acc.acct_balc, "mulaid_open": acc.mulaid_balc,
            }
        )  # fmt: skip
        for it in e.items:
            items.append(
                {
                    "bill_id": n, "amount": it.det_item_fee_sumamt, "chrgitm_lv": it.chrgitm_lv,
                    "selfpay_units": int(it.selfpay_prop * 10_000),
                    "pric_uplmt_amt": it.pric_uplmt_amt, "cnt_units": int(it.cnt * 10_000),
                    "in_catalog": it.in_catalog,
                    "lmt_refused": it.lmt_used_flag == "1" and it.hosp_appr_flag == "2",
                    "nego": it.hi_nego_drug_flag == "1", "list_type": it.list_type or None,
                    "med_list_codg": it.med_list_codg or None, "pric_fen": int(it.pric * 100),
                }
            )  # fmt: skip
    b, i = make_tables(bills, items)
    scenario = Scenario("case", case.title, default_tree(), overrides=case.overrides or None)
    return b, i, {0: acc}, scenario

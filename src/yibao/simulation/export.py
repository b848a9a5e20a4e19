"""Export settlements for simulation (测算数据导出): PostgreSQL → partitioned Parquet.

Every settlement in force (reversed ones and their mirrors left out) of the 医保年度 covering the
period, with its classified fee lines and the insured person's attributes on the service date,
as the engine needs them (schema: :mod:`.schema`, docs/simulation-data.md). Whole years are
exported because deductibles and caps are consumed from the year's first bill; ``yibao simulate
run --from/--to`` chooses the period analysed.

Persons are pseudonymised: ``psn_key`` is a keyed hash of ``psn_no`` whose key is drawn for the
export and not kept; no name, ID number, phone or ``psn_no`` leaves the database.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from yibao import clock
from yibao.checkout.model import ASSISTANCE_KEY
from yibao.clock import CHINA
from yibao.filing.service import filing_status
from yibao.policy.loader import PolicyTree, default_tree
from yibao.registry.model import AssistanceIdentity, age_on, full_months
from yibao.settlement.engine import CLASS_PRIORITY
from yibao.simulation import store
from yibao.simulation.dataset import (
    Manifest,
    make_tables,
    write_manifest,
    write_partition,
)

EMERGENCY_MED_TYPES = frozenset({"13", "1301"})  # 急诊: deemed filed in another region
PHARMACY_HOSP_LV = "11"  # a pharmacy has no hospital level


def _day(t: datetime | None) -> date | None:
    if t is None:
        return None
    return (t if t.tzinfo is None else t.astimezone(CHINA)).date()


def _key(salt: bytes, psn_no: str) -> int:
    digest = hashlib.blake2b(psn_no.encode(), key=salt, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _People:
    """The insured persons of one partition, as of any service date."""

    def __init__(self, enrolments: list[dict[str, Any]], identities: list[dict[str, Any]]) -> None:
        self.enr = {(r["psn_no"], r["insutype"]): r for r in enrolments}
        self.civil = {
            r["psn_no"] for r in enrolments if r["insutype"] == "320" or r["cvlserv_flag"]
        }
        self.ids: dict[str, list[AssistanceIdentity]] = {}
        for r in identities:
            self.ids.setdefault(r["psn_no"], []).append(
                AssistanceIdentity(r["psn_idet_type"], r["begntime"], r["endtime"])
            )

    def attributes(self, psn_no: str, insutype: str, on: date) -> dict[str, Any]:
        e = self.enr.get((psn_no, insutype))
        if e is None:
            raise ValueError(
                f"settlement of a person without enrolment {insutype} (registry changed?)"
            )
        held = {
            ASSISTANCE_KEY[c]
            for i in self.ids.get(psn_no, [])
            if i.valid_on(on) and (c := i.assistance_class) in ASSISTANCE_KEY
        }
        return {
            "age": age_on(e["brdy"], on),
            "enrol_months": full_months(e["psn_insu_date"], on) if e["psn_insu_date"] else 0,
            "cvlserv_flag": psn_no in self.civil,
            "assist_class": next((c for c in CLASS_PRIORITY if c in held), None),
            "pool_only": bool(e.get("pool_only")),
        }


def _partition(conn: sa.Connection, rows: list[dict[str, Any]], salt: bytes,
               next_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    people = _People(*store.persons(conn, sorted({r["psn_no"] for r in rows})))
    keys = {p: _key(salt, p) for p in {r["psn_no"] for r in rows}}
    # by pseudonymous person, then year, then settlement order; ids increase with the rows
    rows = [
        r
        for _, r in sorted(
            enumerate(rows), key=lambda x: (keys[x[1]["psn_no"]], x[1]["acc_year"], x[0])
        )
    ]
    ids = {r["setl_id"]: next_id + n for n, r in enumerate(rows)}
    bills: list[dict[str, Any]] = []
    seq = 0
    prev: tuple[str, int] | None = None
    for r in rows:
        begin = _day(r["begntime"])
        assert begin is not None
        end = _day(r["endtime"])
        person_year = (r["psn_no"], r["acc_year"])
        first = person_year != prev
        seq = 0 if first else seq + 1
        prev = person_year
        local = r["insuplc_admdvs"][:4] == r["mdtrtarea_admvs"][:4]
        filing = "unfiled" if local else filing_status(
            conn, r["psn_no"], r["insuplc_admdvs"], r["mdtrtarea_admvs"], begin,
            r["med_type"] in EMERGENCY_MED_TYPES, settle_date=end or begin,
        )  # fmt: skip
        own = int(r["acct_pay"] or 0) - int(r["acct_mulaid_pay"] or 0)
        bills.append({
            "bill_id": ids[r["setl_id"]], "psn_key": keys[r["psn_no"]], "year": r["acc_year"],
            "begntime": begin, "endtime": end, "seq": seq,
            "insuplc_admdvs": r["insuplc_admdvs"], "mdtrtarea_admvs": r["mdtrtarea_admvs"],
            "insutype": r["insutype"], "psn_type": r["psn_type"] or "11",
            **people.attributes(r["psn_no"], r["insutype"], begin),
            "med_type": r["med_type"], "hosp_lv": r["hosp_lv"] or PHARMACY_HOSP_LV,
            "filing": filing, "dise_codg": r["dise_codg"],
            "acct_used_flag": "2" if r["acct_mulaid_pay"] else "1" if r["acct_pay"] else "0",
            "acct_open": int(r["balc"] or 0) + own if first else 0,
            "mulaid_open": 0,
            "rec_hifp_pay": r["hifp_pay"], "rec_fund_pay_sumamt": r["fund_pay_sumamt"],
            "rec_psn_part_amt": r["psn_part_amt"], "_mulaid": int(r["acct_mulaid_pay"] or 0),
        })  # fmt: skip
    _carry_openings(bills)
    items = []
    for ln in store.lines(conn, list(ids)):
        flags = ln["split_flags"] or {}
        items.append({
            "bill_id": ids[ln["setl_id"]], "amount": int(ln["det_item_fee_sumamt"]),
            "chrgitm_lv": ln["chrgitm_lv"],
            "selfpay_units": int(Decimal(ln["selfpay_prop"] or 0) * 10_000),
            "pric_uplmt_amt": ln["pric_uplmt_amt"], "cnt_units": int(Decimal(ln["cnt"]) * 10_000),
            "in_catalog": bool(flags.get("in_catalog", True)),
            "lmt_refused": flags.get("lmt_used_flag") == "1" and flags.get("hosp_appr_flag") == "2",
            "nego": flags.get("hi_nego_drug_flag") == "1",
            "list_type": flags.get("list_type") or None, "med_list_codg": ln["med_list_codg"] or None,
            "pric_fen": int(Decimal(ln["pric"] or 0) * 100),
        })  # fmt: skip
    return bills, items


def _carry_openings(bills: list[dict[str, Any]]) -> None:
    """Each row carries its person-year's opening balances (account; 共济 used in the year)."""
    start = 0
    for n in range(1, len(bills) + 1):
        if n == len(bills) or bills[n]["seq"] == 0:
            group = bills[start:n]
            mulaid = sum(b.pop("_mulaid") for b in group)
            for b in group:
                b["acct_open"], b["mulaid_open"] = group[0]["acct_open"], mulaid
            start = n


def export(
    engine: sa.Engine,
    out: Path | str,
    period_from: date,
    period_to: date,
    *,
    regions: Sequence[str] | None = None,
    partition_bills: int = 250_000,
    tree: PolicyTree | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Write the settlements of the years of the period to ``out``; returns the manifest."""
    tree = tree or default_tree()
    salt = secrets.token_bytes(32)
    manifest = Manifest(
        "export", clock.today().isoformat(), period_from.isoformat(), period_to.isoformat()
    )
    skipped: dict[str, int] = {}
    next_id = 1
    with engine.connect() as conn:
        counts = store.settlement_counts(conn, period_from.year, period_to.year)
        total = sum(n for _, _, n in counts)
        done = 0
        for region, year, n in counts:
            if (regions is not None and region not in regions) or region not in tree.regions:
                skipped[region] = skipped.get(region, 0) + n
                done += n
                continue
            buckets = max(1, math.ceil(n / partition_bills))
            for bucket in range(buckets):
                rows = store.bills(conn, region, year, buckets, bucket)
                if not rows:
                    continue
                b_rows, i_rows = _partition(conn, rows, salt, next_id)
                next_id += len(b_rows)
                bills, items = make_tables(b_rows, i_rows)
                manifest.partitions.append(write_partition(out, year, region, bucket, bills, items))
                manifest.items += items.num_rows
                done += len(rows)
                if progress is not None:
                    progress(done, total)
    manifest.notes["skipped_regions"] = skipped  # settlements of regions without a policy file
    write_manifest(out, manifest)
    return manifest

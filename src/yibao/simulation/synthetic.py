"""Synthetic province-year (合成省份年度数据): realistic bills from documented assumptions.

The numbers live in ``simulation/synthetic/guangdong.yaml`` (each block with its source or the
reason it is assumed; docs/simulation.md §3). Generation is vectorised and partition by
partition (one person-year never spans partitions), deterministic for a seed, and streams to
disk, so 10⁷ bills need no more memory than one partition.

``profile="stress"`` keeps the shapes but makes caps, cross-region care, assistance classes,
short enrolment, civil servants and account mutual aid frequent: the agreement tests use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from yibao import clock
from yibao.policy.loader import PolicyTree, resolve_in
from yibao.policy.model import ASSISTANCE_CLASSES, FILINGS
from yibao.simulation.dataset import Manifest, write_manifest, write_partition
from yibao.simulation.schema import BILL_SCHEMA, ITEM_SCHEMA

Arr = np.ndarray
GROUPS = ("active", "retired", "minor", "adult", "senior")
PSN_TYPE = ("11", "21", "41", "50", "60")
AGES = ((22, 60), (55, 91), (0, 18), (18, 60), (60, 96))
MED_TYPES = ("11", "13", "41", "14", "21")
HOSP_LV = ("11", "8", "5", "2")  # a hospital of each 起付线 level 0..3


def default_assumptions() -> Path:
    return Path(__file__).resolve().parents[3] / "simulation" / "synthetic" / "guangdong.yaml"


@dataclass(frozen=True)
class Assumptions:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Assumptions:
        p = Path(path) if path is not None else default_assumptions()
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        for key in ("bills_per_person_year", "regions", "persons", "visits", "levels",
                    "bill_size", "cross_region", "items"):  # fmt: skip
            if key not in raw:
                raise ValueError(f"{p}: {key}: required block missing")
        return cls(raw)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


def _dict_array(idx: Arr, values: list[str]) -> pa.DictionaryArray:
    mask = idx < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(mask, 0, idx).astype(np.int32), mask=mask), pa.array(values, pa.string())
    )


@dataclass
class _Spec:
    """Assumptions turned into arrays for one region and profile."""

    a: Assumptions
    stress: bool
    region: str
    diseases: dict[str, list[str]]  # scheme → codes in the region's 门慢特病 list

    def visit_rates(self) -> Arr:
        rates = np.array([[self.a["visits"][m][g] for m in MED_TYPES] for g in GROUPS], float)
        mix = self.group_mix()
        chronic = np.array([self.a["persons"]["chronic_share"][g] for g in GROUPS])
        per_group = rates.copy()
        per_group[:, 3] *= chronic
        mean = float(mix @ per_group.sum(axis=1))
        target = float(self.a["bills_per_person_year"]["value"])
        scaled: Arr = rates * (target / mean)
        return scaled

    def group_mix(self) -> Arr:
        p = self.a["persons"]
        emp = float(p["employee_share"]["value"])
        ret = float(p["retired_share_of_employees"]["value"])
        rg = p["resident_groups"]
        return np.array([emp * (1 - ret), emp * ret, (1 - emp) * rg["minor"],
                         (1 - emp) * rg["adult"], (1 - emp) * rg["senior"]])  # fmt: skip


def _persons(spec: _Spec, rng: np.random.Generator, n: int) -> dict[str, Arr]:
    p = spec.a["persons"]
    group = rng.choice(5, size=n, p=spec.group_mix() / spec.group_mix().sum())
    lo = np.array([a for a, _ in AGES])[group]
    hi = np.array([b for _, b in AGES])[group]
    age = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    emp = group <= 1
    tier = np.where(emp & (rng.random(n) < p["tier2_share_shenzhen"]["value"]), 1, 0)
    tier = np.where(emp & (spec.region == "440300"), tier, -1)
    civil = emp & (rng.random(n) < p["civil_servant_share"]["value"] * (7 if spec.stress else 1))
    pool_only = emp & (rng.random(n) < p["pool_only_share"]["value"] * (3 if spec.stress else 1))
    shares = np.array([p["assistance"]["shares"][c] for c in ASSISTANCE_CLASSES])
    shares = shares * (8 if spec.stress else 1)
    cum = np.cumsum(shares)
    u = rng.random(n)
    cls = np.where(~emp & (u < cum[-1]), np.searchsorted(cum, u, side="right"), -1)
    long = rng.random(n) < (0.5 if spec.stress else p["long_enrolment_share"]["value"])
    enrol = np.where(long, 72 + rng.integers(0, 240, n), rng.integers(0, 72, n))
    chronic = rng.random(n) < np.array([p["chronic_share"][g] for g in GROUPS])[group] * (
        2 if spec.stress else 1
    )
    acct = p["account"]
    ranges = np.where(group[:, None] == 1, acct["retired_open"], acct["employee_open"])
    acct_open = np.where(emp, ranges[:, 0] + rng.random(n) * (ranges[:, 1] - ranges[:, 0]), 0)
    flags_emp = [acct["employee_flags"][k] for k in ("0", "1", "2")]
    flags_res = [acct["resident_flags"][k] for k in ("0", "1", "2")]
    if spec.stress:
        flags_res = [0.5, 0.25, 0.25]
        acct_open = np.where(~emp, rng.random(n) * 3000, acct_open)
    flag = np.where(emp, rng.choice(3, n, p=flags_emp), rng.choice(3, n, p=flags_res))
    mul = acct["mulaid_open"]
    return {
        "group": group, "age": age, "tier": tier, "civil": civil, "pool_only": pool_only, "cls": cls, "enrol": enrol,
        "chronic": chronic, "acct_open": np.round(acct_open * 100).astype(np.int64), "flag": flag,
        "mulaid_open": np.where(flag == 2, (mul[0] + rng.random(n) * (mul[1] - mul[0])) * 100, 0).astype(np.int64),
    }  # fmt: skip


def _bills(spec: _Spec, rng: np.random.Generator, ps: dict[str, Arr], year: int) -> dict[str, Arr]:
    rates = spec.visit_rates()[ps["group"]]  # (P, med)
    rates[:, 3] = np.where(ps["chronic"], rates[:, 3], 0)
    if spec.stress:
        rates[:, 4] *= 3
    counts = rng.poisson(rates)
    person = np.repeat(np.repeat(np.arange(len(rates)), 5), counts.ravel())
    med = np.tile(np.arange(5), len(rates))[np.repeat(np.arange(counts.size), counts.ravel())]
    n = len(person)
    n_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    day = rng.integers(0, n_days, n)
    order = np.lexsort((day, person))
    person, med, day = person[order], med[order], day[order]
    starts = np.ones(n, bool)
    starts[1:] = person[1:] != person[:-1]
    first = np.nonzero(starts)[0]
    seq = np.arange(n) - first[np.cumsum(starts) - 1]
    lv_p = np.array([spec.a["levels"][m] for m in MED_TYPES], float)
    cum = np.cumsum(lv_p / lv_p.sum(axis=1, keepdims=True), axis=1)
    level = (rng.random(n)[:, None] > cum[med]).sum(axis=1)
    size = spec.a["bill_size"]
    median = np.array([size[m]["median"] for m in MED_TYPES], float)[med, level]
    sigma = np.array([size[m]["sigma"] for m in MED_TYPES])[med]
    yuan = median * np.exp(sigma * rng.standard_normal(n))
    yuan = np.where(ps["group"][person] >= 2, yuan * size["resident_factor"]["value"], yuan)
    if spec.stress:
        yuan = np.where(med == 4, yuan * 6, yuan * 2)
        yuan = np.where(rng.random(n) < 0.03, yuan * 30, yuan)
    amount = np.maximum(100, np.round(yuan * 100)).astype(np.int64)
    sd = size["stay_days"]
    stay = 1 + rng.poisson(sd["mean"], n)
    long = rng.random(n) < sd["long_share"] * (10 if spec.stress else 1)
    stay = np.where(long, rng.integers(sd["long_days"][0], sd["long_days"][1], n), stay)
    return {"person": person, "med": med, "day": day, "seq": seq, "level": level,
            "amount": amount, "stay": np.where(med == 4, stay, -1)}  # fmt: skip


def _treatment(spec: _Spec, rng: np.random.Generator, med: Arr) -> tuple[list[str], Arr, Arr]:
    """Treatment region codes (dictionary, per-bill index) and filing index (−1 local)."""
    xr = spec.a["cross_region"]
    inp, crp = (0.15, 0.10) if spec.stress else (xr["in_province"], xr["cross_province"])
    same = [c for c in spec.a["regions"]["treat_in_province"].get(spec.region[:2], [])
            if c[:4] != spec.region[:4]]  # fmt: skip
    cross = [c for c in spec.a["regions"]["treat_cross_province"] if c[:2] != spec.region[:2]]
    values = [spec.region, *same, *cross]
    n = len(med)
    u = rng.random(n)
    u = np.where(med == 2, 1.0, u)  # pharmacy purchases stay local
    idx = np.zeros(n, np.int64)
    if same:
        pick = 1 + rng.integers(0, len(same), n)
        idx = np.where(u < inp, pick, idx)
    if cross:
        pick = 1 + len(same) + rng.integers(0, len(cross), n)
        idx = np.where((u >= inp) & (u < inp + crp), pick, idx)
    fp = np.array([xr["filing"][f] for f in FILINGS], float)
    filing = np.where(idx > 0, rng.choice(len(FILINGS), n, p=fp / fp.sum()), -1)
    return values, idx, filing


def _items(spec: _Spec, rng: np.random.Generator, b: dict[str, Arr], bill_id: Arr) -> pa.Table:
    it = spec.a["items"]
    n = len(bill_id)
    base = np.array([it["class_a"], it["class_b"], it["class_c"], it["device"], 0.08, 0.02])
    present = np.ones((n, 6), bool)
    present[:, 2] = rng.random(n) < 0.5
    present[:, 3] = rng.random(n) < 0.3
    outp = (b["med"] == 0) | (b["med"] == 3)
    present[:, 4] = outp & (rng.random(n) < it["nego_share"] * (2 if spec.stress else 1))
    present[:, 5] = rng.random(n) < it["refused_share"] * (5 if spec.stress else 1)
    w = base * np.exp(0.3 * rng.standard_normal((n, 6))) * present
    w = w / w.sum(axis=1, keepdims=True)
    parts = np.floor(w * b["amount"][:, None]).astype(np.int64)
    parts[:, 0] += b["amount"] - parts.sum(axis=1)  # the 甲 line takes the rounding remainder
    rows, line = np.nonzero(present)
    amount = parts[rows, line]
    lv = np.array([0, 1, 2, 0, 1, 1])[line]  # 01 / 02 / 03 dictionary index
    own = (line == 1) & (rng.random(len(line)) < it["class_b_own_first_pay"]["share"])
    ratios = np.array(it["class_b_own_first_pay"]["ratios"]) * 10_000
    prop = np.where(own, ratios[rng.integers(0, len(ratios), len(line))], -1).astype(np.int64)
    k = 1 + rng.integers(0, 3, len(line))
    dev = line == 3
    lim = np.where(dev, np.floor(amount * it["device_limit"] / k), -1).astype(np.int64)
    return pa.table(
        {
            "bill_id": pa.array(bill_id[rows], pa.int64()),
            "amount": pa.array(amount, pa.int64()),
            "chrgitm_lv": _dict_array(lv, ["01", "02", "03"]),
            "selfpay_units": pa.array(np.maximum(prop, 0).astype(np.int16), mask=prop < 0),
            "pric_uplmt_amt": pa.array(np.maximum(lim, 0), pa.int64(), mask=lim < 0),
            "cnt_units": pa.array(np.where(dev, k * 10_000, 10_000), pa.int64()),
            "in_catalog": pa.array(np.ones(len(line), bool)),
            "lmt_refused": pa.array(line == 5),
            "nego": pa.array(line == 4),
            "list_type": _dict_array(
                np.array([1, 0, 0, 3, 0, 0])[line], ["101", "102", "201", "301"]
            ),
            "med_list_codg": _dict_array(np.full(len(line), -1), ["-"]),
            "pric_fen": pa.array(np.where(dev, amount // k, amount), pa.int64()),
        },
        schema=ITEM_SCHEMA,
    )


def generate_partition(
    spec: _Spec, year: int, persons: int, quota: int, seed: int, key_base: int
) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """One partition: ``persons`` insured of ``spec.region``, their bills cut at ``quota``;
    also the number of insured persons the bills stand for, by scheme (incl. those without)."""
    rng = np.random.default_rng(seed)
    ps = _persons(spec, rng, persons)
    b = _bills(spec, rng, ps, year)
    if len(b["person"]) > quota:
        b = {k: v[:quota] for k, v in b.items()}
    n = len(b["person"])
    pi = b["person"]
    grp = ps["group"][pi]
    scheme_emp = grp <= 1
    treats, treat, filing = _treatment(spec, rng, b["med"])
    dis_codes: list[str] = []
    dise = np.full(n, -1, np.int64)
    for s, mask in (("employee", scheme_emp), ("resident", ~scheme_emp)):
        codes = spec.diseases.get(s, [])
        if codes:
            start = len(dis_codes)
            dis_codes += codes
            pick = start + (pi * 7919) % len(codes)  # one disease per person
            dise = np.where(mask & (b["med"] == 3), pick, dise)
    bill_id = key_base + np.arange(n, dtype=np.int64)
    begin = np.datetime64(f"{year}-01-01") + b["day"]
    end = np.where(b["stay"] >= 0, b["day"] + b["stay"], -1)
    adm = np.full(n, -1, np.int64)
    level_given = np.full(n, -1, np.int64)
    if spec.stress:
        adm = np.where((b["med"] == 4) & (rng.random(n) < 0.1), 1 + rng.integers(0, 3, n), -1)
        level_given = np.where(rng.random(n) < 0.1, rng.integers(0, 4, n), -1)
    cls = ps["cls"][pi]
    tier = ps["tier"][pi]
    bills = pa.table(
        {
            "bill_id": pa.array(bill_id),
            "psn_key": pa.array(key_base + pi.astype(np.int64)),
            "year": pa.array(np.full(n, year, np.int16)),
            "begntime": pa.array(begin.astype("datetime64[D]"), pa.date32()),
            "endtime": pa.array(
                (np.datetime64(f"{year}-01-01") + np.maximum(end, 0)).astype("datetime64[D]"),
                pa.date32(),
                mask=end < 0,
            ),
            "seq": pa.array(b["seq"].astype(np.int32)),
            "policy_date": pa.nulls(n, pa.date32()),
            "insuplc_admdvs": _dict_array(np.zeros(n, np.int64), [spec.region]),
            "mdtrtarea_admvs": _dict_array(treat, treats),
            "insutype": _dict_array(np.where(scheme_emp, 0, 1), ["310", "390"]),
            "psn_type": _dict_array(grp, list(PSN_TYPE)),
            "age": pa.array(ps["age"][pi].astype(np.int16)),
            "tier": _dict_array(tier, ["1", "2"]),
            "enrol_months": pa.array(ps["enrol"][pi].astype(np.int32)),
            "cvlserv_flag": pa.array(ps["civil"][pi]),
            "pool_only": pa.array(ps["pool_only"][pi]),
            "assist_class": _dict_array(cls, list(ASSISTANCE_CLASSES)),
            "med_type": _dict_array(b["med"], list(MED_TYPES)),
            "hosp_lv": _dict_array(b["level"], list(HOSP_LV)),
            "level": _dict_array(level_given, ["0", "1", "2", "3"]),
            "admission_no": pa.array(np.maximum(adm, 0).astype(np.int32), mask=adm < 0),
            "filing": _dict_array(np.maximum(filing, 0), list(FILINGS)),
            "dise_codg": _dict_array(dise, dis_codes or ["-"]),
            "acct_used_flag": _dict_array(ps["flag"][pi], ["0", "1", "2"]),
            "acct_open": pa.array(ps["acct_open"][pi]),
            "mulaid_open": pa.array(ps["mulaid_open"][pi]),
            "rec_hifp_pay": pa.nulls(n, pa.int64()),
            "rec_fund_pay_sumamt": pa.nulls(n, pa.int64()),
            "rec_psn_part_amt": pa.nulls(n, pa.int64()),
        },
        schema=BILL_SCHEMA,
    )
    covered = ps["group"][: int(pi.max()) + 1 if n else 0]
    counts = {"employee": int((covered <= 1).sum()), "resident": int((covered > 1).sum())}
    return bills, _items(spec, rng, b, bill_id), counts


def _diseases(tree: PolicyTree, region: str, on: date) -> dict[str, list[str]]:
    pol = resolve_in(tree, region, on)
    out = {}
    for scheme in ("employee", "resident"):
        if pol.value(f"{scheme}.chronic.covered"):
            out[scheme] = sorted(pol.value(f"{scheme}.chronic.diseases"))
    return out


def generate(
    out: Path | str,
    bills: int,
    year: int,
    tree: PolicyTree,
    *,
    seed: int = 2025,
    assumptions: Assumptions | None = None,
    profile: str = "realistic",
    partition_bills: int = 250_000,
    regions: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Manifest:
    """Write a synthetic province-year of about ``bills`` bills to ``out`` (exactly ``bills``
    unless persons run out of visits) and return its manifest."""
    a = assumptions or Assumptions.load()
    shares = {
        r: float(s) for r, s in a["regions"]["shares"].items() if regions is None or r in regions
    }
    total = sum(shares.values())
    manifest = Manifest("synthetic", clock.today().isoformat(), f"{year}-01-01", f"{year}-12-31",
                        notes={"profile": profile, "seed": seed, "assumptions": a.raw.get("name", "")})  # fmt: skip
    remaining = bills
    codes = sorted(shares)
    for ri, region in enumerate(codes):
        quota_r = remaining if ri == len(codes) - 1 else round(bills * shares[region] / total)
        remaining -= quota_r
        spec = _Spec(a, profile == "stress", region, _diseases(tree, region, date(year, 7, 1)))
        buckets = max(1, math.ceil(quota_r / partition_bills))
        for bucket in range(buckets):
            quota = quota_r // buckets + (1 if bucket < quota_r % buckets else 0)
            persons = int(quota / a["bills_per_person_year"]["value"] * 1.15) + 10
            key_base = ((ri + 1) << 48) + (bucket << 32)
            b, i, counts = generate_partition(
                spec, year, persons, quota, seed * 1000 + ri * 100 + bucket, key_base
            )
            per = manifest.notes.setdefault("persons", {}).setdefault(region, {})
            for scheme, c in counts.items():
                per[scheme] = per.get(scheme, 0) + c
            manifest.partitions.append(write_partition(out, year, region, bucket, b, i))
            manifest.items += i.num_rows
            if progress is not None:
                progress(b.num_rows)
    write_manifest(out, manifest)
    return manifest

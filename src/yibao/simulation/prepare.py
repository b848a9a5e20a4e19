"""A partition made ready for the engine (分区预处理): Arrow columns → small integer codes.

Everything here is independent of the scenario: person-year groups, the codes that key the rule
tables (region, policy epoch, scheme, med_type, group chain, level, scope, filing, disease,
assistance class), the aggregation cell of each bill, and the item lines. The checks of the scalar
engine that do not depend on policy are made here, naming the bill and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.policy.model import ASSISTANCE_CLASSES, FILINGS
from yibao.settlement.engine import LEVEL_OF_HOSP_LV
from yibao.settlement.model import (
    EMPLOYEE_INSUTYPES,
    MINOR_PSN_TYPES,
    RESIDENT_INSUTYPES,
    RETIRED_PSN_TYPES,
    SENIOR_PSN_TYPES,
)
from yibao.simulation.rules import SimulationError
from yibao.simulation.scan import Groups

Arr = np.ndarray
EPOCH0 = date(1970, 1, 1)
NO_DATE = date(1900, 1, 1)
SCOPES = (None, "in_province", "cross_province")
LEVELS = ("0", "1", "2", "3")


def day_of(d: date) -> int:
    return (d - EPOCH0).days


def date_of(day: int) -> date:
    return EPOCH0 + timedelta(days=int(day))


def codes(col: pa.ChunkedArray | pa.Array) -> tuple[Arr, list[str | None]]:
    """Dictionary codes (−1 for null) and the dictionary of a string column."""
    if isinstance(col, pa.ChunkedArray):
        col = col.unify_dictionaries() if pa.types.is_dictionary(col.type) else col
        col = col.combine_chunks()
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    idx = pc.fill_null(col.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, col.dictionary.to_pylist()


def ints(col: pa.ChunkedArray | pa.Array, null: int = -1) -> Arr:
    if pa.types.is_date32(col.type):
        col = col.cast(pa.int32())
    out: Arr = pc.fill_null(col, null).to_numpy(zero_copy_only=False).astype(np.int64)
    return out


def bools(col: pa.ChunkedArray | pa.Array) -> Arr:
    out: Arr = pc.fill_null(col, False).to_numpy(zero_copy_only=False).astype(bool)
    return out


def _table(values: Sequence[str | None], mapping: Mapping[str, int], what: str, rule: str) -> Arr:
    """Codes of a dictionary through ``mapping``; a value outside it is refused (null: −1)."""
    out = []
    for v in values:
        if v is None:
            out.append(-1)
        elif v in mapping:
            out.append(mapping[v])
        else:
            raise SimulationError(f"{what}: {v!r} {rule}")
    return np.asarray(out, np.int64)


def _at(table: Arr, idx: Arr) -> Arr:
    """``table[idx]`` with −1 for null codes."""
    if not len(table):
        return np.full(len(idx), -1, np.int64)
    out: Arr = np.where(idx >= 0, table[np.maximum(idx, 0)], -1)
    return out


@dataclass
class Keyed:
    """Distinct keys of one rule table and each bill's row in it."""

    keys: list[tuple[object, ...]]
    inv: Arr


@dataclass
class Prepared:
    n: int
    groups: Groups
    cols: dict[str, Arr]  # per bill (int64)
    regions: list[str]
    insutypes: list[str]
    med_types: list[str]
    chains: list[tuple[str, ...]]
    dises: list[str]
    epoch_days: Arr  # per bill: first day of the bill's policy epoch
    items: dict[str, Arr]  # per item line; "row" = its bill
    item_bounds: tuple[Arr, Arr]  # per bill: [start, end) of its item lines
    keyed: dict[str, Keyed]
    item_dicts: dict[str, list[str]] = field(default_factory=dict)

    def region_code(self, i: int) -> str:
        return self.regions[i]


def _check_sorted(psn: Arr, year: Arr, seq: Arr) -> Arr:
    """Group starts; refuses rows not grouped by person-year in settlement order (``seq``)."""
    n = len(psn)
    starts = np.ones(n, bool)
    if n > 1:
        same = (psn[1:] == psn[:-1]) & (year[1:] == year[:-1])
        starts[1:] = ~same
        if not np.all((seq[1:] > seq[:-1]) | ~same):
            raise SimulationError(
                "bills: not in settlement order (seq increasing) within a person-year"
            )
        ps, ys = psn[starts], year[starts]
        order = np.lexsort((ys, ps))
        dup = (ps[order][1:] == ps[order][:-1]) & (ys[order][1:] == ys[order][:-1])
        if dup.any():
            raise SimulationError(
                "bills: a person-year is split (rows must be grouped by psn_key, year)"
            )
    return starts


def _chains(
    scheme: Arr, psn_idx: Arr, psn_types: list[str | None], tier_idx: Arr,
    tiers: list[str | None], age: Arr, pool_only: Arr,
) -> tuple[Arr, list[tuple[str, ...]]]:  # fmt: skip
    """Each bill's group chain (人群, most specific first) as :func:`settlement.rules.group_chain`."""
    retired = np.asarray([t in RETIRED_PSN_TYPES for t in psn_types], bool)[psn_idx]
    minor = np.asarray([t in MINOR_PSN_TYPES for t in psn_types], bool)[psn_idx] | (age < 18)
    senior = np.asarray([t in SENIOR_PSN_TYPES for t in psn_types], bool)[psn_idx] | (age >= 60)
    res = np.where(minor, 0, np.where(senior, 1, 2))
    emp = ((tier_idx + 1) * 2 + pool_only.astype(np.int64)) * 2 + retired.astype(np.int64)
    code = np.where(scheme == 0, emp, 10_000 + res)
    uniq, inv = np.unique(code, return_inverse=True)
    chains: list[tuple[str, ...]] = []
    for c in uniq.tolist():
        if c >= 10_000:
            chains.append((("minor", "senior", "adult")[c - 10_000],))
            continue
        base = "retired" if c % 2 else "active"
        chain: tuple[str, ...] = (f"{base}_pool_only", base) if (c // 2) % 2 else (base,)
        t = c // 4 - 1
        chains.append((f"tier{tiers[t]}_{base}", *chain) if t >= 0 else chain)
    return inv.reshape(-1).astype(np.int64), chains


def _first_pay(treat: Arr, treats: list[str], day: Arr) -> Arr:
    """The 乙类 default first-pay (1/10000) of the treatment place's catalogue on the service day
    (catalogs/<region>/region.yaml ``selfpay_defaults``, as case files read it); −1: none."""
    from yibao.catalog.defaults import default_first_pay

    key = treat * 1_000_000 + day
    uniq, inv = np.unique(key, return_inverse=True)
    out = []
    for k in uniq.tolist():
        area, on = str(treats[k // 1_000_000]), k % 1_000_000
        hit = _FIRST_PAY.get((area, on))
        if hit is None:
            d = default_first_pay(area, date_of(on))
            hit = _FIRST_PAY[(area, on)] = -1 if d is None else int(d.selfpay_prop * 10_000)
        out.append(hit)
    return np.asarray(out, np.int64)[inv.reshape(-1)]


_FIRST_PAY: dict[tuple[str, int], int] = {}  # (treatment region, day) → units (per process)


def _epochs(
    region: Arr, regions: list[str], pday: Arr, calendars: Mapping[str, Sequence[date]]
) -> Arr:
    out = np.full(len(region), day_of(NO_DATE), np.int64)
    for i, code in enumerate(regions):
        m = region == i
        if not m.any():
            continue
        days = np.asarray([day_of(d) for d in calendars.get(code, ())], np.int64)
        if not len(days):
            continue
        e = np.searchsorted(days, pday[m], side="right") - 1
        out[m] = np.where(e >= 0, days[np.maximum(e, 0)], day_of(NO_DATE))
    return out


def _pack(parts: Sequence[tuple[Arr, int]]) -> Arr:
    key = np.zeros(len(parts[0][0]), np.int64)
    for values, width in parts:
        if len(values) and (int(values.max()) + 1 >= width or int(values.min()) + 1 < 0):
            raise SimulationError("too many distinct codes in one partition for the rule keys")
        key = key * width + (values + 1)
    return key


def _unpack(packed: Arr, widths: Sequence[int]) -> list[Arr]:
    out = []
    for w in reversed(widths):
        out.append(packed % w - 1)
        packed = packed // w
    return out[::-1]


def _keyed(parts: Sequence[tuple[Arr, int]], outer: Arr, decode: object) -> Keyed:
    """Distinct keys among the combinations (``parts`` are per combination) and each bill's key
    (``outer``: each bill's combination)."""
    uniq, inv = np.unique(_pack(parts), return_inverse=True)
    cols = _unpack(uniq, [w for _, w in parts])
    keys = [decode(*vals) for vals in zip(*(c.tolist() for c in cols), strict=True)]  # type: ignore[operator]
    return Keyed(keys, inv.reshape(-1).astype(np.int64)[outer])


def prepare(bills: pa.Table, items: pa.Table, calendars: Mapping[str, Sequence[date]]) -> Prepared:
    """Codes, groups and keys of one partition (``calendars``: per region, the dates on which
    any scenario's parameters change, so that one policy epoch has one rule row)."""
    n = bills.num_rows
    psn = ints(bills["psn_key"])
    year = ints(bills["year"])
    day = ints(bills["begntime"])
    seq = ints(bills["seq"])
    groups = Groups.from_starts(_check_sorted(psn, year, seq))
    cal_year = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    if np.any(cal_year != year):
        i = int(np.nonzero(cal_year != year)[0][0])
        raise SimulationError(
            f"bill {int(ints(bills['bill_id'])[i])}: year: 不是 begntime 所属的医保年度"
        )
    region, regions = codes(bills["insuplc_admdvs"])
    treat, treats = codes(bills["mdtrtarea_admvs"])
    ins_idx, insutypes = codes(bills["insutype"])
    schemes = {t: 0 for t in EMPLOYEE_INSUTYPES} | {t: 1 for t in RESIDENT_INSUTYPES}
    scheme = _at(
        _table(insutypes, schemes, "insutype", "不是本引擎结算的险种 (310 职工 / 390 居民)"),
        ins_idx,
    )
    psn_idx, psn_types = codes(bills["psn_type"])
    tier_idx, tiers = codes(bills["tier"])
    age = ints(bills["age"])
    pool_only = (
        bools(bills["pool_only"]) if "pool_only" in bills.column_names else np.zeros(n, bool)
    )
    chain, chains = _chains(scheme, psn_idx, psn_types, tier_idx, tiers, age, pool_only)
    lv_idx, lvs = codes(bills["level"])
    hosp_idx, hosps = codes(bills["hosp_lv"])
    level_forms = {v: i for i, v in enumerate(LEVELS)} | {"0" + v: i for i, v in enumerate(LEVELS)}
    given = _at(_table(lvs, level_forms, "level", "不是医院级别 (level 0-3)"), lv_idx)
    by_hosp = {h: LEVELS.index(lv) for h, lv in LEVEL_OF_HOSP_LV.items()}
    from_hosp = _at(np.asarray([by_hosp.get(h or "", -1) for h in hosps], np.int64), hosp_idx)
    level = np.where(given >= 0, given, from_hosp)
    if (level < 0).any():
        i = int(np.nonzero(level < 0)[0][0])
        raise SimulationError(
            f"bill {int(ints(bills['bill_id'])[i])}: hosp_lv: {hosps[hosp_idx[i]]!r} 不是医院等级代码"
        )
    rcodes, tcodes = [str(r) for r in regions], [str(t) for t in treats]
    scope_tab = np.asarray(
        [[0 if r[:4] == t[:4] else 1 if r[:2] == t[:2] else 2 for t in tcodes] for r in rcodes],
        np.int64,
    ).reshape(len(rcodes), max(len(tcodes), 1))
    scope = scope_tab[region, treat] if n else np.zeros(0, np.int64)
    fil_idx, fils = codes(bills["filing"])
    fil = _at(
        _table(fils, {f: i for i, f in enumerate(FILINGS)}, "filing", "须为 " + ", ".join(FILINGS)),
        fil_idx,
    )
    filing = np.where(scope > 0, fil, -1)
    dise, dises = codes(bills["dise_codg"])
    cls_idx, clss = codes(bills["assist_class"])
    classes = {c: i for i, c in enumerate(ASSISTANCE_CLASSES)}
    cls = _at(_table(clss, classes, "assist_class", "不是救助类别"), cls_idx)
    med, med_types = codes(bills["med_type"])
    flag_idx, flags = codes(bills["acct_used_flag"])
    flag = _at(
        _table(flags, {"0": 0, "1": 1, "2": 2}, "acct_used_flag", "须为 0、1 或 2"), flag_idx
    )
    pday = (
        np.where(ints(bills["policy_date"]) >= 0, ints(bills["policy_date"]), day)
        if "policy_date" in bills.column_names
        else day
    )
    epoch = _epochs(region, [str(r) for r in regions], pday, calendars)
    end = ints(bills["endtime"], null=-(10**9))
    first = groups.first[groups.gid]
    cols = {
        "region": region, "treat": treat, "scheme": scheme, "ins": ins_idx, "chain": chain,
        "level": level, "scope": scope, "filing": filing, "dise": dise, "cls": cls, "med": med,
        "acct_flag": flag, "day": day, "year": year, "age": age, "epoch": epoch,
        "enrol": ints(bills["enrol_months"]), "cvl": bools(bills["cvlserv_flag"]).astype(np.int64),
        "days": np.where(end > -(10**9), end - day, -1),
        "admission_no": ints(bills["admission_no"]),
        "acct_open": ints(bills["acct_open"])[first], "mulaid_open": ints(bills["mulaid_open"])[first],
        "bill_id": ints(bills["bill_id"]),
        "first_pay": _first_pay(treat, [str(t) for t in treats], day),
    }  # fmt: skip
    it, bounds, item_dicts = _items(items, cols["bill_id"])
    nd = len(dises) + 1
    # one sort for every rule table: the distinct combinations of all key parts, then each
    # table's keys from those few combinations
    all_days = np.asarray(
        sorted({day_of(NO_DATE), *(day_of(d) for c in calendars.values() for d in c)}), np.int64
    )
    e_idx = np.searchsorted(all_days, epoch)
    parts = [(region, 256), (e_idx, 64), (scheme, 3), (med, 256), (chain, 64), (level, 5),
             (scope, 4), (filing, 8), (dise, max(nd + 1, 2)), (cls, 9), (ins_idx, 64)]  # fmt: skip
    master, minv = np.unique(_pack(parts), return_inverse=True)
    d = _unpack(master, [w for _, w in parts])
    r_, e_, s_, m_, c_, lv_, sc_, f_, ds_, cl_, in_ = d

    def on(e: int) -> date:
        return date_of(int(all_days[e]))

    scheme_name = ("employee", "resident")

    def filing_name(f: int) -> str:
        return FILINGS[f] if f >= 0 else "unfiled"

    minv = minv.reshape(-1)
    keyed = {
        "basic": _keyed([(r_, 256), (e_, 64), (s_, 3), (m_, 256), (c_, 64), (lv_, 5), (sc_, 4), (f_, 8), (ds_, max(nd + 1, 2))], minv,
            lambda r, e, s, m, c, lv, sc, f, dd: (regions[r], on(e), scheme_name[s], med_types[m], chains[c], LEVELS[lv], SCOPES[sc], filing_name(f), dises[dd] if dd >= 0 else None)),
        "serious": _keyed([(r_, 256), (e_, 64), (s_, 3), (m_, 256), (sc_, 4), (f_, 8), (cl_, 9)], minv,
            lambda r, e, s, m, sc, f, c: (regions[r], on(e), scheme_name[s], med_types[m], SCOPES[sc], filing_name(f), ASSISTANCE_CLASSES[c] if c >= 0 else None)),
        "civil": _keyed([(r_, 256), (e_, 64), (s_, 3), (m_, 256), (c_, 64)], minv,
            lambda r, e, s, m, c: (regions[r], on(e), scheme_name[s], med_types[m], chains[c])),
        "assist": _keyed([(r_, 256), (e_, 64), (m_, 256), (cl_, 9)], minv,
            lambda r, e, m, c: (regions[r], on(e), med_types[m], ASSISTANCE_CLASSES[c] if c >= 0 else None)),
        "region": _keyed([(r_, 256), (e_, 64)], minv, lambda r, e: (regions[r], on(e))),
        "cell": _keyed([(r_, 256), (in_, 64), (c_, 64), (cl_, 9), (lv_, 5), (m_, 256)], minv,
            lambda r, i, c, cl, lv, m: (r, i, c, cl, lv, m)),
    }  # fmt: skip
    return Prepared(
        n, groups, cols, [str(r) for r in regions], [str(t) for t in insutypes],
        [str(m) for m in med_types], chains, [str(d) for d in dises], epoch, it, bounds, keyed,
        item_dicts,
    )  # fmt: skip


def _items(
    items: pa.Table, bill_ids: Arr
) -> tuple[dict[str, Arr], tuple[Arr, Arr], dict[str, list[str]]]:
    ids = ints(items["bill_id"])
    increasing = len(bill_ids) < 2 or bool(np.all(bill_ids[1:] > bill_ids[:-1]))
    if increasing:  # the dataset's order: bill ids increase with the rows (no sort needed)
        row = np.minimum(np.searchsorted(bill_ids, ids), max(len(bill_ids) - 1, 0))
        known = bill_ids[row] == ids if len(bill_ids) else np.zeros(len(ids), bool)
    else:
        order = np.argsort(bill_ids, kind="stable")
        pos = np.minimum(np.searchsorted(bill_ids[order], ids), max(len(bill_ids) - 1, 0))
        known = bill_ids[order][pos] == ids if len(bill_ids) else np.zeros(len(ids), bool)
        row = order[pos] if len(bill_ids) else pos
    if len(ids) and not np.all(known):
        raise SimulationError("items: bill_id refers to no bill of the partition")
    amount = ints(items["amount"], 0)
    if (amount < 0).any():
        i = int(np.nonzero(amount < 0)[0][0])
        raise SimulationError(
            f"bill {int(ids[i])}: det_item_fee_sumamt: 明细金额为负 (退费请用撤销)"
        )
    lv_idx, lvs = codes(items["chrgitm_lv"])
    lv = _at(
        np.asarray([{"01": 1, "02": 2, "03": 3}.get(v or "", 0) for v in lvs], np.int64), lv_idx
    )
    incat = bools(items["in_catalog"])
    refused = bools(items["lmt_refused"])
    bad = incat & ~refused & (lv == 0)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise SimulationError(
            f"bill {int(ids[i])}: chrgitm_lv: {lvs[lv_idx[i]]!r} 无效 (01 甲 / 02 乙 / 03 丙)"
        )
    it = {
        "row": row,
        "amount": amount,
        "lv": lv,
        "prop": ints(items["selfpay_units"]),
        "lim": ints(items["pric_uplmt_amt"]),
        "cnt": ints(items["cnt_units"], 10_000),
        "incat": incat,
        "refused": refused,
        "nego": bools(items["nego"]),
        "price": ints(items["pric_fen"], 0),
    }
    dicts: dict[str, list[str]] = {}
    for name in ("list_type", "med_list_codg"):  # what item classes (特定项目类别) match on
        it[name], values = codes(items[name])
        dicts[name] = [str(v) for v in values]
    if len(row) > 1 and np.any(row[1:] < row[:-1]):
        o = np.argsort(row, kind="stable")
        it = {k: v[o] for k, v in it.items()}
    ends = np.cumsum(np.bincount(it["row"], minlength=len(bill_ids)))
    bounds = (ends - np.bincount(it["row"], minlength=len(bill_ids)), ends)
    return it, bounds, dicts

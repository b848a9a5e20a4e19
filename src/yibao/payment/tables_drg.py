"""DRG grouper tables (CHS-DRG style): mdc, mdc_dx, adrg, adrg_list, drg, cc, cc_excl, weights."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from yibao.payment.model import drg
from yibao.payment.tables_io import (
    _COND,
    _EXCL_TABLE,
    TableError,
    _decimal,
    _dx,
    _proc,
    _rows,
    read_manifest,
)


def _conds(f: str, n: int, text: str) -> tuple[drg.Cond, ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = _COND.match(part)
        if not m or int(m.group(2)) >= int(m.group(3)):
            raise TableError(
                f,
                n,
                f"condition {part!r}: write field=lo-hi (lo < hi), field one of {', '.join(drg.COND_FIELDS)}",
            )
        out.append(drg.Cond(m.group(1), int(m.group(2)), int(m.group(3))))
    return tuple(out)


def _load_mdcs(folder: Path) -> list[drg.Mdc]:
    out: dict[str, drg.Mdc] = {}
    path = folder / "mdc.tsv"
    for n, r in _rows(path, ("mdc", "name", "order", "entry", "sex", "max_age_days")):
        f = str(path)
        if not re.fullmatch(r"MDC[A-Z]", r["mdc"]):
            raise TableError(f, n, f"mdc {r['mdc']!r} is not MDCA … MDCZ")
        if r["mdc"] in out:
            raise TableError(f, n, f"mdc {r['mdc']} appears twice")
        if r["entry"] not in drg.ENTRY_RULES:
            raise TableError(
                f, n, f"entry {r['entry']!r} is not one of {', '.join(drg.ENTRY_RULES)}"
            )
        if r["sex"] not in ("", "1", "2"):
            raise TableError(f, n, f"sex {r['sex']!r} must be empty, 1 (男) or 2 (女)")
        if not r["order"].isdigit() or (r["max_age_days"] and not r["max_age_days"].isdigit()):
            raise TableError(f, n, "order and max_age_days must be whole numbers")
        age = int(r["max_age_days"]) if r["max_age_days"] else None
        out[r["mdc"]] = drg.Mdc(r["mdc"], r["name"], int(r["order"]), r["entry"], r["sex"], age)
    return list(out.values())


def _load_adrgs(folder: Path, mdcs: set[str]) -> list[drg.Adrg]:
    out: dict[str, drg.Adrg] = {}
    path = folder / "adrg.tsv"
    f = str(path)
    for n, r in _rows(path, ("adrg", "mdc", "name", "type", "order", "rule", "cond")):
        code = r["adrg"]
        if not re.fullmatch(r"[A-Z]{2}\d", code):
            raise TableError(
                f, n, f"adrg {code!r} is not a letter, a type letter and a digit (e.g. ES3)"
            )
        if code in out:
            raise TableError(f, n, f"adrg {code} appears twice")
        if r["mdc"] not in mdcs:
            raise TableError(f, n, f"mdc {r['mdc']} is not in mdc.tsv")
        if r["mdc"] != "MDC" + code[0]:
            raise TableError(f, n, f"adrg {code} does not belong to {r['mdc']} (first letter)")
        kind = drg.KIND_LETTERS.get(code[1], "")
        if r["type"] != kind:
            raise TableError(
                f,
                n,
                f"type {r['type']!r} contradicts the second letter {code[1]} of {code} ({kind})",
            )
        if r["rule"] not in drg.ADRG_RULES:
            raise TableError(f, n, f"rule {r['rule']!r} is not one of {', '.join(drg.ADRG_RULES)}")
        if not r["order"].isdigit():
            raise TableError(f, n, "order must be a whole number")
        out[code] = drg.Adrg(
            code, r["mdc"], r["name"], kind, int(r["order"]), r["rule"], _conds(f, n, r["cond"])
        )
    return list(out.values())


def _load_lists(folder: Path, adrgs: dict[str, drg.Adrg]) -> list[tuple[str, str, str]]:
    path = folder / "adrg_list.tsv"
    f = str(path)
    out = []
    for n, r in _rows(path, ("adrg", "list", "code")):
        if r["adrg"] not in adrgs:
            raise TableError(f, n, f"adrg {r['adrg']} is not in adrg.tsv")
        if r["list"] not in drg.LIST_NAMES:
            raise TableError(f, n, f"list {r['list']!r} is not one of {', '.join(drg.LIST_NAMES)}")
        code = _dx(f, n, r["code"]) if r["list"].endswith("_dx") else _proc(f, n, r["code"])
        out.append((r["adrg"], r["list"], code))
    have = {(a, name) for a, name, _ in out}
    for a in adrgs.values():
        for name in drg.RULE_LISTS[a.rule]:
            if (a.code, name) not in have:
                raise TableError(f, 0, f"adrg {a.code} (rule {a.rule}) has no {name} list")
    return out


def _load_drgs(folder: Path, adrgs: dict[str, drg.Adrg]) -> list[drg.Drg]:
    path = folder / "drg.tsv"
    f = str(path)
    out: dict[str, drg.Drg] = {}
    for n, r in _rows(path, ("drg", "adrg", "name", "split")):
        code, adrg = r["drg"], r["adrg"]
        if adrg not in adrgs:
            raise TableError(f, n, f"adrg {adrg} is not in adrg.tsv")
        if not re.fullmatch(re.escape(adrg) + r"[1359]", code):
            raise TableError(f, n, f"drg {code!r} must be its ADRG {adrg} and one digit 1/3/5/9")
        if code in out:
            raise TableError(f, n, f"drg {code} appears twice")
        want = {"1": "mcc", "3": "cc", "5": "none", "9": "none"}[code[-1]]
        if r["split"] != want:
            raise TableError(
                f, n, f"split {r['split']!r} contradicts the suffix {code[-1]} (expected {want})"
            )
        out[code] = drg.Drg(code, adrg, r["name"], r["split"])
    for a in adrgs:
        suffixes = {d.code[-1] for d in out.values() if d.adrg == a}
        if not suffixes:
            raise TableError(f, 0, f"adrg {a} has no DRG")
        if "9" in suffixes and len(suffixes) > 1:
            raise TableError(f, 0, f"adrg {a}: a 9 (not split) group cannot have split siblings")
        if "9" not in suffixes and "5" not in suffixes:
            raise TableError(f, 0, f"adrg {a}: split groups need a 5 group (不伴并发症或合并症)")
    return list(out.values())


def load_drg(folder: Path) -> drg.DrgTables:
    """Read and check one DRG table folder."""
    manifest = read_manifest(folder)
    if manifest.kind != "drg":
        raise TableError(str(folder / "manifest.yaml"), 1, "kind must be drg for a DRG folder")
    mdcs = _load_mdcs(folder)
    codes = {m.code for m in mdcs}
    path = folder / "mdc_dx.tsv"
    mdc_dx = []
    for n, r in _rows(path, ("mdc", "dx_code")):
        if r["mdc"] not in codes:
            raise TableError(str(path), n, f"mdc {r['mdc']} is not in mdc.tsv")
        mdc_dx.append((r["mdc"], _dx(str(path), n, r["dx_code"])))
    adrgs = {a.code: a for a in _load_adrgs(folder, codes)}
    lists = _load_lists(folder, adrgs)
    drgs = _load_drgs(folder, adrgs)
    path = folder / "cc_excl.tsv"
    excl = [
        (r["excl_table"], _dx(str(path), n, r["principal_dx"]))
        for n, r in _rows(path, ("excl_table", "principal_dx"))
    ]
    tables = {t for t, _ in excl}
    path = folder / "cc.tsv"
    cc: dict[str, drg.CcEntry] = {}
    for n, r in _rows(path, ("dx_code", "level", "excl_table")):
        code = _dx(str(path), n, r["dx_code"])
        if r["level"] not in ("MCC", "CC"):
            raise TableError(str(path), n, f"level {r['level']!r} must be MCC or CC")
        if not _EXCL_TABLE.match(r["excl_table"]) or r["excl_table"] not in tables:
            raise TableError(
                str(path), n, f"exclusion table {r['excl_table']!r} is not in cc_excl.tsv"
            )
        if code in cc:
            raise TableError(str(path), n, f"{code} appears twice")
        cc[code] = drg.CcEntry(r["level"], r["excl_table"])
    path = folder / "weights.tsv"
    weights: dict[str, Decimal] = {}
    known = {d.code for d in drgs}
    for n, r in _rows(path, ("drg", "weight")):
        if r["drg"] not in known:
            raise TableError(str(path), n, f"drg {r['drg']} is not in drg.tsv")
        weights[r["drg"]] = _decimal(str(path), n, r["weight"], "weight", places=4, positive=True)
    missing = sorted(known - set(weights))
    if missing:
        raise TableError(str(path), 0, f"no weight for {', '.join(missing)}")
    return drg.compile_tables(
        manifest, mdcs, mdc_dx, list(adrgs.values()), lists, drgs, cc, excl, weights
    )

"""DIP grouper tables: dip_groups (core and comprehensive groups) and dip_proc_type."""

from __future__ import annotations

import re
from pathlib import Path

from yibao.money import MoneyError, yuan_to_fen
from yibao.payment.model import dip
from yibao.payment.tables_io import TableError, _decimal, _dx, _proc, _rows, read_manifest


def load_dip(folder: Path) -> dip.DipTables:
    """Read and check one DIP table folder."""
    manifest = read_manifest(folder)
    if manifest.kind != "dip":
        raise TableError(str(folder / "manifest.yaml"), 1, "kind must be dip for a DIP folder")
    path = folder / "dip_proc_type.tsv"
    f = str(path)
    proc_types: list[tuple[str, str]] = []
    for n, r in _rows(path, ("proc_prefix", "treat_type")):
        if r["treat_type"] not in dip.TREAT_TYPES[1:]:
            raise TableError(
                f,
                n,
                f"treat_type {r['treat_type']!r} is not one of {', '.join(dip.TREAT_TYPES[1:])}",
            )
        proc_types.append((_proc(f, n, r["proc_prefix"]), r["treat_type"]))
    path = folder / "dip_groups.tsv"
    f = str(path)
    columns = (
        "dip_code",
        "kind",
        "dx_key",
        "procs",
        "treat_type",
        "name",
        "score",
        "avg_cost_1",
        "avg_cost_2",
        "avg_cost_3",
    )
    groups: dict[str, dip.DipGroup] = {}
    keys: set[tuple[str, str, tuple[str, ...], str]] = set()
    for n, r in _rows(path, columns):
        if r["dip_code"] in groups or not r["dip_code"]:
            raise TableError(f, n, f"dip_code {r['dip_code']!r} is empty or appears twice")
        if r["kind"] not in dip.KINDS:
            raise TableError(f, n, f"kind {r['kind']!r} is not core or comprehensive")
        if r["treat_type"] not in dip.TREAT_TYPES:
            raise TableError(
                f, n, f"treat_type {r['treat_type']!r} is not one of {', '.join(dip.TREAT_TYPES)}"
            )
        procs = tuple(_proc(f, n, p) for p in r["procs"].split("+") if p)
        if r["kind"] == "comprehensive":
            if not re.fullmatch(r"[A-Z]\d\d", r["dx_key"]) or procs:
                raise TableError(
                    f, n, "a comprehensive group has a 3-character dx_key and no procs"
                )
        else:
            _dx(f, n, r["dx_key"])
            if bool(procs) == (r["treat_type"] == "conservative"):
                raise TableError(
                    f, n, "a core group has procs unless its treat_type is conservative"
                )
        key = (r["kind"], r["dx_key"], procs, r["treat_type"])
        if key in keys:
            raise TableError(f, n, "the same diagnosis, procedures and treatment appear twice")
        keys.add(key)
        score = _decimal(f, n, r["score"], "score", places=4, positive=True)
        avg = {}
        for level in dip.LEVELS:
            try:
                avg[level] = yuan_to_fen(
                    _decimal(
                        f, n, r[f"avg_cost_{level}"], f"avg_cost_{level}", places=2, positive=False
                    )
                )
            except MoneyError as exc:  # pragma: no cover - _decimal already checked
                raise TableError(f, n, str(exc)) from exc
        groups[r["dip_code"]] = dip.DipGroup(
            r["dip_code"], r["name"], r["kind"], r["dx_key"], procs, r["treat_type"], score, avg
        )
    return dip.compile_tables(manifest, list(groups.values()), proc_types)

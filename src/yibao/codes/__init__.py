"""National code tables (字典表) as data: one YAML file per table in ``codes/data/``.

File format (``codes/data/<table>.yaml``)::

    table: insutype
    name: 险种类型
    source: nhsa-interface.md §3.1 (national 医疗保障信息平台 码表)
    codes:
      "310": 职工基本医疗保险
      "390": 城乡居民基本医疗保险

Use :func:`label` for the Chinese label, :func:`is_valid` to check a value, :func:`table` for all.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TypedDict

import yaml


class CodeTable(TypedDict):
    """One code table: its name, its source and its code → label mapping."""

    table: str
    name: str
    source: str
    codes: dict[str, str]


class UnknownCodeTable(KeyError):
    """No such code table (字典表不存在)."""


@cache
def table(name: str) -> CodeTable:
    """Load a code table by its name (e.g. ``"insutype"``)."""
    res = resources.files("yibao.codes") / "data" / f"{name}.yaml"
    if not res.is_file():
        raise UnknownCodeTable(name)
    raw = yaml.safe_load(res.read_text(encoding="utf-8"))
    codes = {str(k): str(v) for k, v in (raw.get("codes") or {}).items()}
    return CodeTable(table=name, name=str(raw["name"]), source=str(raw["source"]), codes=codes)


def table_names() -> list[str]:
    """Every code table shipped."""
    folder = resources.files("yibao.codes") / "data"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def is_valid(name: str, code: str) -> bool:
    """Whether ``code`` is in table ``name``."""
    return code in table(name)["codes"]


def label(name: str, code: str) -> str:
    """The Chinese label of ``code`` in table ``name``; the code itself when unknown."""
    return table(name)["codes"].get(code, code)

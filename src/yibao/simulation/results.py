"""Results of a run on disk (测算结果) and the views reports are made of.

A result folder holds ``run.json`` (what was run), ``cells.parquet`` (sums by city × insutype ×
person group × assistance class × level × med_type and scenario), ``months.parquet``,
``distribution.parquet``, ``projection.parquet`` and ``report.xlsx``. Amounts are fen (int64).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from yibao import codes
from yibao.policy.loader import default_tree

GROUP_LABELS = {
    "active": "在职", "retired": "退休", "tier1_active": "一档在职", "tier1_retired": "一档退休",
    "tier2_active": "二档在职", "tier2_retired": "二档退休", "minor": "未成年人及学生",
    "adult": "成年居民", "senior": "60岁以上居民", "active_pool_only": "单建统筹在职",
    "retired_pool_only": "单建统筹退休",
}  # fmt: skip
CLASS_LABELS = {
    "": "无", "tekun": "特困", "orphan": "孤儿", "dibao": "低保", "poverty_return": "返贫致贫",
    "dibao_edge": "低保边缘", "monitored": "监测对象", "illness_poverty": "因病致贫重病患者",
}  # fmt: skip
LEVEL_LABELS = {"0": "一级以下/社康", "1": "一级", "2": "二级", "3": "三级"}
SCHEME_LABELS = {"employee": "职工", "resident": "居民"}
MEASURE_LABELS = {
    "bills": "结算笔数", "persons": "人数(组内)", "medfee_sumamt": "医疗费总额",
    "inscp_scp_amt": "政策范围内费用", "act_pay_dedc": "起付线", "hifp_pay": "统筹基金",
    "serious": "大病/大额", "cvlserv_pay": "公务员补助", "maf_pay": "医疗救助",
    "fund_pay_sumamt": "基金支付合计", "psn_part_amt": "个人负担", "acct_pay": "个人账户",
    "psn_cash_pay": "现金", "bills_changed": "变化笔数", "persons_changed": "变化人数(组内)",
}  # fmt: skip
MONEY = ("medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "serious", "cvlserv_pay",
         "maf_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay")  # fmt: skip


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def region_name(code: str) -> str:
    region = default_tree().regions.get(code)
    return f"{region.name}({code})" if region else code


@dataclass
class Results:
    """A result folder, read back."""

    meta: dict[str, Any]
    cells: pa.Table
    months: pa.Table
    distribution: pa.Table
    projection: pa.Table

    @classmethod
    def read(cls, folder: Path | str) -> Results:
        f = Path(folder)
        if not (f / "run.json").is_file():
            raise FileNotFoundError(f"{folder}: not a simulation result (no run.json)")
        return cls(
            json.loads((f / "run.json").read_text(encoding="utf-8")),
            pq.read_table(f / "cells.parquet"),
            pq.read_table(f / "months.parquet"),
            pq.read_table(f / "distribution.parquet"),
            pq.read_table(f / "projection.parquet"),
        )

    @property
    def scenario_names(self) -> dict[str, str]:
        return {s["id"]: s["name"] for s in self.meta["scenarios"]}

    def totals(self, by: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Sums per scenario (and ``by`` dimensions), with ``serious`` = 大病/大额 all funds and
        the change against the baseline of every amount (``d_`` prefix)."""
        rows: dict[tuple[Any, ...], dict[str, int]] = {}
        for c in self.cells.to_pylist():
            key = (c["scenario"], *(c[d] for d in by))
            acc = rows.setdefault(key, {})
            c["serious"] = c["hifmi_pay"] + c["hifob_pay"] + c["oth_pay"]
            for m in MEASURE_LABELS:
                acc[m] = acc.get(m, 0) + c[m]
        out = []
        for key, acc in rows.items():
            base = rows.get(("baseline", *key[1:]), {})
            row: dict[str, Any] = {"scenario": key[0], **dict(zip(by, key[1:], strict=True)), **acc}
            for m in MONEY:
                row["d_" + m] = acc[m] - base.get(m, 0)
            out.append(row)
        order = list(self.scenario_names)
        out.sort(key=lambda r: (order.index(r["scenario"]), *(r[d] for d in by)))
        return out

    def projection_by_year(self) -> list[dict[str, Any]]:
        """Year-end 可支付月数, income, spending and balance per scenario, city and scheme."""
        out = []
        for r in self.projection.to_pylist():
            if r["month"].endswith("-12"):
                out.append(r)
        return out


def med_type_label(code: str) -> str:
    try:
        return codes.label("med_type", code)
    except (KeyError, ValueError):
        return code

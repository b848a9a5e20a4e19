"""A small insured world for the funds tests (参保单位、职工、灵活就业、居民), as import files.

Everything is written as the CSV files staff would import (persons, units, employment), so the
tests go through the registry's bulk import with its all-or-nothing checks.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from yibao.registry.certs import compose_id18
from yibao.registry.rows import COLUMNS
from yibao.registry.unit_rows import EMPLOYMENT_COLUMNS, UNIT_COLUMNS
from yibao.registry.uscc import compose

REGION = "440300"  # 深圳: 单位6%, 个人2%, 基数 2951–14754 (2014 band), relief 3% (province, 2020)


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in columns})
    return buf.getvalue().encode("utf-8")


@dataclass
class World:
    """Import files for units with employees, flexible workers and residents."""

    persons: list[dict[str, str]] = field(default_factory=list)
    units: list[dict[str, str]] = field(default_factory=list)
    employment: list[dict[str, str]] = field(default_factory=list)
    seq: int = 0

    def _person(self, born: date, insutype: str, psn_type: str, **extra: str) -> str:
        self.seq += 1
        certno = compose_id18("440303", born, self.seq)
        gend = "1" if self.seq % 2 else "2"
        self.persons.append(
            {
                "psn_cert_type": "01", "certno": certno, "psn_name": f"测试{self.seq:04d}",
                "gend": gend, "naty": "1", "brdy": born.isoformat(), "town": "福田区华富街道",
                "insutype": insutype, "psn_insu_stas": "1",
                "psn_insu_date": extra.pop("since", "2015-01-01"), "psn_type": psn_type,
                "insuplc_admdvs": REGION, **extra,
            }
        )  # fmt: skip
        return certno

    def unit(self, emp_no: str, name: str, emp_type: str = "10", region: str = REGION) -> str:
        code = compose("91", region, f"{len(self.units) + 1:08d}X")
        self.units.append(
            {"emp_no": emp_no, "uscc": code, "emp_name": name, "emp_type": emp_type,
             "admdvs": region, "town": "福田区华富街道"}
        )  # fmt: skip
        return code

    def employees(
        self, emp_no: str, name: str, n: int, *, wage: int = 8000, since: str = "2015-01-01"
    ) -> list[str]:
        out = []
        for i in range(n):
            born = date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
            certno = self._person(born, "310", "11", emp_no=emp_no, emp_name=name, since=since)
            self.employment.append(
                {"psn_cert_type": "01", "certno": certno, "emp_no": emp_no, "begin_date": since,
                 "wage_base": str(wage + 100 * (i % 7)), "flxempe_flag": "0"}
            )  # fmt: skip
            out.append(certno)
        return out

    def flexible(self, wage: int = 5000, since: str = "2015-01-01") -> str:
        certno = self._person(date(1980, 5, 5), "310", "11", flxempe_flag="1", since=since)
        self.employment.append(
            {"psn_cert_type": "01", "certno": certno, "emp_no": "", "begin_date": since,
             "wage_base": str(wage), "flxempe_flag": "1"}
        )  # fmt: skip
        return certno

    def resident(self, born: date = date(1990, 3, 3), since: str = "2015-01-01") -> str:
        return self._person(born, "390", "50", since=since)

    def persons_csv(self) -> bytes:
        return _csv(COLUMNS, self.persons)

    def units_csv(self) -> bytes:
        return _csv(UNIT_COLUMNS, self.units)

    def employment_csv(self) -> bytes:
        return _csv(EMPLOYMENT_COLUMNS, self.employment)

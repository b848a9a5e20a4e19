"""Demo insured for settlement (演示参保人): synthetic persons with funded personal accounts.

The registry's deterministic generator (:func:`yibao.registry.synth.person_rows`) gives the same
persons for the same seed, so ``yibao his-sim`` can re-create the HIS's view of them (ID numbers
for 1101 with ``mdtrt_cert_type`` 02) without reading the database. Employees (310) get a
personal-account credit (个人账户划入, 演示金额) so account payment is exercised. Idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa

from yibao.registry import accounts
from yibao.registry import service as registry
from yibao.registry.model import Enrolment
from yibao.registry.synth import person_rows

DEMO_SEED = 2026
DEMO_COUNT = 400
DEMO_ACCOUNT_CREDIT_FEN = 300_000  # 3000.00 元 (演示值)
DEMO_CREDIT_REF = "demo-credit-2026"


def demo_rows(count: int = DEMO_COUNT, seed: int = DEMO_SEED) -> Iterator[dict[str, str]]:
    """The demo persons' registry rows (deterministic)."""
    return person_rows(count, seed=seed)


def _enrolment(row: dict[str, str]) -> Enrolment:
    return Enrolment(
        insutype=row["insutype"],
        psn_insu_stas=row["psn_insu_stas"],
        psn_insu_date=date.fromisoformat(row["psn_insu_date"]),
        psn_type=row["psn_type"],
        insuplc_admdvs=row["insuplc_admdvs"],
        emp_no=row["emp_no"],
        emp_name=row["emp_name"],
        flxempe_flag=row["flxempe_flag"] == "1",
        cvlserv_flag=row["cvlserv_flag"] == "1",
    )


def register_row(conn: sa.Connection, row: dict[str, str]) -> str:
    """Register one demo person (and enrolment, account credit); returns ``psn_no``."""
    psn_no = registry.register_person(
        conn,
        psn_cert_type=row["psn_cert_type"],
        certno=row["certno"],
        psn_name=row["psn_name"],
        gend=row["gend"],
        brdy=date.fromisoformat(row["brdy"]),
        admdvs=row["insuplc_admdvs"],
        naty=row["naty"],
        tel=row["tel"],
        town=row["town"],
    )
    registry.enrol(conn, psn_no, _enrolment(row))
    if row["insutype"] == "310":
        accounts.post(
            conn, psn_no, DEMO_ACCOUNT_CREDIT_FEN, ref=DEMO_CREDIT_REF, memo="演示个人账户划入"
        )
    return psn_no


def seed(engine: sa.Engine, count: int = DEMO_COUNT) -> None:
    """Demo seeder: register the demo persons (idempotent)."""
    with engine.begin() as conn:
        for row in demo_rows(count):
            register_row(conn, row)

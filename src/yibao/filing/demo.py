"""Demo filings (演示备案): some Huizhou insured filed for care in Guangzhou and Shenzhen.

Idempotent (request ids ``demo-…``); runs after the registry seeder. 演示数据, not real filings.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from yibao.filing import service
from yibao.filing.model import FilingError
from yibao.registry import store as registry_store

DEMO_FILINGS = 24
PLAN = (("resident_work", "440100"), ("long_residence", "440300"), ("temporary", "440100"))


def seed(engine: sa.Engine) -> None:
    """File for the first Huizhou (441300) insured persons, cycling through :data:`PLAN`."""
    e = registry_store.enrolment
    with engine.begin() as conn:
        people = conn.execute(
            sa.select(e.c.psn_no).where(e.c.insuplc_admdvs == "441300").distinct()
            .order_by(e.c.psn_no).limit(DEMO_FILINGS)
        ).scalars().all()  # fmt: skip
        for n, psn_no in enumerate(people):
            ftype, place = PLAN[n % len(PLAN)]
            try:
                service.file_crossregion(
                    conn, psn_no=psn_no, mdtrtarea_admdvs=place, filing_type=ftype,
                    begndate=date(2026, 1, 1), enddate=None, source="demo",
                    request_id=f"demo-{psn_no}", today=date(2026, 1, 1), filed_by="演示数据",
                )  # fmt: skip
            except FilingError:
                continue  # e.g. already holds a long-term filing elsewhere

"""The demo filings seeder runs on the demo registry and is idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.filing import demo
from yibao.filing.store import filing
from yibao.registry import demo as registry_demo


def test_seed_twice(engine: Engine) -> None:
    registry_demo.seed(engine)
    demo.seed(engine)
    demo.seed(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(filing.c.filing_type, filing.c.insuplc_admdvs)).all()
    assert len(rows) == demo.DEMO_FILINGS
    assert {r.insuplc_admdvs for r in rows} == {"441300"}
    assert {r.filing_type for r in rows} == {"resident_work", "long_residence", "temporary"}

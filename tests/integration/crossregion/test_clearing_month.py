"""Clearing on PostgreSQL over real settlements (encounter + checkout + ledger services).

A month of mixed traffic (local, 省内异地 both ways, cancellations, one in the next month) →
statements per pair equal the underlying settlements to the fen, the ledger's clearing
positions equal the statements' nets, approval posts the payment (positions back to zero), and
the ledger still sums to zero. A hypothesis test repeats this for generated months.
"""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.integration.crossregion import traffic
from tests.integration.crossregion.people import insured
from yibao.clearing import service
from yibao.clearing.export import statement_xlsx
from yibao.clearing.model import ClearingError
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.encounter.store import encounter_settlement
from yibao.institutions import demo as institutions_demo
from yibao.ledger import clearing_position, verify

GZ, SZ, HZ, ZH = "440100", "440300", "441300", "440400"
HOSPITAL = {GZ: "H44010000001", SZ: "H44030000001", HZ: "H44130000001", ZH: "H44040000001"}
OCT_END = date(2026, 10, 31)


def _raw_sums(conn: sa.Connection, insured_in: str, treated_in: str) -> tuple[int, int, int]:
    """Count, medfee_sumamt and fund_pay_sumamt straight from the settlements table."""
    s = encounter_settlement
    r = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(s.c.medfee_sumamt), 0),
            sa.func.coalesce(sa.func.sum(s.c.fund_pay_sumamt), 0),
        ).where(
            s.c.insuplc_admdvs == insured_in, s.c.mdtrtarea_admvs == treated_in,
            s.c.setl_date.between(date(2026, 10, 1), OCT_END),
        )
    ).one()  # fmt: skip
    return int(r[0]), int(r[1]), int(r[2])


def _month(engine: Engine, visits: list[tuple[str, str, int, list[tuple[int, str]], int]]) -> None:
    """Settle ``(insured region, treatment region, day, lines, cancel_day|0)`` visits."""
    institutions_demo.seed(engine)
    with engine.begin() as conn:
        people = {r: insured(conn, r) for r in (GZ, SZ, HZ, ZH)}
        for n, (ins, trt, day, lines, cancel_day) in enumerate(visits):
            s = traffic.outpatient(
                conn, HOSPITAL[trt], people[ins], ins, date(2026, 10, day),
                traffic.items(*lines), hour=8 + n % 10,
            )  # fmt: skip
            if cancel_day:
                traffic.cancel(conn, s, date(2026, 10, cancel_day) if cancel_day < 32 else
                               date(2026, 11, cancel_day - 31))  # fmt: skip


def _check_month(engine: Engine) -> list[service.Statement]:
    with engine.begin() as conn:
        stmts = service.run(conn, "2026-10", actor="zhang")
        for s in stmts:
            a, b = s.pair
            da, db = s.totals["directions"]
            for d in (da, db):
                count, medfee, fund = _raw_sums(conn, d["insured"], d["treatment"])
                assert (d["settlements"] + d["cancellations"], d["medfee_sumamt"]) == (
                    count,
                    medfee,
                )
                assert d["fund_pay_sumamt"] == fund
            lines = service.lines(conn, s.stmt_id)
            assert sum(ln.clearing_amt for ln in lines) == da["clearing_amt"] + db["clearing_amt"]
            # the ledger's clearing account holds exactly the statement's net
            assert clearing_position(conn, a, b, OCT_END) == db["clearing_amt"] - da["clearing_amt"]
    return stmts


def test_month_of_mixed_traffic(engine: Engine) -> None:
    rnd = random.Random(5)
    visits = []
    for _ in range(24):
        ins, trt = rnd.choice([(HZ, GZ), (HZ, GZ), (GZ, HZ), (SZ, GZ), (HZ, SZ), (GZ, GZ)])
        lines = [(rnd.randint(1_000, 300_000), rnd.choice(["01", "02", "03"])) for _ in range(3)]
        visits.append((ins, trt, rnd.randint(1, 28), lines, rnd.choice([0, 0, 0, 29, 35])))
    _month(engine, visits)
    stmts = _check_month(engine)
    assert {s.pair for s in stmts} == {(GZ, HZ), (GZ, SZ), (SZ, HZ)}
    gz_sz = next(s for s in stmts if s.pair == (GZ, SZ))  # Shenzhen pays outpatient care
    assert gz_sz.state.value == "draft" and gz_sz.net_amount > 0 and gz_sz.payer == SZ

    with engine.begin() as conn:  # re-run of an unchanged month changes nothing
        again = service.run(conn, "2026-10", actor="zhang", pair=(SZ, GZ))
        assert again[0].version == gz_sz.version and again[0].totals == gz_sz.totals
    with engine.begin() as conn, pytest.raises(ClearingError, match="尚未确认"):
        service.approve(conn, gz_sz.stmt_id, actor="li", today=date(2026, 11, 5))
    with engine.begin() as conn:
        service.confirm(conn, gz_sz.stmt_id, actor="zhang", version=gz_sz.version)
    with engine.begin() as conn, pytest.raises(ClearingError, match="不能与确认人相同"):
        service.approve(conn, gz_sz.stmt_id, actor="zhang", today=date(2026, 11, 5))
    with engine.begin() as conn:
        frozen = service.run(conn, "2026-10", actor="zhang", pair=(GZ, SZ))[0]
        assert frozen.state.value == "confirmed"
        done = service.approve(conn, gz_sz.stmt_id, actor="li", today=date(2026, 11, 5))
        assert done.state.value == "approved" and done.ledger_chain_id == f"clr:{gz_sz.stmt_id}"
        assert clearing_position(conn, GZ, SZ, date(2026, 11, 5)) == _november_position(conn)
        report = verify(conn)
        assert report.ok and report.entry_sum == 0

    with engine.connect() as conn:
        wb = load_workbook(io.BytesIO(statement_xlsx(done, service.lines(conn, done.stmt_id))))
    detail = wb["明细"]
    total = sum(Decimal(str(r[14])) for r in detail.iter_rows(min_row=2, values_only=True))
    d1, d2 = done.totals["directions"]
    assert total * 100 == d1["clearing_amt"] + d2["clearing_amt"]
    assert detail.max_row - 1 == done.line_count


def _november_position(conn: sa.Connection) -> int:
    """After the October payment, only November's cancellations remain in CLR:440100:440300."""
    s = encounter_settlement
    rows = conn.execute(
        sa.select(s.c.insuplc_admdvs, s.c.fund_pay_sumamt, s.c.acct_pay).where(
            s.c.setl_date >= date(2026, 11, 1),
            sa.tuple_(s.c.insuplc_admdvs, s.c.mdtrtarea_admvs).in_([(GZ, SZ), (SZ, GZ)]),
        )
    ).all()
    return sum((r[1] + r[2]) * (1 if r[0] == SZ else -1) for r in rows)


VISIT = st.tuples(
    st.sampled_from([(HZ, GZ), (GZ, HZ), (SZ, GZ), (ZH, SZ), (SZ, SZ)]),
    st.integers(1, 28),
    st.lists(st.tuples(st.integers(1, 500_000), st.sampled_from(["01", "02", "03"])), min_size=1,
             max_size=3),
    st.sampled_from([0, 0, 30, 40]),
)  # fmt: skip


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(VISIT, min_size=1, max_size=10))
def test_generated_months_clear_to_the_fen(
    pg: EmbeddedPostgres,
    template_url: str,
    visits: list[tuple[tuple[str, str], int, list[tuple[int, str]], int]],
) -> None:
    eng = make_engine(new_database(pg, template_url), pool_size=2)
    try:
        _month(eng, [(p[0], p[1], day, lines, c) for p, day, lines, c in visits])
        stmts = _check_month(eng)
        pairs = {tuple(sorted(p)) for p, *_ in visits if p[0] != p[1]}
        assert {s.pair for s in stmts} == pairs
        with eng.begin() as conn:
            for s in stmts:
                service.confirm(conn, s.stmt_id, actor="a")
                service.approve(conn, s.stmt_id, actor="b", today=OCT_END)
                assert clearing_position(conn, s.pair[0], s.pair[1], OCT_END) == 0
            assert verify(conn).ok
    finally:
        eng.dispose()

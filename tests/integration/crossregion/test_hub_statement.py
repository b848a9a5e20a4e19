"""The hub's inter-province statement (省间清算单) over PostgreSQL: relay records of a month per
direction, what each province reported, and who pays whom."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.hub import service, store


def _relay(conn: sa.Connection, relay_id: str, ins: str, trt: str, amt: int, *,
           settled: date, reversed_on: date | None = None) -> None:  # fmt: skip
    store.upsert(
        conn, store.relay, relay_id, from_node="n", to_province=ins[:2], insuplc_admdvs=ins,
        mdtrtarea_admvs=trt, status="reversed" if reversed_on else "settled", request_hash="h",
        request={}, response={}, medfee_sumamt=amt, clearing_amt=amt, settled_on=settled,
        reversed_on=reversed_on, created_at=sa.func.now(),
    )  # fmt: skip


def test_statement_nets_both_directions_and_compares_reports(engine: Engine) -> None:
    with engine.begin() as conn:
        _relay(conn, "A", "421381", "440100", 100_000, settled=date(2026, 10, 3))
        _relay(conn, "B", "420100", "440300", 50_000, settled=date(2026, 10, 9))
        _relay(conn, "C", "421381", "440100", 50_000, settled=date(2026, 10, 9),
               reversed_on=date(2026, 10, 10))  # fmt: skip
        _relay(conn, "D", "440100", "420100", 30_000, settled=date(2026, 10, 20))
        _relay(conn, "E", "421381", "440100", 70_000, settled=date(2026, 11, 1))  # next month
    hub_view = {"42->44": {"count": 4, "clearing_amt": 150_000},
                "44->42": {"count": 1, "clearing_amt": 30_000}}  # fmt: skip
    assert service.report_clearing(engine, "2026-10", "42", hub_view)["agree"] is True
    stmt = service.clearing_statement(engine, "2026-10", "44")
    by = {d["direction"]: d for d in stmt["directions"]}
    assert by["42->44"]["hub"] == {"count": 4, "clearing_amt": 150_000}
    assert by["44->42"]["hub"] == {"count": 1, "clearing_amt": 30_000}
    assert set(by["42->44"]["reports"]) == {"42"} and stmt["agree"] is True
    # Guangdong advanced 1500.00 for Hubei's insured, Hubei 300.00 for Guangdong's: Hubei pays
    assert stmt["pairs"] == [{"pair": ["44", "42"], "payer": "42", "payee": "44",
                              "net_amount": 120_000}]  # fmt: skip
    # Guangdong reports a different figure: that direction no longer agrees
    wrong = {**hub_view, "42->44": {"count": 4, "clearing_amt": 149_999}}
    assert service.report_clearing(engine, "2026-10", "44", wrong)["agree"] is False
    stmt = service.clearing_statement(engine, "2026-10", "44")
    by = {d["direction"]: d for d in stmt["directions"]}
    assert by["42->44"]["agree"] is False and by["44->42"]["agree"] is True
    assert stmt["agree"] is False
    assert service.clearing_statement(engine, "2026-10", "42")["pairs"][0]["payer"] == "42"


def test_statement_refuses_a_bad_period_or_province(engine: Engine) -> None:
    with pytest.raises(service.HubError, match="YYYY-MM"):
        service.clearing_statement(engine, "2026-13", "44")
    with pytest.raises(service.HubError, match="两位省份代码"):
        service.clearing_statement(engine, "2026-10", "4")

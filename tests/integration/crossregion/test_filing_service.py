"""Filing service on PostgreSQL: idempotent filing, status, cancellation against real settlements."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.integration.crossregion import traffic
from tests.integration.crossregion.people import insured
from yibao.filing import service
from yibao.filing.model import FilingError
from yibao.institutions import demo as institutions_demo

HZ, GZ, SZ = "441300", "440100", "440300"
GZ_HOSPITAL = "H44010000001"
TODAY = date(2026, 10, 1)


def _file(conn: sa.Connection, psn_no: str, rid: str, **kw: object) -> service.FilingRow:
    args: dict[str, object] = {
        "psn_no": psn_no,
        "mdtrtarea_admdvs": GZ,
        "filing_type": "resident_work",
        "begndate": date(2026, 9, 1),
        "enddate": None,
        "source": "mobile:wx",
        "request_id": rid,
        "today": TODAY,
    }
    args.update(kw)
    return service.file_crossregion(conn, **args)  # type: ignore[arg-type]


def test_file_is_idempotent_and_sets_the_status(engine: Engine) -> None:
    with engine.begin() as conn:
        p = insured(conn, HZ)
        a = _file(conn, p, "r1")
        b = _file(conn, p, "r1")
        assert a.filing_id == b.filing_id and a.insuplc_admdvs == HZ and a.enddate is None
        assert len(service.filings_of(conn, p)) == 1
        st = service.filing_status(conn, p, HZ, GZ, date(2026, 10, 3), False)
        assert st == "long_term"
        assert service.filing_status(conn, p, HZ, SZ, date(2026, 10, 3), False) == "unfiled"
        assert service.filing_status(conn, p, HZ, SZ, date(2026, 10, 3), True) == "emergency"


def test_refused_filing_writes_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        p = insured(conn, HZ)
        _file(conn, p, "r1")
    with engine.begin() as conn, pytest.raises(FilingError) as e:
        _file(conn, p, "r2", mdtrtarea_admdvs=SZ, filing_type="long_residence")
    assert e.value.field == "filing_type"
    with engine.begin() as conn, pytest.raises(FilingError, match="不少于6个月"):
        _file(conn, p, "r3", filing_type="temporary", enddate=date(2026, 10, 1))
    with engine.connect() as conn:
        assert len(service.filings_of(conn, p)) == 1


def test_used_filing_cannot_be_voided_only_ended(engine: Engine) -> None:
    institutions_demo.seed(engine)
    with engine.begin() as conn:
        p = insured(conn, HZ)
        row = _file(conn, p, "r1")
        s1 = traffic.outpatient(
            conn, GZ_HOSPITAL, p, HZ, date(2026, 9, 20), traffic.items((5000, "01"))
        )
    with (
        engine.begin() as conn,
        pytest.raises(FilingError, match=f"已用于异地结算 {s1.record.setl_id}"),
    ):
        service.cancel(conn, row.filing_id, today=TODAY, by="t")
    with engine.begin() as conn, pytest.raises(FilingError, match="不得早于"):
        service.end(conn, row.filing_id, date(2026, 9, 30), today=TODAY, by="t")
    with engine.begin() as conn:
        ended = service.end(conn, row.filing_id, date(2026, 10, 31), today=TODAY, by="t")
        assert ended.status == "ended"
        assert service.filing_status(conn, p, HZ, GZ, date(2026, 11, 1), False) == "unfiled"
        assert service.filing_status(conn, p, HZ, GZ, date(2026, 10, 31), False) == "long_term"
        other = _file(conn, p, "r9", filing_type="temporary", mdtrtarea_admdvs=SZ)
        done = service.cancel(conn, other.filing_id, today=TODAY, by="t", reason="填错")
        assert done.status == "cancelled"
        assert service.cancel(conn, other.filing_id, today=TODAY, by="t").status == "cancelled"


def test_chronic_and_designation(engine: Engine) -> None:
    with engine.begin() as conn:
        p = insured(conn, HZ)
        c = service.register_chronic(
            conn, psn_no=p, opsp_dise_code="MT001", opsp_dise_name="高血压",
            begndate=date(2026, 1, 1), enddate=None, source="nhsa:H1", request_id="m1", today=TODAY,
        )  # fmt: skip
        assert service.chronic_diseases(conn, p, TODAY) == ["MT001"]
        with pytest.raises(FilingError, match="已有有效备案"):
            service.register_chronic(
                conn, psn_no=p, opsp_dise_code="MT001", opsp_dise_name="高血压",
                begndate=date(2026, 2, 1), enddate=None, source="nhsa:H1", request_id="m2",
                today=TODAY,
            )  # fmt: skip
        d = service.register_designation(
            conn, psn_no=p, biz_appy_type="08", fixmedins_code="H44030000001",
            mdtrtarea_admdvs=SZ, begndate=date(2026, 1, 1), enddate=None, source="nhsa:H1",
            request_id="m3", today=TODAY,
        )  # fmt: skip
        assert d.kind == "crossregion" and d.filing_type == "resettled"
        assert service.filing_status(conn, p, HZ, SZ, TODAY, False) == "long_term"
        with pytest.raises(FilingError, match="不是本机构办理的"):
            service.cancel(conn, c.filing_id, today=TODAY, by="x", only_source="nhsa:H2")


def test_cancelled_settlement_frees_the_filing(engine: Engine) -> None:
    institutions_demo.seed(engine)
    with engine.begin() as conn:
        p = insured(conn, HZ)
        row = _file(conn, p, "r1", filing_type="temporary")
        s1 = traffic.outpatient(
            conn, GZ_HOSPITAL, p, HZ, date(2026, 9, 20), traffic.items((5000, "01"))
        )
        traffic.cancel(conn, s1, date(2026, 9, 21))
        assert service.cancel(conn, row.filing_id, today=TODAY, by="t").status == "cancelled"

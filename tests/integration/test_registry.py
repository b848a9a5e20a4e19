"""Registry on PostgreSQL: import all-or-nothing, --skip-bad, idempotent re-import, snapshot,
1101 with audited disclosure, personal account never negative under concurrency."""

from __future__ import annotations

import csv
import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.registry import accounts, bulk, rows, service, synth
from yibao.registry.model import AssistanceIdentity

COLS = [c for c in rows.COLUMNS if c != "psn_no"]


def _write(path: Path, data: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLS)
        w.writeheader()
        w.writerows(data)
    return path


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_bad_file_writes_nothing_and_reports_every_bad_row(engine: Engine, tmp_path: Path) -> None:
    data = list(synth.person_rows(50, seed=1))
    data[4]["certno"] = data[4]["certno"][:-1] + ("1" if data[4]["certno"][-1] != "1" else "2")
    data[9]["psn_insu_stas"] = "7"
    data[9]["insuplc_admdvs"] = "44"
    f = _write(tmp_path / "bad.csv", data)
    with pytest.raises(bulk.ImportRefused) as ei:
        bulk.import_file(engine, f)
    errs = [(e.row, e.field) for e in ei.value.result.errors]
    assert errs == [(6, "certno"), (11, "psn_insu_stas"), (11, "insuplc_admdvs")]
    assert _count(engine, "person") == 0 and _count(engine, "enrolment") == 0


def test_skip_bad_imports_the_rest(engine: Engine, tmp_path: Path) -> None:
    data = list(synth.person_rows(30, seed=2))
    data[0]["brdy"] = "1900-01-01"
    f = _write(tmp_path / "some-bad.csv", data)
    res = bulk.import_file(engine, f, skip_bad=True)
    assert res.written and res.bad_rows == 1 and res.persons_inserted == 29
    assert _count(engine, "person") == 29


def test_reimport_changes_nothing_and_a_change_updates_one_row(
    engine: Engine, tmp_path: Path
) -> None:
    data = list(synth.person_rows(200, seed=3))
    f = _write(tmp_path / "a.csv", data)
    first = bulk.import_file(engine, f)
    assert (first.persons_inserted, first.enrolments_inserted) == (200, 200)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT psn_no, updated_at FROM person ORDER BY 1")).all()
    again = bulk.import_file(engine, f)
    assert (
        again.persons_inserted,
        again.persons_updated,
        again.enrolments_inserted,
        again.enrolments_updated,
    ) == (0, 0, 0, 0)
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT psn_no, updated_at FROM person ORDER BY 1")).all()
            == before
        )
    data[7]["tel"] = "13900000007"
    data[8]["psn_insu_stas"] = "2"
    data[8]["paus_insu_date"] = "2026-01-01"
    third = bulk.import_file(engine, _write(tmp_path / "b.csv", data))
    assert (third.persons_inserted, third.persons_updated, third.enrolments_updated) == (0, 1, 1)


def test_xlsx_import_and_masked_export(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    data = list(synth.person_rows(20, seed=4))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["证件类型", "证件号码", "姓名", *COLS[3:]])
    for r in data:
        ws.append([r[c] for c in COLS])
    wb.save(tmp_path / "in.xlsx")
    res = bulk.import_file(engine, tmp_path / "in.xlsx")
    assert res.persons_inserted == 20
    n = bulk.export_file(engine, tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert n == 20
    for r in data:
        assert r["certno"] not in text
        assert r["certno"][:6] + "********" + r["certno"][-4:] in text
    with pytest.raises(ValueError):
        bulk.export_file(engine, tmp_path / "full.csv", full_certno=True)
    bulk.export_file(engine, tmp_path / "full.xlsx", full_certno=True, actor="u1", reason="对账")
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM audit_log WHERE action = 'registry.certno.export'")
            ).scalar_one()
            == 1
        )


def _person(engine: Engine) -> str:
    with engine.begin() as conn:
        bulk.import_checked(
            conn,
            rows.check_rows(enumerate(synth.person_rows(1, seed=5), start=2)),
            skip_bad=False,
            actor="t",
            source="t",
        )
        return str(conn.execute(sa.text("SELECT psn_no FROM person")).scalar_one())


def test_snapshot_1101_and_audited_reveal(engine: Engine) -> None:
    psn_no = _person(engine)
    with engine.begin() as conn:
        view = service.person_view(conn, psn_no)
        insutype = view["insuinfo"][0]["insutype"]  # type: ignore[index]
        service.add_identity(
            conn, psn_no, AssistanceIdentity("239901", date(2026, 1, 1), date(2026, 12, 31))
        )
        snap = service.snapshot_for_settlement(conn, psn_no, insutype, date(2026, 6, 1))
        assert snap.assistance_classes == ("extreme_poverty",)
        out = service.person_info_1101(conn, psn_no, date(2026, 6, 1), actor="org:H001")
        assert out["insuinfo"][0]["insutype"] == insutype  # type: ignore[index]
        full = service.reveal_certno(conn, psn_no, actor="staff1", reason="核对身份")
        assert "*" in str(view["certno"]) and "*" not in full
        actions = conn.execute(sa.text("SELECT action, actor FROM audit_log ORDER BY id")).all()
    assert ("registry.certno.disclose", "org:H001") in actions
    assert ("registry.certno.reveal", "staff1") in actions


def test_account_debit_never_negative_under_concurrency(engine: Engine) -> None:
    psn_no = _person(engine)
    with engine.begin() as conn:
        accounts.post(conn, psn_no, 10_000, ref="alloc-2026")
        again = accounts.post(conn, psn_no, 10_000, ref="alloc-2026")
        assert again.replayed and again.balc_after_fen == 10_000
        with pytest.raises(accounts.AccountError) as ei:
            accounts.post(conn, psn_no, 5, ref="alloc-2026")
        assert ei.value.code == "ACCT_REF_CONFLICT"

    results: list[str] = []
    lock = threading.Lock()

    def spend(i: int) -> None:
        try:
            with engine.begin() as conn:
                balc = accounts.lock_balance(conn, psn_no)
                accounts.post(conn, psn_no, -3_000, ref=f"setl-{i}", memo=f"balc {balc}")
            outcome = "ok"
        except accounts.AccountError as e:
            outcome = e.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ACCT_INSUFFICIENT"] * 5 + ["ok"] * 3
    with engine.connect() as conn:
        assert accounts.lock_balance(conn, psn_no) == 1_000
        total = conn.execute(
            sa.text("SELECT sum(amount) FROM personal_account_posting WHERE psn_no = :p"),
            {"p": psn_no},
        ).scalar_one()
    assert total == 1_000
    with engine.connect() as conn:
        view = service.account_view(conn, psn_no)
    assert view["balc"] == 1_000 and len(view["postings"]) == 4  # type: ignore[arg-type]


def test_register_person_is_idempotent_and_refuses_bad_input(engine: Engine) -> None:
    from yibao.registry.certs import compose_id18

    certno = compose_id18("440304", date(1985, 7, 1), 21)
    kw = dict(
        psn_cert_type="01",
        certno=certno,
        psn_name="王五",
        gend="1",
        brdy=date(1985, 7, 1),
        admdvs="440300",
    )
    with engine.begin() as conn:
        a = service.register_person(conn, **kw)  # type: ignore[arg-type]
        b = service.register_person(conn, **kw)  # type: ignore[arg-type]
        assert a == b and a.startswith("440300")
        with pytest.raises(service.RegistryError) as ei:
            service.register_person(conn, **{**kw, "gend": "2"})  # type: ignore[arg-type]
        assert ei.value.field == "gend"


def test_1101_by_certificate(engine: Engine) -> None:
    psn_no = _person(engine)
    with engine.begin() as conn:
        certno = service.reveal_certno(conn, psn_no, actor="t", reason="测试")
        out = service.person_info_1101_by_cert(
            conn, "01", certno.lower(), date(2026, 6, 1), actor="org:H1"
        )
        assert out["baseinfo"]["psn_no"] == psn_no  # type: ignore[index]
        with pytest.raises(service.PersonNotFound) as ei:
            service.person_info_1101_by_cert(
                conn, "01", "11010519491231002X", date(2026, 6, 1), actor="org:H1"
            )
        assert "11010519491231002X" not in str(ei.value) and "110105********002X" in str(ei.value)


def test_copy_escapes_special_characters(engine: Engine, tmp_path: Path) -> None:
    data = list(synth.person_rows(3, seed=8))
    data[0]["town"] = "街道\\一\t号"
    data[1]["emp_name"] = "单位\n分部" if data[1]["insutype"] == "310" else ""
    bulk.import_file(engine, _write(tmp_path / "esc.csv", data))
    with engine.connect() as conn:
        towns = set(conn.execute(sa.text("SELECT town FROM person")).scalars())
    assert "街道\\一\t号" in towns
    again = bulk.import_file(engine, _write(tmp_path / "esc.csv", data))
    assert (again.persons_updated, again.enrolments_updated) == (0, 0)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_full_export_reimports_unchanged(engine: Engine, tmp_path: Path, suffix: str) -> None:
    data = list(synth.person_rows(25, seed=12))
    data[3]["psn_insu_stas"], data[3]["paus_insu_date"] = "4", "2025-12-31"
    bulk.import_file(engine, _write(tmp_path / "in.csv", data))
    out = tmp_path / f"full.{suffix}"
    assert bulk.export_file(engine, out, full_certno=True, actor="t", reason="迁移") == 25
    again = bulk.import_file(engine, out)
    assert again.total_rows == 25 and not again.errors
    assert (again.persons_inserted, again.persons_updated) == (0, 0)
    assert (again.enrolments_inserted, again.enrolments_updated) == (0, 0)

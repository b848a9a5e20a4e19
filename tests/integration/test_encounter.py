"""Encounters on PostgreSQL: store round trips, flows, accumulators under concurrency, 3201/3202."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao import ledger
from yibao.encounter import (
    DetailRow,
    EncounterConflict,
    EncounterError,
    EncounterNotFound,
    FeeLine,
    IllegalTransition,
    LineSplit,
    State,
    Totals,
    accumulator_mismatches,
    lock_accumulators,
)
from yibao.encounter import service as svc
from yibao.encounter.amounts import AMOUNT_FIELDS

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # 17:30 China time
DAY = date(2026, 11, 22)
HOSP = "H44010100001"


def lines(bchno: str, *amounts: int) -> tuple[list[FeeLine], list[LineSplit]]:
    ls = [
        FeeLine(f"{bchno}-{i}", "XA01", "HIS-A01", a, Decimal(1), Decimal(a) / 100, bchno, T0)
        for i, a in enumerate(amounts, start=1)
    ]
    sp = [
        LineSplit(
            ln.feedetl_sn,
            "01",
            "09",
            0,
            0,
            0,
            ln.det_item_fee_sumamt,
            Decimal(0),
            None,
            {"lmt_used_flag": "0"},
        )
        for ln in ls
    ]
    return ls, sp


def setlinfo(total: int, fund: int, acct: int) -> dict[str, object]:
    info: dict[str, object] = dict.fromkeys(AMOUNT_FIELDS, 0)
    info.update(
        medfee_sumamt=total,
        inscp_scp_amt=total,
        hifp_pay=fund,
        fund_pay_sumamt=fund,
        psn_part_amt=total - fund,
        acct_pay=acct,
        psn_cash_pay=total - fund - acct,
        insutype="310",
        pool_prop_selfpay=Decimal("0.85"),
        balc=10_000,
    )
    return info


def registered(conn: sa.Connection, psn_no: str = "P1", insuplc: str = "440100") -> str:
    enc = svc.register_outpatient(
        conn,
        psn_no=psn_no,
        insutype="310",
        fixmedins_code=HOSP,
        insuplc_admdvs=insuplc,
        mdtrtarea_admvs="440100",
        begntime=T0,
        ipt_otp_no="MZ001",
        msgid="m2201",
    )
    svc.upload_visit_info(
        conn,
        enc.mdtrt_id,
        psn_no=psn_no,
        fixmedins_code=HOSP,
        med_type="11",
        dise_codg="J06.900",
        dise_name="急性上呼吸道感染",
        info={"diseinfo": [{"diag_type": "1"}]},
    )
    return enc.mdtrt_id


def settle(
    conn: sa.Connection,
    mdtrt_id: str,
    bchno: str | None,
    total: int,
    fund: int,
    acct: int = 0,
    deltas: dict[str, int] | None = None,
    psn_no: str = "P1",
) -> svc.SettlementRecord:
    enc = svc.load(conn, mdtrt_id, fixmedins_code=HOSP, psn_no=psn_no)
    return svc.record_settlement(
        conn,
        enc,
        msgid="m2207-" + str(time.monotonic_ns()),
        setlinfo=setlinfo(total, fund, acct),
        setldetail=[{"fund_pay_type": "310100", "fund_payamt": fund, "inscp_scp_amt": total}],
        trace=[{"step": "test", "amount": fund}],
        accumulator_deltas=deltas or {"hifp_pay": fund},
        acc_year=2026,
        setl_time=T0,
        clr_type="11",
        clr_way="01",
        chrg_bchno=bchno,
    )


def test_outpatient_flow_round_trip(engine: Engine) -> None:
    with engine.begin() as conn:
        mdtrt_id = registered(conn)
        ls, sp = lines("B1", 3000, 2000)
        svc.upload_fee_batch(
            conn,
            mdtrt_id,
            psn_no="P1",
            fixmedins_code=HOSP,
            chrg_bchno="B1",
            lines=ls,
            splits=sp,
            msgid="m2204",
        )
        enc = svc.pre_settle(conn, mdtrt_id, psn_no="P1", fixmedins_code=HOSP, chrg_bchno="B1")
        assert enc.state is State.PRE_SETTLED
        assert [s.line.feedetl_sn for s in svc.lines_to_settle(conn, enc, chrg_bchno="B1")] == [
            "B1-1",
            "B1-2",
        ]
        rec = settle(conn, mdtrt_id, "B1", 5000, 4000, 500)
    assert mdtrt_id.startswith("440100M20261122") and len(mdtrt_id) == 27
    assert rec.setl_id.startswith("440100S20261122") and rec.feedetl_sns == ["B1-1", "B1-2"]
    with engine.begin() as conn:
        stored = svc.settlement(conn, rec.setl_id)
        assert stored is not None
        assert stored["hifp_pay"] == 4000 and stored["psn_cash_pay"] == 500
        assert stored["setlinfo"]["setl_id"] == rec.setl_id
        assert stored["trace"] == [{"step": "test", "amount": 4000}]
        assert stored["pool_prop_selfpay"] == Decimal("0.85")
        assert stored["setl_date"] == date(2026, 11, 22) and stored["clr_optins"] == "440100"
        enc = svc.load(conn, mdtrt_id)
        assert enc.state is State.SETTLED and enc.active_settlements == {rec.setl_id}
        lines_back = svc.store.fee_lines(conn, mdtrt_id)
        assert {s.settled_setl_id for s in lines_back} == {rec.setl_id}
        assert lines_back[0].split.flags == {"lmt_used_flag": "0"}
        assert lines_back[0].line.pric == Decimal("30.000000")
        acc = lock_accumulators(conn, "P1", "440100", 2026)
        assert acc.counters == {"hifp_pay": 4000}
        cancel = svc.record_cancellation(
            conn, enc, original_setl_id=rec.setl_id, msgid="m2208", setl_time=T0
        )
    assert cancel.setlinfo["hifp_pay"] == -4000 and cancel.setlinfo["balc"] == 10_500
    assert cancel.setldetail[0]["fund_payamt"] == -4000
    with engine.begin() as conn:
        enc = svc.load(conn, mdtrt_id)
        assert enc.state is State.CANCELLED and enc.unsettled_batches == {"B1"}
        assert lock_accumulators(conn, "P1", "440100", 2026).counters == {"hifp_pay": 0}
        with pytest.raises(IllegalTransition, match="不存在或已撤销"):
            svc.record_cancellation(
                conn, enc, original_setl_id=rec.setl_id, msgid="x", setl_time=T0
            )
        assert accumulator_mismatches(conn) == []
        svc.remove_fee_batch(conn, mdtrt_id, psn_no="P1", fixmedins_code=HOSP, chrg_bchno="0000")
        enc = svc.cancel_registration(conn, mdtrt_id, psn_no="P1", fixmedins_code=HOSP)
        assert enc.state is State.REGISTRATION_CANCELLED


def test_refusals_write_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        mdtrt_id = registered(conn)
    ls, sp = lines("B1", 1000)
    with pytest.raises(EncounterError, match="≠ 明细项目费用总额"), engine.begin() as conn:
        svc.upload_fee_batch(
            conn,
            mdtrt_id,
            psn_no="P1",
            fixmedins_code=HOSP,
            chrg_bchno="B1",
            lines=ls,
            splits=[LineSplit("B1-1", "01", "09", 0, 0, 0, 999)],
            msgid="m",
        )
    with pytest.raises(EncounterNotFound), engine.begin() as conn:
        svc.load(conn, mdtrt_id, fixmedins_code="OTHER")
    with pytest.raises(IllegalTransition, match="无未结算"), engine.begin() as conn:
        settle(conn, mdtrt_id, None, 1000, 800)
    with engine.begin() as conn:
        svc.upload_fee_batch(
            conn,
            mdtrt_id,
            psn_no="P1",
            fixmedins_code=HOSP,
            chrg_bchno="B1",
            lines=ls,
            splits=sp,
            msgid="m",
        )
    with pytest.raises(EncounterError, match="已上传"), engine.begin() as conn:
        svc.upload_fee_batch(
            conn,
            mdtrt_id,
            psn_no="P1",
            fixmedins_code=HOSP,
            chrg_bchno="B2",
            lines=[FeeLine("B1-1", "X", "X", 1000, Decimal(1), Decimal(10), "B2")],
            splits=[LineSplit("B1-1", "01", "09", 0, 0, 0, 1000)],
            msgid="m",
        )
    with pytest.raises(EncounterError, match="个人负担总金额"), engine.begin() as conn:
        enc = svc.load(conn, mdtrt_id)
        bad = setlinfo(1000, 800, 0)
        bad["psn_cash_pay"] = 100
        svc.record_settlement(
            conn,
            enc,
            msgid="m",
            setlinfo=bad,
            setldetail=[],
            trace=None,
            accumulator_deltas={},
            acc_year=2026,
            setl_time=T0,
            clr_type="11",
        )
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM encounter_settlement")).scalar() == 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM encounter_fee_line")).scalar() == 1


def test_optimistic_version_refuses_a_stale_encounter(engine: Engine) -> None:
    with engine.begin() as conn:
        mdtrt_id = registered(conn)
        ls, sp = lines("B1", 1000)
        svc.upload_fee_batch(
            conn,
            mdtrt_id,
            psn_no="P1",
            fixmedins_code=HOSP,
            chrg_bchno="B1",
            lines=ls,
            splits=sp,
            msgid="m",
        )
        stale = svc.load(conn, mdtrt_id)
        settle(conn, mdtrt_id, "B1", 1000, 800)
    with pytest.raises((EncounterConflict, IllegalTransition)), engine.begin() as conn:
        svc.record_settlement(
            conn,
            stale,
            msgid="m2",
            setlinfo=setlinfo(1000, 800, 0),
            setldetail=[],
            trace=None,
            accumulator_deltas={},
            acc_year=2026,
            setl_time=T0,
            clr_type="11",
            chrg_bchno="B1",
        )
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM encounter_settlement")).scalar() == 1


def test_inpatient_mid_stay_and_final_settlement(engine: Engine) -> None:
    with engine.begin() as conn:
        enc = svc.admit(
            conn,
            psn_no="P2",
            insutype="310",
            med_type="21",
            fixmedins_code=HOSP,
            insuplc_admdvs="441300",
            mdtrtarea_admvs="440100",
            begntime=T0,
            ipt_no="ZY9",
            msgid="m2401",
            info={"adm_bed": "12"},
        )
        ls, sp = lines("", 50_000, 20_000)
        svc.upload_inpatient_fees(
            conn, enc.mdtrt_id, psn_no="P2", fixmedins_code=HOSP, lines=ls, splits=sp, msgid="m2301"
        )
        mid = svc.record_settlement(
            conn,
            svc.load(conn, enc.mdtrt_id),
            msgid="m2304a",
            setlinfo=setlinfo(70_000, 60_000, 0),
            setldetail=[],
            trace=None,
            accumulator_deltas={"hifp_pay": 60_000},
            acc_year=2026,
            setl_time=T0,
            clr_type="21",
            mid_setl=True,
        )
        assert mid.encounter.state is State.ADMITTED
        ref_lines, ref_split = (
            [
                FeeLine(
                    "R1", "XA01", "HIS-A01", -5_000, Decimal(-1), Decimal(50), init_feedetl_sn="-1"
                )
            ],
            [LineSplit("R1", "01", "09", 0, 0, 0, -5_000)],
        )
        svc.upload_inpatient_fees(
            conn,
            enc.mdtrt_id,
            psn_no="P2",
            fixmedins_code=HOSP,
            lines=[FeeLine("X1", "XA01", "HIS", 10_000, Decimal(1), Decimal(100)), *ref_lines],
            splits=[LineSplit("X1", "01", "09", 0, 0, 0, 10_000), *ref_split],
            msgid="m2301b",
        )
        removed = svc.remove_inpatient_fees(
            conn, enc.mdtrt_id, psn_no="P2", fixmedins_code=HOSP, feedetl_sn="R1"
        )
        assert removed[1] == 1
        svc.discharge(
            conn, enc.mdtrt_id, psn_no="P2", fixmedins_code=HOSP, endtime=T0, info={"dscg_way": "1"}
        )
        svc.pre_settle(conn, enc.mdtrt_id, psn_no="P2", fixmedins_code=HOSP)
        final = svc.record_settlement(
            conn,
            svc.load(conn, enc.mdtrt_id),
            msgid="m2304b",
            setlinfo=setlinfo(10_000, 9_000, 0),
            setldetail=[],
            trace=None,
            accumulator_deltas={"hifp_pay": 9_000},
            acc_year=2026,
            setl_time=T0,
            clr_type="21",
        )
        assert final.encounter.state is State.SETTLED and final.feedetl_sns == ["X1"]
        with pytest.raises(IllegalTransition, match="请先撤销出院结算"):
            svc.record_cancellation(
                conn, final.encounter, original_setl_id=mid.setl_id, msgid="m", setl_time=T0
            )
    with engine.begin() as conn:
        info = svc.store.encounter_info(conn, enc.mdtrt_id)
        assert info["info"] == {"adm_bed": "12", "dscginfo": {"dscg_way": "1"}}
        # accumulators live in the insured region (参保地)
        assert lock_accumulators(conn, "P2", "441300", 2026).counters == {"hifp_pay": 69_000}
        assert accumulator_mismatches(conn) == []


def test_pharmacy_sale_with_ledger_in_one_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        ls, sp = lines("", 3_000)
        enc = svc.open_pharmacy_sale(
            conn,
            psn_no="P3",
            insutype="310",
            med_type="41",
            fixmedins_code="Y44030500001",
            insuplc_admdvs="441300",
            mdtrtarea_admvs="440300",
            begntime=T0,
            lines=ls,
            splits=sp,
            msgid="m2102",
        )
        rec = svc.record_settlement(
            conn,
            enc,
            msgid="m2102",
            setlinfo=setlinfo(3_000, 0, 3_000),
            setldetail=[{"fund_pay_type": "310200", "fund_payamt": 3_000}],
            trace=None,
            accumulator_deltas={},
            acc_year=2026,
            setl_time=T0,
            clr_type="41",
        )
        ledger.post_settlement(
            conn,
            ledger.posting_from_setlinfo(
                rec.setlinfo,
                rec.setldetail,
                msgid=rec.msgid,
                fixmedins_code="Y44030500001",
                insuplc_admdvs="441300",
                mdtrtarea_admvs="440300",
                value_date=DAY,
                psn_no="P3",
            ),
        )
    with engine.begin() as conn:
        cancel = svc.record_cancellation(
            conn,
            svc.load(conn, enc.mdtrt_id),
            original_setl_id=rec.setl_id,
            msgid="m2103",
            setl_time=T0,
        )
        ledger.post_reversal(conn, rec.setl_id, cancel.setl_id, msgid="m2103", value_date=DAY)
    with engine.connect() as conn:
        assert ledger.clearing_position(conn, "440300", "441300", DAY) == 0
        assert ledger.verify(conn).ok
        assert svc.load(conn, enc.mdtrt_id).state is State.CANCELLED


def test_reconciliation_3201_3202(engine: Engine) -> None:
    with engine.begin() as conn:
        a = registered(conn)
        b = registered(conn, "P2")
        for m, psn in ((a, "P1"), (b, "P2")):
            ls, sp = lines("B1", 1_000)
            svc.upload_fee_batch(
                conn,
                m,
                psn_no=psn,
                fixmedins_code=HOSP,
                chrg_bchno="B1",
                lines=ls,
                splits=sp,
                msgid="m",
            )
        ra = settle(conn, a, "B1", 1_000, 800, 100)
        rb = settle(conn, b, "B1", 1_000, 700, 0, psn_no="P2")
        rc = svc.record_cancellation(
            conn, svc.load(conn, b), original_setl_id=rb.setl_id, msgid="m2208", setl_time=T0
        )
    kw = dict(
        fixmedins_code=HOSP,
        insutype="310",
        clr_type="11",
        setl_optins="440100",
        begndate=DAY,
        enddate=DAY,
    )
    with engine.connect() as conn:
        ok = svc.reconcile_totals(conn, claimed=Totals(1_000, 800, 100, 3), **kw)  # type: ignore[arg-type]
        assert ok.stmt_rslt == "0", ok
        net = svc.reconcile_totals(
            conn, claimed=Totals(1_000, 800, 100, 1), refd_setl_flag="0", **kw
        )  # type: ignore[arg-type]
        assert net.stmt_rslt == "0", net
        off = svc.reconcile_totals(conn, claimed=Totals(1_000, 800, 100, 2), **kw)  # type: ignore[arg-type]
        assert off.stmt_rslt == "1" and "结算笔数" in off.stmt_rslt_dscr
        rows = [
            DetailRow(ra.setl_id, a, "P1", 1_000, 800, 100, "0"),
            DetailRow(rb.setl_id, b, "P2", 1_000, 700, 0, "0"),
        ]
        res = {
            r.setl_id: r
            for r in svc.reconcile_details(
                conn,
                fixmedins_code=HOSP,
                setl_optins="440100",
                begndate=DAY,
                enddate=DAY,
                rows=rows,
            )
        }
        assert res[ra.setl_id].stmt_rslt == "0"
        assert res[rc.setl_id].stmt_rslt == "1" and res[rc.setl_id].msgid == "m2208"
        assert res[rc.setl_id].refd_setl_flag == "1"


def test_two_concurrent_settlements_never_share_deductible_room(engine: Engine) -> None:
    """Each settlement wants 600 of a 1000 deductible; the second must see the first's use."""
    room, want = 1_000, 600
    with engine.begin() as conn:
        ids = [registered(conn, "P9") for _ in range(2)]
        for m in ids:
            ls, sp = lines("B1", 1_000)
            svc.upload_fee_batch(
                conn,
                m,
                psn_no="P9",
                fixmedins_code=HOSP,
                chrg_bchno="B1",
                lines=ls,
                splits=sp,
                msgid="m",
            )
    first_locked = threading.Event()
    errors: list[BaseException] = []

    def run(mdtrt_id: str, first: bool) -> None:
        try:
            with engine.begin() as conn:
                if not first:
                    first_locked.wait(10)
                acc = lock_accumulators(conn, "P9", "440100", 2026)
                if first:
                    first_locked.set()
                    _wait_for_lock_waiter(engine)
                use = min(want, room - acc.counters.get("dedc_used", 0))
                settle(conn, mdtrt_id, "B1", 1_000, 0, 0, {"dedc_used": use}, psn_no="P9")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(ids[0], True)),
        threading.Thread(target=run, args=(ids[1], False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engine.connect() as conn:
        assert lock_accumulators(conn, "P9", "440100", 2026).counters == {"dedc_used": room}
        assert accumulator_mismatches(conn) == []


def _wait_for_lock_waiter(engine: Engine) -> None:
    """Block until another backend of this database waits on a row lock (the second thread)."""
    with engine.connect() as watch:
        for _ in range(3000):  # up to 30 s on a loaded machine
            n = watch.execute(
                sa.text(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if n:
                return
            time.sleep(0.01)
    raise AssertionError("the second settlement never waited for the accumulator lock")


def test_accumulator_check_detects_drift(engine: Engine) -> None:
    with engine.begin() as conn:
        m = registered(conn)
        ls, sp = lines("B1", 1_000)
        svc.upload_fee_batch(
            conn,
            m,
            psn_no="P1",
            fixmedins_code=HOSP,
            chrg_bchno="B1",
            lines=ls,
            splits=sp,
            msgid="m",
        )
        settle(conn, m, "B1", 1_000, 800)
        conn.execute(sa.text("UPDATE encounter_accumulator SET counters = '{\"hifp_pay\": 1}'"))
        bad = accumulator_mismatches(conn)
    assert bad == [
        {
            "psn_no": "P1",
            "insuplc_admdvs": "440100",
            "year": 2026,
            "key": "hifp_pay",
            "expected": 800,
            "stored": 1,
        }
    ]

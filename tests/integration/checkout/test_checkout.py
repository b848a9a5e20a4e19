"""Checkout's flows on PostgreSQL (synchronous driver): pre-settlement writes nothing; a
settlement and its cancellation mirror each other in the accumulators, the personal account and
the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.catalog import service as catalog
from yibao.catalog.model import FeeLine
from yibao.checkout import demo
from yibao.checkout.bills import Caller
from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.checkout.settle_visit import SettleVisit, VisitBill, price_visit, settle_visit
from yibao.checkout.visits import splits_of
from yibao.db import hot
from yibao.db.flow import run
from yibao.encounter import service as encounters
from yibao.encounter.fees import FeeLine as EncounterLine
from yibao.encounter.store import accumulator_mismatches
from yibao.institutions import demo as institutions
from yibao.institutions import store as institution_store
from yibao.ledger import verify
from yibao.registry import store as registry_store

TABLES = (
    "encounter",
    "encounter_settlement",
    "encounter_accumulator",
    "ledger_transfer",
    "personal_account_posting",
)


def _counts(conn: sa.Connection) -> dict[str, int]:
    return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def test_pre_settlement_writes_nothing_and_cancel_mirrors_settle(engine: Engine) -> None:
    institutions.seed(engine)
    catalog.seed_demo(engine)
    demo.seed(engine, 30)
    row = next(
        r for r in demo.demo_rows(30) if r["insuplc_admdvs"] == "440300" and r["insutype"] == "310"
    )
    day = date(2026, 11, 22)
    when = datetime(2026, 11, 22, 2, tzinfo=UTC)
    with engine.begin() as conn:
        psn_no = demo.register_row(conn, row)  # idempotent: the seeded person
        balance = registry_store.balance(conn, psn_no)
        inst = institution_store.get_institution(conn, "H44030000001")
        assert inst is not None
        code = conn.execute(
            sa.text("SELECT med_list_codg FROM catalog_item WHERE list_type = '201' LIMIT 1")
        ).scalar_one()
        line = FeeLine("1", code, Decimal("12.50"), Decimal(4), 5000)
        classified = catalog.classify_or_raise(conn, inst.admdvs, day, [line])
        caller = Caller(inst.fixmedins_code, inst.fixmedins_name, inst.admdvs, inst.hosp_lv)
        enc = encounters.register_outpatient(
            conn, psn_no=psn_no, insutype="310", fixmedins_code=inst.fixmedins_code,
            insuplc_admdvs="440300", mdtrtarea_admvs=inst.admdvs, begntime=when,
            ipt_otp_no="MZ1", msgid="M0",
        )  # fmt: skip
        encounters.upload_visit_info(
            conn, enc.mdtrt_id, psn_no=psn_no, fixmedins_code=inst.fixmedins_code, med_type="11"
        )
        enc = encounters.upload_fee_batch(
            conn, enc.mdtrt_id, psn_no=psn_no, fixmedins_code=inst.fixmedins_code,
            chrg_bchno="B1", lines=[EncounterLine("1", code, "", 5000, Decimal(4), Decimal("12.50"), chrg_bchno="B1")],
            splits=splits_of(classified), msgid="M1",
        )  # fmt: skip
        bill = VisitBill(enc.mdtrt_id, psn_no, "11", "310", "1", "01", None, "440300")
        before = _counts(conn)
        priced = run(hot.driver(conn), price_visit(caller, bill, when))
        assert _counts(conn) == before  # 预结算 reserves nothing
        assert priced.setlinfo["medfee_sumamt"] == 5000

        settled = run(
            hot.driver(conn), settle_visit(SettleVisit(caller, bill, {}, "02", "M2", when))
        )
        assert settled.record.setlinfo["medfee_sumamt"] == priced.setlinfo["medfee_sumamt"]
        acct = int(str(settled.record.setlinfo["acct_pay"]))
        assert settled.balc == balance - acct
        cancel = Cancel(caller, enc.mdtrt_id, psn_no, settled.record.setl_id, "M3", when)
        cancelled = run(hot.driver(conn), cancel_settlement(cancel))
        assert cancelled.record.setl_id != settled.record.setl_id
        assert cancelled.balc == balance
        assert int(str(cancelled.record.setlinfo["medfee_sumamt"])) == -5000
        assert accumulator_mismatches(conn) == []
        counters = conn.execute(
            sa.text("SELECT counters FROM encounter_accumulator WHERE psn_no = :p"), {"p": psn_no}
        ).scalar_one()
        assert all(v == 0 for v in counters.values())
        report = verify(conn)
        assert report.entry_sum == 0 and not report.unbalanced_chains

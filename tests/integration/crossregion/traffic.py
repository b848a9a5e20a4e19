"""Real settlements for the cross-region tests: the encounter, checkout and ledger services.

An outpatient visit (2201 → 2203 → 2204 → 2207 as services) settled by checkout's flows
(registry snapshot → engine with the insured region's policy → record → ledger), and its
cancellation (2208). Items are given already classified (甲/乙/丙) by the treatment place.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from yibao.catalog.model import split_line
from yibao.checkout.bills import Caller, Settled
from yibao.checkout.cancel import Cancel, cancel_settlement
from yibao.checkout.settle_visit import SettleVisit, VisitBill, settle_visit
from yibao.db import hot
from yibao.db.flow import run as run_flow
from yibao.encounter import service as encounters
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.institutions import store as institutions
from yibao.settlement.model import Item

_seq = itertools.count(1)


def items(*lines: tuple[int, str]) -> tuple[Item, ...]:
    """Classified lines from ``(amount_fen, chrgitm_lv)`` pairs (乙类 first-pay 10 %)."""
    out = []
    for amount, lv in lines:
        n = next(_seq)
        out.append(
            Item(
                feedetl_sn=f"F{n:08d}",
                med_list_codg=f"X{n:06d}",
                name="测试项目",
                list_type="201",
                chrgitm_lv=lv,
                med_chrgitm_type="05",
                det_item_fee_sumamt=amount,
                cnt=Decimal(1),
                pric=Decimal(amount) / 100,
                selfpay_prop=Decimal("0.1") if lv == "02" else Decimal(0),
            )
        )
    return tuple(out)


def _caller(conn: sa.Connection, fixmedins_code: str) -> Caller:
    inst = institutions.get_institution(conn, fixmedins_code)
    assert inst is not None, fixmedins_code
    return Caller(inst.fixmedins_code, inst.fixmedins_name, inst.admdvs, inst.hosp_lv or "")


def outpatient(
    conn: sa.Connection,
    fixmedins_code: str,
    psn_no: str,
    insuplc_admdvs: str,
    day: date,
    bill: tuple[Item, ...],
    *,
    med_type: str = "11",
    insutype: str = "310",
    hour: int = 10,
) -> Settled:
    """One outpatient visit settled in full (挂号, 就诊信息, 费用明细, 结算): the encounter
    services for the visit, checkout's settlement flow (:func:`settle_visit`) for the money."""
    caller = _caller(conn, fixmedins_code)
    n = next(_seq)
    when = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    msg = f"{fixmedins_code}{n:012d}"
    enc = encounters.register_outpatient(
        conn, psn_no=psn_no, insutype=insutype, fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs, mdtrtarea_admvs=caller.admdvs, begntime=when,
        ipt_otp_no=f"MZ{n}", msgid=msg + "a",
    )  # fmt: skip
    encounters.upload_visit_info(
        conn, enc.mdtrt_id, psn_no=psn_no, fixmedins_code=fixmedins_code, med_type=med_type
    )
    splits = []
    for i in bill:
        s = split_line(i)
        splits.append(
            LineSplit(
                i.feedetl_sn, i.chrgitm_lv, i.med_chrgitm_type, s.fulamt_ownpay_amt,
                s.overlmt_amt, s.preselfpay_amt, s.inscp_scp_amt, i.selfpay_prop,
                i.pric_uplmt_amt, flags={"name": i.name, "list_type": i.list_type},
            )
        )  # fmt: skip
    lines = [
        FeeLine(
            i.feedetl_sn, i.med_list_codg, i.med_list_codg, i.det_item_fee_sumamt, i.cnt, i.pric,
            chrg_bchno=f"B{n}",
        )
        for i in bill
    ]  # fmt: skip
    encounters.upload_fee_batch(
        conn, enc.mdtrt_id, psn_no=psn_no, fixmedins_code=fixmedins_code, chrg_bchno=f"B{n}",
        lines=lines, splits=splits, msgid=msg + "b",
    )  # fmt: skip
    visit = VisitBill(
        enc.mdtrt_id, psn_no, med_type, insutype, "1", "01", None, insuplc_admdvs
    )
    cmd = SettleVisit(caller, visit, {}, "02", msg + "c", when)
    return run_flow(hot.driver(conn), settle_visit(cmd))


def cancel(conn: sa.Connection, settled: Settled, day: date) -> Settled:
    """2208: the settlement's cancellation on ``day`` (checkout's cancellation flow)."""
    rec = settled.record
    enc = rec.encounter
    when = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    cmd = Cancel(
        _caller(conn, enc.fixmedins_code), rec.mdtrt_id, enc.psn_no, rec.setl_id,
        f"X{next(_seq):020d}", when,
    )  # fmt: skip
    return run_flow(hot.driver(conn), cancel_settlement(cmd))

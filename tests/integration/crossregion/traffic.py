"""Real settlements for the cross-region tests: the encounter, checkout and ledger services.

An outpatient visit (2201 → 2203 → 2204 → 2207 as services) priced by helper G's checkout
(registry snapshot → engine with the insured region's policy → record → ledger), and its
cancellation (2208). Items are given already classified (甲/乙/丙) by the treatment place.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from yibao.checkout import service as checkout
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
) -> checkout.Settled:
    """One outpatient visit settled in full (挂号, 就诊信息, 费用明细, 结算)."""
    inst = institutions.get_institution(conn, fixmedins_code)
    assert inst is not None, fixmedins_code
    n = next(_seq)
    when = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    msg = f"{fixmedins_code}{n:012d}"
    enc = encounters.register_outpatient(
        conn, psn_no=psn_no, insutype=insutype, fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs, mdtrtarea_admvs=inst.admdvs, begntime=when,
        ipt_otp_no=f"MZ{n}", msgid=msg + "a",
    )  # fmt: skip
    encounters.upload_visit_info(
        conn, enc.mdtrt_id, psn_no=psn_no, fixmedins_code=fixmedins_code, med_type=med_type
    )
    priced = checkout.price(
        conn,
        inst,
        checkout.Bill(psn_no, insutype, insuplc_admdvs, med_type, day, bill),
        lock=True,
    )
    splits = [
        LineSplit(
            s.feedetl_sn,
            s.chrgitm_lv,
            s.med_chrgitm_type,
            s.fulamt_ownpay_amt,
            s.overlmt_amt,
            s.preselfpay_amt,
            s.inscp_scp_amt,
            s.selfpay_prop,
            s.pric_uplmt_amt,
        )
        for s in priced.result.items
    ]
    lines = [
        FeeLine(
            i.feedetl_sn,
            i.med_list_codg,
            i.med_list_codg,
            i.det_item_fee_sumamt,
            i.cnt,
            i.pric,
            chrg_bchno=f"B{n}",
        )
        for i in bill
    ]
    encounters.upload_fee_batch(
        conn, enc.mdtrt_id, psn_no=psn_no, fixmedins_code=fixmedins_code, chrg_bchno=f"B{n}",
        lines=lines, splits=splits, msgid=msg + "b",
    )  # fmt: skip
    current = encounters.load(conn, enc.mdtrt_id)
    return checkout.settle(conn, current, priced, msgid=msg + "c", setl_time=when)


def cancel(conn: sa.Connection, settled: checkout.Settled, day: date) -> checkout.Settled:
    """2208: the settlement's cancellation on ``day``."""
    rec = settled.record
    enc = encounters.load(conn, rec.mdtrt_id)
    when = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    return checkout.cancel(conn, enc, rec.setl_id, msgid=f"X{next(_seq):020d}", setl_time=when)

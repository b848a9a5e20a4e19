"""Settlement records for the paging and roll-up tests, written straight into the real tables.

Rows satisfy the table's identities (medfee = fund + personal + hospital, …); amounts vary with
the row number; every fifth settlement is cross-region (异地), every eleventh is cancelled (a
``cancel`` record with the negated amounts), and pairs of rows share a ``setl_time`` so the keyset
tie-break on ``setl_id`` is exercised.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.encounter.store import encounter, encounter_settlement

CHINA = timezone(timedelta(hours=8))
CITIES = ("440100", "440300", "441400")  # 广州, 深圳, 梅州


def amounts(i: int) -> dict[str, int]:
    medfee = 1_000 + (i * 7_919) % 90_000
    own = medfee * (i % 5) // 20
    fund = (medfee - own) * 7 // 10
    acct = (medfee - fund) // 3 if i % 2 else 0
    values = dict.fromkeys(AMOUNT_FIELDS, 0)
    values.update(
        medfee_sumamt=medfee,
        fulamt_ownpay_amt=own,
        inscp_scp_amt=medfee - own,
        hifp_pay=fund,
        fund_pay_sumamt=fund,
        acct_pay=acct,
        psn_cash_pay=medfee - fund - acct,
        psn_part_amt=medfee - fund,
    )
    return values


def load(conn: sa.Connection, n: int, *, first: int = 1, start: datetime | None = None) -> None:
    """Settlements ``first`` … ``first + n - 1`` (plus their cancellations)."""
    base = start or datetime(2026, 11, 1, 8, 0, tzinfo=CHINA)
    encs, setls = [], []
    for i in range(first, first + n):
        insured = CITIES[i % 3]
        treated = CITIES[(i + 1) % 3] if i % 5 == 0 else insured
        inst = f"H{treated}{i % 4:05d}"
        mdtrt_id, setl_id = f"TM{i:08d}", f"TS{i:08d}"
        t = base + timedelta(minutes=37 * (i // 2))
        insutype = "390" if i % 3 == 0 else "310"
        common = {
            "mdtrt_id": mdtrt_id,
            "psn_no": f"P{insured}{i:06d}",
            "fixmedins_code": inst,
            "insutype": insutype,
            "med_type": "11",
            "insuplc_admdvs": insured,
            "mdtrtarea_admvs": treated,
        }
        encs.append({**common, "kind": "otp", "state": "settled", "version": 1})
        row = {
            **common,
            **amounts(i),
            "setl_id": setl_id,
            "kind": "settle",
            "msgid": f"M{i:08d}",
            "setlinfo": {},
            "setldetail": [],
            "acc_year": t.year,
            "clr_type": "10" if insured == treated else "20",
            "setl_time": t,
            "setl_date": t.astimezone(CHINA).date(),
        }
        setls.append(row)
        if i % 11 == 0:
            back = t + timedelta(minutes=3)
            setls.append(
                {
                    **row,
                    **{k: -v for k, v in amounts(i).items()},
                    "setl_id": f"TC{i:08d}",
                    "kind": "cancel",
                    "msgid": f"C{i:08d}",
                    "reverses": setl_id,
                    "setl_time": back,
                    "setl_date": back.astimezone(CHINA).date(),
                }
            )
    conn.execute(sa.insert(encounter), encs)
    for row in setls:  # a cancellation after the settlement it reverses (foreign key)
        conn.execute(sa.insert(encounter_settlement), [row])

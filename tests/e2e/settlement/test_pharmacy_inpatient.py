"""Pharmacy (药店) and inpatient (住院) flows over real HTTP, with their cancellations."""

from __future__ import annotations

import random
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import PHARMACY, ClientFactory, patients
from tests.e2e.settlement.test_outpatient import check_identities
from yibao.hissim import flows


def _d(v: object) -> Decimal:
    return Decimal(str(v))


def test_pharmacy_purchase_settles_and_2103_reverses(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client(PHARMACY)
    p = patients(c, insutype="310", region="440300")[0]
    v = flows.pharmacy(c, p, rng)
    s = v.setlinfo
    check_identities(s)
    assert s["clr_type"] == "41" and s["med_type"] == "41"
    assert _d(s["fund_pay_sumamt"]) == 0  # 41 药店购药: account and cash only
    pre = flows.ok(v.calls[0])["setlinfo"]
    assert _d(pre["medfee_sumamt"]) == _d(s["medfee_sumamt"]) and "setl_id" not in pre
    for call in v.calls:
        assert c.post(call.infno, call.request).body == call.body
    r = c.call(
        "2103",
        {"data": {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}},
        insuplc_admdvs=p.insuplc_admdvs,
    )
    out = flows.ok(r)["setlinfo"]
    assert _d(out["medfee_sumamt"]) == -_d(s["medfee_sumamt"])
    assert _d(out["balc"]) == _d(s["balc"]) + _d(s["acct_pay"])
    assert c.post("2103", r.request).body == r.body
    with world.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT COALESCE(SUM(amount),0) FROM ledger_entry")).scalar() == 0
        )


def test_inpatient_stay_settles_after_discharge_and_2305_reverses(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="390", region="440300")[0]
    v = flows.inpatient(c, p, rng, days=3)
    s = v.setlinfo
    check_identities(s)
    assert s["clr_type"] == "21" and _d(s["hifp_pay"]) > 0
    for call in v.calls:
        assert c.post(call.infno, call.request).body == call.body
    r = c.call(
        "2305",
        {"data": {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}},
        insuplc_admdvs=p.insuplc_admdvs,
    )
    out = flows.ok(r)["setlinfo"]
    assert _d(out["hifp_pay"]) == -_d(s["hifp_pay"]) and out["setl_id"] != v.setl_id
    with world.connect() as conn:
        bad = conn.execute(
            sa.text(
                "SELECT count(*) FROM encounter_accumulator WHERE psn_no = :p AND counters <> '{}'::jsonb"
                " AND EXISTS (SELECT 1 FROM jsonb_each_text(counters) e WHERE e.value::bigint <> 0)"
            ),
            {"p": p.psn_no},
        ).scalar()
        assert bad == 0  # the cancellation gave the deductible and cap room back


def test_inpatient_settlement_before_discharge_is_refused(
    make_client: ClientFactory, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="390", region="440300")[1]
    v = flows.inpatient(c, p, rng, days=1, settle=False)
    pre = v.calls[-1].request["input"]["data"]
    r = c.call("2405", {"data": {"mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}})
    assert r.infcode == 0, r.err_msg  # 出院撤销: back to 在院
    r = c.call("2304", {"data": {**pre, "invono": "X1"}}, insuplc_admdvs=p.insuplc_admdvs)
    assert r.infcode == -1 and "「在院」" in r.err_msg and "【2304】" in r.err_msg

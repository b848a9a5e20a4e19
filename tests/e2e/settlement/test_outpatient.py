"""Outpatient (门诊) over real HTTP: 1101 → 2201 → 2203 → 2204 → 2206 → 2207 → 2208, retries."""

from __future__ import annotations

import random
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import ClientFactory, patients
from yibao.hissim import flows


def _d(v: object) -> Decimal:
    return Decimal(str(v))


def check_identities(s: dict[str, object]) -> None:
    assert _d(s["medfee_sumamt"]) == _d(s["fund_pay_sumamt"]) + _d(s["psn_part_amt"]) + _d(
        s["hosp_part_amt"]
    )
    assert _d(s["psn_part_amt"]) == _d(s["acct_pay"]) + _d(s["psn_cash_pay"])
    assert _d(s["medfee_sumamt"]) == sum(
        _d(s[k])
        for k in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    )


def test_full_outpatient_flow_settles_and_every_retry_replays(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="310", region="440300")[0]
    v = flows.outpatient(c, p, rng)
    s = v.setlinfo
    check_identities(s)
    assert s["mdtrt_id"] == v.mdtrt_id and s["psn_no"] == p.psn_no
    assert s["medins_setl_id"] == v.settle_msgid
    assert s["clr_type"] == "11" and s["insutype"] == "310"
    assert _d(s["medfee_sumamt"]) > 0
    for call in v.calls:  # every answered call replays byte for byte
        assert c.post(call.infno, call.request).body == call.body
    with world.connect() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM encounter_settlement WHERE mdtrt_id = :m"),
            {"m": v.mdtrt_id},
        ).scalar_one()
        assert n == 1
        entry_sum = conn.execute(
            sa.text("SELECT COALESCE(SUM(amount),0) FROM ledger_entry")
        ).scalar()
        assert entry_sum == 0


def test_amounts_must_match_and_a_refusal_does_not_consume_the_msgid(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="390", region="440300")[0]
    v = flows.outpatient(c, p, rng, settle=False)
    pre = v.calls[-1]
    data = dict(pre.request["input"]["data"])
    split = flows.split_totals(flows.ok(v.calls[2])["result"])
    good = {**data, **flows.plain(split)}
    bad = {**good, "inscp_scp_amt": str(split["inscp_scp_amt"] + Decimal("0.01"))}
    msgid = c.new_msgid()
    r = c.call("2207", {"data": bad}, msgid=msgid, insuplc_admdvs=p.insuplc_admdvs)
    assert r.infcode == -1 and "inscp_scp_amt" in r.err_msg
    with world.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM encounter_settlement")).scalar() == 0
    r = c.call("2207", {"data": good}, msgid=msgid, insuplc_admdvs=p.insuplc_admdvs)
    assert r.infcode == 0, r.err_msg
    check_identities(flows.ok(r)["setlinfo"])


def test_2208_cancels_with_a_new_negative_settlement(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="310", region="440300")[1]
    v = flows.outpatient(c, p, rng)
    req = {"data": {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}}
    r = c.call("2208", req, insuplc_admdvs=p.insuplc_admdvs)
    out = flows.ok(r)["setlinfo"]
    assert out["setl_id"] != v.setl_id
    for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay"):
        assert _d(out[k]) == -_d(v.setlinfo[k])
    assert _d(out["balc"]) == _d(v.setlinfo["balc"]) + _d(v.setlinfo["acct_pay"])
    assert c.post("2208", r.request).body == r.body  # retry: identical
    again = c.call("2208", req, insuplc_admdvs=p.insuplc_admdvs)  # new msgid: illegal now
    assert again.infcode == -1 and "不存在或已撤销" in again.err_msg
    with world.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT kind, medfee_sumamt FROM encounter_settlement WHERE mdtrt_id = :m"),
            {"m": v.mdtrt_id},
        ).all()
        assert sorted(k for k, _ in rows) == ["cancel", "settle"]
        assert sum(a for _, a in rows) == 0
        assert (
            conn.execute(sa.text("SELECT COALESCE(SUM(amount),0) FROM ledger_entry")).scalar() == 0
        )


def test_illegal_transition_gets_a_clear_err_msg(
    make_client: ClientFactory, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="390", region="440300")[1]
    v = flows.outpatient(c, p, rng)
    r = c.call(
        "2205",
        {"data": {"mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no, "chrg_bchno": "0000"}},
        insuplc_admdvs=p.insuplc_admdvs,
    )
    assert r.infcode == -1 and "已结算" in r.err_msg and "2205" in r.err_msg

"""2601 冲正 over real HTTP: by omsgid/oinfno for 2207, 2102, 2304 and 2401, idempotently."""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import PHARMACY, ClientFactory, patients
from yibao.client import NhsaClient, NhsaResponse
from yibao.hissim import flows


def reverse(c: NhsaClient, psn_no: str, omsgid: str, oinfno: str) -> NhsaResponse:
    return c.call("2601", {"data": {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}})


def kinds(engine: Engine, mdtrt_id: str) -> list[str]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                sa.text("SELECT kind FROM encounter_settlement WHERE mdtrt_id = :m"),
                {"m": mdtrt_id},
            ).scalars()
        )


def test_2601_reverses_an_outpatient_settlement_once(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="310", region="440300")[0]
    v = flows.outpatient(c, p, rng)
    r = reverse(c, p.psn_no, v.settle_msgid, "2207")
    assert r.infcode == 0, r.err_msg
    assert kinds(world, v.mdtrt_id) == ["cancel", "settle"]
    assert c.post("2601", r.request).body == r.body  # identical retry
    again = reverse(c, p.psn_no, v.settle_msgid, "2207")  # another 2601: nothing more
    assert again.infcode == 0
    assert kinds(world, v.mdtrt_id) == ["cancel", "settle"]
    late = c.call(
        "2208", {"data": {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}}
    )
    assert late.infcode == -1 and "已撤销" in late.err_msg
    wrong = reverse(c, p.psn_no, v.settle_msgid, "2102")
    assert wrong.infcode == -1 and "2207" in wrong.err_msg
    with world.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT COALESCE(SUM(amount),0) FROM ledger_entry")).scalar() == 0
        )


def test_2601_of_an_unseen_msgid_closes_it(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="390", region="440300")[0]
    v = flows.outpatient(c, p, rng, settle=False)
    data = dict(v.calls[-1].request["input"]["data"])
    data.update(flows.plain(flows.split_totals(flows.ok(v.calls[2])["result"])))
    msgid = c.new_msgid()
    assert reverse(c, p.psn_no, msgid, "2207").infcode == 0  # timed out before it arrived
    late = c.call("2207", {"data": data}, msgid=msgid, insuplc_admdvs=p.insuplc_admdvs)
    assert late.infcode == -1
    assert kinds(world, v.mdtrt_id) == []


def test_2601_reverses_pharmacy_inpatient_and_admission(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    shop = make_client(PHARMACY)
    p = patients(shop, insutype="310", region="440300")[1]
    v = flows.pharmacy(shop, p, rng)
    assert reverse(shop, p.psn_no, v.settle_msgid, "2102").infcode == 0
    assert kinds(world, v.mdtrt_id) == ["cancel", "settle"]

    c = make_client()
    q = patients(c, insutype="390", region="440300")[1]
    stay = flows.inpatient(c, q, rng, days=2)
    assert reverse(c, q.psn_no, stay.settle_msgid, "2304").infcode == 0
    assert kinds(world, stay.mdtrt_id) == ["cancel", "settle"]

    admitted = flows.inpatient(c, q, rng, days=1, settle=False)
    r = reverse(c, q.psn_no, admitted.calls[0].msgid, "2401")
    assert r.infcode == -1 and "【2404】" in r.err_msg  # discharged, with fees: refused
    r = c.call("2405", {"data": {"mdtrt_id": admitted.mdtrt_id, "psn_no": q.psn_no}})
    assert r.infcode == 0
    r = c.call(
        "2302", {"data": {"mdtrt_id": admitted.mdtrt_id, "psn_no": q.psn_no, "feedetl_sn": "0000"}}
    )
    assert r.infcode == 0, r.err_msg
    assert reverse(c, q.psn_no, admitted.calls[0].msgid, "2401").infcode == 0
    with world.connect() as conn:
        state = conn.execute(
            sa.text("SELECT state FROM encounter WHERE mdtrt_id = :m"), {"m": admitted.mdtrt_id}
        ).scalar()
        assert state == "admission_cancelled"

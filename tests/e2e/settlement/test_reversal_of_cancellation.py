"""2601 of a cancellation (2208 门诊结算撤销, 2103 药店结算撤销), as [JX]/[HN13] allow, and what
5203 then says (refd_setl_flag), over real HTTP.

- a cancellation that never arrived is closed: the settlement stands, a late 2208 is refused;
- a cancellation that failed needs nothing;
- a cancellation that went through is not undone (ADR 0015): the 2601 is refused naming the
  cancelled settlement and its cancellation, and nothing changes.
"""

from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.settlement.conftest import PHARMACY, ClientFactory, patients
from tests.e2e.settlement.test_reversal import kinds, reverse
from yibao.api.nhsa.handlers._setlinfo_5203 import FIELDS_5203
from yibao.client import NhsaClient
from yibao.hissim import flows


def setlinfo_5203(c: NhsaClient, psn_no: str, mdtrt_id: str, setl_id: str) -> dict[str, Any]:
    data = {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "setl_id": setl_id}
    out = flows.ok(c.call("5203", {"data": data}))["setlinfo"]
    assert tuple(out)[: len(FIELDS_5203)] == FIELDS_5203
    assert isinstance(out, dict)
    return out


def ledger_sum(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT COALESCE(SUM(amount),0) FROM ledger_entry")).scalar()
        )


def test_2601_of_a_2208_closes_an_unseen_one_and_refuses_to_undo_a_done_one(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    c = make_client()
    p = patients(c, insutype="310", region="440300")[2]
    v = flows.outpatient(c, p, rng)
    before = setlinfo_5203(c, p.psn_no, v.mdtrt_id, v.setl_id)
    assert before["refd_setl_flag"] == "0" and before["medins_setl_id"] == v.settle_msgid
    assert before["fixmedins_code"] == c.fixmedins_code and before["opter_id"] == c.opter
    assert before["psn_pay"] == before["psn_part_amt"]
    undo = {"data": {"setl_id": v.setl_id, "mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no}}

    lost = c.new_msgid()  # a 2208 the centre never received: 2601 closes its msgid
    assert reverse(c, p.psn_no, lost, "2208").infcode == 0
    late = c.call("2208", undo, msgid=lost, insuplc_admdvs=p.insuplc_admdvs)
    assert late.infcode == -1 and "2601" in late.err_msg
    assert kinds(world, v.mdtrt_id) == ["settle"]
    assert setlinfo_5203(c, p.psn_no, v.mdtrt_id, v.setl_id)["refd_setl_flag"] == "0"

    failed = c.call(  # a 2208 that failed: nothing to undo
        "2208", {"data": {**undo["data"], "setl_id": "NO-SUCH"}}, insuplc_admdvs=p.insuplc_admdvs
    )
    assert failed.infcode == -1
    assert reverse(c, p.psn_no, failed.msgid, "2208").infcode == 0

    done = c.call("2208", undo, insuplc_admdvs=p.insuplc_admdvs)
    cancel_id = str(flows.ok(done)["setlinfo"]["setl_id"])
    after = setlinfo_5203(c, p.psn_no, v.mdtrt_id, v.setl_id)
    assert after["refd_setl_flag"] == "1"  # the settlement was cancelled
    negative = setlinfo_5203(c, p.psn_no, v.mdtrt_id, cancel_id)
    assert (
        negative["refd_setl_flag"] == "1" and negative["medfee_sumamt"] == -after["medfee_sumamt"]
    )

    r = reverse(c, p.psn_no, done.msgid, "2208")
    assert r.infcode == -1 and "撤销不能冲正" in r.err_msg
    assert v.setl_id in r.err_msg and cancel_id in r.err_msg
    assert c.post("2601", r.request).body == r.body  # the refusal replays byte for byte
    assert kinds(world, v.mdtrt_id) == ["cancel", "settle"]
    assert reverse(c, p.psn_no, v.settle_msgid, "2207").infcode == 0  # already cancelled
    assert kinds(world, v.mdtrt_id) == ["cancel", "settle"]
    assert ledger_sum(world) == 0


def test_2601_of_a_2103_and_5203_after_a_2601(
    make_client: ClientFactory, world: Engine, rng: random.Random
) -> None:
    shop = make_client(PHARMACY)
    p = patients(shop, insutype="310", region="440300")[2]
    sale = flows.pharmacy(shop, p, rng)
    undo = {"data": {"setl_id": sale.setl_id, "mdtrt_id": sale.mdtrt_id, "psn_no": p.psn_no}}
    done = shop.call("2103", undo, insuplc_admdvs=p.insuplc_admdvs)
    flows.ok(done)
    r = reverse(shop, p.psn_no, done.msgid, "2103")
    assert r.infcode == -1 and "撤销不能冲正" in r.err_msg and sale.setl_id in r.err_msg
    assert kinds(world, sale.mdtrt_id) == ["cancel", "settle"]

    again = flows.pharmacy(shop, p, rng)  # a sale undone by 2601: 5203 marks it reversed
    assert reverse(shop, p.psn_no, again.settle_msgid, "2102").infcode == 0
    info = setlinfo_5203(shop, p.psn_no, again.mdtrt_id, again.setl_id)
    assert info["refd_setl_flag"] == "1" and info["med_type"] == "41"
    assert info["hosp_lv"] == "" and info["fixmedins_code"] == PHARMACY
    assert reverse(shop, p.psn_no, shop.new_msgid(), "2103").infcode == 0  # unseen: closed
    assert ledger_sum(world) == 0

"""Cross-province over the national interface: a Guangshui (湖北 421381) resident treated at a
Guangzhou hospital, the HIS speaking only the national interface to the Guangdong deployment.

Three Yibao server processes on loopback, each over its own PostgreSQL database: Guangdong
(treatment side, YIBAO_PROVINCE=44, relays through the hub), Hubei (insured side, 42) and the hub.
Guangdong's handlers hand the Hubei person to the hub (:mod:`yibao.api.nhsa.handlers._across`): 1101 is
answered by Hubei, 2207 is split by Hubei's policy and recorded on both sides under one relay id,
2208 cancels on both sides; a second Guangdong process behind a hub with a 1-second hop timeout
(Hubei answering late) shows a lost answer failing the settlement as a whole.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.e2e.assurance.handmade import (
    admit,
    discharge,
    fen,
    line,
    settle_stay,
    upload_stay_fees,
)
from tests.e2e.settlement.conftest import make
from tests.e2e.staff_login import create_staff, login
from tests.integration.crossregion.people import insured
from yibao.catalog import service as catalog
from yibao.clearing import service as clearing
from yibao.client import NhsaClient, NhsaError
from yibao.console.model import Role
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.encounter.store import encounter_accumulator, encounter_settlement
from yibao.hissim import flows
from yibao.hub import client as hub_client
from yibao.hub import store as hub_store
from yibao.hub.settings import HubSettings
from yibao.institutions import demo as institutions_demo
from yibao.ledger import verify
from yibao.registry import store as registry_store

SECRET = "test-hub-secret"
LATE_APP = "tests.e2e.crossregion.late_app:late_insured_app"  # answers 4 s late
GS, GZ = "421381", "440100"
HOSPITAL = "H44010000001"  # 广州市第一人民医院, hosp_lv 2
PHARMACY = "P44010000001"  # 广州市健民大药房天河店


@dataclass
class World:
    gd: Engine
    hb: Engine
    hub: Engine
    psn_no: str
    certno: str
    gd_url: str
    gd_lossy_url: str
    gd_db_url: str
    hub_url: str


def _start(*servers: Any) -> None:
    """Start server processes side by side; a loaded CI machine gets a generous health wait."""
    with ThreadPoolExecutor(len(servers)) as pool:
        for f in [pool.submit(s.start, 120) for s in servers]:
            f.result()


@pytest.fixture
def world(pg: EmbeddedPostgres, template_url: str, server_factory: type) -> Iterator[World]:
    urls = [new_database(pg, template_url) for _ in range(3)]
    gd, hb, hub = (make_engine(u, pool_size=2) for u in urls)
    institutions_demo.seed(gd)
    catalog.seed_demo(gd)
    with hb.begin() as conn:
        psn_no = insured(conn, GS, insutype="390", psn_type="50", name="广水参保人")
        person = registry_store.get_person(conn, psn_no)
        assert person is not None
    net = {"YIBAO_HUB_SECRET": SECRET}
    hb_srv = server_factory(urls[1], {**net, "YIBAO_PROVINCE": "42", "YIBAO_HUB_NODE": "hubei"})
    hb_late = server_factory(urls[1], {**net, "YIBAO_PROVINCE": "42"}, app=LATE_APP)
    _start(hb_srv, hb_late)
    hub_srv = server_factory(urls[2], {**net, "YIBAO_HUB_PEERS": f"42={hb_srv.url}"})
    hub_lossy = server_factory(
        urls[2], {**net, "YIBAO_HUB_PEERS": f"42={hb_late.url}", "YIBAO_HUB_TIMEOUT": "1"}
    )
    _start(hub_srv, hub_lossy)
    gd_env = {**net, "YIBAO_PROVINCE": "44", "YIBAO_HUB_NODE": "guangdong"}
    gd_srv = server_factory(urls[0], {**gd_env, "YIBAO_HUB_URL": hub_srv.url})
    gd_lossy = server_factory(urls[0], {**gd_env, "YIBAO_HUB_URL": hub_lossy.url})
    _start(gd_srv, gd_lossy)
    yield World(gd, hb, hub, psn_no, person.certno, gd_srv.url, gd_lossy.url, urls[0], hub_srv.url)
    for e in (gd, hb, hub):
        e.dispose()


def _lookup(c: NhsaClient, w: World) -> flows.Patient:
    """1101 at the Guangzhou counter by ID card, the insured region (湖北广水) in the envelope."""
    r = c.call(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": w.certno, "card_sn": "",
                  "begntime": "", "psn_cert_type": "01", "certno": w.certno,
                  "psn_name": "广水参保人"}},
        insuplc_admdvs=GS,
    )  # fmt: skip
    out = flows.ok(r)
    assert out["baseinfo"]["psn_no"] == w.psn_no
    (row,) = [i for i in out["insuinfo"] if i["insutype"] == "390"]
    assert row["insuplc_admdvs"] == GS
    return flows.Patient(w.psn_no, "390", GS, "广水参保人", w.certno, "02", w.certno)


# Stay A, hand-made so that Hubei's split can be written out here (not taken from the engine).
# Treatment place's catalogue (Guangzhou over Guangdong, demo): class, price limit, 乙类 10 %.
#   单人间床位费  甲类 150.00 × 3 = 450.00, 支付标准 60.00 × 3 = 180.00 → 超限价 270.00
#   阑尾切除术 甲类 1200.00; 椎管内麻醉 甲类 350.00; CT平扫 乙类 200.00 → 先行自付 20.00
#   鹿茸片 丙类 20.00 × 5 = 100.00 → 全自费
STAY_A = [
    line("01", "001109000030000", "150.00", 3),
    line("02", "003310030010000", "1200.00", 1),
    line("03", "003301000020000", "350.00", 1),
    line("04", "002103000010000", "200.00", 1),
    line("05", "T106722582", "20.00", 5),
]
STAY_A_SPLIT = {
    "medfee_sumamt": 230000, "fulamt_ownpay_amt": 10000, "overlmt_selfpay": 27000,
    "preselfpay_amt": 2000, "inscp_scp_amt": 191000,  # 180 + 1200 + 350 + 180
}  # fmt: skip
# Insured place's policy (policies/hubei/420000.yaml, assumed placeholders): 居民 住院 三级
# (广州市第一人民医院 hosp_lv 2) 起付线 650.00, 比例 65 %; 跨省 unfiled −20 个百分点 → 45 %;
# no 大病 for Guangshui; a resident has no personal account.
HIFP_A = 56700  # (1910.00 − 650.00) × 45 % = 567.00
STAY_A_SETL = {
    **STAY_A_SPLIT, "act_pay_dedc": 65000, "hifp_pay": HIFP_A, "hifmi_pay": 0,
    "fund_pay_sumamt": HIFP_A, "acct_pay": 0, "psn_cash_pay": 230000 - HIFP_A,
}  # fmt: skip


def _settlements(engine: Engine, **where: str) -> list[Any]:
    t = encounter_settlement
    q = sa.select(t.c.kind, t.c.msgid, t.c.fund_pay_sumamt, t.c.setlinfo)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    with engine.connect() as conn:
        return list(conn.execute(q).all())


def test_guangshui_resident_at_a_guangzhou_hospital_over_the_national_interface(
    world: World,
) -> None:
    w = world
    rng = random.Random(11)
    c = make(w.gd_url, HOSPITAL)
    p = _lookup(c, w)

    # stay A: 2401 → 2301 ×2 → 2402 → 2303 → 2304, split by Hubei through the hub
    a = admit(c, p)
    upload_stay_fees(c, p, a, STAY_A[:3])
    upload_stay_fees(c, p, a, STAY_A[3:])
    discharge(c, p, a)
    settle_stay(c, p, a, STAY_A_SPLIT)
    pre = flows.ok(a.calls[-2])["setlinfo"]  # 2303: this side's classification, fund by Hubei
    assert pre["psn_no"] == w.psn_no and pre["certno"] == w.certno
    assert pre["medfee_sumamt"] == a.setlinfo["medfee_sumamt"]
    s = a.setlinfo
    relay_id = a.settle_msgid
    assert s["relay_id"] == relay_id and s["medins_setl_id"] == relay_id
    assert {k: fen(s[k]) for k in STAY_A_SETL} == STAY_A_SETL
    assert s["clr_optins"] == GZ

    # once on each side (and at the hub) under the same relay id; the Guangdong record carries it
    (hb_row,) = _settlements(w.hb, msgid=relay_id)
    (gd_row,) = _settlements(w.gd, msgid=relay_id)
    assert hb_row.kind == gd_row.kind == "settle"
    assert gd_row.setlinfo["relay_id"] == relay_id
    assert hb_row.fund_pay_sumamt == gd_row.fund_pay_sumamt == HIFP_A
    with w.hub.connect() as conn:
        status = conn.execute(
            sa.select(hub_store.relay.c.status).where(hub_store.relay.c.relay_id == relay_id)
        ).scalar_one()
    assert status == "settled"

    # a retry of every call (same msgid) answers byte for byte the same; nothing is added
    for call in a.calls:
        assert c.post(call.infno, call.request).body == call.body
    assert len(_settlements(w.hb, msgid=relay_id)) == len(_settlements(w.gd, msgid=relay_id)) == 1

    # accumulators move in Hubei's database only
    with w.hb.connect() as conn:
        counters = conn.execute(
            sa.select(encounter_accumulator.c.counters).where(
                encounter_accumulator.c.psn_no == w.psn_no
            )
        ).scalar_one()
    assert sum(v for k, v in counters.items() if k.split(".")[0] == "hifp") == (HIFP_A)
    with w.gd.connect() as conn:
        assert all(
            not x for x in conn.execute(sa.select(encounter_accumulator.c.counters)).scalars()
        )

    # visit B, then 2208: cancelled on both sides (Hubei first, through the hub)
    b = flows.outpatient(c, p, rng)
    r = c.call(
        "2208",
        {"data": {"setl_id": b.setl_id, "mdtrt_id": b.mdtrt_id, "psn_no": w.psn_no}},
        insuplc_admdvs=GS,
    )
    cancelled = flows.ok(r)["setlinfo"]
    assert Decimal(str(cancelled["fund_pay_sumamt"])) == -Decimal(
        str(b.setlinfo["fund_pay_sumamt"])
    )

    # a Guangzhou pharmacy: 2101 → 2102 through the hub, then 2601 (冲正) undoes it on both sides
    ph = make(w.gd_url, PHARMACY)
    sale = flows.pharmacy(ph, p, rng)
    assert sale.setlinfo["relay_id"] == sale.settle_msgid
    assert len(_settlements(w.hb, msgid=sale.settle_msgid)) == 1
    undo = {"data": {"psn_no": w.psn_no, "omsgid": sale.settle_msgid, "oinfno": "2102"}}
    flows.ok(ph.call("2601", undo, insuplc_admdvs=GS))
    ph.close()
    for engine in (w.gd, w.hb):
        rows = _settlements(engine, psn_no=w.psn_no)
        assert sorted(x.kind for x in rows) == ["cancel"] * 2 + ["settle"] * 3
        assert sum(x.fund_pay_sumamt for x in rows) == HIFP_A

    # a lost answer (Hubei answers after the 1-second hop timeout): the settlement fails as a
    # whole — reversed in Hubei, nothing recorded in Guangdong, the HIS gets infcode -1
    lossy = make(w.gd_lossy_url, HOSPITAL)
    with pytest.raises(NhsaError, match="已冲正"):
        flows.outpatient(lossy, p, rng)
    lossy.close()
    for engine in (w.gd, w.hb):
        total = sum(x.fund_pay_sumamt for x in _settlements(engine, psn_no=w.psn_no))
        assert total == HIFP_A

    # monthly inter-province clearing: each side's statement equals the settlements, and the hub
    # agrees with both provinces' figures
    period = f"{datetime.now(UTC):%Y-%m}"
    # Guangdong's bureau over the clearing admin API (console sessions): the inter-province
    # statement is built, confirmed and approved by two province administrators; a city
    # administrator of Guangzhou may read it but not act on it
    for user, role, region in (("gd_prov_a", Role.PROVINCE_ADMIN, None),
                               ("gd_prov_b", Role.PROVINCE_ADMIN, None),
                               ("gz_city", Role.CITY_ADMIN, GZ)):  # fmt: skip
        create_staff(w.gd_db_url, user, role, admdvs=region)
    prov_a, prov_b, gz_city = (login(w.gd_url, u) for u in ("gd_prov_a", "gd_prov_b", "gz_city"))
    assert (
        gz_city.post(
            "/api/clearing/admin/runs", json={"month": period, "pair": [GS, GZ]}
        ).status_code
        == 403
    )
    r = prov_a.post("/api/clearing/admin/runs", json={"month": period, "pair": [GS, GZ]})
    assert r.status_code == 200, r.text
    (gd_stmt,) = r.json()["data"]
    assert gd_stmt["pair"] == [GS, GZ] and gd_stmt["payer"] == GS
    assert gd_stmt["net_amount"] == HIFP_A
    path = f"/api/clearing/admin/statements/{gd_stmt['stmt_id']}"
    assert gz_city.get(path).status_code == 200
    assert gz_city.post(f"{path}/confirm").status_code == 403  # 省间清算: province only
    assert prov_a.post(f"{path}/confirm").status_code == 200
    assert prov_a.post(f"{path}/approve").status_code == 409  # not the confirmer
    approved = prov_b.post(f"{path}/approve")
    assert approved.status_code == 200 and approved.json()["data"]["state"] == "approved"
    for client in (prov_a, prov_b, gz_city):
        client.close()
    reports = []
    with w.hb.begin() as conn:
        (hb_stmt,) = clearing.run(conn, period, actor="hubei-clerk")
    assert hb_stmt.pair == (GS, GZ) and hb_stmt.payer == GS
    assert hb_stmt.net_amount == HIFP_A
    for engine, prov, node in ((w.gd, "44", "guangdong"), (w.hb, "42", "hubei")):
        cfg = HubSettings(secret=SECRET, node=node, province=prov, hub_url=w.hub_url, peers={},
                          timeout=10)  # fmt: skip
        with engine.begin() as conn:
            reports.append(hub_client.report_clearing(conn, period, cfg=cfg))
        with engine.connect() as conn:
            assert verify(conn).ok
    assert all(rep["agree"] for rep in reports), reports
    c.close()

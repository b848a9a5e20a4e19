"""Cross-province over HTTP: a Guangshui (Hubei) resident treated in Guangzhou (Guangdong).

Yibao processes on loopback, each deployment with its own PostgreSQL database: the Hubei
deployment (insured side), the hub, and — for the lost-answer case — a second Hubei process that
answers late and a hub process with a 1-second hop timeout. The Guangdong (treatment) side runs
at the service level against its own database, as helper G's 2304 handler would call it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.integration.crossregion.people import insured
from yibao.clearing import service as clearing
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.encounter import service as encounters
from yibao.encounter.fees import FeeLine, LineSplit
from yibao.encounter.store import encounter_accumulator, encounter_settlement
from yibao.hub import client
from yibao.hub import store as hub_store
from yibao.hub.model import RelayError, RelayRequest
from yibao.hub.settings import HubSettings
from yibao.institutions import demo as institutions_demo
from yibao.ledger import verify
from yibao.registry import store as registry_store
from yibao.settlement.model import Item

SECRET = "test-hub-secret"
LATE_APP = "tests.e2e.crossregion.late_app:late_insured_app"  # answers 4 s late
GS, GZ = "421381", "440100"
HOSPITAL = "H44010000001"  # 广州市第一人民医院, hosp_lv 2


@dataclass
class World:
    gd: Engine
    hb: Engine
    hub: Engine
    psn_no: str
    certno: str
    hub_url: str
    lossy_hub_url: str


@pytest.fixture
def world(pg: EmbeddedPostgres, template_url: str, server_factory: type) -> Iterator[World]:
    urls = [new_database(pg, template_url) for _ in range(3)]
    gd, hb, hub = (make_engine(u, pool_size=2) for u in urls)
    institutions_demo.seed(gd)
    with hb.begin() as conn:
        psn_no = insured(conn, GS, insutype="390", psn_type="50", name="广水参保人")
        person = registry_store.get_person(conn, psn_no)
        assert person is not None
    env = {"YIBAO_HUB_SECRET": SECRET, "YIBAO_PROVINCE": "42"}
    hb_srv = server_factory(urls[1], env)
    hb_late = server_factory(urls[1], env, app=LATE_APP)
    hub_srv = server_factory(
        urls[2], {"YIBAO_HUB_SECRET": SECRET, "YIBAO_HUB_PEERS": f"42={hb_srv.url}"}
    )
    hub_lossy = server_factory(
        urls[2],
        {
            "YIBAO_HUB_SECRET": SECRET,
            "YIBAO_HUB_PEERS": f"42={hb_late.url}",
            "YIBAO_HUB_TIMEOUT": "1",
        },
    )
    for s in (hb_srv, hb_late, hub_srv, hub_lossy):
        s.start()
    yield World(gd, hb, hub, psn_no, person.certno, hub_srv.url, hub_lossy.url)
    for e in (gd, hb, hub):
        e.dispose()


def _cfg(hub_url: str) -> HubSettings:
    return HubSettings(
        secret=SECRET, node="guangdong", province="44", hub_url=hub_url, peers={}, timeout=10
    )


def _items() -> tuple[Item, ...]:
    lines = [("床位费", "01", 120_000), ("治疗费", "01", 860_000), ("自费药", "03", 45_000)]
    return tuple(
        Item(f"F{n}", f"X{n:04d}", name, "201", lv, "05", amt, Decimal(1), Decimal(amt) / 100)
        for n, (name, lv, amt) in enumerate(lines, start=1)
    )


def _admit(conn: sa.Connection, w: World, now: datetime, msg: str) -> encounters.Encounter:
    """2401 → 2301 → 2402 on the Guangdong side (fees classified by Guangdong's catalogue)."""
    enc = encounters.admit(
        conn, psn_no=w.psn_no, insutype="390", med_type="21", fixmedins_code=HOSPITAL,
        insuplc_admdvs=GS, mdtrtarea_admvs=GZ, begntime=now, ipt_no=f"ZY{msg}", msgid=msg + "a",
    )  # fmt: skip
    items = _items()
    lines = [FeeLine(i.feedetl_sn, i.med_list_codg, i.med_list_codg, i.det_item_fee_sumamt, i.cnt,
                     i.pric) for i in items]  # fmt: skip
    splits = [
        LineSplit(
            i.feedetl_sn,
            i.chrgitm_lv,
            "05",
            i.det_item_fee_sumamt if i.chrgitm_lv == "03" else 0,
            0,
            0,
            0 if i.chrgitm_lv == "03" else i.det_item_fee_sumamt,
        )
        for i in items
    ]
    encounters.upload_inpatient_fees(conn, enc.mdtrt_id, psn_no=w.psn_no, fixmedins_code=HOSPITAL,
                                     lines=lines, splits=splits, msgid=msg + "b")  # fmt: skip
    encounters.discharge(conn, enc.mdtrt_id, psn_no=w.psn_no, fixmedins_code=HOSPITAL, endtime=now)
    return encounters.load(conn, enc.mdtrt_id)


def _request(w: World, relay_id: str, now: datetime) -> RelayRequest:
    return RelayRequest(
        relay_id=relay_id, insuplc_admdvs=GS, mdtrtarea_admvs=GZ, fixmedins_code=HOSPITAL,
        fixmedins_name="广州市第一人民医院", hosp_lv="2", psn_cert_type="01", certno=w.certno,
        psn_name="广水参保人", insutype="390", med_type="21", begndate=now.date(), items=_items(),
    )  # fmt: skip


def _count(engine: Engine, table: sa.Table, **where: str) -> int:
    with engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(table.c[k] == v)
        return int(conn.execute(q).scalar_one())


def test_guangshui_resident_in_guangzhou_through_the_hub(world: World) -> None:
    w = world
    now = datetime.now(UTC)
    cfg = _cfg(w.hub_url)
    relay_id = "H44010000001202611221000000001"

    # what Hubei's own policy says for this bill (no filing → unfiled, 跨省), by hand
    # (policies/hubei/420000.yaml, assumed placeholders): 居民 三级 (hosp_lv 2) 起付线 650.00,
    # 65 % − 20 个百分点 = 45 %; 政策范围内 = 床位费 1200.00 + 治疗费 8600.00 (自费药 丙类)
    hubei_hifp = 411_750  # (9800.00 − 650.00) × 45 % = 4117.50

    # 1101 for the Hubei person at the Guangdong counter, through the hub
    info = client.relay_person_info(w.certno, GS, now.date(), cfg=cfg)
    assert info["baseinfo"]["psn_no"] == w.psn_no
    assert info["insuinfo"][0]["insuplc_admdvs"] == GS
    with pytest.raises(RelayError, match="查无此人"):
        client.relay_person_info("420000199001010000", GS, now.date(), cfg=cfg)
    forged = httpx.post(f"{w.hub_url}/api/hub/relay/settle", json=_request(w, "X1", now).to_json(),
                        headers={"X-Yibao-Hub-Timestamp": "1", "X-Yibao-Hub-Signature": "00"})  # fmt: skip
    assert forged.status_code == 401

    # a dry run (预结算) under the very relay id of the settlement to come: repeatable, nothing
    # recorded in Hubei or at the hub, so it does not block that settlement
    dry = client.price_settlement(_request(w, relay_id, now), cfg=cfg)
    assert dry.raw["status"] == "priced" and dry.insu_setl_id == ""
    assert client.price_settlement(_request(w, relay_id, now), cfg=cfg).raw == dry.raw
    assert _count(w.hub, hub_store.relay, relay_id=relay_id) == 0
    assert _count(w.hb, hub_store.inbound, relay_id=relay_id) == 0
    assert _count(w.hb, encounter_settlement) == _count(w.hb, encounter_accumulator) == 0
    with pytest.raises(RelayError, match="参保地拒绝预结算：certno: 参保地查无此人"):
        client.price_settlement(
            dataclasses.replace(_request(w, "X2", now), certno="420000199001010000"), cfg=cfg
        )

    with w.gd.begin() as conn:
        visit = _admit(conn, w, now, "M1")
        result = client.relay_settlement(_request(w, relay_id, now), cfg=cfg)
        rec = client.record_relayed(conn, visit, result, msgid=relay_id, setl_time=now)
    assert result.psn_no == w.psn_no and result.filing == "unfiled"
    assert result.setlinfo["hifp_pay"] == hubei_hifp
    assert result.setlinfo["medfee_sumamt"] == 1_025_000
    assert result.setlinfo["fund_pay_sumamt"] == hubei_hifp
    for name in ("medfee_sumamt", "hifp_pay", "fund_pay_sumamt", "psn_cash_pay", "psn_part_amt"):
        assert result.setlinfo[name] == dry.setlinfo[name], name  # the dry run, to the fen
    assert result.setldetail == dry.setldetail

    # the retry (same relay_id, same content) is answered from the records: one settlement
    again = client.relay_settlement(_request(w, relay_id, now), cfg=cfg)
    assert again.insu_setl_id == result.insu_setl_id
    assert _count(w.hb, encounter_settlement, msgid=relay_id) == 1

    # accumulators moved in the insured region (Hubei's database) only
    with w.hb.connect() as conn:
        counters = conn.execute(
            sa.select(encounter_accumulator.c.counters).where(
                encounter_accumulator.c.psn_no == w.psn_no
            )
        ).scalar_one()
    hifp = sum(v for k, v in counters.items() if k.split(".")[0] == "hifp")
    assert hifp == hubei_hifp
    with w.gd.connect() as conn:
        gd_counters = conn.execute(sa.select(encounter_accumulator.c.counters)).scalars().all()
    assert all(not c for c in gd_counters)

    # a lost answer: Hubei commits, then answers too late; the relay is reversed as a whole
    lost_id = "H44010000001202611221000000002"
    with pytest.raises(RelayError) as e:
        client.relay_settlement(_request(w, lost_id, now), cfg=_cfg(w.lossy_hub_url))
    assert not e.value.uncertain and "已冲正" in e.value.message
    with w.hb.connect() as conn:
        rows = conn.execute(
            sa.select(encounter_settlement.c.kind, encounter_settlement.c.fund_pay_sumamt).where(
                encounter_settlement.c.msgid.in_([lost_id, lost_id + ".rev"])
            )
        ).all()
    assert sorted(r.kind for r in rows) == ["cancel", "settle"] and sum(r[1] for r in rows) == 0
    late = (
        client.relay_settlement.__wrapped__
        if hasattr(client.relay_settlement, "__wrapped__")
        else None
    )
    assert late is None
    with pytest.raises(RelayError, match="已冲正"):
        client.relay_settlement(_request(w, lost_id, now), cfg=cfg)

    # monthly clearing between the provinces: both deployments' statements agree with the hub
    period = f"{now:%Y-%m}"
    with w.gd.begin() as conn:
        (gd_stmt,) = clearing.run(conn, period, actor="gd-clerk")
        gd_report = client.report_clearing(conn, period, cfg=cfg)
    with w.hb.begin() as conn:
        (hb_stmt,) = clearing.run(conn, period, actor="hb-clerk")
        hb_report = client.report_clearing(
            conn,
            period,
            cfg=HubSettings(
                secret=SECRET, node="hubei", province="42", hub_url=w.hub_url, peers={}, timeout=10
            ),
        )
    assert gd_stmt.pair == hb_stmt.pair == (GS, GZ)
    assert gd_stmt.net_amount == hb_stmt.net_amount == hubei_hifp
    assert gd_stmt.payer == hb_stmt.payer == GS
    assert gd_report["agree"] and hb_report["agree"], (gd_report, hb_report)
    with w.gd.connect() as conn:
        assert verify(conn).ok
    with w.hb.connect() as conn:
        assert verify(conn).ok

    # 撤销 of the relayed settlement (2305): reversed in Hubei first, then recorded here
    with w.gd.begin() as conn:
        visit = encounters.load(conn, rec.mdtrt_id)
        client.cancel_relayed(
            conn, visit, rec.setl_id, relay_id=relay_id, msgid="C1", setl_time=now, cfg=cfg
        )
    with w.hb.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.sum(encounter_settlement.c.fund_pay_sumamt)).where(
                encounter_settlement.c.psn_no == w.psn_no
            )
        ).scalar_one()
    assert total == 0

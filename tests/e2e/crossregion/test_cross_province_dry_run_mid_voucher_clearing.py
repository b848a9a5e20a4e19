"""Cross-province over the national interface, the parts beyond a plain settlement: a Guangshui
(湖北 421381) resident at a Guangzhou hospital, Guangdong (44), Hubei (42) and the hub as three
Yibao server processes on loopback, each over its own PostgreSQL database.

- 预结算 (2206/2303/2101) is a dry run by Hubei through the hub: the real fund amounts, equal to
  the following settlement's to the fen, and nothing written in Hubei or at the hub;
- 中途结算 (2304 ``mid_setl_flag=1``) is relayed, the stay goes on, a later 2304 settles the later
  fees, and 2305 of the mid settlement reverses it in Hubei first;
- 医保码 (mdtrt_cert_type 01): the person's code, issued by the Hubei deployment, is scanned in
  Guangzhou, exchanged by Hubei (through the hub) for an ecToken bound to the hospital, which the
  HIS uses in 1101/2201…2207; a tampered code, a replay, and the token at another institution are
  refused with clear messages;
- the province's monthly report to the hub and the hub's inter-province statement over the
  clearing admin API (console sessions).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.conftest import new_database
from tests.e2e.crossregion.test_cross_province_gateway import (
    GS,
    GZ,
    HOSPITAL,
    PHARMACY,
    SECRET,
    _settlements,
    _start,
)
from tests.e2e.settlement.conftest import make
from tests.e2e.staff_login import create_staff, ec_post, login
from tests.e2e.test_voucher_flow import Channel
from tests.integration.crossregion.people import insured
from yibao.catalog import service as catalog
from yibao.checkout.model import SETLINFO_AMOUNTS
from yibao.client import NhsaClient, NhsaError, NhsaResponse
from yibao.console.model import Role
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.encounter.store import encounter_accumulator
from yibao.hissim import flows
from yibao.hub import store as hub_store
from yibao.institutions import demo as institutions_demo
from yibao.registry import store as registry_store
from yibao.voucher.service import VoucherService
from yibao.voucher.verifier import demo_evidence


@dataclass
class World:
    gd: Engine
    hb: Engine
    hub: Engine
    psn_no: str
    certno: str
    gd_url: str
    hb_url: str
    gd_db_url: str
    hb_db_url: str
    local_certno: str


@pytest.fixture
def world(pg: EmbeddedPostgres, template_url: str, server_factory: type) -> Iterator[World]:
    urls = [new_database(pg, template_url) for _ in range(3)]
    gd, hb, hub = (make_engine(u, pool_size=2) for u in urls)
    institutions_demo.seed(gd)
    catalog.seed_demo(gd)
    with gd.begin() as conn:  # a Guangzhou resident: the local answer's shape to compare with
        local = registry_store.get_person(
            conn, insured(conn, GZ, insutype="390", psn_type="50", name="广州参保人")
        )
        assert local is not None
    with hb.begin() as conn:
        psn_no = insured(conn, GS, insutype="390", psn_type="50", name="广水参保人")
        person = registry_store.get_person(conn, psn_no)
        assert person is not None
    # no background ledger roll-up: "nothing written" is checked table by table
    net = {"YIBAO_HUB_SECRET": SECRET, "YIBAO_LEDGER_ROLLUP_SECONDS": "0"}
    hub_srv = server_factory(urls[2], net)  # its peers are set below, once Hubei has a port
    hb_srv = server_factory(urls[1], {**net, "YIBAO_PROVINCE": "42", "YIBAO_HUB_NODE": "hubei",
                                      "YIBAO_HUB_URL": hub_srv.url})  # fmt: skip
    gd_srv = server_factory(urls[0], {**net, "YIBAO_PROVINCE": "44", "YIBAO_HUB_NODE": "guangdong",
                                      "YIBAO_HUB_URL": hub_srv.url})  # fmt: skip
    hub_srv.env["YIBAO_HUB_PEERS"] = f"42={hb_srv.url},44={gd_srv.url}"
    _start(hub_srv, hb_srv, gd_srv)
    yield World(gd, hb, hub, psn_no, person.certno, gd_srv.url, hb_srv.url, urls[0], urls[1],
                local.certno)  # fmt: skip
    for e in (gd, hb, hub):
        e.dispose()


def _patient(w: World, *, cert_type: str = "02", cert_no: str = "") -> flows.Patient:
    return flows.Patient(
        w.psn_no, "390", GS, "广水参保人", w.certno, cert_type, cert_no or w.certno
    )


def _digest(engine: Engine, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every table's full content as one md5 per table (to show that nothing was written)."""
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ).scalars()
        out = {}
        for t in tables:
            if t.startswith(skip):
                continue
            out[t] = conn.execute(
                sa.text(
                    f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                    f'FROM "{t}" x'
                )
            ).scalar_one()
    return out


def _everything(w: World) -> dict[str, dict[str, str]]:
    """Hubei and the hub entirely; Guangdong but its gateway message log (the exactly-once
    record of every national-interface call, 2206 included, as for a local patient)."""
    return {"hb": _digest(w.hb), "hub": _digest(w.hub), "gd": _digest(w.gd, skip=("gateway_",))}


def _amounts(setlinfo: dict[str, Any]) -> dict[str, Decimal]:
    return {k: Decimal(str(setlinfo[k])) for k in SETLINFO_AMOUNTS if k in setlinfo and k != "balc"}


def _hubei_counters(w: World) -> dict[str, int]:
    with w.hb.connect() as conn:
        row = conn.execute(
            sa.select(encounter_accumulator.c.counters).where(
                encounter_accumulator.c.psn_no == w.psn_no
            )
        ).scalar_one_or_none()
    return dict(row or {})


def _again(c: NhsaClient, r: NhsaResponse) -> dict[str, Any]:
    """The same request under a new msgid (a HIS pressing 预结算 twice), without the
    ``medins_setl_id`` (that msgid)."""
    env = r.request
    out = flows.ok(c.call(r.infno, env["input"], insuplc_admdvs=env["insuplc_admdvs"]))
    out["setlinfo"].pop("medins_setl_id")
    return out


def _hifp(counters: dict[str, int]) -> int:
    return sum(v for k, v in counters.items() if k.split(".")[0] == "hifp")


def _inpatient_data(
    p: flows.Patient, mdtrt_id: str, totals: dict[str, Decimal], mid: str
) -> dict[str, Any]:
    return {
        "psn_no": p.psn_no, "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no, "psn_cert_type": "01", "certno": p.certno,
        "psn_name": p.psn_name, "psn_setlway": "01", "mdtrt_id": mdtrt_id,
        "acct_used_flag": "0", "insutype": p.insutype, "mid_setl_flag": mid, **totals,
    }  # fmt: skip


def _fees(
    c: NhsaClient, p: flows.Patient, mdtrt_id: str, rng: random.Random, day: int
) -> dict[str, Decimal]:
    fees = flows.pick_lines(rng, GZ, 8, max_pric=None)
    for f in fees:  # ten times the quantity: a stay above Hubei's inpatient deductible
        f["cnt"] *= 10
        f["det_item_fee_sumamt"] = (f["pric"] * f["cnt"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        f.update(feedetl_sn=f"D{day}{f['feedetl_sn']}", mdtrt_id=mdtrt_id, psn_no=p.psn_no,
                 med_type="21", fee_ocur_time=flows.now_text())  # fmt: skip
    out = flows.ok(c.call("2301", flows.plain({"feedetail": fees}), insuplc_admdvs=GS))
    totals: dict[str, Decimal] = flows.split_totals(out["result"])
    return totals


def _call(c: NhsaClient, infno: str, data: dict[str, Any]) -> NhsaResponse:
    return c.call(infno, flows.plain({"data": data}), insuplc_admdvs=GS)


def test_pre_settlement_is_a_dry_run_and_mid_stay_settlement_is_relayed(world: World) -> None:
    w = world
    rng = random.Random(5)
    c = make(w.gd_url, HOSPITAL)
    p = _patient(w)

    # --- 2206 outpatient: Hubei prices the bill through the hub; nothing is written anywhere
    v = flows.outpatient(c, p, rng, settle=False)
    before = _everything(w)
    pre_call = v.calls[-1]
    pre = flows.ok(pre_call)
    assert flows.parse(pre_call).get("warn_msg") in (None, "")
    info = pre["setlinfo"]
    assert info["psn_no"] == w.psn_no and info["certno"] == w.certno
    assert info["psn_name"] == "广水参保人" and info["gend"] == "1" and "setl_id" not in info
    # the local pre-settlement's shape: the same fields in the same order
    local = flows.lookup(c, w.local_certno)
    local_pre = flows.ok(flows.outpatient(c, local, rng, settle=False).calls[-1])
    assert list(info) == list(local_pre["setlinfo"])
    assert [list(d) for d in pre["setldetail"][:1]] == [
        list(d) for d in local_pre["setldetail"][:1]
    ]
    before = _everything(w)
    same = {**pre, "setlinfo": {k: v for k, v in info.items() if k != "medins_setl_id"}}
    assert _again(c, pre_call) == same  # safe to repeat: same answer, still nothing written
    assert _everything(w) == before
    assert _hubei_counters(w) == {}

    # --- 2207: the settlement's amounts are the pre-settlement's, to the fen
    base = pre_call.request["input"]["data"]
    totals = {k: base[k] for k in ("medfee_sumamt",)}
    r = _call(c, "2207", {**base, **totals, "fulamt_ownpay_amt": info["fulamt_ownpay_amt"],
                          "overlmt_selfpay": info["overlmt_selfpay"],
                          "preselfpay_amt": info["preselfpay_amt"],
                          "inscp_scp_amt": info["inscp_scp_amt"], "invono": "FP0001"})  # fmt: skip
    settled = flows.ok(r)
    assert _amounts(settled["setlinfo"]) == _amounts(info)
    assert settled["setldetail"] == pre["setldetail"]
    assert settled["setlinfo"]["relay_id"] == r.msgid
    assert _hifp(_hubei_counters(w)) == Decimal(str(info["hifp_pay"])) * 100

    # --- 2101 at a Guangzhou pharmacy: a dry run as well (then 2102 equals it)
    ph = make(w.gd_url, PHARMACY)
    before = _everything(w)
    sale = flows.pharmacy(ph, p, rng)
    pre101 = flows.ok(sale.calls[0])["setlinfo"]
    assert _amounts(pre101) == _amounts(sale.setlinfo)
    after_sale = _everything(w)
    assert before != after_sale  # 2102 did write
    assert _again(ph, sale.calls[0])["setlinfo"]["psn_no"] == w.psn_no  # 2101 once more …
    assert _everything(w) == after_sale  # … writes nothing
    ph.close()

    # --- 中途结算: admitted, fees of day 1, 2303/2304 with mid_setl_flag=1 (the stay goes on)
    r = c.call("2401", flows.plain({"mdtrtinfo": {
        "psn_no": p.psn_no, "insutype": "390", "begntime": flows.now_text(),
        "mdtrt_cert_type": "02", "mdtrt_cert_no": w.certno, "med_type": "21", "ipt_no": "ZY0001",
        "dscg_maindiag_code": "J18.900", "dscg_maindiag_name": "肺炎"}, "diseinfo": []}),
        insuplc_admdvs=GS)  # fmt: skip
    mdtrt_id = flows.ok(r)["result"]["mdtrt_id"]
    day1 = _fees(c, p, mdtrt_id, rng, 1)
    data = _inpatient_data(p, mdtrt_id, day1, "1")
    before = _everything(w)
    mid_pre = flows.ok(_call(c, "2303", data))
    assert _everything(w) == before
    assert Decimal(str(mid_pre["setlinfo"]["hifp_pay"])) > 0, mid_pre  # by Hubei's policy
    assert mid_pre["setldetail"] and mid_pre["setlinfo"]["certno"] == w.certno
    r = _call(c, "2304", {**data, "invono": "ZY-MID-1"})
    mid1 = flows.ok(r)["setlinfo"]
    assert _amounts(mid1) == _amounts(mid_pre["setlinfo"])
    assert mid1["medfee_sumamt"] == day1["medfee_sumamt"]
    (hb_mid,) = _settlements(w.hb, msgid=r.msgid)
    assert hb_mid.kind == "settle"
    with w.gd.connect() as conn:
        flag, state = conn.execute(sa.text(
            "SELECT s.mid_setl_flag, e.state FROM encounter_settlement s "
            "JOIN encounter e USING (mdtrt_id) WHERE s.setl_id = :s"), {"s": mid1["setl_id"]}
        ).one()  # fmt: skip
    assert flag is True and state == "admitted"
    with w.hb.connect() as conn:
        assert conn.execute(
            sa.text("SELECT mid_setl_flag FROM encounter_settlement WHERE msgid = :m"),
            {"m": r.msgid},
        ).scalar_one()

    # 2305 of the mid settlement: reversed in Hubei through the hub, then here; fees unsettled
    flows.ok(_call(c, "2305", {"mdtrt_id": mdtrt_id, "psn_no": p.psn_no,
                               "setl_id": mid1["setl_id"]}))  # fmt: skip
    assert sorted(x.kind for x in _settlements(w.hb, psn_no=w.psn_no)) == [
        "cancel",
        "settle",
        "settle",
        "settle",
    ]
    with w.hub.connect() as conn:
        assert (
            conn.execute(
                sa.select(hub_store.relay.c.status).where(hub_store.relay.c.relay_id == r.msgid)
            ).scalar_one()
            == "reversed"
        )
    # mid settlement again (the day-1 fees are unsettled again), then day 2, discharge, final
    mid2 = flows.ok(_call(c, "2304", {**data, "invono": "ZY-MID-2"}))["setlinfo"]
    assert _amounts(mid2) == _amounts(mid1)
    day2 = _fees(c, p, mdtrt_id, rng, 2)
    flows.ok(c.call("2402", flows.plain({"dscginfo": {
        "mdtrt_id": mdtrt_id, "psn_no": p.psn_no, "insutype": "390", "endtime": flows.now_text(),
        "dise_codg": "J18.900", "dise_name": "肺炎", "dscg_dept_codg": "A02", "dscg_way": "1"},
        "diseinfo": []}), insuplc_admdvs=GS))  # fmt: skip
    final_data = _inpatient_data(p, mdtrt_id, day2, "0")
    final_pre = flows.ok(_call(c, "2303", final_data))["setlinfo"]
    final = flows.ok(_call(c, "2304", {**final_data, "invono": "ZY-END"}))["setlinfo"]
    assert _amounts(final) == _amounts(final_pre)
    assert final["medfee_sumamt"] == day2["medfee_sumamt"]  # only the fees after the mid one
    # both sides hold the same settlements; Hubei's accumulators hold the active ones
    gd_rows, hb_rows = _settlements(w.gd, psn_no=w.psn_no), _settlements(w.hb, psn_no=w.psn_no)
    assert sorted(x.kind for x in gd_rows) == sorted(x.kind for x in hb_rows)
    assert sum(x.fund_pay_sumamt for x in gd_rows) == sum(x.fund_pay_sumamt for x in hb_rows)
    hifp = sum(
        Decimal(str(s["hifp_pay"])) for s in (settled["setlinfo"], sale.setlinfo, mid2, final)
    )
    assert _hifp(_hubei_counters(w)) == hifp * 100

    # --- the month's report to the hub and the hub's statement, over the clearing admin API
    period = f"{datetime.now(UTC):%Y-%m}"
    for db_url, prefix in ((w.gd_db_url, "gd"), (w.hb_db_url, "hb")):
        create_staff(db_url, f"{prefix}_prov", Role.PROVINCE_ADMIN)
    create_staff(w.gd_db_url, "gz_city", Role.CITY_ADMIN, admdvs=GZ)
    gd_prov, hb_prov = login(w.gd_url, "gd_prov"), login(w.hb_url, "hb_prov")
    gz_city = login(w.gd_url, "gz_city")
    assert gz_city.post("/api/clearing/admin/hub/report", json={"month": period}).status_code == 403
    assert (
        gz_city.get("/api/clearing/admin/hub/statement", params={"month": period}).status_code
        == 403
    )
    bad = gd_prov.post("/api/clearing/admin/hub/report", json={"month": "2026-13"})
    assert bad.status_code == 422 and "YYYY-MM" in bad.json()["message"]
    reports = []
    for prov in (gd_prov, hb_prov):  # each province builds its statements, then reports
        assert prov.post("/api/clearing/admin/runs", json={"month": period}).status_code == 200
        r2 = prov.post("/api/clearing/admin/hub/report", json={"month": period})
        assert r2.status_code == 200, r2.text
        reports.append(r2.json()["data"])
    assert all(rep["agree"] for rep in reports), reports
    stmt = gd_prov.get("/api/clearing/admin/hub/statement", params={"month": period})
    assert stmt.status_code == 200, stmt.text
    data_ = stmt.json()["data"]
    by = {d["direction"]: d for d in data_["directions"]}
    assert data_["agree"] is True and all(d["agree"] for d in by.values()), data_
    assert by.get("44->42", {"hub": {"clearing_amt": 0}})["hub"]["clearing_amt"] == 0
    direction = by["42->44"]
    assert set(direction["reports"]) == {"42", "44"}
    (pair,) = data_["pairs"]
    net = sum(x.fund_pay_sumamt for x in hb_rows)  # Hubei repays what Guangdong advanced
    assert pair == {"pair": ["44", "42"], "payer": "42", "payee": "44", "net_amount": net}
    assert direction["hub"]["clearing_amt"] == net
    for client in (gd_prov, hb_prov, gz_city):
        client.close()
    c.close()


def test_e_voucher_code_of_a_hubei_person_at_a_guangzhou_hospital(world: World) -> None:
    w = world
    rng = random.Random(7)
    secret = VoucherService(w.hb).register_channel("wechat", "微信", "wechat")
    app = Channel(w.hb_url, "wechat", secret)  # the person's channel app, served by Hubei
    r = app.post("/api/voucher/channel/activate", {
        "chnlUserId": "openid-gs-1", "userName": "广水参保人", "idType": "01",
        "idNo": w.certno, "faceEvidence": demo_evidence(w.certno)})  # fmt: skip
    assert r.status_code == 200, r.text

    def code() -> str:
        got = app.post("/api/voucher/channel/code", {"chnlUserId": "openid-gs-1"})
        assert got.status_code == 200, got.text
        assert got.json()["data"]["insuOrg"] == GS
        return str(got.json()["data"]["code"])

    def scan(qr: str, org: str = HOSPITAL, signer: str = HOSPITAL, biz: str = "HOSP-1") -> Any:
        query = {
            "transType": "ec.query",
            "orgId": org,
            "data": {
                "qrCode": qr,
                "orgId": org,
                "businessType": "01101",
                "operatorId": "op01",
                "operatorName": "收费员",
                "officeId": "mz",
                "officeName": "门诊",
                "outBizNo": biz,
            },
        }
        return ec_post(w.gd_url, "/api/voucher/ec/query", query, signer)  # fmt: skip

    # the Guangzhou counter scans it at Guangdong's e-voucher service; Hubei verifies it
    qr = code()
    got = scan(qr)
    assert got.status_code == 200, got.text
    ident = got.json()["data"]
    assert ident["idNo"] == w.certno and ident["insuOrg"] == GS and ident["psnNo"] == w.psn_no
    token = ident["ecToken"]
    assert token.startswith(GS + "ec")
    assert scan(qr).json()["data"]["ecToken"] == token  # the same outBizNo: the same answer
    replay = scan(qr, biz="HOSP-2")
    assert replay.status_code == 409 and replay.json()["error"] == "EC_CODE_USED"
    assert "参保地 421381" in replay.json()["message"]

    # the e-voucher identity call (ec/identity) with that token: resolved by Hubei for this org
    idt = ec_post(w.gd_url, "/api/voucher/ec/identity", {"ecToken": token, "orgId": HOSPITAL},
                  HOSPITAL)  # fmt: skip
    assert idt.status_code == 200 and idt.json()["data"]["baseinfo"]["psn_no"] == w.psn_no
    idt = ec_post(w.gd_url, "/api/voucher/ec/identity", {"ecToken": token, "orgId": PHARMACY},
                  PHARMACY)  # fmt: skip
    assert idt.status_code == 403 and idt.json()["error"] == "EC_TOKEN_WRONG_ORG"
    assert "参保地 421381" in idt.json()["message"]

    # 1101 with the ecToken alone (no certno: Hubei knows the person), then a visit settled
    c = make(w.gd_url, HOSPITAL)
    out = flows.ok(c.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token,
                                            "card_sn": "", "begntime": ""}},
                          insuplc_admdvs=GS))  # fmt: skip
    assert out["baseinfo"]["psn_no"] == w.psn_no and out["baseinfo"]["certno"] == w.certno
    p = _patient(w, cert_type="01", cert_no=token)
    v = flows.outpatient(c, p, rng)
    assert v.setlinfo["relay_id"] == v.settle_msgid and v.setlinfo["mdtrt_cert_type"] == "01"
    (hb_row,) = _settlements(w.hb, msgid=v.settle_msgid)
    assert Decimal(str(v.setlinfo["fund_pay_sumamt"])) * 100 == hb_row.fund_pay_sumamt
    with w.gd.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT info->'relay_person'->>'certno' FROM encounter WHERE mdtrt_id = :m"),
            {"m": v.mdtrt_id},
        ).scalar_one()
    assert kept == w.certno

    # a tampered code (one character of the signature changed): refused by Hubei, nothing used
    head, payload, sig = code().split(".")
    forged = f"{head}.{payload}.{sig[:5]}{'A' if sig[5] != 'A' else 'B'}{sig[6:]}"
    bad = scan(forged, biz="HOSP-3")
    assert bad.status_code == 400 and bad.json()["error"] == "EC_CODE_TAMPERED"
    assert "篡改" in bad.json()["message"] and "参保地 421381" in bad.json()["message"]

    # a code scanned by a pharmacy naming the hospital: refused here, the code is not consumed
    qr2 = code()
    wrong = scan(qr2, org=HOSPITAL, signer=PHARMACY, biz="PH-1")
    assert wrong.status_code == 403 and wrong.json()["error"] == "EC_ORG_MISMATCH"
    # the hospital's ecToken at the pharmacy (another institution): refused by Hubei
    ph = make(w.gd_url, PHARMACY)
    with pytest.raises(NhsaError, match="ecToken不属于本机构"):
        flows.pharmacy(ph, p, rng)
    with pytest.raises(NhsaError, match="ecToken无效"):
        flows.outpatient(c, _patient(w, cert_type="01", cert_no=GS + "ec" + "0" * 32), rng)
    # the pharmacy scans the fresh code itself: its own token works there
    own = scan(qr2, org=PHARMACY, signer=PHARMACY, biz="PH-2")
    assert own.status_code == 200, own.text
    sale = flows.pharmacy(
        ph, _patient(w, cert_type="01", cert_no=own.json()["data"]["ecToken"]), rng
    )
    assert len(_settlements(w.hb, msgid=sale.settle_msgid)) == 1
    ph.close()
    c.close()

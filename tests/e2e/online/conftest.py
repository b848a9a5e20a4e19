"""Fixtures for the online centres' e2e tests: a seeded province, a live server whose sweeper
runs often, demo institutions' online keys, patients with an activated e-voucher."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.e2e.conftest import ServerProcess
from yibao.catalog import service as catalog
from yibao.checkout import demo as persons
from yibao.hissim import flows
from yibao.institutions import demo as institutions
from yibao.online import apps
from yibao.online.client import OnlineClient
from yibao.voucher import demo as voucher_demo
from yibao.voucher.verifier import demo_evidence
from yibao.web import sim

HOSPITAL = "H44030000001"  # 深圳市人民医院 (440300)
PHARMACY = "P44030000001"  # 深圳市福田区康民药房 (440300)
PERSONS = 120
ENV = {
    "YIBAO_ONLINE_SETTLE_TIMEOUT": "2",
    "YIBAO_ONLINE_REVERSAL_AFTER": "1",
    "YIBAO_ONLINE_SWEEP_SECONDS": "0.5",
}


def seed_world(engine: Engine) -> None:
    institutions.seed(engine)
    catalog.seed_demo(engine)
    persons.seed(engine, PERSONS)
    voucher_demo.seed(engine)
    apps.seed_demo(engine)


@pytest.fixture
def world(engine: Engine) -> Engine:
    seed_world(engine)
    return engine


@pytest.fixture
def online_server(world: Engine, db_url: str, server_factory: type[ServerProcess]) -> str:
    server = server_factory(db_url, ENV)
    server.start()
    return server.url


@pytest.fixture
def clients(online_server: str) -> Iterator[dict[str, OnlineClient]]:
    made = {
        code: OnlineClient(online_server, apps.demo_client_keys(code))
        for code in (HOSPITAL, PHARMACY)
    }
    yield made
    for c in made.values():
        c.close()


@dataclass
class Patient:
    chnl: str
    user: str
    row: dict[str, str]
    ident: dict[str, Any]  # the exchange's answer: userName, idNo, idType, ecToken, psnNo …


def patient(base: str, index: int, org: str, business_type: str = "03132") -> Patient:
    """Demo person ``index`` (insured in 440300): e-voucher activated in WeChat, a dynamic code
    shown in the app and exchanged by ``org`` for an ecToken (线上: 医疗类APP线上结算)."""
    rows = [r for r in persons.demo_rows(PERSONS) if r["insuplc_admdvs"] == "440300"]
    row = rows[index]
    user = f"e2e-{row['certno'][-6:]}-{secrets.token_hex(3)}"
    sim.activate(base, "wechat", user, row["psn_name"], row["certno"], demo_evidence(row["certno"]))
    return Patient("wechat", user, row, token_for(base, "wechat", user, org, business_type))


def token_for(
    base: str, chnl: str, user: str, org: str, business_type: str = "03132"
) -> dict[str, Any]:
    code = sim.dynamic_code(base, chnl, user)["code"]
    return sim.ec_query(base, org, str(code), business_type, "线上服务")


def fee_lines(
    admdvs: str, seed: int, n: int = 3, chrg_bchno: str = "B0001"
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for ln in flows.pick_lines(rng, admdvs, n, list_types=("101", "201")):
        out.append({
            "feedetlSn": ln["feedetl_sn"], "medListCodg": ln["med_list_codg"],
            "medinsListCodg": ln["medins_list_codg"], "detItemFeeSumamt": ln["det_item_fee_sumamt"],
            "cnt": ln["cnt"], "pric": ln["pric"], "chrgBchno": chrg_bchno,
            "feeOcurTime": flows.now_text(), "hospApprFlag": "1", "rxCircFlag": "0",
        })  # fmt: skip
    return out


def upload_6201(
    c: OnlineClient, p: Patient, lines: list[dict[str, Any]], med_org_ord: str = ""
) -> dict[str, Any]:
    total = sum((Decimal(str(x["detItemFeeSumamt"])) for x in lines), Decimal("0.00"))
    data = {
        "orgCodg": HOSPITAL, "orgId": HOSPITAL, "psnNo": p.ident["psnNo"], "insutype": p.row["insutype"],
        "medOrgOrd": med_org_ord or f"ORD{secrets.token_hex(6)}", "begntime": flows.now_text(),
        "idNo": p.ident["idNo"], "userName": p.ident["userName"], "idType": p.ident["idType"],
        "ecToken": p.ident["ecToken"], "insuCode": p.row["insuplc_admdvs"],
        "iptOtpNo": f"MZ{secrets.randbelow(10**8):08d}", "deptName": "内科", "caty": "A03",
        "mdtrtId": "", "medType": "11", "feeType": "01", "medfeeSumamt": total,
        "acctUsedFlag": "1" if p.row["insutype"] == "310" else "0", "diseCodg": "J06.900",
        "diseName": "急性上呼吸道感染", "psnSetlway": "01", "chrgBchno": "B0001",
        "diseinfoList": [{"diagType": "1", "diagSrtNo": "1", "diagCode": "J06.900",
                          "diagName": "急性上呼吸道感染", "diagDept": "内科", "diseDorNo": "D001",
                          "diseDorName": "王医生", "diagTime": flows.now_text(), "valiFlag": "1"}],
        "feedetailList": lines,
    }  # fmt: skip
    return c.call("mpc", "6201", data)

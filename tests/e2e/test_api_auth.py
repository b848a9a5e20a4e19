"""E2E over HTTP: who may call the registry and e-voucher APIs (接口鉴权).

Staff APIs take a console session (401 without, 403 for the wrong role or region or a missing
CSRF header) and audit under the signed-in user; the institution API takes the gateway signature
of a designated institution whose code must be the ``orgId``.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import new_database
from tests.e2e.conftest import ServerProcess
from tests.e2e.staff_login import (
    create_staff,
    ec_post,
    institution_headers,
    login,
    seed_institutions,
)
from yibao.console.model import Role
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.db.tables import audit_log
from yibao.institutions import store as institution_store
from yibao.registry import rows, synth
from yibao.voucher.model import channel_signature
from yibao.voucher.verifier import demo_evidence

GZ, SZ = "440100", "440300"


@dataclass
class World:
    base: str
    db_url: str
    province: httpx.Client
    gz_person: dict[str, str]
    sz_person: dict[str, str]
    gz_psn_no: str
    sz_psn_no: str


def _csv(data: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[c for c in rows.COLUMNS if c != "psn_no"])
    w.writeheader()
    w.writerows(data)
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def world(pg: EmbeddedPostgres, template_url: str) -> Iterator[World]:
    db_url = new_database(pg, template_url)
    seed_institutions(db_url)
    create_staff(db_url, "prov_admin", Role.PROVINCE_ADMIN)
    create_staff(db_url, "sz_admin", Role.CITY_ADMIN, admdvs=SZ)
    create_staff(db_url, "analyst1", Role.ANALYST)
    create_staff(
        db_url, "sz_counter", Role.INSTITUTION_OPERATOR, admdvs=SZ, fixmedins_code="H44030000001"
    )
    server = ServerProcess(db_url)
    server.start()
    people = list(synth.person_rows(2, seed=4242))
    people[0]["insuplc_admdvs"], people[1]["insuplc_admdvs"] = GZ, SZ
    province = login(server.url, "prov_admin")
    r = province.post("/api/registry/import", files={"file": ("p.csv", _csv(people))})
    assert r.status_code == 200, r.text
    ids = [
        province.post("/api/registry/persons/search", json={"certno": p["certno"]}).json()["psn_no"]
        for p in people
    ]
    yield World(server.url, db_url, province, people[0], people[1], ids[0], ids[1])
    province.close()
    server.stop()


def _audit(db_url: str, action: str, subject: str) -> list[tuple[str, dict[str, object]]]:
    engine = make_engine(db_url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows_ = conn.execute(
                sa.select(audit_log.c.actor, audit_log.c.detail)
                .where(audit_log.c.action == action, audit_log.c.subject == subject)
                .order_by(audit_log.c.id)
            ).all()
    finally:
        engine.dispose()
    return [(r.actor, r.detail) for r in rows_]


def test_no_session_is_401_and_the_operator_header_is_not_trusted(world: World) -> None:
    calls = [
        ("GET", f"/api/registry/persons/{world.gz_psn_no}", None),
        ("GET", f"/api/registry/persons/{world.gz_psn_no}/certno?reason=核对", None),
        ("POST", "/api/registry/persons/search", {"certno": world.gz_person["certno"]}),
        ("GET", "/api/registry/export", None),
        ("POST", f"/api/registry/persons/{world.gz_psn_no}/account/postings",
         {"amount_fen": 100, "ref": "x-1"}),
        ("GET", "/api/voucher/admin/channels", None),
        ("POST", "/api/voucher/admin/channels", {"chnl_id": "evil", "name": "x", "kind": "bank"}),
        ("GET", "/api/voucher/admin/activation-rates", None),
        ("GET", "/api/staff/session", None),
    ]  # fmt: skip
    for method, path, body in calls:
        r = httpx.request(
            method,
            world.base + path,
            json=body,
            headers={"X-Yibao-Operator": "prov_admin"},
            cookies={"yibao_console": "forged-session-token"},
            timeout=10,
        )
        assert r.status_code == 401, (path, r.text)
        assert r.json()["error"] == "AUTH_REQUIRED" and "未登录" in r.json()["message"]
        assert world.gz_person["certno"] not in r.text


def test_writes_without_the_csrf_header_are_refused_and_change_nothing(world: World) -> None:
    path = f"/api/registry/persons/{world.gz_psn_no}/account/postings"
    no_csrf = httpx.Client(base_url=world.base, cookies=world.province.cookies, timeout=10)
    r = no_csrf.post(path, json={"amount_fen": 10_000, "ref": "csrf-1"})
    assert (r.status_code, r.json()["error"]) == (403, "CSRF_FAILED")
    assert "X-CSRF-Token" in r.json()["message"]
    r = no_csrf.post(
        path, json={"amount_fen": 10_000, "ref": "csrf-1"}, headers={"X-CSRF-Token": "x"}
    )
    assert r.status_code == 403
    assert no_csrf.get(f"/api/registry/persons/{world.gz_psn_no}/account").json()["balc"] == 0
    r = world.province.post(path, json={"amount_fen": 10_000, "ref": "csrf-1"})
    assert r.status_code == 200 and r.json()["balc"] == 10_000
    no_csrf.close()


def test_city_admin_reaches_only_its_region(world: World) -> None:
    sz = login(world.base, "sz_admin")
    assert sz.get(f"/api/registry/persons/{world.sz_psn_no}").status_code == 200
    for path in (
        f"/api/registry/persons/{world.gz_psn_no}",
        f"/api/registry/persons/{world.gz_psn_no}/account",
        f"/api/registry/persons/{world.gz_psn_no}/certno?reason=核对",
        f"/api/registry/persons/{world.gz_psn_no}/1101",
        f"/api/voucher/admin/activation-rates?admdvs={GZ}",
        f"/api/registry/export?admdvs={GZ}",
    ):
        r = sz.get(path)
        assert (r.status_code, r.json()["error"]) == (403, "OUT_OF_SCOPE"), path
        assert "管辖区域" in r.json()["message"] and world.gz_person["certno"] not in r.text
    r = sz.post("/api/registry/persons/search", json={"certno": world.gz_person["certno"]})
    assert r.status_code == 403
    r = sz.post(
        f"/api/registry/persons/{world.gz_psn_no}/account/postings",
        json={"amount_fen": 100, "ref": "sz-1"},
    )
    assert r.status_code == 403
    r = sz.post(f"/api/voucher/admin/passwords/{world.gz_psn_no}/unlock")
    assert r.status_code == 403
    # its own export holds only its region; importing another region's rows is refused
    export = sz.get("/api/registry/export", params={"purpose": "核对本市参保"}).text
    assert world.sz_psn_no in export and world.gz_psn_no not in export
    other = dict(
        world.gz_person,
        certno=synth_certno(world.gz_person["certno"]),
        brdy="1990-01-02",
        gend="1",
    )
    r = sz.post("/api/registry/import", files={"file": ("gz.csv", _csv([other]))})
    assert r.status_code == 403 and "第2行" in r.json()["message"]
    # channels are registered by the province
    r = sz.post(
        "/api/voucher/admin/channels", json={"chnl_id": "szbank", "name": "x", "kind": "bank"}
    )
    assert (r.status_code, r.json()["error"]) == (403, "FORBIDDEN")
    rates = sz.get("/api/voucher/admin/activation-rates").json()["data"]
    assert {row["key"] for row in rates} <= {SZ}
    sz.close()


def synth_certno(certno: str) -> str:
    """Another valid 18-digit number (a new person) near ``certno``."""
    from datetime import date

    from yibao.registry.certs import compose_id18

    return compose_id18(certno[:6], date(1990, 1, 2), 77)


def test_analyst_never_sees_a_person(world: World) -> None:
    """Issue 10, finding 3: the analyst sees aggregates only — no person, no export."""
    an = login(world.base, "analyst1")
    for path in (
        f"/api/registry/persons/{world.gz_psn_no}",
        f"/api/registry/persons/{world.gz_psn_no}/account",
        f"/api/registry/persons/{world.gz_psn_no}/certno?reason=测算",
        f"/api/registry/persons/{world.gz_psn_no}/1101",
        f"/api/registry/persons?certno={world.gz_person['certno']}",
        "/api/registry/export?purpose=测算",
    ):
        r = an.get(path)
        assert (r.status_code, r.json()["error"]) == (403, "FORBIDDEN"), path
        assert "政策分析员" in r.json()["message"] and world.gz_person["psn_name"] not in r.text
    r = an.post("/api/registry/persons/search", json={"certno": world.gz_person["certno"]})
    assert r.status_code == 403 and world.gz_person["psn_name"] not in r.text
    r = an.post("/api/registry/import", files={"file": ("p.csv", _csv([world.gz_person]))})
    assert r.status_code == 403
    r = an.post(f"/api/voucher/admin/vouchers/{world.gz_psn_no}/revoke", json={"reason": "x"})
    assert r.status_code == 403
    assert an.get("/api/voucher/admin/activation-rates").status_code == 200
    an.close()


def test_export_is_scoped_audited_with_a_purpose_and_masked_unless_disclosed(
    world: World,
) -> None:
    """Issue 10, finding 3: an administrator's export names its purpose (audited with the rows
    it wrote), masks ID numbers, names and phones; unmasked only with the disclose permission."""
    sz = login(world.base, "sz_admin")
    r = sz.get("/api/registry/export")
    assert (r.status_code, r.json()["field"]) == (400, "purpose")
    r = sz.get("/api/registry/export", params={"purpose": "核对", "disclose": "true"})
    assert (r.status_code, r.json()["error"]) == (403, "FORBIDDEN")
    r = sz.get("/api/registry/export", params={"purpose": "单位参保核对"})
    assert r.status_code == 200 and world.sz_psn_no in r.text
    person = world.sz_person
    for value in (person["certno"], person["psn_name"], person["tel"]):
        assert value and value not in r.text
    assert person["tel"][:3] + "****" + person["tel"][-4:] in r.text
    (actor, detail), *_ = _audit(world.db_url, "registry.export", SZ)[-1:]
    assert actor == "sz_admin" and detail["purpose"] == "单位参保核对"
    assert detail["rows"] == 1 and detail["disclosed"] is False
    full = world.province.get(
        "/api/registry/export", params={"purpose": "数据迁移", "disclose": "true", "admdvs": SZ}
    )
    assert full.status_code == 200 and person["certno"] in full.text and person["tel"] in full.text
    assert _audit(world.db_url, "registry.export", SZ)[-1][1]["disclosed"] is True
    sz.close()


def test_institution_operator_gets_the_counter_view_only(world: World) -> None:
    op = login(world.base, "sz_counter")
    r = op.post("/api/registry/persons/search", json={"certno": world.gz_person["certno"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["psn_no"] == world.gz_psn_no and world.gz_person["certno"] not in r.text
    assert "tel" not in body and "acct_balc" not in body and body["insuinfo"][0]["insutype"]
    assert _audit(world.db_url, "registry.person.lookup", world.gz_psn_no)[-1][0] == "sz_counter"
    for path in (
        f"/api/registry/persons/{world.gz_psn_no}",
        f"/api/registry/persons/{world.sz_psn_no}/certno?reason=核对",
        "/api/registry/export",
        "/api/voucher/admin/channels",
    ):
        assert op.get(path).status_code == 403, path
    op.close()


def test_reveal_needs_a_reason_and_is_audited_with_the_real_user(world: World) -> None:
    path = f"/api/registry/persons/{world.sz_psn_no}/certno"
    r = world.province.get(path, params={"reason": " "})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = world.province.get(
        path, params={"reason": "参保人来电核对"}, headers={"X-Yibao-Operator": "someone"}
    )
    assert r.json()["certno"] == world.sz_person["certno"]
    actor, detail = _audit(world.db_url, "registry.certno.reveal", world.sz_psn_no)[-1]
    assert actor == "prov_admin" and detail["reason"] == "参保人来电核对"
    sz = login(world.base, "sz_admin")
    assert sz.get(path, params={"reason": "窗口核验"}).status_code == 200
    assert _audit(world.db_url, "registry.certno.reveal", world.sz_psn_no)[-1][0] == "sz_admin"
    sz.close()


def _code(world: World) -> str:
    """Activate the Guangzhou person on a fresh channel and show a code."""
    chnl = "bank" + secrets.token_hex(3)
    r = world.province.post(
        "/api/voucher/admin/channels", json={"chnl_id": chnl, "name": "测试银行", "kind": "bank"}
    )
    secret = r.json()["data"]["secret"]

    def post(path: str, payload: dict[str, object]) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "Content-Type": "application/json",
            "X-Yibao-Channel": chnl,
            "X-Yibao-Timestamp": ts,
            "X-Yibao-Nonce": nonce,
            "X-Yibao-Signature": channel_signature(secret, "POST", path, ts, nonce, body),
        }
        return httpx.post(world.base + path, content=body, headers=headers, timeout=10)

    p = world.gz_person
    r = post(
        "/api/voucher/channel/activate",
        {"chnlUserId": "u1", "userName": p["psn_name"], "idNo": p["certno"],
         "faceEvidence": demo_evidence(p["certno"])},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return str(post("/api/voucher/channel/code", {"chnlUserId": "u1"}).json()["data"]["code"])


def _query(code: str, org: str) -> dict[str, object]:
    return {"transType": "ec.query", "orgId": org,
            "data": {"qrCode": code, "orgId": org, "businessType": "01101"}}  # fmt: skip


def test_institution_exchange_is_authenticated_and_bound_to_org_id(world: World) -> None:
    code = _code(world)
    gz, sz = "H44010000001", "H44030000001"
    path = "/api/voucher/ec/query"
    # no signature
    r = httpx.post(world.base + path, json=_query(code, gz), timeout=10)
    assert (r.status_code, r.json()["error"]) == (401, "EC_AUTH_INSTITUTION")
    assert "缺少服务网关的请求头" in r.json()["message"]
    # a wrong secret (TIF) and a wrong secret (CSB)
    for transport in ("tif", "csb"):
        r = ec_post(world.base, path, _query(code, gz), gz, transport=transport, secret="wrong")
        assert (r.status_code, r.json()["error"]) == (401, "EC_AUTH_INSTITUTION")
        assert "签名不一致" in r.json()["message"]
    # signed by Shenzhen, claiming to be Guangzhou: refused, and the code is not consumed
    r = ec_post(world.base, path, _query(code, gz), sz)
    assert (r.status_code, r.json()["error"]) == (403, "EC_ORG_MISMATCH")
    assert gz in r.json()["message"] and sz in r.json()["message"]
    q = _query(code, gz)
    q["data"] = {**q["data"], "orgId": sz}  # type: ignore[dict-item]
    assert ec_post(world.base, path, q, gz).json()["error"] == "EC_ORG_MISMATCH"
    # the real Guangzhou institution (CSB transport) exchanges it
    r = ec_post(world.base, path, _query(code, gz), gz, transport="csb")
    assert r.status_code == 200, r.text
    token = r.json()["data"]["ecToken"]
    # replaying the exact signed request is refused by the nonce store
    headers = {"Content-Type": "application/json", **institution_headers(gz)}
    body = json.dumps({"ecToken": token, "orgId": gz}).encode()
    first = httpx.post(world.base + "/api/voucher/ec/token-check", content=body, headers=headers)
    assert first.json()["data"]["flag"] == "1"
    again = httpx.post(world.base + "/api/voucher/ec/token-check", content=body, headers=headers)
    assert again.status_code == 401 and "重复的请求" in again.json()["message"]
    # identity by ecToken: only for the signer's own orgId
    r = ec_post(world.base, "/api/voucher/ec/identity", {"ecToken": token, "orgId": gz}, sz)
    assert r.json()["error"] == "EC_ORG_MISMATCH"
    r = ec_post(world.base, "/api/voucher/ec/identity", {"ecToken": token, "orgId": gz}, gz)
    assert r.json()["data"]["baseinfo"]["psn_no"] == world.gz_psn_no


def test_a_suspended_institution_is_refused(world: World) -> None:
    paused = "H44030000003"
    engine = make_engine(world.db_url, pool_size=1)
    try:
        with engine.begin() as conn:
            assert institution_store.set_online_flag(conn, paused, "0")  # 暂停联网
    finally:
        engine.dispose()
    r = ec_post(
        world.base, "/api/voucher/ec/token-check", {"ecToken": "x", "orgId": paused}, paused
    )
    assert (r.status_code, r.json()["error"]) == (403, "EC_ORG_SUSPENDED")
    assert "暂停联网" in r.json()["message"]


def test_the_province_admin_reaches_only_the_deployment_province(world: World) -> None:
    """One province per deployment (YIBAO_PROVINCE, 44 by default): the staff JSON APIs scope a
    province-wide user to it as the console does — another province's region is out of scope."""
    hubei = "420100"
    for path in (
        f"/api/voucher/admin/activation-rates?admdvs={hubei}",
        f"/api/registry/export?admdvs={hubei}&purpose=核对",
    ):
        r = world.province.get(path)
        assert (r.status_code, r.json()["error"]) == (403, "OUT_OF_SCOPE"), path
    other = dict(
        world.gz_person,
        certno=synth_certno(world.gz_person["certno"]),
        insuplc_admdvs=hubei,
        brdy="1990-01-02",
        gend="1",
    )
    r = world.province.post("/api/registry/import", files={"file": ("hb.csv", _csv([other]))})
    assert r.status_code == 403 and "第2行" in r.json()["message"]
    own = world.province.get(f"/api/voucher/admin/activation-rates?admdvs={GZ}")
    assert own.status_code == 200

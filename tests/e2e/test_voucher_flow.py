"""E2E over HTTP: import the registry, activate on a channel, show a code, the institution
exchanges it for identity + ecToken, 1101-equivalent identity with insuinfo rows; replay, expiry,
tamper and wrong institution refused; payment-password lockout and timed unlock."""

from __future__ import annotations

import csv
import io
import json
import secrets
import time

import httpx

from tests.e2e.staff_login import ec_post, seed_institutions, staff_client
from yibao.registry import rows, synth
from yibao.voucher.model import channel_signature
from yibao.voucher.verifier import demo_evidence


class Channel:
    """A channel app calling Yibao with signed requests (as documented in docs/voucher.md)."""

    def __init__(self, base: str, chnl_id: str, secret: str) -> None:
        self.base, self.chnl_id, self.secret = base, chnl_id, secret

    def post(
        self, path: str, payload: dict[str, object], nonce: str | None = None
    ) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        sig = channel_signature(self.secret, "POST", path, ts, nonce, body)
        headers = {
            "Content-Type": "application/json",
            "X-Yibao-Channel": self.chnl_id,
            "X-Yibao-Timestamp": ts,
            "X-Yibao-Nonce": nonce,
            "X-Yibao-Signature": sig,
        }
        return httpx.post(self.base + path, content=body, headers=headers, timeout=30)


def _csv(data: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[c for c in rows.COLUMNS if c != "psn_no"])
    w.writeheader()
    w.writerows(data)
    return buf.getvalue().encode()


def test_activate_code_exchange_identity_and_refusals(db_url: str, server_factory: type) -> None:
    server = server_factory(db_url, {"YIBAO_EC_CODE_TTL": "3", "YIBAO_EC_PWD_LOCK_SECONDS": "3"})
    server.start()
    base = server.url
    seed_institutions(db_url)
    staff = staff_client(base, db_url, "e2e-staff")  # 省级管理员, signed in over HTTP
    # insured in the deployment's province (广东, YIBAO_PROVINCE's default): the province admin
    # imports and sees only its own province's persons
    people = [p for p in synth.person_rows(12, seed=99) if p["insuplc_admdvs"].startswith("44")][:5]
    assert len(people) == 5

    bad = [dict(p) for p in people]
    bad[2]["certno"] = bad[2]["certno"][:17] + ("0" if bad[2]["certno"][17] != "0" else "1")
    r = staff.post("/api/registry/import", files={"file": ("bad.csv", _csv(bad))})
    assert r.status_code == 422
    assert r.json()["errors"][0]["row"] == 4 and r.json()["errors"][0]["field"] == "certno"
    r = staff.post("/api/registry/import", files={"file": ("ok.csv", _csv(people))})
    assert r.status_code == 200 and r.json()["persons_inserted"] == 5

    # bureau views and exports are masked; the full number needs a reason and is audited
    r = staff.get("/api/registry/export", params={"format": "csv", "purpose": "参保核对"})
    assert r.status_code == 200 and people[1]["certno"] not in r.text
    assert people[1]["certno"][:6] + "********" + people[1]["certno"][-4:] in r.text
    view = staff.get("/api/registry/persons", params={"certno": people[1]["certno"]}).json()
    assert (
        view["certno"] != people[1]["certno"]
        and view["insuinfo"][0]["insutype"] == people[1]["insutype"]
    )
    r = staff.get(f"/api/registry/persons/{view['psn_no']}/certno", params={"reason": "核对身份"})
    assert r.json()["certno"] == people[1]["certno"]
    r = httpx.get(
        f"{base}/api/registry/persons/{view['psn_no']}/certno",
        params={"reason": "核对身份"},
        headers={"X-Yibao-Operator": "e2e-staff"},  # a header names nobody: no session, no data
        timeout=10,
    )
    assert r.status_code == 401 and people[1]["certno"] not in r.text

    acct = f"/api/registry/persons/{view['psn_no']}/account/postings"
    r = staff.post(acct, json={"amount_fen": 50_000, "ref": "alloc-2026"})
    assert r.json()["balc"] == 50_000
    r = staff.post(acct, json={"amount_fen": 50_000, "ref": "alloc-2026"})
    assert r.json()["balc"] == 50_000 and r.json()["replayed"] is True
    r = staff.post(acct, json={"amount_fen": -60_000, "ref": "spend-1"})
    assert (r.status_code, r.json()["error"]) == (409, "ACCT_INSUFFICIENT")

    r = staff.post(
        "/api/voucher/admin/channels", json={"chnl_id": "wechat", "name": "微信", "kind": "wechat"}
    )
    wechat = Channel(base, "wechat", r.json()["data"]["secret"])
    p = people[0]
    r = wechat.post(
        "/api/voucher/channel/activate",
        {
            "chnlUserId": "openid-1",
            "userName": p["psn_name"],
            "idType": "01",
            "idNo": p["certno"],
            "faceEvidence": demo_evidence(p["certno"]),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["activated"] is True and p["certno"] not in r.text

    # a tampered channel request and a replayed nonce are refused
    r = httpx.post(
        f"{base}/api/voucher/channel/code",
        json={"chnlUserId": "openid-1"},
        headers={
            "X-Yibao-Channel": "wechat",
            "X-Yibao-Timestamp": str(int(time.time())),
            "X-Yibao-Nonce": "abcdefgh12",
            "X-Yibao-Signature": "00" * 32,
        },
        timeout=10,
    )
    assert r.status_code == 401 and r.json()["error"] == "EC_AUTH_BAD_SIGNATURE"
    assert (
        wechat.post(
            "/api/voucher/channel/family/list", {"chnlUserId": "openid-1"}, nonce="fixed-nonce-1"
        ).status_code
        == 200
    )
    r = wechat.post(
        "/api/voucher/channel/family/list", {"chnlUserId": "openid-1"}, nonce="fixed-nonce-1"
    )
    assert r.status_code == 401 and r.json()["code"] == 1604

    r = wechat.post("/api/voucher/channel/code", {"chnlUserId": "openid-1", "qr": "svg"})
    data = r.json()["data"]
    assert data["qrSvg"].lstrip().startswith("<svg") and data["ttl"] == 3
    code = data["code"]

    query = {
        "transType": "ec.query",
        "orgId": "H44010000001",
        "data": {
            "qrCode": code,
            "orgId": "H44010000001",
            "businessType": "01101",
            "operatorId": "op1",
            "operatorName": "收费员",
            "officeId": "mz",
            "officeName": "门诊",
        },
    }
    r = ec_post(base, "/api/voucher/ec/query", query, "H44010000001")
    assert r.status_code == 200, r.text
    ident = r.json()["data"]
    assert (
        ident["idNo"] == p["certno"]
        and ident["insuOrg"] == p["insuplc_admdvs"]
        and ident["idType"] == "01"
    )
    token = ident["ecToken"]

    r = ec_post(
        base,
        "/api/voucher/ec/identity",
        {"ecToken": token, "orgId": "H44010000001"},
        "H44010000001",
    )
    assert r.status_code == 200
    info = r.json()["data"]
    assert (
        info["baseinfo"]["psn_no"] == ident["psnNo"]
        and info["baseinfo"]["psn_name"] == p["psn_name"]
    )
    assert [
        (row["insutype"], row["insuplc_admdvs"], row["psn_insu_stas"]) for row in info["insuinfo"]
    ] == [(p["insutype"], p["insuplc_admdvs"], "1")]

    # replay of the same code
    r = ec_post(base, "/api/voucher/ec/query", query, "H44010000001")
    assert (r.status_code, r.json()["error"]) == (409, "EC_CODE_USED")
    # wrong institution with the ecToken
    r = ec_post(
        base,
        "/api/voucher/ec/identity",
        {"ecToken": token, "orgId": "H44030000002"},
        "H44030000002",
    )
    assert (r.status_code, r.json()["code"]) == (403, 1103)
    # tampered code
    fresh = wechat.post("/api/voucher/channel/code", {"chnlUserId": "openid-1"}).json()["data"][
        "code"
    ]
    h, payload, sig = fresh.split(".")
    tampered = f"{h}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    r = ec_post(
        base,
        "/api/voucher/ec/query",
        {**query, "data": {**query["data"], "qrCode": tampered}},
        "H44010000001",
    )
    assert (r.status_code, r.json()["error"]) == (400, "EC_CODE_TAMPERED")
    # expired (TTL 3 s on this server)
    time.sleep(3.5)
    r = ec_post(
        base,
        "/api/voucher/ec/query",
        {**query, "data": {**query["data"], "qrCode": fresh}},
        "H44010000001",
    )
    assert (r.status_code, r.json()["error"]) == (410, "EC_CODE_EXPIRED")
    # QR as PNG for the web demo
    r = httpx.get(f"{base}/api/voucher/qr", params={"code": fresh, "format": "png"}, timeout=10)
    assert r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"

    # payment password: lockout after 5 wrong tries, timed unlock (3 s on this server)
    assert (
        wechat.post(
            "/api/voucher/channel/password/set", {"chnlUserId": "openid-1", "password": "274916"}
        ).status_code
        == 200
    )
    statuses = [
        wechat.post(
            "/api/voucher/channel/password/verify", {"chnlUserId": "openid-1", "password": "111112"}
        ).json()["error"]
        for _ in range(5)
    ]
    assert statuses == ["EC_PWD_WRONG"] * 4 + ["EC_PWD_LOCKED"]
    r = wechat.post(
        "/api/voucher/channel/password/verify", {"chnlUserId": "openid-1", "password": "274916"}
    )
    assert (r.status_code, r.json()["error"]) == (423, "EC_PWD_LOCKED")
    time.sleep(3.5)
    r = wechat.post(
        "/api/voucher/channel/password/verify",
        {"chnlUserId": "openid-1", "password": "274916", "ecToken": token},
    )
    assert r.status_code == 200 and r.json()["data"]["verified"] is True

    # 亲情账户: register a child in the holder's household over HTTP, bind with guardian consent,
    # show a code for the child, the institution gets the child's identity
    from datetime import date

    from yibao.registry.certs import compose_id18

    child_id = compose_id18(p["certno"][:6], date(2019, 9, 9), 44)
    child = staff.post(
        "/api/registry/persons",
        json={
            "psn_cert_type": "01",
            "certno": child_id,
            "psn_name": "小宝",
            "gend": "2",
            "brdy": "2019-09-09",
            "admdvs": p["insuplc_admdvs"],
        },
    ).json()["psn_no"]
    r = staff.post(
        f"/api/registry/persons/{child}/enrolments",
        json={
            "insutype": "390",
            "psn_insu_date": "2020-01-01",
            "psn_type": "41",
            "insuplc_admdvs": p["insuplc_admdvs"],
        },
    )
    assert r.status_code == 200, r.text
    holder = ident["psnNo"]
    assert (
        staff.post(
            "/api/registry/households",
            json={"hh_no": "HH-E2E", "admdvs": p["insuplc_admdvs"], "head_psn_no": holder},
        ).status_code
        == 200
    )
    assert (
        staff.post(
            "/api/registry/households/HH-E2E/members", json={"psn_no": child, "relation": "子女"}
        ).status_code
        == 200
    )
    r = wechat.post(
        "/api/voucher/channel/family/bind",
        {
            "chnlUserId": "openid-1",
            "userName": "小宝",
            "idType": "01",
            "idNo": child_id,
            "relation": "子女",
            "consentBy": "guardian",
            "faceEvidence": demo_evidence(p["certno"]),
        },
    )
    assert r.status_code == 200, r.text
    fam_code = wechat.post(
        "/api/voucher/channel/code", {"chnlUserId": "openid-1", "forPsnNo": child}
    ).json()["data"]["code"]
    r = ec_post(
        base,
        "/api/voucher/ec/query",
        {**query, "data": {**query["data"], "qrCode": fam_code}},
        "H44010000001",
    )
    assert (
        r.status_code == 200
        and r.json()["data"]["psnNo"] == child
        and r.json()["data"]["idNo"] == child_id
    )

    r = staff.get("/api/voucher/admin/activation-rates", params={"by": "region"})
    # the holder, and the child whose e-voucher the family binding activated
    assert sum(row["activated"] for row in r.json()["data"]) == 2

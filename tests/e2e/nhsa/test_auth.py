"""Gateway authentication over real HTTP: both transports, refusals as {"code":401,…}."""

from __future__ import annotations

import time

import httpx

from tests.e2e.conftest import ServerProcess
from tests.e2e.nhsa.conftest import HOSPITAL, ClientFactory
from yibao.institutions import demo
from yibao.wire import transport as tr


def _gateway_error(r: httpx.Response | object, message: str) -> None:
    assert getattr(r, "status_code", None) == 401
    body = r.json() if isinstance(r, httpx.Response) else r.json  # type: ignore[attr-defined]
    assert body == {"code": 401, "message": message}


def test_csb_and_tif_both_accepted(make_client: ClientFactory) -> None:
    for transport in ("csb", "tif"):
        c = make_client(transport=transport)
        r = c.call("9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}})
        assert r.status_code == 200 and r.infcode == 0, r.body


def test_bad_signature(make_client: ClientFactory) -> None:
    c = make_client()
    r = c.post("9001", c.envelope("9001", {}), headers={"_api_signature": "AAAA"})
    _gateway_error(r, tr.BAD_SIGNATURE)
    t = make_client(transport="tif")
    r = t.post("9001", t.envelope("9001", {}), headers={"x-tif-signature": "0" * 64})
    _gateway_error(r, tr.BAD_SIGNATURE)


def test_unknown_key_and_missing_headers(nhsa_server: str, make_client: ClientFactory) -> None:
    c = make_client()
    c.app_key = "nobody"
    _gateway_error(c.call("9001", {}), tr.ILLEGAL_USER)
    r = httpx.post(nhsa_server + "/fsi/api/rsfComIfsService/callService", content=b"{}")
    assert r.status_code == 401 and r.json() == {"code": 401, "message": tr.MISSING_HEADERS}


def test_stale_timestamp(nhsa_server: str, make_client: ClientFactory) -> None:
    c = make_client()
    old = int((time.time() - 31 * 60) * 1000)
    headers = tr.sign_csb(c.app_key, c.app_secret, "9001", old)
    r = httpx.post(
        nhsa_server + "/fsi/api/rsfComIfsService/callService",
        headers=headers,
        json=c.envelope("9001", {}),
    )
    _gateway_error(r, tr.STALE_TIMESTAMP)


def test_replayed_nonce(nhsa_server: str, make_client: ClientFactory) -> None:
    c = make_client(transport="tif")
    headers = tr.sign_tif(
        c.app_key, c.app_secret, int(time.time()), "0123456789abcdef0123456789abcdef"
    )
    url = f"{nhsa_server}/ebus/gdyb_api/prd/hsa/hgs/9001"
    body = c.envelope("9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}})
    first = httpx.post(url, headers=headers, json=body)
    assert first.status_code == 200 and first.json()["infcode"] == 0
    again = httpx.post(url, headers=headers, json=body)
    _gateway_error(again, tr.REPLAYED_NONCE)


def test_credential_of_another_institution(make_client: ClientFactory) -> None:
    c = make_client()
    c.app_key = demo.demo_app_key("H44030000002")
    c.app_secret = demo.demo_secret("H44030000002")
    r = c.call("9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}})
    assert r.infcode == -1 and r.err_msg.startswith("fixmedins_code:")


def test_cors_for_configured_origin(
    seeded: object, nhsa_db_url: str, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(nhsa_db_url, {"YIBAO_NHSA_CORS_ORIGINS": "https://his.example.cn"})
    server.start()
    url = server.url + "/fsi/api/rsfComIfsService/callService"
    pre = httpx.options(
        url,
        headers={
            "Origin": "https://his.example.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "_api_signature,content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "https://his.example.cn"
    assert "_api_signature" in pre.headers["access-control-allow-headers"]
    other = httpx.options(url, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    r = httpx.post(
        url,
        headers={
            "Origin": "https://his.example.cn",
            **tr.sign_csb(
                demo.demo_app_key(HOSPITAL),
                demo.demo_secret(HOSPITAL),
                "9001",
                int(time.time() * 1000),
            ),
        },
        content=b"{}",
    )
    assert (
        r.status_code == 200
        and r.headers["access-control-allow-origin"] == "https://his.example.cn"
    )

"""Finding 7 (issue 10): bad input outside the gateway gets a 4xx with a clear message, never a
500 (each of which also reset the keep-alive connection), and changes nothing.

Every request below answered HTTP 500 on main.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import new_database
from tests.e2e.conftest import ServerProcess
from tests.e2e.staff_login import create_staff, institution_headers, login, seed_institutions
from yibao.console.model import Role
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine

HOSPITAL = "H44030000001"


@pytest.fixture(scope="module")
def world(pg: EmbeddedPostgres, template_url: str) -> Iterator[tuple[str, str]]:
    url = new_database(pg, template_url)
    seed_institutions(url)
    create_staff(url, "input_admin", Role.PROVINCE_ADMIN)
    server = ServerProcess(url)
    server.start()
    yield server.url, url
    server.stop()


def persons(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one())
    finally:
        engine.dispose()


def clear_4xx(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
    if r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        assert body.get("message") or body.get("detail"), body


def test_channel_calls_without_or_with_a_bad_signature(world: tuple[str, str]) -> None:
    base, _ = world
    body = json.dumps({"chnlUserId": "u1"}).encode()
    for path in ("/api/filing/channel/status", "/api/filing/channel/filings/list"):
        clear_4xx(httpx.post(base + path, content=body, timeout=10))
        bad = {"X-Yibao-Channel": "wechat", "X-Yibao-Timestamp": "1", "X-Yibao-Nonce": "n",
               "X-Yibao-Signature": "forged"}  # fmt: skip
        clear_4xx(httpx.post(base + path, content=body, headers=bad, timeout=10))


def test_registry_import_of_a_corrupt_or_non_utf8_file(world: tuple[str, str]) -> None:
    base, url = world
    before = persons(url)
    admin = login(base, "input_admin")
    for name, content in (
        ("people.xlsx", b"PK\x03\x04 this is not a workbook"),
        ("people.csv", "证件类型,证件号码\n01,张三".encode("gb18030")),
        ("people.csv", b"\xff\xfe\x00\x00garbage"),
    ):
        r = admin.post("/api/registry/import", files={"file": (name, io.BytesIO(content))})
        clear_4xx(r)
    assert persons(url) == before
    admin.close()


def test_a_qr_code_too_long_to_draw(world: tuple[str, str]) -> None:
    base, _ = world
    r = httpx.get(base + "/api/voucher/qr", params={"code": "a" * 3000}, timeout=10)
    clear_4xx(r)
    assert "code" in r.text


def test_nul_in_console_paths_and_institution_bodies(world: tuple[str, str]) -> None:
    base, _ = world
    admin = login(base, "input_admin")
    clear_4xx(admin.get("/console/settlements/%00"))
    clear_4xx(admin.get("/console/persons/%00abc"))
    admin.close()
    body = json.dumps({"ecToken": "440300ec\u0000", "orgId": HOSPITAL}).encode()
    headers = {"Content-Type": "application/json", **institution_headers(HOSPITAL)}
    clear_4xx(httpx.post(base + "/api/voucher/ec/identity", content=body, headers=headers))


def test_non_ascii_csrf_token_on_login(world: tuple[str, str]) -> None:
    base, _ = world
    with httpx.Client(base_url=base, timeout=10) as http:
        http.get("/console/login")
        r = http.post(
            "/console/login",
            data={"username": "input_admin", "password": "x", "csrf_token": "令牌"},
        )
        clear_4xx(r)
    raw_cookie = {"Cookie": "yibao_csrf=令牌".encode()}  # a non-ASCII cookie, as bytes
    r = httpx.post(base + "/console/login", data={"username": "a", "csrf_token": "令牌"},
                   headers=raw_cookie, timeout=10)  # fmt: skip
    clear_4xx(r)

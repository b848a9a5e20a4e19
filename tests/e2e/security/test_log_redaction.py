"""Finding 1 (issue 10): the server log never holds a secret, a password, an ID number, a phone
or a name — on any error path.

A real server (uvicorn subprocess, ``tests.e2e.security.faulty_app``) over its own embedded
PostgreSQL is driven through every error path it has: a bad envelope, NUL bytes in envelope and
API fields, a handler raising unexpectedly, refused logins, and then the database stopped under
it (gateway, console login, staff API, health). Its whole log is then searched for the person's
certificate number, phone and name, the institution's app secret and the console password that
were in the requests and the data: none may appear. The log must show that the errors did happen
(a traceback, the gateway's error event), so the test cannot pass by logging nothing.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ARTIFACTS, ServerProcess
from tests.e2e.security.faulty_app import FAULTY_SURNAME
from yibao.client import NhsaClient
from yibao.console import service as console_service
from yibao.console.model import Role
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade
from yibao.institutions import demo as institutions_demo
from yibao.registry import service as registry
from yibao.registry.certs import compose_id18
from yibao.registry.model import Enrolment

HOSPITAL = "H44030000001"
BIRTH = date(1988, 7, 14)
CERTNO = compose_id18("440305", BIRTH, 357)
NAME = FAULTY_SURNAME + "明轩"
PHONE = "13923456781"
STAFF = "leak_admin"
PASSWORD = "Leak-Pass-2026x"
APP_SECRET = institutions_demo.demo_secret(HOSPITAL)


@pytest.fixture
def own_pg() -> Iterator[EmbeddedPostgres]:
    """A private PostgreSQL this test may stop (the session's is shared by other tests)."""
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="yibao-leak-pg-")) / "pgdata",
                              delete_on_stop=True)  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


def _prepare(url: str) -> None:
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    try:
        institutions_demo.seed(engine)
        with engine.begin() as conn:
            psn_no = registry.register_person(
                conn, psn_cert_type="01", certno=CERTNO, psn_name=NAME, gend="1", brdy=BIRTH,
                admdvs="440300", tel=PHONE,
            )  # fmt: skip
            registry.enrol(conn, psn_no, Enrolment("310", "1", date(2020, 1, 1), "11", "440300"))
        console_service.create_user(
            engine, username=STAFF, password=PASSWORD, role=Role.PROVINCE_ADMIN
        )
    finally:
        engine.dispose()


def _client(base: str) -> NhsaClient:
    row = next(r for r in institutions_demo.DEMO_INSTITUTIONS if r[0] == HOSPITAL)
    return NhsaClient(base, fixmedins_code=HOSPITAL, fixmedins_name=row[1],
                      mdtrtarea_admvs=row[3], app_key=institutions_demo.demo_app_key(HOSPITAL),
                      app_secret=APP_SECRET, transport="csb")  # fmt: skip


def _login(http: httpx.Client, password: str) -> httpx.Response:
    form = http.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return http.post(
        "/console/login",
        data={"username": STAFF, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


def _probe(send: Callable[[], object]) -> None:
    """Send a request whose answer does not matter here (only what it makes the server log);
    a connection reset by a failing server is tolerated."""
    with contextlib.suppress(httpx.TransportError):
        send()


def _person_1101(name: str = NAME) -> dict[str, object]:
    return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERTNO, "card_sn": "",
                     "begntime": "", "psn_cert_type": "01", "certno": CERTNO, "psn_name": name}}  # fmt: skip


def _drive_with_database(base: str) -> None:
    with _client(base) as c:
        c.sign_in("0001")
        r = c.call("1101", _person_1101())  # the injected unexpected error
        assert r.infcode == -1 and "系统内部错误" in r.err_msg, r.body
        c.call("5206", {"data": {"psn_no": "x\x00", "cum_ym": "202610"}})  # NUL in a field
        c.call("1101", _person_1101(NAME + "\x00"))
        broken = ('{"infno":"1101","input":{"data":{"certno":"' + CERTNO + '","psn_name":"'
                  + NAME + '","tel":"' + PHONE + '"}').encode()  # fmt: skip
        assert c.post("1101", broken).infcode == -1  # a bad envelope
    with httpx.Client(base_url=base, timeout=30) as http:
        assert _login(http, PASSWORD + "wrong").status_code == 401
        assert _login(http, PASSWORD).status_code == 303
        session = http.get("/api/staff/session").json()
        http.headers["X-CSRF-Token"] = session["csrf_token"]
        person = {"psn_cert_type": "01", "certno": CERTNO, "psn_name": NAME, "gend": "1",
                  "brdy": BIRTH.isoformat(), "admdvs": "440300", "tel": PHONE,
                  "town": "新安街道\x00"}  # fmt: skip
        _probe(lambda: http.post("/api/registry/persons", json=person))  # NUL in an API field
        _probe(lambda: http.get(f"/api/registry/persons?certno={CERTNO}%00"))
        _probe(lambda: http.get(f"/console/persons?q={CERTNO}%00&tel={PHONE}"))


def _drive_without_database(base: str) -> None:
    with _client(base) as c:
        c.sign_no = "whatever"
        _probe(lambda: c.call("1101", _person_1101()))
        _probe(lambda: c.call("9001", {"signIn": {"opter_no": "0001", "mac": "0", "ip": "1"}}))
    with httpx.Client(base_url=base, timeout=30) as http:
        login = {"username": STAFF, "password": PASSWORD, "csrf_token": "x"}
        http.cookies.set("yibao_csrf", "x")
        _probe(lambda: http.post("/console/login", data=login))
        http.cookies.set("yibao_console", "abc")
        _probe(lambda: http.get(f"/api/registry/persons?certno={CERTNO}"))
        _probe(lambda: http.get("/healthz"))


def test_no_secret_or_person_in_the_log_on_any_error_path(own_pg: EmbeddedPostgres) -> None:
    url = own_pg.ensure_database("yibao_leak")
    _prepare(url)
    server = ServerProcess(url, {"YIBAO_LOG_LEVEL": "INFO"},
                           app="tests.e2e.security.faulty_app:app")  # fmt: skip
    log_path = ARTIFACTS / f"server-{server.port}.log"
    server.start()
    try:
        _drive_with_database(server.url)
        own_pg.stop()  # the database goes away under the running server
        _drive_without_database(server.url)
    finally:
        server.stop()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    # the error paths were taken and logged (the test cannot pass by logging nothing)
    assert "nhsa_gateway_error" in text
    assert "Traceback (most recent call last)" in text
    assert "injected fault" in text
    leaks = {
        "certno": CERTNO,
        "certno (lower-case x)": CERTNO.lower(),
        "phone": PHONE,
        "name": NAME,
        "given name": NAME[len(FAULTY_SURNAME) :],
        "app secret": APP_SECRET,
        "password": PASSWORD,
    }
    found = {what: value for what, value in leaks.items() if value in text}
    assert not found, f"the server log of {log_path} holds {sorted(found)}"

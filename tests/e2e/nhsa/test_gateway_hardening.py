"""The gateway's part of issue 10 over real HTTP: one-time header sets on both transports
(finding 4), control characters refused naming the field (finding 1), a msgid closed by 2601
answered with the same bytes every time (finding 9), requests not kept in the message log
(finding 10), and immediate answers while the database is down (finding 6)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.conftest import ServerProcess
from tests.e2e.nhsa.conftest import ClientFactory, client_for
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade
from yibao.institutions import demo
from yibao.wire import transport as tr

SIGN_IN = {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}}
INSTITUTIONS = {"medinsinfo": {"fixmedins_type": "1"}}


def _post(c: object, infno: str, env: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(c.url(infno), headers=headers, json=env, timeout=20)  # type: ignore[attr-defined]


def test_a_captured_csb_header_set_authenticates_nothing_else(make_client: ClientFactory) -> None:
    c = make_client()
    for nonce in ("", "0123456789abcdef"):  # with and without our _api_nonce extension
        headers = tr.sign_csb(c.app_key, c.app_secret, "9001", int(time.time() * 1000), nonce=nonce)
        first = _post(c, "9001", c.envelope("9001", SIGN_IN), headers)
        assert first.status_code == 200 and first.json()["infcode"] == 0, first.text
        for env in (c.envelope("9001", SIGN_IN), c.envelope("1201", {"medinsinfo": {}})):
            again = _post(c, str(env["infno"]), env, headers)
            assert again.status_code == 401
            assert again.json() == {"code": 401, "message": tr.REPLAYED_NONCE}


def test_the_same_tif_nonce_twice_is_refused(make_client: ClientFactory) -> None:
    c = make_client(transport="tif")
    headers = tr.sign_tif(c.app_key, c.app_secret, int(time.time()), "feedfacefeedface")
    assert _post(c, "9001", c.envelope("9001", SIGN_IN), headers).status_code == 200
    other = _post(c, "9001", c.envelope("9001", SIGN_IN), headers)
    assert other.json() == {"code": 401, "message": tr.REPLAYED_NONCE}


def test_control_characters_are_refused_naming_the_field(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    for value, shown in (("x\u0000", "NUL"), ("a\tb", "U+0009")):
        r = c.call("5206", {"data": {"psn_no": value}})
        assert r.status_code == 200 and r.infcode == -1
        assert r.err_msg.startswith("input.data.psn_no:") and shown in r.err_msg, r.err_msg


def test_a_msgid_closed_by_2601_answers_the_same_bytes(
    make_client: ClientFactory, seeded: Engine
) -> None:
    c = make_client()
    c.sign_in()
    late = c.new_msgid()
    r = c.call("2601", {"data": {"psn_no": "X1", "omsgid": late, "oinfno": "2207"}})
    assert r.infcode == 0, r.err_msg
    answers = [c.call("2207", {"data": {"mdtrt_id": "M1", "psn_no": "X1"}}, msgid=late)
               for _ in range(2)]  # fmt: skip
    assert answers[0].infcode == -1 and "已被【2601】冲正" in answers[0].err_msg
    assert answers[0].body == answers[1].body  # stored once: the same inf_refmsgid and times


def test_the_message_log_keeps_no_request_but_reconciliation_totals(
    make_client: ClientFactory, seeded: Engine
) -> None:
    c = make_client()
    c.sign_in()
    probe = c.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "440305198807143579",
                                     "psn_cert_type": "01", "certno": "440305198807143579"}})  # fmt: skip
    with seeded.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT request FROM gateway_message WHERE msgid = :m"), {"m": probe.msgid}
        ).scalar_one()
    assert kept == ""  # a certno never rests in the message log


def test_answers_at_once_while_the_database_is_down() -> None:
    pgdata = Path(tempfile.mkdtemp(prefix="yibao-gw-down-")) / "pgdata"
    pg = EmbeddedPostgres(pgdata)
    url = pg.ensure_database("yibao_gw_down")
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    demo.seed(engine)
    engine.dispose()
    server = ServerProcess(url)
    server.start()
    try:
        c = client_for(server.url)
        c.sign_in()
        pg.stop()
        for _ in range(3):  # no multi-second waits: each answer comes back within the timeout
            with httpx.Client(timeout=5) as http:
                env = c.envelope("1201", INSTITUTIONS)
                r = http.post(c.url("1201"), headers=c.headers("1201"), content=json.dumps(env))
            assert r.status_code == 200
            assert r.json()["infcode"] == -1 and "暂不可用" in r.json()["err_msg"]
        pg = EmbeddedPostgres(pgdata)  # back again: the gateway recovers without a restart
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if c.call("1201", INSTITUTIONS).infcode == 0:
                break
            time.sleep(0.5)
        assert c.call("1201", INSTITUTIONS).infcode == 0
        c.close()
    finally:
        server.stop()
        pg.stop()

"""Exactly once over HTTP: identical retries, same msgid with other content, concurrent duplicates."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from tests.e2e.nhsa.conftest import ClientFactory
from yibao.gateway import store


def test_identical_retry_returns_identical_bytes(
    make_client: ClientFactory, seeded: Engine
) -> None:
    c = make_client()
    first = c.call("9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}})
    assert first.infcode == 0
    retry = c.post("9001", first.request)  # same envelope, fresh signature
    assert retry.body == first.body
    tif = make_client(transport="tif")  # the same message over the other transport
    assert tif.post("9001", first.request).body == first.body
    with seeded.connect() as conn:
        assert store.find(conn, c.fixmedins_code, first.msgid) is not None


def test_same_msgid_different_content_is_refused(
    make_client: ClientFactory, seeded: Engine
) -> None:
    c = make_client()
    c.sign_in()
    first = c.call(
        "1201", {"medinsinfo": {"fixmedins_type": "1"}}, msgid="H44030000001202611221000009999"
    )
    other = c.call("1201", {"medinsinfo": {"fixmedins_type": "2"}}, msgid=first.msgid)
    assert first.infcode == 0
    assert other.infcode == -1 and other.err_msg.startswith("msgid:")
    assert c.post("1201", first.request).body == first.body  # the original still replays


def test_failures_are_replayed_too(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    bad = c.call(
        "9002", {"signOut": {"sign_no": "440300000000000000000000000000", "opter_no": "0001"}}
    )
    assert bad.infcode == -1 and "不存在" in bad.err_msg
    assert c.post("9002", bad.request).body == bad.body


def test_input_errors_are_not_recorded(make_client: ClientFactory, seeded: Engine) -> None:
    c = make_client()
    bad = c.call("9001", {"signIn": {"opter_no": "0001"}})
    assert bad.infcode == -1
    fixed = c.envelope(
        "9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}}, msgid=bad.msgid
    )
    assert c.post("9001", fixed).infcode == 0  # the msgid was not consumed by the bad request


def test_concurrent_duplicates_get_one_answer(make_client: ClientFactory, seeded: Engine) -> None:
    c = make_client("H44030000003")
    with seeded.connect() as conn:
        before = store.count_messages(conn, c.fixmedins_code)
    body = c.envelope("9001", {"signIn": {"opter_no": "0002", "mac": "m", "ip": "i"}})
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: c.post("9001", body).body, range(16)))
    assert len(set(bodies)) == 1 and json.loads(bodies[0])["infcode"] == 0
    with seeded.connect() as conn:
        assert store.count_messages(conn, c.fixmedins_code) == before + 1


def test_retry_with_new_time_and_sign_no_still_replays(make_client: ClientFactory) -> None:
    """The content hash covers infno, institution, regions and input — not inf_time or sign_no."""
    c = make_client("H44030000002")
    c.sign_in()
    first = c.call("1201", {"medinsinfo": {"fixmedins_type": "1"}})
    assert first.infcode == 0
    later = dict(first.request, inf_time="2026-11-22 23:59:59", sign_no="x" * 30, opter="0002")
    assert c.post("1201", later).body == first.body


def test_real_client_variants_over_http(make_client: ClientFactory) -> None:
    """text/plain body, numbers for string fields, input as a JSON string, null for empty."""
    c = make_client("H44030000004")
    c.sign_in()
    e = c.envelope("1201", {})
    e.update(
        opter_type=1, insuplc_admdvs=None, cainfo=None, input='{"medinsinfo":{"fixmedins_type":2}}'
    )
    r = c.post(
        "1201",
        json.dumps(e, ensure_ascii=False),
        headers={"Content-Type": "text/plain;charset=utf-8"},
    )
    assert r.infcode == 0, r.body
    assert r.output["medinsinfo"] and all(
        x["fixmedins_type"] == "2" for x in r.output["medinsinfo"]
    )

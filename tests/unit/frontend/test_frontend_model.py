"""Front-end processor rules: who may call, what a message is about, the answers it gives."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from yibao.api.nhsa.answers import UNAVAILABLE
from yibao.checkout.reversal import REVERSIBLE
from yibao.frontend import model
from yibao.frontend.model import Peek
from yibao.http.cors import origin_allowed


def test_allowlist_takes_addresses_and_blocks() -> None:
    allow = model.parse_allowlist(["10.0.0.0/8, 192.168.1.20", "::1"])
    assert model.address_allowed("10.200.3.4", allow)
    assert model.address_allowed("192.168.1.20", allow)
    assert not model.address_allowed("192.168.1.21", allow)
    assert model.address_allowed("::1", allow)
    assert model.address_allowed("::ffff:10.1.2.3", allow)  # IPv4-mapped
    assert not model.address_allowed("127.0.0.1", allow)
    assert not model.address_allowed("", allow) and not model.address_allowed("x", allow)
    with pytest.raises(model.FrontendError, match=r"10\.0\.0\.0/33"):
        model.parse_allowlist(["10.0.0.0/33"])


def test_token_and_origins() -> None:
    assert model.token_ok("", None)
    assert model.token_ok("s3cret", "s3cret") and not model.token_ok("s3cret", "S3cret")
    assert not model.token_ok("s3cret", None)
    origins = model.parse_origins(["http://his.example:8080/, http://*.hospital.example"])
    assert origin_allowed("http://his.example:8080", origins)
    assert origin_allowed("http://ward3.hospital.example", origins)
    assert not origin_allowed("http://evil.example", origins)
    assert not origin_allowed("", origins)


def test_key_file() -> None:
    c = model.parse_key_file('{"app_key": "AK", "app_secret": "SK", "transport": "tif"}')
    assert (c.app_key, c.app_secret, c.transport) == ("AK", "SK", "tif")
    assert "SK" not in repr(c)
    assert model.parse_key_file(model.key_file_text("AK", "SK"), "tif").transport == "tif"
    for bad in ("[]", "{", '{"app_key": "AK"}', '{"app_key":"A","app_secret":"S","transport":"x"}'):
        with pytest.raises(model.FrontendError):
            model.parse_key_file(bad)
    assert model.key_file_mode_problem(0o600) is None and model.key_file_mode_problem(0o400) is None
    assert "600" in (model.key_file_mode_problem(0o644) or "")
    assert model.key_file_mode_problem(0o620) is not None


def test_peek_reads_routing_fields_only() -> None:
    env = {"infno": "2601", "msgid": "M1", "fixmedins_code": "H1",
           "input": {"data": {"psn_no": "P1", "omsgid": "M0", "oinfno": "2207"}}}  # fmt: skip
    assert model.peek(json.dumps(env)) == Peek("2601", "M1", "H1", "M0", "2207", "P1")
    env["input"] = {"data": [{"psn_no": "P1", "omsgid": "M0", "oinfno": "2207"}]}
    assert model.peek(json.dumps(env).encode()).omsgid == "M0"
    assert model.peek('{"infno": "2207", "msgid": "M2"}') == Peek("2207", "M2")
    assert model.peek("not json") == Peek() and model.peek("[1]") == Peek()
    assert model.peek(b"\xff\xfe") == Peek()


def test_answers_say_what_happened() -> None:
    at = datetime(2026, 12, 3, 10, 0, 0, 123000)
    a = model.answer(model.unknown_outcome_message(Peek("2207", "M1")), at)
    assert a["infcode"] == -1 and a["respond_time"] == "20261203100000123"
    assert "结果未知" in a["err_msg"] and "omsgid=M1" in a["err_msg"] and "2601" in a["err_msg"]
    assert "2601" not in model.unknown_outcome_message(Peek("1101", "M2"))
    assert "未办理" in model.not_delivered_message(Peek("2207", "M3"))
    assert list(a) == ["infcode", "inf_refmsgid", "refmsg_time", "respond_time", "err_msg",
                       "warn_msg", "cainfo", "signtype", "enctype", "output"]  # fmt: skip


def test_what_counts_as_the_centres_answer() -> None:
    ok = json.dumps({"infcode": 0, "output": {}}).encode()
    refused = json.dumps({"infcode": -1, "err_msg": "input.data.psn_no: 与原交易不一致"}).encode()
    down = json.dumps({"infcode": -1, "err_msg": UNAVAILABLE}).encode()
    assert model.is_centre_answer(200, ok) and model.is_centre_answer(200, refused)
    assert not model.is_centre_answer(200, down)
    assert not model.is_centre_answer(401, b'{"code":401,"message":"x"}')
    assert not model.is_centre_answer(502, ok) and not model.is_centre_answer(200, b"<html>")
    assert UNAVAILABLE.startswith(model.CENTRE_UNAVAILABLE)


def test_the_reversible_list_is_the_centres() -> None:
    assert model.REVERSIBLE == REVERSIBLE


def test_queue_records_replay_to_what_still_waits() -> None:
    r1 = model.Reversal("M1", "O1", "2207", "/p", "application/json", '{"a":"张三"}', "t")
    r2 = model.Reversal("M2", "O2", "2102", "/p", "application/json", "{}", "t")
    lines = [
        model.queued_record(r1),
        model.queued_record(r2),
        model.attempt_record("M1", "t", "ConnectError"),
        model.attempt_record("M1", "t", "ConnectError"),
        model.delivered_record("M2", "t", 0),
        '{"op": "queued", "msgid": "M3", "omsg',  # torn by a crash: never acknowledged
    ]
    pending = model.replay(lines)
    assert list(pending) == ["M1"] and pending["M1"].attempts == 2
    assert pending["M1"].body == '{"a":"张三"}'
    assert model.replay([model.queued_record(r1), model.queued_record(r1)])["M1"] == r1


def test_backoff_doubles_up_to_a_ceiling() -> None:
    assert [model.backoff(n, 5, 60) for n in range(6)] == [5, 10, 20, 40, 60, 60]
    assert model.backoff(10**6, 5, 60) == 60

"""The front-end processor when the centre is slow or gone (issue 12).

A HIS program posts unsigned form-encoded envelopes to ``yibao frontend``, which reaches the
centre through a relay that can lose answers (a timeout after sending) or refuse connections:

- a 2207 whose answer is lost is answered "outcome unknown" (504, send 2601 with its msgid) and
  never re-sent by the processor;
- the HIS's 2601 for it, while the centre is unreachable, is queued on disk (202) and delivered
  when the centre comes back: the settlement is then reversed;
- a settlement while the centre is unreachable is "not delivered" (502) and never queued;
- the processor's log holds neither the patient's name nor the ID number (the envelopes do).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.frontend.conftest import (
    SINGLE_URL,
    Frontend,
    His,
    Relay,
    answer,
    output,
    start_frontend,
)
from tests.e2e.frontend.counter import Send, demo_person, lookup, sign_in, visit

HOSPITAL = "H44030000003"  # 深圳市龙华区中心医院 (the browser test uses another institution)


def form_sender(url: str) -> Send:
    """A HIS program posting one form pair with an empty name, as the browser page does."""

    def send(env: dict[str, Any]) -> tuple[int, str]:
        body = "=" + quote(json.dumps(env, ensure_ascii=False), safe="")
        r = httpx.post(
            url,
            content=body.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            timeout=60,
        )
        return r.status_code, r.text

    return send


def wait_until(check: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds}s: {what}")


def count(engine: Engine, sql: str, **params: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def test_a_2601_after_a_timeout_waits_on_disk_until_the_centre_answers(
    relay: Relay, centre_db: tuple[str, Engine], frontends: list[Frontend], tmp_path: Path
) -> None:
    engine = centre_db[1]
    fe = start_frontend(relay.url, HOSPITAL, tmp_path, "--timeout", "3",
                        "--connect-timeout", "1", "--retry-every", "0.3")  # fmt: skip
    frontends.append(fe)
    send = form_sender(fe.url + SINGLE_URL)
    his = His(HOSPITAL)
    rng = random.Random(21)
    sign_in(his, send)
    row = demo_person(1)
    p = lookup(his, send, row)
    v = visit(his, send, p, rng, settle=False)  # up to 2206, through a healthy network

    relay.mode = "hold"  # the 2207 reaches the centre; its answer is lost
    settle = his.envelope("2207", {"data": v.data}, p.insuplc_admdvs)
    status, text = send(settle)
    assert status == 504, text
    unknown = answer(text)
    assert unknown["infcode"] == -1 and "结果未知" in unknown["err_msg"]
    assert f"omsgid={settle['msgid']}" in unknown["err_msg"]
    settled = "SELECT count(*) FROM encounter_settlement WHERE msgid = :m AND kind = 'settle'"
    assert count(engine, settled, m=settle["msgid"]) == 1  # it was done at the centre

    relay.down()  # now the centre cannot be reached at all
    reverse = his.envelope("2601", {"data": {"psn_no": p.psn_no, "omsgid": settle["msgid"],
                                             "oinfno": "2207"}}, p.insuplc_admdvs)  # fmt: skip
    status, text = send(reverse)
    assert status == 202, text
    assert "已由前置机保存" in answer(text)["err_msg"]
    assert fe.health()["pending_reversals"] == 1
    assert reverse["msgid"] in fe.queue_file.read_text(encoding="utf-8")
    assert send(reverse)[0] == 202  # the HIS asks again: still waiting, not queued twice
    assert fe.health()["pending_reversals"] == 1

    again = his.envelope("2207", {"data": v.data}, p.insuplc_admdvs)  # a settlement: never queued
    status, text = send(again)
    assert status == 502 and "未送达" in answer(text)["err_msg"], text
    assert again["msgid"] not in fe.queue_file.read_text(encoding="utf-8")

    relay.up()  # the centre is back: the processor delivers the reversal by itself
    wait_until(lambda: fe.health()["pending_reversals"] == 0, "the queued 2601 is delivered")
    cancelled = "SELECT count(*) FROM encounter_settlement WHERE mdtrt_id = :m AND kind = 'cancel'"
    assert count(engine, cancelled, m=v.mdtrt_id) == 1
    logged = "SELECT count(*) FROM gateway_message WHERE msgid = :m"
    assert count(engine, logged, m=reverse["msgid"]) == 1
    assert count(engine, logged, m=settle["msgid"]) == 1  # the timed-out 2207: sent once only
    assert count(engine, logged, m=again["msgid"]) == 0  # the undelivered one: never sent
    records = [json.loads(ln) for ln in fe.queue_file.read_text(encoding="utf-8").splitlines()]
    assert [r["op"] for r in records if r["msgid"] == reverse["msgid"]][-1] == "delivered"

    status, text = send(reverse)  # the HIS asks once more: the centre's logged answer
    assert status == 200 and answer(text)["infcode"] == 0
    q = output(*send(his.envelope("5203", {"data": {"psn_no": p.psn_no, "mdtrt_id": v.mdtrt_id,
               "setl_id": _setl_id(engine, settle["msgid"])}})))["setlinfo"]  # fmt: skip
    assert q["refd_setl_flag"] == "1"

    logs = fe.logs()
    assert f'"msgid": "{reverse["msgid"]}"' in logs and "redelivered" in logs
    for secret in (row["psn_name"], row["certno"], row["tel"], his.opter_name):
        assert secret not in logs


def _setl_id(engine: Engine, msgid: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text("SELECT setl_id FROM encounter_settlement WHERE msgid = :m"), {"m": msgid}
            ).scalar_one()
        )

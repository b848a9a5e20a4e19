"""A browser HIS page on another origin, posting UNSIGNED form-encoded envelopes (issue 12).

Through ``yibao frontend`` (a real process, signing with the institution's key file) it completes
9001 → 1101 → 2201 → 2203 → 2204 → 2206 → 2207 → 2208 → 2201 … 2207 → 2601 → 5203 (the reversal
shows as refd_setl_flag) → 3201. Posted straight at the centre, the same page gets a 401 it can
read (CORS headers on refusals). The processor's log never holds the patient's name or ID number.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.browser.conftest import shot
from tests.e2e.frontend.conftest import (
    SINGLE_URL,
    Frontend,
    His,
    answer,
    output,
    start_frontend,
)
from tests.e2e.frontend.counter import Send, demo_person, lookup, sign_in, visit
from yibao.api.nhsa.handlers._setlinfo_5203 import FIELDS_5203
from yibao.hissim.flows import CHINA

pytestmark = pytest.mark.browser
HOSPITAL = "H44030000001"  # 深圳市人民医院 (this file's institution; the queue test uses another)


@pytest.fixture
def his_page(browser: Any, page_origin: str) -> Iterator[Any]:
    """The HIS page in a fresh context; any request leaving this machine is refused."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    foreign: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(page_origin + "/his_page.html")
    yield page
    context.close()
    assert not foreign, foreign


def poster(page: Any, url: str, target: str, token: str = "") -> Callable[..., dict[str, Any]]:
    def post(env: dict[str, Any]) -> dict[str, Any]:
        got = page.evaluate("([u, e, t, k]) => post(u, e, t, k)", [url, env, target, token])
        assert isinstance(got, dict)
        return got

    return post


def sender(page: Any, url: str, target: str) -> Send:
    post = poster(page, url, target)

    def send(env: dict[str, Any]) -> tuple[int, str]:
        got = post(env)
        return int(got["status"]), str(got.get("text", got.get("error", "")))

    return send


def query_5203(his: His, send: Send, psn_no: str, mdtrt_id: str, setl_id: str) -> dict[str, Any]:
    data = {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "setl_id": setl_id}
    out = output(*send(his.envelope("5203", {"data": data})))["setlinfo"]
    assert isinstance(out, dict)
    return out


def test_a_browser_his_page_settles_reverses_and_reconciles_through_the_frontend(
    his_page: Any,
    centre: str,
    centre_db: tuple[str, Engine],
    page_origin: str,
    frontends: list[Frontend],
    tmp_path: Path,
) -> None:
    fe = start_frontend(centre, HOSPITAL, tmp_path, origin=page_origin)
    frontends.append(fe)
    send = sender(his_page, fe.url + SINGLE_URL, "医保前置机")
    his = His(HOSPITAL)
    rng = random.Random(12)

    sign_in(his, send)  # 9001
    row = demo_person(0)
    p = lookup(his, send, row)  # 1101, psn_cert_type "1" padded by the centre
    assert p.psn_name == row["psn_name"]
    assert isinstance(p.base["age"], Decimal)  # JSON numbers, as 2206/2207 answer
    assert all(isinstance(i["balc"], Decimal) for i in p.insuinfo)

    first = visit(his, send, p, rng)  # 2201 → 2203 → 2204 → 2206 → 2207
    region = p.insuplc_admdvs
    undo = {"setl_id": first.setlinfo["setl_id"], "mdtrt_id": first.mdtrt_id, "psn_no": p.psn_no}
    cancelled = output(*send(his.envelope("2208", {"data": undo}, region)))["setlinfo"]
    assert cancelled["medfee_sumamt"] == -first.setlinfo["medfee_sumamt"]

    second = visit(his, send, p, rng)  # 2201 … 2207 again
    reverse = {"psn_no": p.psn_no, "omsgid": second.settle_msgid, "oinfno": "2207"}
    output(*send(his.envelope("2601", {"data": reverse}, region)))

    q1 = query_5203(his, send, p.psn_no, first.mdtrt_id, str(first.setlinfo["setl_id"]))
    q2 = query_5203(his, send, p.psn_no, second.mdtrt_id, str(second.setlinfo["setl_id"]))
    qc = query_5203(his, send, p.psn_no, first.mdtrt_id, str(cancelled["setl_id"]))
    for q in (q1, q2, qc):
        assert tuple(q)[: len(FIELDS_5203)] == FIELDS_5203
        assert q["refd_setl_flag"] == "1"  # cancelled (2208), reversed (2601), the cancellation
    assert q2["medfee_sumamt"] == second.setlinfo["medfee_sumamt"] > 0
    assert q2["psn_pay"] == second.setlinfo["psn_part_amt"]
    assert q2["cash_payamt"] == second.setlinfo["psn_cash_pay"]
    assert q2["fixmedins_code"] == HOSPITAL and q2["medins_setl_id"] == second.settle_msgid
    assert q2["opter_id"] == his.opter and q2["opter_name"] == his.opter_name
    assert q2["begndate"] == datetime.now(CHINA).date().isoformat()
    assert q2["dise_codg"] == "J06.900" and q2["emp_name"] == row["emp_name"]
    assert qc["medfee_sumamt"] == -q1["medfee_sumamt"]

    today = datetime.now(CHINA).date().isoformat()
    stmt = {"insutype": p.insutype, "clr_type": first.setlinfo["clr_type"],
            "setl_optins": first.setlinfo["clr_optins"], "stmt_begndate": today,
            "stmt_enddate": today, "medfee_sumamt": "0.00", "fund_pay_sumamt": "0.00",
            "acct_pay": "0.00", "fixmedins_setl_cnt": 4, "refd_setl_flag": ""}  # fmt: skip
    out = output(*send(his.envelope("3201", {"data": stmt})))  # two settlements, two undone
    assert out["stmtinfo"]["stmt_rslt"] == "0", out

    with centre_db[1].connect() as conn:  # what the centre holds: all of it undone, to the fen
        rows = conn.execute(
            sa.text("SELECT kind, medfee_sumamt FROM encounter_settlement WHERE psn_no = :p"),
            {"p": p.psn_no},
        ).all()
        assert sorted(k for k, _ in rows) == ["cancel", "cancel", "settle", "settle"]
        assert sum(a for _, a in rows) == 0

    # the same page, straight at the centre: refused, and the browser can read why
    centre_send = poster(his_page, centre + SINGLE_URL, "医保中心（未签名）")
    got = centre_send(his.envelope("1101", {"data": {"mdtrt_cert_type": "02",
                                                     "mdtrt_cert_no": row["certno"]}}))  # fmt: skip
    assert got["status"] == 401, got
    assert answer(got["text"]) == {"code": 401, "message": "缺少服务网关的请求头!"}
    his_page.wait_for_selector("text=缺少服务网关的请求头")
    assert his_page.locator("text=退费结算标志 1（已撤销或冲正）").count() == 3
    shot(his_page, "frontend-his-page")

    logs = fe.logs()
    assert "frontend_message" in logs and '"infno": "2601"' in logs  # the log is written …
    for secret in (row["psn_name"], row["certno"], his.opter_name, row["tel"]):
        assert secret not in logs  # … and holds no name, ID number or phone


def test_refusals_carry_cors_headers_and_the_local_token_is_checked(
    his_page: Any, centre: str, page_origin: str, frontends: list[Frontend], tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    guarded = start_frontend(centre, HOSPITAL, tmp_path / "a", "--local-token", "t0k3n-local",
                             origin="http://127.0.0.1:*")  # fmt: skip
    closed = start_frontend(centre, HOSPITAL, tmp_path / "b", allow="10.0.0.0/8",
                            origin=page_origin)  # fmt: skip
    frontends += [guarded, closed]
    his = His(HOSPITAL, opter="0002")
    env = his.envelope("9001", {"signIn": {"opter_no": "0002", "mac": "00-16-3E-00-00-02",
                                           "ip": "10.0.0.9"}})  # fmt: skip
    url = guarded.url + SINGLE_URL
    no_token = poster(his_page, url, "前置机（无令牌）")(env)
    assert no_token["status"] == 401 and "本地令牌" in answer(no_token["text"])["message"]
    with_token = poster(his_page, url, "前置机（令牌）", "t0k3n-local")(env)  # a preflight
    assert with_token["status"] == 200 and answer(with_token["text"])["infcode"] == 0
    refused = poster(his_page, closed.url + SINGLE_URL, "前置机（地址不在允许列表）")(env)
    assert refused["status"] == 403 and "允许列表" in answer(refused["text"])["message"]
    other = His("H44030000002")
    wrong = poster(his_page, url, "前置机（他院报文）", "t0k3n-local")(other.envelope("9001", {}))
    assert wrong["status"] == 403 and "H44030000002" in answer(wrong["text"])["message"]

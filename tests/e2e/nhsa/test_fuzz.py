"""Fuzzed envelopes over real HTTP: never a 5xx, only infcode 0, or -1 with an err_msg.

Signed correctly (so the gateway lets them through) but otherwise random: wrong types, missing
fields, odd msgids, random ``input`` nodes for the registered transactions, broken JSON bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.e2e.nhsa.conftest import HOSPITAL, client_for
from yibao.api.nhsa import dispatcher
from yibao.client import NhsaClient
from yibao.wire import jsonio

INFNOS = [*dispatcher.registered(), "0000", "2207", "99999", "12A"]
FIELDS = ["infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs", "recer_sys_code", "infver",
          "opter_type", "opter", "opter_name", "inf_time", "fixmedins_code", "fixmedins_name",
          "sign_no", "input", "cainfo", "signtype", "dev_no"]  # fmt: skip
NODES = [
    "data",
    "signIn",
    "signOut",
    "medinsinfo",
    "fsUploadIn",
    "fsDownloadIn",
    "feedetail",
    "mdtrtinfo",
    "diseinfo",
    "druginfo",
    "drugdetail",
    "dscginfo",
    "adminfo",
    "refmedin",
]
KEYS = ["type", "opter_no", "mac", "ip", "sign_no", "fixmedins_type", "fixmedins_name",
        "file_qury_no", "filename", "in", "fixmedins_code", "valiFlag", "psn_no",
        "medfee_sumamt", "mdtrt_cert_type", "mdtrt_cert_no", "ver", "mdtrt_id", "setl_id",
        "insutype", "med_type", "begntime", "endtime", "feedetl_sn", "chrg_bchno",
        "det_item_fee_sumamt", "cnt", "pric", "med_list_codg", "medins_list_codg",
        "psn_setlway", "acct_used_flag", "omsgid", "oinfno", "stmt_begndate", "stmt_enddate",
        "clr_type", "setl_optins", "fund_pay_sumamt", "acct_pay", "fixmedins_setl_cnt",
        "ipt_otp_no", "invono", "mid_setl_flag", "fulamt_ownpay_amt", "inscp_scp_amt"]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.integers(0, 8).flatmap(
        lambda p: st.decimals(allow_nan=False, allow_infinity=False, places=p)
    ),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "01",
            "1",
            "11",
            "310",
            "390",
            "9001",
            "2207",
            "440300",
            "0000",
            "2026-11-22 10:00:00",
            "2026-11-22",
            "12.345",
            "1e999",
            "-1.00",
            "0.00",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
inputs = st.one_of(
    values,
    st.dictionaries(
        st.sampled_from(NODES),
        st.one_of(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=6), values),
        max_size=2,
    ),
)


@pytest.fixture(scope="module")
def fuzz_client(nhsa_server: str) -> NhsaClient:
    c = client_for(nhsa_server, HOSPITAL)
    c.sign_in()
    return c


def _check(r: Any) -> None:
    assert r.status_code < 500, r.body
    assert r.status_code == 200, r.body
    if not r.is_json:  # a 9102 file
        return
    body = json.loads(r.body)
    assert body["infcode"] in (0, -1), body
    if body["infcode"] == -1:
        assert isinstance(body["err_msg"], str) and body["err_msg"], body
        assert "系统内部错误" not in body["err_msg"], body  # no unexpected exception


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    infno=st.sampled_from(INFNOS),
    payload=inputs,
    overrides=st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
    drop=st.lists(st.sampled_from(FIELDS), max_size=2),
)
def test_fuzzed_envelopes(
    fuzz_client: NhsaClient,
    infno: str,
    payload: Any,
    overrides: dict[str, Any],
    drop: list[str],
) -> None:
    body = fuzz_client.envelope(infno, {})
    body["input"] = payload
    body.update(overrides)
    for name in drop:
        body.pop(name, None)
    _check(fuzz_client.post(infno, jsonio.dumps(body)))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_fuzzed_bytes(fuzz_client: NhsaClient, raw: bytes) -> None:
    _check(fuzz_client.post("9001", raw))


def test_deep_nesting_and_big_numbers(fuzz_client: NhsaClient) -> None:
    _check(fuzz_client.post("1201", b"[" * 100_000))
    body = fuzz_client.envelope("1201", {"medinsinfo": {"fixmedins_type": "1"}})
    text = json.dumps(body).replace('"1"}}', "1" + "0" * 5000 + "}}")
    _check(fuzz_client.post("1201", text))
    _check(fuzz_client.post("9001", b'{"infno": 1e99999}'))


def test_no_input_error_was_recorded(fuzz_client: NhsaClient, seeded: Engine) -> None:
    """Bad input changes nothing: none of the fuzzed input errors reached the message log."""
    with seeded.connect() as conn:
        recorded = conn.execute(
            sa.text("SELECT count(*) FROM gateway_message WHERE err_msg LIKE 'input.%'")
        ).scalar_one()
    assert recorded == 0

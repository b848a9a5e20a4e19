"""Fuzzed 4101–4104 and 3601–3607 requests: every answer is a clear refusal or a success, never an
unknown outcome (系统内部错误), and a refused 4101 leaves no list behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.settlement.conftest import make
from yibao.client import NhsaClient
from yibao.db.engine import make_engine
from yibao.wire import jsonio

INFNOS = ["4101", "4102", "4103", "4104", "3601", "3602", "3603", "3604", "3605", "3606", "3607"]
KEYS = [
    "setlinfo",
    "diseinfo",
    "oprninfo",
    "icuinfo",
    "payinfo",
    "data",
    "stastinfo",
    "psn_no",
    "setl_id",
    "mdtrt_id",
    "stas_type",
    "setl_ym",
    "page_num",
    "page_size",
    "pageNum",
    "pageSize",
    "diag_code",
    "diag_type",
    "maindiag_flag",
    "appy_exit_type",
    "exit_rea",
    "spcas_exit_wt",
    "vali_flag",
    "appy_chk_setl_list_id",
    "drgAppySpcasItemDTOList",
    "fund_payamt",
    "nwb_adm_wt",
    "vent_used_dura",
    "setl_begn_date",
    "setl_end_date",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**12),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "",
            "1",
            "0",
            "2",
            "9",
            "202507",
            "2025-07-10",
            "J18.900",
            "1/2/3",
            "3.10",
            "1e999",
            "-1.00",
            "A" * 600,
            "→",
            "12.345",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=14,
)


@pytest.fixture
def client(server: str) -> NhsaClient:
    return make(server, "H44148100001")


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    infno=st.sampled_from(INFNOS),
    payload=st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
)
def test_fuzzed_payment_transactions(
    client: NhsaClient, infno: str, payload: dict[str, Any]
) -> None:
    body = client.envelope(infno, {})
    body["input"] = payload
    r = client.post(infno, json.dumps(body, ensure_ascii=False))
    assert r.status_code == 200, r.body
    out = json.loads(r.body)
    assert out["infcode"] in (0, -1), out
    if out["infcode"] == -1:
        assert out["err_msg"] and "系统内部错误" not in out["err_msg"], out


def test_no_list_was_kept(client: NhsaClient, db_url: str) -> None:
    body = client.envelope("4101", {"setlinfo": {"setl_id": "X"}, "diseinfo": []})
    assert json.loads(client.post("4101", jsonio.dumps(body)).body)["infcode"] == -1
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM payment_setl_list")).scalar_one() == 0
    engine.dispose()

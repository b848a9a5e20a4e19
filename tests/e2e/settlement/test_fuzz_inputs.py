"""Fuzzed business inputs of the settlement transactions never crash a handler: every answer is
HTTP 200 with infcode 0 or -1 and an err_msg, never the gateway's internal-error message."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.settlement.conftest import ClientFactory, patients
from yibao.hissim import flows

FIELDS = {
    "2201": ("data", ["psn_no", "insutype", "begntime", "mdtrt_cert_type", "mdtrt_cert_no", "ipt_otp_no"]),
    "2203": ("mdtrtinfo", ["mdtrt_id", "psn_no", "med_type", "begntime", "dise_codg"]),
    "2204": ("feedetail", ["feedetl_sn", "mdtrt_id", "psn_no", "chrg_bchno", "med_list_codg", "det_item_fee_sumamt", "cnt", "pric", "fee_ocur_time"]),
    "2205": ("data", ["mdtrt_id", "chrg_bchno", "psn_no"]),
    "2206": ("data", ["psn_no", "mdtrt_cert_type", "med_type", "medfee_sumamt", "psn_setlway", "mdtrt_id", "chrg_bchno", "acct_used_flag", "insutype"]),
    "2207": ("data", ["psn_no", "mdtrt_cert_type", "med_type", "medfee_sumamt", "psn_setlway", "mdtrt_id", "chrg_bchno", "acct_used_flag", "insutype", "inscp_scp_amt", "fulamt_ownpay_amt"]),
    "2208": ("data", ["setl_id", "mdtrt_id", "psn_no"]),
    "2101": ("druginfo", ["psn_no", "mdtrt_cert_type", "begntime", "medfee_sumamt", "insutype", "acct_used_flag", "med_type"]),
    "2102": ("druginfo", ["psn_no", "mdtrt_cert_type", "begntime", "medfee_sumamt", "insutype", "acct_used_flag"]),
    "2103": ("data", ["setl_id", "mdtrt_id", "psn_no"]),
    "2301": ("feedetail", ["feedetl_sn", "mdtrt_id", "psn_no", "med_list_codg", "det_item_fee_sumamt", "cnt", "pric"]),
    "2302": ("data", ["feedetl_sn", "mdtrt_id", "psn_no"]),
    "2303": ("data", ["psn_no", "mdtrt_id", "medfee_sumamt", "psn_setlway", "insutype", "mid_setl_flag", "mdtrt_cert_type"]),
    "2304": ("data", ["psn_no", "mdtrt_id", "medfee_sumamt", "psn_setlway", "insutype", "mid_setl_flag", "mdtrt_cert_type"]),
    "2305": ("data", ["setl_id", "mdtrt_id", "psn_no"]),
    "2401": ("mdtrtinfo", ["psn_no", "insutype", "begntime", "mdtrt_cert_type", "mdtrt_cert_no", "med_type", "ipt_no"]),
    "2402": ("dscginfo", ["mdtrt_id", "psn_no", "endtime", "dscg_dept_codg", "dscg_way"]),
    "2403": ("adminfo", ["mdtrt_id", "psn_no", "med_type"]),
    "2404": ("data", ["mdtrt_id", "psn_no"]),
    "2405": ("data", ["mdtrt_id", "psn_no"]),
    "2601": ("data", ["psn_no", "omsgid", "oinfno"]),
    "3201": ("data", ["insutype", "clr_type", "setl_optins", "stmt_begndate", "stmt_enddate", "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "fixmedins_setl_cnt"]),
    "3202": ("data", ["setl_optins", "file_qury_no", "stmt_begndate", "stmt_enddate"]),
    "5201": ("data", ["psn_no", "begntime", "endtime", "med_type"]),
    "5203": ("data", ["psn_no", "setl_id", "mdtrt_id"]),
    "5204": ("data", ["psn_no", "setl_id", "mdtrt_id"]),
    "5206": ("data", ["psn_no", "cum_ym"]),
}  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0000",
            "310",
            "11",
            "2026-11-22",
            "2026-11-22 10:00:00",
            "1.005",
            "-1",
            "1e400",
            "NaN",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_settlement_inputs_get_clear_answers(
    make_client: ClientFactory, data: st.DataObject
) -> None:
    c = fuzz_client(make_client)
    infno = data.draw(st.sampled_from(sorted(FIELDS)))
    node, names = FIELDS[infno]
    row: dict[str, Any] = {name: data.draw(scalars) for name in names if data.draw(st.booleans())}
    for name, value in known_good(c).items():  # sometimes real ids, to get past the lookups
        if name in names and data.draw(st.booleans()):
            row[name] = value
    payload: Any = [row] if node == "feedetail" else row
    r = c.call(infno, flows.plain({node: payload}))
    assert r.status_code == 200
    body = r.json
    assert body["infcode"] in (0, -1), body
    if body["infcode"] == -1:
        assert body["err_msg"] and "系统内部错误" not in body["err_msg"], (infno, row, body)


_cache: dict[str, Any] = {}


def fuzz_client(make_client: ClientFactory) -> Any:
    if "client" not in _cache or _cache.get("factory") is not make_client:
        _cache.clear()
        _cache["factory"] = make_client
        _cache["client"] = make_client()
    return _cache["client"]


def known_good(c: Any) -> dict[str, Any]:
    if "good" not in _cache:
        p = patients(c, insutype="310", region="440300")[0]
        v = flows.outpatient(c, p, random.Random(1))
        _cache["good"] = {
            "psn_no": p.psn_no,
            "mdtrt_id": v.mdtrt_id,
            "setl_id": v.setl_id,
            "insutype": "310",
            "omsgid": v.settle_msgid,
        }
    good: dict[str, Any] = _cache["good"]
    return good

"""Tolerant where real clients differ (padding, unused codes, numbers out), strict where money is.

Issue 12: a HIS sent 1101's optional ``psn_cert_type`` as "1" and parsed ``age``/``balc`` as
numbers. These are the pure rules; the HTTP side is in tests/e2e/frontend.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.api.nhsa import fields
from yibao.api.nhsa.fields import InputError
from yibao.api.nhsa.handlers import _setlinfo_5203 as form_5203
from yibao.api.nhsa.handlers.person import numeric_1101
from yibao.registry.model import Enrolment, Person, build_1101
from yibao.wire import jsonio

W = "input.data"


def test_an_optional_code_is_padded_to_the_table_width() -> None:
    assert fields.code({"psn_cert_type": "1"}, "psn_cert_type", W, "psn_cert_type") == "01"
    assert fields.code({"psn_cert_type": 1}, "psn_cert_type", W, "psn_cert_type") == "01"
    assert fields.code({"psn_cert_type": "01"}, "psn_cert_type", W, "psn_cert_type") == "01"
    assert fields.code({"mdtrt_cert_type": "2"}, "mdtrt_cert_type", W, "mdtrt_cert_type") == "02"


def test_a_required_code_is_taken_as_sent_unless_asked() -> None:
    with pytest.raises(InputError, match="mdtrt_cert_type"):
        fields.code({"mdtrt_cert_type": "2"}, "mdtrt_cert_type", W, "mdtrt_cert_type",
                    required=True)  # fmt: skip
    got = fields.code({"psn_cert_type": "1"}, "psn_cert_type", W, "psn_cert_type",
                      required=True, pad=True)  # fmt: skip
    assert got == "01"


def test_padding_never_invents_a_code() -> None:
    for bad in ("98", "x1", "001", "-1", "1.0"):
        with pytest.raises(InputError, match=r"input.data.psn_cert_type: .*人员证件类型"):
            fields.code({"psn_cert_type": bad}, "psn_cert_type", W, "psn_cert_type")


def test_an_unused_optional_code_is_ignored_a_used_one_refused() -> None:
    data = {"psn_cert_type": "ZZ"}
    assert fields.code(data, "psn_cert_type", W, "psn_cert_type", unused=True) == ""
    with pytest.raises(InputError):
        fields.code(data, "psn_cert_type", W, "psn_cert_type", required=True, unused=True)


@given(st.text(alphabet="0123456789", min_size=1, max_size=3))
def test_a_padded_code_is_always_a_table_code_and_keeps_its_value(value: str) -> None:
    fixed = fields.padded_code("psn_cert_type", value)
    if fixed is not None:
        assert fixed in fields.codes.table("psn_cert_type")["codes"]
        assert int(fixed) == int(value) and len(fixed) > len(value)


def _person_1101(balance_fen: int) -> dict[str, object]:
    p = Person("4403000000000001", "01", "440301199001011234", "李四", "1", date(1990, 1, 1))
    enrolments = [
        Enrolment("310", "1", date(2020, 1, 1), "11", "440300"),
        Enrolment("390", "1", date(2020, 1, 1), "11", "440300"),
    ]
    return build_1101(p, enrolments, [], balance_fen, date(2026, 6, 30))


@given(st.integers(min_value=0, max_value=10**12))
def test_1101_numbers_leave_as_json_numbers_exact_to_the_fen(balance_fen: int) -> None:
    out = numeric_1101(_person_1101(balance_fen))
    body = json.loads(jsonio.dumps_bytes(out), parse_float=Decimal)
    assert body["baseinfo"]["age"] == Decimal("36.0")
    rows = {r["insutype"]: r["balc"] for r in body["insuinfo"]}
    assert rows["310"] == Decimal(balance_fen) / 100 and rows["390"] == 0
    assert isinstance(rows["310"], Decimal)  # a JSON number, not a string
    text = jsonio.dumps(out)
    assert '"age":36.0' in text and f'"balc":{Decimal(balance_fen) / 100:.2f}' in text


def test_1101_numbers_keep_other_fields_and_bad_text() -> None:
    out = numeric_1101({"baseinfo": {"age": "n/a", "psn_no": "1"}, "insuinfo": [{"balc": 3}]})
    assert out["baseinfo"] == {"age": "n/a", "psn_no": "1"}
    assert out["insuinfo"] == [{"balc": Decimal("3.00")}]
    assert numeric_1101({"other": 1}) == {"other": 1}


def test_5203_has_the_spec_field_list_in_order() -> None:
    national = {"setl_id": "S1", "psn_part_amt": Decimal("10.00"), "psn_cash_pay": Decimal("4.00"),
                "setl_time": "2026-06-30 10:00:00", "hifdm_pay": Decimal("0.00")}  # fmt: skip
    out = form_5203.setlinfo_5203(
        national, flxempe_flag="0", nwb="0", insu_optins="440300", emp_name="", pay_loc="2",
        institution={"fixmedins_code": "H1"}, begn=datetime(2026, 6, 30, 9), end=None,
        refd="1", year="2026", dise_codg="", dise_name="", opter_id="0001", opter_name="收费员",
    )  # fmt: skip
    assert tuple(out)[: len(form_5203.FIELDS_5203)] == form_5203.FIELDS_5203
    assert len(form_5203.FIELDS_5203) == len(set(form_5203.FIELDS_5203)) == 61
    assert out["psn_pay"] == Decimal("10.00") and out["cash_payamt"] == Decimal("4.00")
    assert out["begndate"] == out["enddate"] == "2026-06-30"
    assert out["opt_time"] == "2026-06-30 10:00:00" and out["refd_setl_flag"] == "1"


def test_refd_setl_flag_marks_a_cancellation_and_what_it_cancelled() -> None:
    assert form_5203.refd_setl_flag("settle", None) == "0"
    assert form_5203.refd_setl_flag("settle", "S2") == "1"
    assert form_5203.refd_setl_flag("cancel", None) == "1"


def test_newborn_flag_is_the_neonatal_period() -> None:
    assert form_5203.nwb_flag(date(2026, 6, 1), date(2026, 6, 29)) == "1"
    assert form_5203.nwb_flag(date(2026, 6, 1), date(2026, 6, 30)) == "0"
    assert form_5203.nwb_flag(date(1990, 1, 1), date(2026, 6, 30)) == "0"


def test_form_bodies_as_browsers_curl_and_old_clients_send_them() -> None:
    from urllib.parse import quote

    from yibao.api.nhsa.asgi import form_envelope

    env = '{"infno":"9001","input":{"signIn":{"opter_no":"0001 张"}}}'
    assert form_envelope(("=" + quote(env, safe="")).encode()) == env.encode()  # browser page
    assert form_envelope(quote(env, safe="").encode()) == env.encode()  # curl --data-urlencode
    assert form_envelope(("jsonStr=" + quote(env) + "&x=1").encode()) == env.encode()
    assert form_envelope(env.encode()) == env.encode()  # raw JSON, form content type

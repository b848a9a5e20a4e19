"""The request envelope: tolerant where clients differ, strict where it matters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from yibao.wire import envelope as env
from yibao.wire import jsonio


def request(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "infno": "1101",
        "msgid": "H44030000001202611221000000001",
        "mdtrtarea_admvs": "440300",
        "insuplc_admdvs": "",
        "recer_sys_code": "YBXT",
        "dev_no": None,
        "dev_safe_info": "",
        "cainfo": "",
        "signtype": "SM2",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "0001",
        "opter_name": "张三",
        "inf_time": "2026-11-22 10:00:00",
        "fixmedins_code": "H44030000001",
        "fixmedins_name": "深圳市人民医院",
        "sign_no": "440300202611220800000000000001",
        "input": {"data": {"mdtrt_cert_type": "02"}},
    }
    base.update(over)
    return base


def test_parses_the_spec_example() -> None:
    e = env.parse_envelope(request())
    assert e.infno == "1101" and e.opter_type == "1"
    assert e.inf_time == datetime(2026, 11, 22, 10, 0, 0)
    assert e.input == {"data": {"mdtrt_cert_type": "02"}}
    assert not e.is_cross_region and e.insured_admdvs == "440300"


def test_tolerates_real_client_variants() -> None:
    e = env.parse_envelope(
        request(
            opter_type=2,
            insuplc_admdvs=None,
            msgid="231228092744-H41130200746-6162",
            input='{"data":{"psn_no":"1"}}',
            fixmedins_soft_fcty="某厂商",
        )
    )
    assert e.opter_type == "2" and e.insuplc_admdvs == ""
    assert e.input == {"data": {"psn_no": "1"}}
    assert e.extra == {"fixmedins_soft_fcty": "某厂商"}


def test_cross_region() -> None:
    e = env.parse_envelope(request(insuplc_admdvs="421381"))
    assert e.is_cross_region and e.insured_admdvs == "421381"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"infno": ""}, "infno"),
        ({"infno": "11"}, "infno"),
        ({"msgid": None}, "msgid"),
        ({"msgid": "x" * 65}, "msgid"),
        ({"msgid": "有中文"}, "msgid"),
        ({"mdtrtarea_admvs": "4403"}, "mdtrtarea_admvs"),
        ({"insuplc_admdvs": "abc"}, "insuplc_admdvs"),
        ({"opter_type": "4"}, "opter_type"),
        ({"inf_time": "2026/11/22"}, "inf_time"),
        ({"fixmedins_code": ""}, "fixmedins_code"),
        ({"recer_sys_code": ""}, "recer_sys_code"),
        ({"infver": "V1.0.0.0"}, "infver"),
        ({"opter": True}, "opter"),
        ({"input": None}, "input"),
        ({"input": []}, "input"),
        ({"input": "not json"}, "input"),
        ({"opter_name": Decimal("1.5")}, "opter_name"),
    ],
)
def test_errors_name_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(env.EnvelopeError) as err:
        env.parse_envelope(request(**over))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_not_an_object() -> None:
    with pytest.raises(env.EnvelopeError):
        env.parse_envelope([1, 2])


def test_response_shape_and_formats() -> None:
    at = datetime(2026, 11, 22, 10, 0, 0, 123456)
    ref = env.refmsgid("440300", at, 42)
    assert ref == "440300202611221000000000000042" and len(ref) == 30
    assert env.ms_time(at) == "20261122100000123"
    body = env.response(
        infcode=0, inf_refmsgid=ref, refmsg_time="a", respond_time="b", output={"x": 1}
    )
    assert list(body)[:6] == [
        "infcode",
        "inf_refmsgid",
        "refmsg_time",
        "respond_time",
        "err_msg",
        "warn_msg",
    ]
    assert body["infcode"] == 0 and body["err_msg"] is None


def test_msgid_national_format() -> None:
    m = env.make_msgid("H44030000001", datetime(2026, 11, 22, 9, 30, 0), 12345)
    assert m == "H44030000001202611220930002345" and len(m) == 30


@pytest.mark.parametrize(
    ("raw", "code"), [(0, 0), ("0", 0), (-1, -1), ("-1", -1), (None, None), ("", None)]
)
def test_parse_infcode(raw: object, code: int | None) -> None:
    assert env.parse_infcode(raw) == code


def test_json_keeps_decimals_exact() -> None:
    data = jsonio.loads(b'{"a": 12.30, "b": 1, "c": "x"}')
    assert data["a"] == Decimal("12.30") and str(data["a"]) == "12.30"
    assert jsonio.dumps({"a": Decimal("12.30"), "z": "中"}) == '{"a":12.30,"z":"中"}'
    assert jsonio.canonical({"b": [1, {"d": 1, "c": 2}], "a": None}) == (
        '{"a":null,"b":[1,{"c":2,"d":1}]}'
    )


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"{", b"NaN", b'{"a": Infinity}'])
def test_json_errors(raw: bytes) -> None:
    with pytest.raises(jsonio.JsonError):
        jsonio.loads(raw)


def test_json_big_and_exact_numbers() -> None:
    data = jsonio.loads(b'{"a": 12345678901234567.89, "b": 123456789012345678901234567890}')
    assert data["a"] == Decimal("12345678901234567.89")
    assert data["b"] == 123456789012345678901234567890
    assert jsonio.loads(b"\xef\xbb\xbf{}") == {}

"""9001 签到 / 9002 签退 over HTTP, and which transactions need a valid sign_no."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.e2e.nhsa.conftest import ClientFactory
from yibao.institutions import store

QUERY = {"medinsinfo": {"fixmedins_type": "1"}}


def test_sign_in_required_then_sign_out_invalidates(make_client: ClientFactory) -> None:
    c = make_client()
    r = c.call("1201", QUERY)
    assert r.infcode == -1 and r.err_msg.startswith("sign_no:")
    sign_no = c.sign_in(mac="00-16-3E-00-00-01", ip="10.0.0.8")
    assert len(sign_no) == 30
    assert c.call("1201", QUERY).infcode == 0
    other_terminal = make_client()
    assert other_terminal.sign_in(mac="00-16-3E-00-00-02", ip="10.0.0.9") == sign_no
    out = c.sign_out()
    assert out.infcode == 0 and "sign_time" in out.output["signoutoutb"]
    other_terminal.sign_no = sign_no
    r = other_terminal.call("1201", QUERY)
    assert r.infcode == -1 and "签退" in r.err_msg
    again = c.call("9002", {"signOut": {"sign_no": sign_no, "opter_no": "0001"}})
    assert again.infcode == -1 and "已签退" in again.err_msg


def test_sign_in_input_errors_name_fields(make_client: ClientFactory) -> None:
    c = make_client()
    r = c.call("9001", {"signIn": {"opter_no": "0001", "mac": "", "ip": "1"}})
    assert r.infcode == -1 and r.err_msg.startswith("input.signIn.mac:")
    r = c.call("9001", {"signin": {}})
    assert r.infcode == -1 and r.err_msg.startswith("input.signIn:")


def test_wrong_region_and_unknown_infno(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    c.mdtrtarea_admvs = "440100"
    r = c.call("1201", QUERY)
    assert r.infcode == -1 and r.err_msg.startswith("mdtrtarea_admvs:")
    c.mdtrtarea_admvs = "440300"
    r = c.call("8888", {"data": {}})
    assert r.infcode == -1 and r.err_msg.startswith("infno:")


def test_per_service_path_and_path_mismatch(make_client: ClientFactory) -> None:
    c = make_client()
    body = c.envelope("9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}})
    r = c._http.post(
        c.base_url + "/ebus/rio_fsi/fsi/api/signInSignOutService/signIn",
        headers=c.headers("9001"),
        json=body,
    )
    assert r.status_code == 200 and r.json()["infcode"] == 0
    t = make_client(transport="tif")
    wrong = t.envelope("9001", {"signIn": {"opter_no": "0001", "mac": "m", "ip": "i"}})
    r = t._http.post(
        t.base_url + "/ebus/gdyb_inf/poc/hsa/hgs/1201", headers=t.headers("1201"), json=wrong
    )
    assert r.json()["infcode"] == -1 and r.json()["err_msg"].startswith("infno:")


def test_dictionary_and_institution_queries(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    r = c.call(
        "1901",
        {
            "data": {
                "type": "mdtrt_cert_type",
                "parentValue": "",
                "admdvs": "440300",
                "date": "2026-11-22",
                "valiFlag": "1",
            }
        },
    )
    assert r.infcode == 0
    assert (r.output["list"][0]["value"], r.output["list"][0]["label"]) == ("01", "医保电子凭证")
    r = c.call("1901", {"data": {"type": "no_such"}})
    assert r.infcode == -1 and r.err_msg.startswith("input.data.type:")
    r = c.call("1201", {"medinsinfo": {"fixmedins_type": "2", "fixmedins_name": "深圳"}})
    assert {x["fixmedins_code"] for x in r.output["medinsinfo"]} == {"P44030000001", "P44030000002"}


def test_paused_institution_is_refused(make_client: ClientFactory, seeded: Engine) -> None:
    c = make_client("H44040000002")
    c.sign_in()
    with seeded.begin() as conn:
        store.set_online_flag(conn, "H44040000002", "0")
    try:
        r = c.call("1201", QUERY)
        assert r.infcode == -1 and "暂停联网" in r.err_msg
    finally:
        with seeded.begin() as conn:
            store.set_online_flag(conn, "H44040000002", "1")
    assert c.call("1201", QUERY).infcode == 0

"""Pure parts of the cross-province relay: the request message (中途结算 flag included), the hop
signature, and which scanned 医保码 belong to another province's Yibao."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from yibao.hub.model import RelayRequest, signature, signature_ok
from yibao.hub.settings import HubSettings
from yibao.hub.voucher_relay import issuing_region, token_region
from yibao.settlement.model import Item
from yibao.voucher.model import CodeClaims, sign_code


def _request(**kw: object) -> RelayRequest:
    base: dict[str, object] = dict(
        relay_id="H44010000001-1", insuplc_admdvs="421381", mdtrtarea_admvs="440100",
        fixmedins_code="H44010000001", fixmedins_name="广州市第一人民医院", hosp_lv="2",
        psn_cert_type="01", certno="421381198005010013", psn_name="广水参保人", insutype="390",
        med_type="21", begndate=date(2026, 11, 1),
        items=(Item("F1", "X0001", "治疗费", "201", "01", "05", 86_000, Decimal(1),
                    Decimal("860")),),
    )  # fmt: skip
    base.update(kw)
    return RelayRequest(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("mid", [False, True])
def test_request_round_trips_with_the_mid_settlement_flag(mid: bool) -> None:
    req = _request(mid_setl=mid, enddate=date(2026, 11, 3), dise_codg="J18.900")
    back = RelayRequest.from_json(req.to_json())
    assert back == req and back.mid_setl is mid
    assert back.to_json()["mid_setl"] is mid


def test_a_request_without_the_flag_is_a_final_settlement() -> None:
    raw = _request().to_json()
    del raw["mid_setl"]
    assert RelayRequest.from_json(raw).mid_setl is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mdtrtarea_admvs": "420100"}, "insuplc_admdvs"),  # same province: not 跨省
        ({"certno": ""}, "certno"),
        ({"items": []}, "items"),
        ({"begndate": "2026/11/01"}, "begndate"),
        ({"relay_id": "x" * 65}, "relay_id"),
    ],
)
def test_bad_requests_name_the_field(change: dict[str, object], field: str) -> None:
    raw = {**_request().to_json(), **change}
    with pytest.raises(ValueError, match=field):
        RelayRequest.from_json(raw)


def test_hop_signature_covers_method_path_time_and_body() -> None:
    sig = signature("s", "GET", "/api/hub/clearing/2026-10/44", "1000", b"")
    assert signature_ok("s", "GET", "/api/hub/clearing/2026-10/44", "1000", b"", sig, 1100)
    assert not signature_ok("s", "GET", "/api/hub/clearing/2026-10/42", "1000", b"", sig, 1100)
    assert not signature_ok("s", "POST", "/api/hub/clearing/2026-10/44", "1000", b"", sig, 1100)
    assert not signature_ok("s", "GET", "/api/hub/clearing/2026-10/44", "1000", b"", sig, 1301)


def _code(admdvs: str) -> str:
    claims = CodeClaims("k1", "jti-1", "4213810000000001", admdvs, "wechat", 1000, 1060)
    return sign_code(b"k" * 32, claims)


def test_a_code_of_another_province_is_relayed_to_it() -> None:
    gd = HubSettings(secret="s", node="gd", province="44", hub_url="http://hub", peers={})
    assert issuing_region(_code("421381"), gd) == "421381"
    assert issuing_region(_code("440100"), gd) is None  # Guangdong's own code: local exchange
    assert issuing_region("not-a-code", gd) is None  # the local exchange says 格式无效
    alone = HubSettings(secret="", node="x", province="", hub_url="", peers={})
    assert issuing_region(_code("421381"), alone) is None  # no hub configured: local as before


def test_a_token_of_another_province_is_resolved_there() -> None:
    gd = HubSettings(secret="s", node="gd", province="44", hub_url="http://hub", peers={})
    assert token_region("421381ec" + "0" * 32, gd) == "421381"
    assert token_region("440100ec" + "0" * 32, gd) is None
    assert token_region("garbage", gd) is None

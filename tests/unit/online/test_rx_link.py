"""Whether a pharmacy purchase may fill a prescription (2102 linked to 7xxx): the rule, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from yibao.encounter.fees import FeeLine
from yibao.online.model import OnlineError
from yibao.online.rx_link import check, prescription_of

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SHOP = "P44030000001"


def line(code: str = "XJ01", rxno: str = "RX1", flag: str = "1") -> FeeLine:
    return FeeLine(
        "0001", code, "YD0", 100, Decimal(1), Decimal(1), extra={"rxno": rxno, "rx_circ_flag": flag}
    )


def rx(**over: Any) -> dict[str, Any]:
    base = {"phase": "uploaded", "rx_stas": "1", "used_stas": "1", "chk_stas": "1",
            "vali_end_time": (NOW + timedelta(days=1)).isoformat(),
            "dispense": {"fixmedinsCode": SHOP, "rxSignVerifySn": "SV1"},
            "precheck": {"rxdrugdetail": [{"medListCodg": "XJ01"}]}}  # fmt: skip
    return {**base, **over}


def test_a_good_fill_passes() -> None:
    check(rx(), SHOP, [line()], NOW)


@pytest.mark.parametrize(
    ("over", "message"),
    [({"used_stas": "2"}, "已使用"), ({"rx_stas": "3"}, "已撤销"),
     ({"vali_end_time": NOW.isoformat()}, "已失效"), ({"phase": "checked"}, "未上传"),
     ({"dispense": {"fixmedinsCode": "P44030000002", "rxSignVerifySn": "SV1"}}, "未由本机构下载"),
     ({"dispense": {"fixmedinsCode": SHOP}}, "签名核验"), ({"chk_stas": "0"}, "审方")],
)  # fmt: skip
def test_every_rule_refuses(over: dict[str, Any], message: str) -> None:
    with pytest.raises(OnlineError, match=message):
        check(rx(**over), SHOP, [line()], NOW)


def test_a_drug_not_on_the_prescription_is_refused() -> None:
    with pytest.raises(OnlineError, match="不在处方药品中"):
        check(rx(), SHOP, [line("XJ99")], NOW)


def test_which_prescription_a_purchase_fills() -> None:
    assert prescription_of([line(flag="0", rxno="")]) == ""
    assert prescription_of([line(), line()]) == "RX1"
    with pytest.raises(OnlineError, match="一张电子处方"):
        prescription_of([line(rxno="RX1"), line(rxno="RX2")])
    with pytest.raises(OnlineError, match="须传处方号"):
        prescription_of([line(rxno="")])

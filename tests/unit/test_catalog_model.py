"""Pure catalogue rules (医保目录): layers, 甲/乙/丙, first-pay, price limit, limited use, dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from yibao.catalog.model import (
    CatalogDataError,
    CatalogEntry,
    CatalogRow,
    ClassifiedLine,
    FeeLine,
    LineRefusal,
    Region,
    SelfpayDefault,
    classify_line,
    region_chain,
    resolve_entry,
    split_line,
)

D = date(2025, 7, 1)
REGIONS = {
    "440000": Region("440000", "广东省"),
    "440300": Region("440300", "深圳市", "440000"),
    "440100": Region("440100", "广州市", "440000"),
    "441481": Region("441481", "兴宁市", "440000"),
}
DEFAULTS = [
    SelfpayDefault(
        "440000", date(2024, 1, 1), None, Decimal("0.10"), assumed=True, reason="未找到"
    ),
    SelfpayDefault("440300", date(2023, 10, 1), None, Decimal("0.01"), reference="深圳第二十九条"),
]


def drug(code: str = "X1", lv: str = "02", **kw: object) -> CatalogRow:
    base: dict[str, object] = {
        "admdvs": "440000",
        "med_list_codg": code,
        "begndate": date(2024, 1, 1),
        "name": "测试药片",
        "list_type": "101",
        "chrgitm_lv": lv,
        "med_chrgitm_type": "09",
        "prcunt": "片",
    }
    base.update(kw)
    return CatalogRow(**base)  # type: ignore[arg-type]


def resolve(rows: list[CatalogRow], admdvs: str = "440300", on: date = D, code: str = "X1"):
    return resolve_entry(code, admdvs, region_chain(admdvs, REGIONS), rows, DEFAULTS, on)


def line(amount: int, pric: str, cnt: str, appr: str = "0", code: str = "X1") -> FeeLine:
    return FeeLine("1", code, Decimal(pric), Decimal(cnt), amount, "H1", appr)


def test_region_chain_province_first_and_fallbacks() -> None:
    assert region_chain("440300", REGIONS) == ["440000", "440300"]
    assert region_chain("440399", REGIONS) == ["440000", "440300"]  # 市本级
    assert region_chain("440500", REGIONS) == ["440000"]  # no own layer: province list
    assert region_chain("441481", REGIONS) == ["440000", "441481"]
    assert region_chain("110000", REGIONS) == []


def test_class_a_has_no_first_pay() -> None:
    e = resolve([drug(lv="01")])
    assert e is not None and e.chrgitm_lv == "01" and e.selfpay_prop == 0


def test_class_b_takes_city_default_over_province_default() -> None:
    e = resolve([drug()], admdvs="440300")
    assert e is not None and e.selfpay_prop == Decimal("0.01") and not e.selfpay_assumed
    g = resolve([drug()], admdvs="440100")
    assert g is not None and g.selfpay_prop == Decimal("0.10") and g.selfpay_assumed
    assert "假设值" in g.selfpay_source


def test_item_specific_ratio_in_same_layer_beats_default() -> None:
    rows = [drug(), drug(admdvs="440300", action="change", selfpay_prop=Decimal("0.3"))]
    e = resolve(rows)
    assert e is not None and e.selfpay_prop == Decimal("0.3")
    assert e.sources["selfpay_prop"] == "440300"
    # a province item ratio loses to the city's default (most specific layer wins)
    rows2 = [drug(selfpay_prop=Decimal("0.2"))]
    e2 = resolve(rows2)
    assert e2 is not None and e2.selfpay_prop == Decimal("0.01")
    assert resolve(rows2, admdvs="440100").selfpay_prop == Decimal("0.2")  # type: ignore[union-attr]


def test_city_override_changes_class_and_price_limit() -> None:
    rows = [
        drug(lv="03", pric_uplmt_amt=500),
        drug(admdvs="440300", action="change", chrgitm_lv="02", pric_uplmt_amt=300),
    ]
    sz = resolve(rows)
    gz = resolve(rows, admdvs="440100")
    assert sz is not None and gz is not None
    assert (sz.chrgitm_lv, sz.pric_uplmt_amt, sz.sources["chrgitm_lv"]) == ("02", 300, "440300")
    assert (gz.chrgitm_lv, gz.pric_uplmt_amt) == ("03", 500)


def test_city_can_clear_a_price_limit_remove_and_add() -> None:
    rows = [
        drug(pric_uplmt_amt=500),
        drug(admdvs="440300", action="change", clear_pric_uplmt=True),
        drug("X2"),
        drug("X2", admdvs="440300", action="remove"),
        drug("L1", admdvs="440300", lv="01", name="深圳本地项目"),
    ]
    assert resolve(rows).pric_uplmt_amt is None  # type: ignore[union-attr]
    assert resolve(rows, code="X2") is None
    assert resolve(rows, admdvs="440100", code="X2") is not None
    assert resolve(rows, code="L1").name == "深圳本地项目"  # type: ignore[union-attr]
    assert resolve(rows, admdvs="440100", code="L1") is None


def test_validity_dates_inclusive_and_versions() -> None:
    rows = [
        drug(enddate=date(2024, 12, 31), pric_uplmt_amt=900),
        drug(begndate=date(2025, 1, 1), pric_uplmt_amt=600),
    ]
    assert resolve(rows, on=date(2024, 12, 31)).pric_uplmt_amt == 900  # type: ignore[union-attr]
    assert resolve(rows, on=date(2025, 1, 1)).pric_uplmt_amt == 600  # type: ignore[union-attr]
    assert resolve(rows, on=date(2023, 12, 31)) is None
    # a city override only in force for part of the year
    rows2 = [
        drug(),
        drug(
            admdvs="440300",
            action="change",
            chrgitm_lv="01",
            begndate=date(2025, 3, 1),
            enddate=date(2025, 6, 30),
        ),
    ]
    assert resolve(rows2, on=date(2025, 6, 30)).chrgitm_lv == "01"  # type: ignore[union-attr]
    assert resolve(rows2, on=date(2025, 7, 1)).chrgitm_lv == "02"  # type: ignore[union-attr]


def test_missing_ratio_is_a_data_error() -> None:
    with pytest.raises(CatalogDataError, match="先行自付比例"):
        resolve_entry("X1", "440000", ["440000"], [drug()], [], D)


def _classify(rows: list[CatalogRow], fl: FeeLine, admdvs: str = "440300") -> ClassifiedLine:
    out = classify_line(fl, resolve(rows, admdvs=admdvs, code=fl.med_list_codg))
    assert isinstance(out, ClassifiedLine)
    return out


def test_unknown_code_is_full_self_pay() -> None:
    c = _classify([drug()], line(1000, "10", "1", code="NOPE"))
    assert not c.item.in_catalog and c.item.chrgitm_lv == "03" and "不在" in c.memo
    assert split_line(c.item).fulamt_ownpay_amt == 1000


def test_split_class_b_with_first_pay_and_over_limit() -> None:
    # price 12.00 × 3, limit 10.00 → over 6.00; allowed 30.00 × 1% = 0.30
    c = _classify([drug(pric_uplmt_amt=1000)], line(3600, "12", "3"))
    s = split_line(c.item)
    assert (s.fulamt_ownpay_amt, s.overlmt_amt, s.preselfpay_amt, s.inscp_scp_amt) == (
        0,
        600,
        30,
        2970,
    )
    assert c.item.pric_uplmt_amt == 1000 and c.item.selfpay_prop == Decimal("0.01")


def test_split_class_a_below_limit_all_in_scope() -> None:
    c = _classify([drug(lv="01", pric_uplmt_amt=2000)], line(3600, "12", "3"))
    assert split_line(c.item) == type(split_line(c.item))(0, 0, 0, 3600)


def test_split_rounds_half_up_and_refund_mirrors() -> None:
    # 10% of 0.25 → 0.025 → 0.03 (half up); limit × fractional count rounds half up too
    c = _classify([drug()], line(25, "0.25", "1"), admdvs="440100")
    assert split_line(c.item).preselfpay_amt == 3
    pos = _classify([drug(pric_uplmt_amt=333)], line(1000, "10", "1"), admdvs="440100")
    neg = _classify([drug(pric_uplmt_amt=333)], line(-1000, "10", "-1"), admdvs="440100")
    p, n = split_line(pos.item), split_line(neg.item)
    assert (n.overlmt_amt, n.preselfpay_amt, n.inscp_scp_amt) == (
        -p.overlmt_amt,
        -p.preselfpay_amt,
        -p.inscp_scp_amt,
    )
    assert p.overlmt_amt == 667


@pytest.mark.parametrize(("appr", "lv"), [("1", "02"), ("0", "03"), ("2", "03")])
def test_limited_use_needs_hospital_approval(appr: str, lv: str) -> None:
    rows = [drug(lmt_used_flag="1", lmt_usescp="限二线用药")]
    c = _classify(rows, line(1000, "10", "1", appr=appr))
    assert c.item.chrgitm_lv == lv and c.item.lmt_used_flag == "1"
    assert c.item.hosp_appr_flag == appr
    if lv == "03":
        assert "限制使用" in c.memo and split_line(c.item).fulamt_ownpay_amt == 1000


def test_amount_mismatch_names_the_line() -> None:
    out = classify_line(FeeLine("SN-7", "X1", Decimal("10"), Decimal("3"), 3002), resolve([drug()]))
    assert isinstance(out, LineRefusal)
    assert out.field == "det_item_fee_sumamt" and "SN-7" in out.message
    ok = classify_line(FeeLine("SN-8", "X1", Decimal("10"), Decimal("3"), 3001), resolve([drug()]))
    assert isinstance(ok, ClassifiedLine)


def test_bad_approval_flag_refused() -> None:
    out = classify_line(line(1000, "10", "1", appr="9"), None)
    assert isinstance(out, LineRefusal) and out.field == "hosp_appr_flag"


def test_flags_carried_to_item() -> None:
    c = _classify([drug(hi_nego_drug_flag="1", vol_procurement_flag="1")], line(100, "1", "1"))
    assert c.item.hi_nego_drug_flag == "1" and c.item.vol_procurement_flag == "1"
    assert isinstance(c.entry, CatalogEntry) and c.entry.list_type_name == "西药中成药"

"""The engine speaks the national code tables (codes/data/*.yaml)."""

from __future__ import annotations

from datetime import date

from yibao import codes
from yibao.policy.loader import resolve
from yibao.settlement.engine import FUND_NAMES, LEVEL_OF_HOSP_LV


def test_every_fund_the_engine_reports_is_a_national_fund_pay_type() -> None:
    for code, name in FUND_NAMES.items():
        assert codes.is_valid("fund_pay_type", code), code
        assert (
            codes.label("fund_pay_type", code).replace("城镇", "") in name.replace("城镇", "")
            or name
        )


def test_every_mapped_med_type_is_a_national_code() -> None:
    mapping = resolve("440300", date(2025, 7, 1)).value("med_type.setting")
    assert all(codes.is_valid("med_type", m) for m in mapping)


def test_every_national_hospital_level_maps_to_a_deductible_level() -> None:
    assert all(lv in LEVEL_OF_HOSP_LV for lv in codes.table("hosp_lv")["codes"])


def test_tables_the_engine_reads() -> None:
    for name in ("insutype", "psn_type", "acct_used_flag", "psn_setlway"):
        assert codes.table(name)["codes"]
    assert codes.label("acct_used_flag", "2") == "使用共济人个账"

"""Registry model: enrolment activity, age, continuous months, snapshot, 1101 shape, row checks."""

from datetime import date

import pytest

from yibao.registry import rows
from yibao.registry.certs import compose_id18
from yibao.registry.model import (
    AssistanceIdentity,
    Enrolment,
    NotEnrolled,
    Person,
    age_on,
    build_1101,
    build_snapshot,
    full_months,
)

ID = compose_id18("440106", date(1960, 3, 15), 11)
P = Person(
    "4401000000000001", "01", ID, "张三", "1", date(1960, 3, 15), "1", "13800000000", "石牌街道"
)


def test_age_and_months() -> None:
    assert age_on(date(1960, 3, 15), date(2026, 3, 14)) == 65
    assert age_on(date(1960, 3, 15), date(2026, 3, 15)) == 66
    assert full_months(date(2025, 1, 31), date(2025, 3, 30)) == 1
    assert full_months(date(2025, 1, 31), date(2025, 3, 31)) == 2
    assert full_months(date(2026, 1, 1), date(2025, 1, 1)) == 0


def test_enrolment_active_on() -> None:
    e = Enrolment("310", "1", date(2020, 1, 1), "21", "440100")
    assert e.active_on(date(2020, 1, 1)) and not e.active_on(date(2019, 12, 31))
    paused = Enrolment(
        "310", "2", date(2020, 1, 1), "11", "440100", paus_insu_date=date(2024, 7, 1)
    )
    assert paused.active_on(date(2024, 6, 30)) and not paused.active_on(date(2024, 7, 1))
    assert not Enrolment("310", "3", date(2020, 1, 1), "11", "440100").active_on(date(2024, 1, 1))


def test_snapshot_selects_insutype_and_valid_assistance() -> None:
    enrs = [
        Enrolment("310", "1", date(2020, 6, 1), "21", "440100", emp_name="单位"),
        Enrolment("320", "1", date(2020, 6, 1), "21", "440100"),
        Enrolment("390", "4", date(2010, 1, 1), "50", "441481", paus_insu_date=date(2020, 5, 31)),
    ]
    idents = [
        AssistanceIdentity("239903", date(2025, 1, 1), date(2025, 12, 31)),
        AssistanceIdentity("239901", date(2027, 1, 1)),
        AssistanceIdentity("03", date(2000, 1, 1)),
    ]
    s = build_snapshot(P, enrs, idents, 12345, "310", date(2025, 6, 1))
    assert (s.insutype, s.psn_type, s.insuplc_admdvs, s.age) == ("310", "21", "440100", 65)
    assert s.cvlserv_flag  # active 320 enrolment
    assert s.assistance_classes == ("dibao",)
    assert s.continuous_months == 60
    assert s.supplementary_insutypes == ("320",)
    with pytest.raises(NotEnrolled):
        build_snapshot(P, enrs, idents, 0, "390", date(2025, 6, 1))


def test_1101_has_national_field_names() -> None:
    out = build_1101(
        P,
        [Enrolment("310", "1", date(2020, 6, 1), "11", "440100", emp_name="单位")],
        [AssistanceIdentity("239903", date(2025, 1, 1), date(2025, 12, 31))],
        12345,
        date(2025, 6, 1),
    )
    base = out["baseinfo"]
    assert isinstance(base, dict)
    assert set(base) >= {
        "psn_no",
        "psn_cert_type",
        "certno",
        "psn_name",
        "gend",
        "naty",
        "brdy",
        "age",
    }
    insu = out["insuinfo"]
    assert isinstance(insu, list)
    assert insu[0]["balc"] == "123.45" and insu[0]["insuplc_admdvs"] == "440100"
    assert set(insu[0]) >= {
        "insutype",
        "psn_type",
        "psn_insu_stas",
        "psn_insu_date",
        "cvlserv_flag",
        "emp_name",
    }
    idet = out["idetinfo"]
    assert isinstance(idet, list)
    assert idet[0]["psn_idet_type"] == "239903" and idet[0]["endtime"] == "2025-12-31 23:59:59"


def _row(**over: str) -> dict[str, str]:
    base = {
        "psn_cert_type": "01",
        "certno": ID,
        "psn_name": "张三",
        "gend": "1",
        "brdy": "1960-03-15",
        "insutype": "310",
        "psn_insu_stas": "1",
        "psn_insu_date": "2020-06-01",
        "psn_type": "11",
        "insuplc_admdvs": "440100",
        "emp_no": "E1",
        "emp_name": "单位",
    }
    base.update(over)
    return base


def test_row_checks_name_field_and_rule() -> None:
    assert isinstance(rows.check_row(2, _row()), rows.ImportRow)
    errs = rows.check_row(
        7, _row(certno=ID[:-1] + ("0" if ID[-1] != "0" else "1"), gend="3", insuplc_admdvs="4401")
    )
    assert isinstance(errs, list)
    fields = {e.field for e in errs}
    assert fields == {"certno", "gend", "insuplc_admdvs"}
    assert all(e.row == 7 for e in errs)
    errs = rows.check_row(3, _row(brdy="1961-03-15"))
    assert isinstance(errs, list) and errs[0].reason == "出生日期与身份证号码不一致"
    errs = rows.check_row(3, _row(emp_no=""))
    assert isinstance(errs, list) and errs[0].field == "emp_no"


def test_file_checks_across_rows() -> None:
    checked = rows.check_rows(
        [
            (2, _row()),
            (3, _row()),
            (4, _row(insutype="330", psn_name="李四")),
            (5, _row(insutype="330")),
        ]
    )
    assert [(e.row, e.field) for e in checked.errors] == [(3, "insutype"), (4, "certno")]
    assert [r.row for r in checked.good] == [2, 5]
    assert "第3行 insutype" in rows.format_report(checked.errors)

"""Settlement-list rules (4101): each named rule refuses with the field path; status machine; QC."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from yibao.payment.model import qc
from yibao.payment.model import setl_list as sl
from yibao.payment.model.case import Status

GOOD: dict[str, Any] = {
    "setlinfo": {
        "psn_no": "P1",
        "mdtrt_id": "M1",
        "setl_id": "S1",
        "ntly": "CHN",
        "prfs": "90",
        "dscg_caty": "A02",
        "bill_code": "44",
        "bill_no": "N1",
        "biz_sn": "B1",
        "setl_begn_date": "2025-07-01",
        "setl_end_date": "2025-07-06",
        "medins_fill_dept": "病案室",
        "medins_fill_psn": "王",
        "adm_time": "2025-07-01 09:00:00",
        "dscg_time": "2025-07-06 10:00:00",
        "dscg_way": "1",
        "vent_used_dura": "4/2/30",
    },
    "diseinfo": [
        {
            "diag_type": "1",
            "diag_code": "J18.900",
            "diag_name": "肺炎",
            "adm_cond_type": "1",
            "maindiag_flag": "1",
        },
        {
            "diag_type": "1",
            "diag_code": "A41.900",
            "diag_name": "脓毒症",
            "adm_cond_type": "2",
            "maindiag_flag": "0",
        },
    ],
    "oprninfo": [
        {
            "oprn_oprt_type": "1",
            "oprn_oprt_name": "呼吸机",
            "oprn_oprt_code": "96.7201",
            "oper_dr_code": "D1",
        },
    ],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    d = copy.deepcopy(GOOD)
    node: Any = d
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return d


def test_a_good_list_parses_with_its_figures() -> None:
    lst = sl.parse(GOOD)
    assert lst.diagnoses() == ("J18.900", ("A41.900",))
    assert lst.procedures() == ("96.7201", ())
    assert lst.stay_days() == 5 and lst.vent_minutes == 4 * 1440 + 2 * 60 + 30
    assert lst.weight_g is None and lst.warnings == ()


@pytest.mark.parametrize(
    ("payload", "path", "rule"),
    [
        ({**GOOD, "setlinfo": [GOOD["setlinfo"]]}, "input.setlinfo", "SL01"),
        (_with("setlinfo.bill_no", None), "input.setlinfo.bill_no", "SL02"),
        (_with("setlinfo.medins_fill_psn", ""), "input.setlinfo.medins_fill_psn", "SL02"),
        (_with("setlinfo.coner_name", "张三"), "input.setlinfo.patn_rlts", "SL03"),
        (_with("diseinfo.1.adm_cond_type", None), "input.diseinfo[1].adm_cond_type", "SL04"),
        (_with("oprninfo.0.oper_dr_code", None), "input.oprninfo[0].oper_dr_code", "SL04"),
        (_with("setlinfo.vent_used_dura", "100小时"), "input.setlinfo.vent_used_dura", "SL05"),
        (_with("setlinfo.nwb_bir_wt", "3.255"), "input.setlinfo.nwb_bir_wt", "SL05"),
        (_with("setlinfo.mul_nwb_bir_wt", "2.10,x"), "input.setlinfo.mul_nwb_bir_wt", "SL05"),
        (_with("setlinfo.refldept_dept", "A01→→A02"), "input.setlinfo.refldept_dept", "SL06"),
        (_with("setlinfo.dscg_way", "7"), "input.setlinfo.dscg_way", "SL07"),
        (_with("diseinfo.0.diag_type", "4"), "input.diseinfo[0].diag_type", "SL07"),
        (_with("setlinfo.stas_type", "2"), "input.setlinfo.stas_type", "SL07"),
        (_with("setlinfo.bill_no", "N" * 31), "input.setlinfo.bill_no", "SL08"),
        (_with("diseinfo.1.maindiag_flag", "1"), "input.diseinfo[1].maindiag_flag", "SL09"),
        (_with("diseinfo.0.maindiag_flag", "0"), "input.diseinfo", "SL09"),
        (_with("setlinfo.setl_end_date", "2025-06-30"), "input.setlinfo.setl_end_date", "SL10"),
        (_with("setlinfo.dscg_time", "2025-07-06"), "input.setlinfo.dscg_time", "SL10"),
    ],
)
def test_each_rule_names_the_field(payload: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(sl.ListRuleError) as err:
        sl.parse(payload)
    assert (err.value.path, err.value.rule) == (path, rule)
    assert str(err.value).startswith(f"{path}: [{rule} {sl.RULES[rule]}]")


def test_a_transfer_without_receiver_warns_and_weights_are_grams() -> None:
    d = _with("setlinfo.dscg_way", "2")
    d["setlinfo"]["nwb_adm_wt"] = "3.10"
    lst = sl.parse(d)
    assert lst.weight_g == 3100 and lst.warnings and "SL06" in lst.warnings[0]


@pytest.mark.parametrize(
    ("cur", "target", "bureau", "ok"),
    [
        ("0", "1", False, True),
        ("3", "0", False, True),
        ("3", "1", False, True),
        ("1", "1", False, False),
        ("1", "0", False, False),
        ("2", "3", False, False),
        ("0", "2", False, False),
        ("1", "2", True, True),
        ("1", "3", True, True),
        ("2", "3", True, False),
        ("0", "2", True, False),
        ("1", "9", False, False),
    ],
)
def test_status_machine(cur: str, target: str, bureau: bool, ok: bool) -> None:
    assert (sl.transition_problem(cur, target, by_bureau=bureau) is None) is ok
    assert sl.editable(cur) is (cur in ("0", "3"))


def test_qc_findings() -> None:
    d = copy.deepcopy(GOOD)
    d["diseinfo"][1]["diag_code"] = "A41-900"
    d["payinfo"] = [{"fund_pay_type": "390100", "fund_payamt": "100.00"}]
    lst = sl.parse(d)
    facts = qc.SettlementFacts("2025-07-06", {"390100": 10000, "390200": 0})
    r = qc.run(lst, Status.OK, facts)
    assert [f.rule.rule_id for f in r.findings] == ["QC01"] and not r.passed
    assert (r.result, r.err_lv, r.retn_flag) == ("0", "1", "1")
    ok = qc.run(sl.parse(GOOD), Status.NO_GROUP, qc.SettlementFacts("2025-07-05", {}))
    assert [f.rule.rule_id for f in ok.findings] == ["QC06", "QC07"] and ok.passed
    bad = qc.run(
        sl.parse(d | {"diseinfo": GOOD["diseinfo"]}),
        Status.SEX_MISMATCH,
        qc.SettlementFacts("2025-07-06", {"390100": 9999}),
    )
    assert {f.rule.rule_id for f in bad.findings} == {"QC03", "QC05"}

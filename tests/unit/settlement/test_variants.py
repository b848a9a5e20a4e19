"""One test per rule variant (policy-rules.md §8.3), each computed by hand in its docstring."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.settlement.conftest import item, policy
from yibao.settlement.engine import settle
from yibao.settlement.model import Accumulators, AssistanceClass, Encounter, Person, SettlementError

D = date(2025, 7, 1)
WORKER_GZ = Person("W", "310", "11", "440100")
RESIDENT_GS = Person("R", "390", "50", "421381", age=50)


def enc(med_type: str, *items: object, **kw: object) -> Encounter:
    kw.setdefault("acct_used_flag", "0")
    return Encounter(med_type, kw.pop("where", None) or "440100", D, tuple(items), **kw)  # type: ignore[arg-type]


def test_later_admission_uses_the_lower_deductible() -> None:
    """深圳 三级: 1st admission 600, 2nd 300."""
    p = Person("S", "310", "11", "440300", tier="1")
    pol = policy("440300")
    first = settle(
        p, enc("21", item("1", 10000), where="440300", hosp_lv="2"), Accumulators(2025), pol
    )
    second = settle(
        p,
        enc("21", item("1", 10000), where="440300", hosp_lv="2"),
        Accumulators(2025, admissions=1),
        pol,
    )
    assert first.setlinfo.act_pay_dedc == 60000 and second.setlinfo.act_pay_dedc == 30000
    assert first.deltas.admissions == 1


def test_long_stay_recharges_the_deductible() -> None:
    """广州 在职 三级 1600; 181 days → ceil(181/90) = 3 charges = 4800."""
    e = enc("21", item("1", 50000), hosp_lv="2", endtime=date(2025, 12, 29))
    r = settle(WORKER_GZ, e, Accumulators(2025), policy("440100"))
    assert r.setlinfo.act_pay_dedc == 480000


def test_psychiatric_admission_has_no_deductible() -> None:
    r = settle(
        WORKER_GZ, enc("21303", item("1", 5000), hosp_lv="2"), Accumulators(2025), policy("440100")
    )
    assert r.setlinfo.act_pay_dedc == 0 and r.setlinfo.hifp_pay == 400000  # 5000 × 80 %


def test_annual_deductible_is_charged_once_per_year() -> None:
    """门诊 annual deductible 500: first bill 300 pays 300; the next pays the remaining 200."""
    pol = policy(
        "440100",
        **{
            "employee.outpatient.covered": True,
            "employee.outpatient.deductible": 500,
            "employee.outpatient.deductible_mode": "annual",
            "employee.outpatient.ratio": 0.5,
        },
    )
    r1 = settle(WORKER_GZ, enc("11", item("1", 300), hosp_lv="8"), Accumulators(2025), pol)
    acc = Accumulators(2025).plus(r1.deltas)
    r2 = settle(WORKER_GZ, enc("11", item("1", 1000), hosp_lv="8"), acc, pol)
    assert (r1.setlinfo.act_pay_dedc, r1.setlinfo.hifp_pay) == (30000, 0)
    assert (r2.setlinfo.act_pay_dedc, r2.setlinfo.hifp_pay) == (20000, 40000)


def test_annual_cap_on_the_deductible() -> None:
    """Per-admission 1600 but at most 2000 a year: with 1600 already paid only 400 is charged."""
    pol = policy("440100", **{"employee.inpatient.deductible_annual_cap": 2000})
    acc = Accumulators(2025, admissions=1, dedc={"inpatient": 160000})
    r = settle(WORKER_GZ, enc("21", item("1", 10000), hosp_lv="2"), acc, pol)
    assert r.setlinfo.act_pay_dedc == 40000


def test_cumulative_bands_on_the_year_to_date_policy_range_amount() -> None:
    """Bands 85 % to 30000, 90 % to 40000, 95 % above; YTD 25000, deductible 1000, bill 21000:
    eligible 20000 at [26000, 46000): 4000 × .85 + 10000 × .9 + 6000 × .95 = 3400 + 9000 + 5700."""
    pol = policy(
        "440100",
        **{
            "employee.inpatient.deductible": 1000,
            "employee.inpatient.ratio": [
                {"from": 0, "ratio": 0.85},
                {"from": 30000, "ratio": 0.9},
                {"from": 40000, "ratio": 0.95},
            ],
        },
    )
    acc = Accumulators(2025, admissions=1, inscp={"inpatient": 2_500_000})
    r = settle(WORKER_GZ, enc("21", item("1", 21000), hosp_lv="2"), acc, pol)
    assert r.setlinfo.hifp_pay == 1_810_000


def test_ratio_by_resident_subgroup() -> None:
    """深圳 居民 二级: adult 91 %, 60+ 95 % (deductible 400)."""
    pol = policy("440300")
    adult = Person("A", "390", "50", "440300", age=40)
    senior = Person("S", "390", "60", "440300", age=70)
    e = enc("21", item("1", 10400), where="440300", hosp_lv="5")
    assert settle(adult, e, Accumulators(2025), pol).setlinfo.hifp_pay == 910000
    assert settle(senior, e, Accumulators(2025), pol).setlinfo.hifp_pay == 950000


def test_cap_as_wage_multiple_by_enrolment_months() -> None:
    """深圳: 3 months enrolled → 1 × 100176; 100000 already paid → only 176 left."""
    p = Person("S", "310", "11", "440300", tier="1", enrol_months=3)
    acc = Accumulators(2025, hifp={"inpatient": 10_000_000})
    r = settle(p, enc("21", item("1", 10000), where="440300", hosp_lv="2"), acc, policy("440300"))
    assert r.setlinfo.hifp_pay == 17600
    assert r.setldetail[0].crt_payb_lmt_amt == 17600


def test_cap_on_eligible_cost() -> None:
    """珠海: 3 months → 20000 of 核准费用; 19000 counted → 1000 × 94 % = 940 (一级 deductible 300)."""
    p = Person("Z", "310", "11", "440400", enrol_months=3)
    acc = Accumulators(2025, eligible={"basic": 1_900_000})
    r = settle(p, enc("21", item("1", 10300), where="440400", hosp_lv="8"), acc, policy("440400"))
    assert r.setlinfo.hifp_pay == 94000
    assert r.deltas.eligible == {"basic": 100000}


def test_over_cap_cost_goes_to_the_large_amount_subsidy() -> None:
    """Pooled cap 10000 with 9000 paid: fund 1000 (eligible 1250 used at 80 %); the remaining
    8400 − 1250 = 7150 over the cap is paid 95 % by 大额 (330100) = 6792.50."""
    pol = policy("440100", **{"employee.inpatient.cap": 10000})
    acc = Accumulators(2025, hifp={"inpatient": 900000})
    r = settle(WORKER_GZ, enc("21", item("1", 10000), hosp_lv="2"), acc, pol)
    assert r.setlinfo.hifp_pay == 100000
    assert r.setlinfo.hifob_pay == 679250


def test_serious_illness_tilt_halves_deductible_adds_pp_and_lifts_cap() -> None:
    """大病 deductible 10000, 60 %, cap 1000. Base 7000 (co-pay). 低保: deductible 5000, 65 %, no cap
    → 1300. Others with 10000 already counted: 7000 × 60 % = 4200, capped at 1000."""
    ov = {
        "resident.serious.enabled": True,
        "resident.serious.deductible": 10000,
        "resident.serious.bands": [{"from": 0, "ratio": 0.6}],
        "resident.serious.cap": 1000,
        "resident.serious.tilt_classes": ["dibao"],
        "resident.serious.tilt_deductible_factor": 0.5,
        "resident.serious.tilt_plus_pp": 0.05,
        "resident.serious.tilt_no_cap": True,
    }
    pol = policy("421381", **ov)
    e = enc("21", item("1", 20650), where="421381", hosp_lv="3")
    poor = Person(
        "R", "390", "50", "421381", assistance=(AssistanceClass("dibao", date(2025, 1, 1)),)
    )
    assert settle(poor, e, Accumulators(2025), pol).setlinfo.hifmi_pay == 130000
    other = settle(RESIDENT_GS, e, Accumulators(2025, serious_base=1_000_000), pol)
    assert other.setlinfo.hifmi_pay == 100000


def test_civil_servant_subsidy() -> None:
    """EX1 bill; 公务员补助 90 % of the remaining policy-range share 2940 = 2646."""
    pol = policy(
        "440100",
        **{
            "employee.inpatient.deductible": 1300,
            "employee.inpatient.ratio": 0.8,
            "employee.civil_servant.enabled": True,
            "employee.civil_servant.ratio": {"active": 0.9, "retired": 0.95},
        },
    )
    p = Person("C", "310", "11", "440100", cvlserv_flag=True)
    e = enc(
        "21", item("1", 2000), item("2", 3000), item("3", 5000, lv="02", prop="0.1"), hosp_lv="5"
    )
    s = settle(p, e, Accumulators(2025), pol).setlinfo
    assert (s.hifp_pay, s.cvlserv_pay, s.psn_part_amt) == (656000, 264600, 79400)


def test_assistance_separate_outpatient_cap_and_second_tilt_layer() -> None:
    """兴宁 低保 门诊 80 % but an outpatient sub-limit of 100 → 100; 倾斜救助 50 % of what is left
    above 500: (1000 − 100 − 500) × 50 % = 200."""
    pol = policy(
        "441481",
        **{
            "assistance.setting_cap": {"dibao": {"outpatient": 100}},
            "assistance.tilt_threshold": {"dibao": 500},
            "assistance.tilt_ratio": {"dibao": 0.5},
        },
    )
    p = Person("D", "390", "50", "441481", assistance=(AssistanceClass("dibao", date(2025, 1, 1)),))
    s = settle(
        p, enc("11", item("1", 1000), where="441481", hosp_lv="8"), Accumulators(2025), pol
    ).setlinfo
    assert s.hifp_pay == 0 and s.maf_pay == 30000


def test_assistance_cap_is_shared_between_outpatient_and_inpatient() -> None:
    p = Person("D", "390", "50", "441481", assistance=(AssistanceClass("dibao", date(2025, 1, 1)),))
    acc = Accumulators(2025, maf_pay={"inpatient": 9_995_000})
    s = settle(
        p, enc("11", item("1", 1000), where="441481", hosp_lv="8"), acc, policy("441481")
    ).setlinfo
    assert s.maf_pay == 5000


def test_expired_assistance_class_is_ignored() -> None:
    p = Person(
        "D",
        "390",
        "50",
        "441481",
        assistance=(AssistanceClass("dibao", date(2024, 1, 1), date(2024, 12, 31)),),
    )
    s = settle(
        p,
        enc("11", item("1", 1000), where="441481", hosp_lv="8"),
        Accumulators(2025),
        policy("441481"),
    ).setlinfo
    assert s.maf_pay == 0


def test_personal_account_then_family_account_then_cash() -> None:
    """Pharmacy (41) is account-only: 300 with own balance 100 and family 150 → 100 + 150 + cash 50."""
    acc = Accumulators(2025, acct_balc=10000, mulaid_balc=15000)
    s = settle(
        WORKER_GZ, enc("41", item("1", 300), acct_used_flag="2"), acc, policy("440100")
    ).setlinfo
    assert (s.fund_pay_sumamt, s.acct_pay, s.acct_mulaid_pay, s.psn_cash_pay, s.balc) == (
        0,
        25000,
        15000,
        5000,
        0,
    )
    s1 = settle(
        WORKER_GZ, enc("41", item("1", 300), acct_used_flag="1"), acc, policy("440100")
    ).setlinfo
    assert (s1.acct_pay, s1.acct_mulaid_pay, s1.psn_cash_pay) == (10000, 0, 20000)


def test_account_may_pay_full_self_pay_items_only_where_allowed() -> None:
    acc = Accumulators(2025, acct_balc=100000)
    e = enc("41", item("1", 300, lv="03"), acct_used_flag="1")
    assert settle(WORKER_GZ, e, acc, policy("440100")).setlinfo.acct_pay == 0
    allowed = policy("440100", **{"account.pays_fulamt_ownpay": True})
    assert settle(WORKER_GZ, e, acc, allowed).setlinfo.acct_pay == 30000


def test_cross_region_extra_first_pay() -> None:
    """An extra 10 % first-pay for temporary care: 10000 甲类 → 1000 先行自付, 9000 in range."""
    pol = policy(
        "440100",
        **{
            "employee.inpatient.cross_region": {
                "default": {
                    "temporary": {"adjust": "extra_first_pay", "value": 0.1},
                    "default": {"adjust": "none"},
                }
            }
        },
    )
    s = settle(
        WORKER_GZ,
        enc("21", item("1", 10000), where="310100", filing="temporary", hosp_lv="2"),
        Accumulators(2025),
        pol,
    ).setlinfo
    assert (s.preselfpay_amt, s.inscp_scp_amt) == (100000, 900000)


def test_cross_region_not_paid() -> None:
    """珠海: unfiled temporary 普通门诊 is not paid by the pooled fund."""
    pol = policy(
        "440400",
        **{
            "employee.outpatient.covered": True,
            "employee.outpatient.deductible": 0,
            "employee.outpatient.ratio": 0.5,
        },
    )
    p = Person("Z", "310", "11", "440400")
    local = settle(
        p, enc("11", item("1", 100), where="440400", hosp_lv="8"), Accumulators(2025), pol
    )
    away = settle(
        p,
        enc("11", item("1", 100), where="440100", filing="unfiled", hosp_lv="8"),
        Accumulators(2025),
        pol,
    )
    assert local.setlinfo.hifp_pay == 5000 and away.setlinfo.hifp_pay == 0


def test_chronic_disease_list_and_own_limit() -> None:
    pol = policy(
        "440300", **{"employee.chronic.diseases": {"MT001": {"name": "恶性肿瘤", "limit": 500}}}
    )
    p = Person("S", "310", "11", "440300", tier="1")
    acc = Accumulators(2025, chronic={"MT001": 45000})
    r = settle(
        p, enc("14", item("1", 1000), where="440300", dise_codg="MT001", hosp_lv="2"), acc, pol
    )
    assert r.setlinfo.hifp_pay == 5000
    with pytest.raises(SettlementError, match="dise_codg"):
        settle(
            p, enc("14", item("1", 1000), where="440300", dise_codg="NOPE", hosp_lv="2"), acc, pol
        )


def test_item_split_classes_limits_and_refused_approval() -> None:
    """丙类 and 目录外 → 全自费; 限制使用 refused → 全自费; price limit 30 × 2 on 100 → 超限价 40."""
    e = enc(
        "21",
        item("1", 50, lv="03"),
        item("2", 70, in_catalog=False),
        item("3", 80, lmt_used_flag="1", hosp_appr_flag="2"),
        item("4", 100, pric_uplmt_amt=3000),
        hosp_lv="2",
    )
    e = Encounter(
        e.med_type,
        e.mdtrtarea_admvs,
        e.begntime,
        (*e.items[:3], _with_cnt(e.items[3], 2)),
        hosp_lv="2",
        acct_used_flag="0",
    )
    s = settle(WORKER_GZ, e, Accumulators(2025), policy("440100")).setlinfo
    assert (s.fulamt_ownpay_amt, s.overlmt_selfpay, s.inscp_scp_amt) == (20000, 4000, 6000)


def _with_cnt(it: object, cnt: int) -> object:
    from dataclasses import replace
    from decimal import Decimal

    return replace(it, cnt=Decimal(cnt))  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("person", "encounter", "acc", "message"),
    [
        (
            Person("X", "340", "11", "440100"),
            enc("21", item("1", 10)),
            Accumulators(2025),
            "insutype",
        ),
        (WORKER_GZ, enc("99", item("1", 10)), Accumulators(2025), "med_type"),
        (
            Person("X", "310", "11", "440300"),
            enc("21", item("1", 10)),
            Accumulators(2025),
            "insuplc_admdvs",
        ),
        (WORKER_GZ, enc("21", item("1", 10)), Accumulators(2024), "accumulators.year"),
        (WORKER_GZ, enc("21", item("1", 10), hosp_lv="77"), Accumulators(2025), "hosp_lv"),
        (
            WORKER_GZ,
            enc("21", item("1", 10), acct_used_flag="9"),
            Accumulators(2025),
            "acct_used_flag",
        ),
        (
            WORKER_GZ,
            enc("21", item("1", 10), where="310100", filing="maybe"),
            Accumulators(2025),
            "filing",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_named(
    person: Person, encounter: Encounter, acc: Accumulators, message: str
) -> None:
    with pytest.raises(SettlementError, match=message):
        settle(person, encounter, acc, policy("440100"))


def test_outpatient_negotiated_drugs_count_toward_serious_illness_in_shenzhen() -> None:
    """深圳 居民 二级 门诊 65 %: 国谈药 1000 + 其他 1000 → 统筹 1300; 国谈药 personal share
    1000 − 1300 × 1000/2000 = 350 joins the 大病 base; above the 1万 deductible → 350 × 70 % = 245."""
    p = Person("S", "390", "50", "440300", age=40)
    e = enc(
        "11", item("1", 1000, hi_nego_drug_flag="1"), item("2", 1000), where="440300", hosp_lv="5"
    )
    r = settle(p, e, Accumulators(2025, serious_base=2_000_000), policy("440300"))
    assert (r.setlinfo.hifp_pay, r.setlinfo.hifmi_pay, r.deltas.serious_base) == (
        130000,
        24500,
        35000,
    )
    plain = enc("11", item("1", 1000), item("2", 1000), where="440300", hosp_lv="5")
    assert (
        settle(
            p, plain, Accumulators(2025, serious_base=2_000_000), policy("440300")
        ).setlinfo.hifmi_pay
        == 0
    )

"""Property tests over random bills, people and sequences of encounters in one 医保年度.

For every settlement: the identities of DESIGN.md §5 hold to the fen, no amount is negative, no
fund pays past its cap, and the reversal is the exact mirror that restores the accumulators.
A larger bill never lowers the patient's share.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibao.policy.loader import resolve
from yibao.policy.model import ASSISTANCE_CLASSES
from yibao.settlement.engine import _group_chain, apply_deltas, reverse, settle
from yibao.settlement.model import (
    SETLINFO_AMOUNTS,
    Accumulators,
    AssistanceClass,
    Encounter,
    Item,
    Person,
    SettlementResult,
)

REGIONS = ("440100", "440300", "440400", "441300", "441481", "421381", "440000", "420000")
ELSEWHERE = ("440100", "440300", "110100", "310100", "441481")
MED_TYPES = ("11", "12", "13", "14", "21", "22", "41", "52", "21303")
YEAR = 2025

amounts = st.integers(min_value=0, max_value=3_000_000)  # up to 30000 yuan per line


@st.composite
def items(draw: st.DrawFn) -> Item:
    fen = draw(amounts)
    lv = draw(st.sampled_from(("01", "02", "03")))
    cnt = draw(st.sampled_from((Decimal(1), Decimal(2), Decimal("0.5"), Decimal(3))))
    limit = draw(st.none() | st.integers(min_value=0, max_value=2_000_000))
    return Item(
        feedetl_sn=str(draw(st.integers(1, 10_000))),
        med_list_codg="X",
        name="x",
        list_type="101",
        chrgitm_lv=lv,
        med_chrgitm_type="09",
        det_item_fee_sumamt=fen,
        cnt=cnt,
        pric=Decimal(fen) / 100,
        selfpay_prop=draw(
            st.sampled_from((Decimal(0), Decimal("0.01"), Decimal("0.1"), Decimal("0.3")))
        ),
        pric_uplmt_amt=limit,
        lmt_used_flag=draw(st.sampled_from(("0", "1"))),
        hosp_appr_flag=draw(st.sampled_from(("0", "1", "2"))),
        in_catalog=draw(st.booleans() | st.just(True)),
        hi_nego_drug_flag=draw(st.sampled_from(("0", "1"))),
    )


@st.composite
def people(draw: st.DrawFn) -> Person:
    region = draw(st.sampled_from(REGIONS))
    insutype = draw(st.sampled_from(("310", "390")))
    psn_type = draw(
        st.sampled_from(("11", "21") if insutype == "310" else ("41", "43", "50", "60"))
    )
    cls = draw(st.none() | st.sampled_from(ASSISTANCE_CLASSES))
    assistance = () if cls is None else (AssistanceClass(cls, date(YEAR, 1, 1)),)
    return Person(
        psn_no="P",
        insutype=insutype,
        psn_type=psn_type,
        insuplc_admdvs=region,
        age=draw(st.integers(0, 95)),
        cvlserv_flag=insutype == "310" and draw(st.booleans()),
        tier=draw(st.sampled_from((None, "1", "2"))) if insutype == "310" else None,
        enrol_months=draw(st.integers(0, 150)),
        assistance=assistance,
    )


@st.composite
def encounters(draw: st.DrawFn, person: Person, day: date) -> Encounter:
    med_type = draw(st.sampled_from(MED_TYPES))
    local = draw(st.booleans())
    where = person.insuplc_admdvs if local else draw(st.sampled_from(ELSEWHERE))
    return Encounter(
        med_type=med_type,
        mdtrtarea_admvs=where,
        begntime=day,
        items=tuple(draw(st.lists(items(), min_size=1, max_size=8))),
        hosp_lv=draw(st.sampled_from(("1", "2", "5", "6", "8", "11"))),
        endtime=day + timedelta(days=draw(st.integers(0, 200))),
        filing=draw(
            st.sampled_from(("long_term", "referral", "emergency", "temporary", "unfiled"))
        ),
        dise_codg="MT001" if med_type == "14" else None,
        acct_used_flag=draw(st.sampled_from(("0", "1", "2"))),
    )


def _check_result(r: SettlementResult) -> None:
    s = r.setlinfo
    for name in SETLINFO_AMOUNTS:
        assert getattr(s, name) >= 0, name
    assert (
        s.medfee_sumamt
        == s.fulamt_ownpay_amt + s.overlmt_selfpay + s.preselfpay_amt + s.inscp_scp_amt
    )
    assert s.medfee_sumamt == s.fund_pay_sumamt + s.psn_part_amt + s.hosp_part_amt
    assert s.psn_part_amt == s.acct_pay + s.psn_cash_pay
    funds = [d for d in r.setldetail if d.fund_pay_type != "310200"]
    assert s.fund_pay_sumamt == sum(d.fund_payamt for d in funds)
    assert (
        s.fund_pay_sumamt
        == s.hifp_pay
        + s.cvlserv_pay
        + s.hifes_pay
        + s.hifmi_pay
        + s.hifob_pay
        + s.maf_pay
        + s.oth_pay
    )
    assert s.acct_mulaid_pay <= s.acct_pay
    assert (
        s.hifp_pay + s.hifmi_pay + s.hifob_pay + s.cvlserv_pay + s.maf_pay + s.oth_pay
        <= s.inscp_scp_amt
    )
    for i in r.items:
        assert min(i.fulamt_ownpay_amt, i.overlmt_amt, i.preselfpay_amt, i.inscp_scp_amt) >= 0
        assert (
            i.det_item_fee_sumamt
            == i.fulamt_ownpay_amt + i.overlmt_amt + i.preselfpay_amt + i.inscp_scp_amt
        )
    rev = reverse(r)
    for name in SETLINFO_AMOUNTS:
        if name != "balc":
            assert getattr(rev.setlinfo, name) == -getattr(s, name)
    assert [d.fund_payamt for d in rev.setldetail] == [-d.fund_payamt for d in r.setldetail]


def _check_caps(person: Person, acc: Accumulators) -> None:
    """No fund has paid past its annual cap (independent of the engine's own room figures)."""
    pol = resolve(person.insuplc_admdvs, date(YEAR, 7, 1))
    scheme = "employee" if person.insutype == "310" else "resident"
    wage = pol.value("region.avg_wage_annual")
    for setting in ("inpatient", "outpatient", "chronic"):
        p = f"{scheme}.{setting}."
        if not pol.value(p + "covered"):
            continue
        cap = pol.pick(p + "cap", _group_chain(person, scheme)).amount_for(
            person.enrol_months, wage
        )
        pool = pol.value(p + "cap_pool") or setting
        if cap is not None:
            used = acc.eligible if pol.value(p + "cap_basis") == "eligible" else acc.hifp
            assert used.get(pool, 0) <= cap, (setting, pool, used, cap)
    scap = pol.value(f"{scheme}.serious.cap").amount_for(person.enrol_months, wage)
    if scap is not None and not person.assistance:
        assert acc.serious_pay <= scap
    if pol.value("assistance.enabled"):
        for a in person.assistance:
            cap = pol.pick("assistance.cap", (a.cls,)).amount_for(person.enrol_months, wage)
            if cap is not None:
                assert sum(acc.maf_pay.values()) <= cap


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_year_of_encounters(data: st.DataObject) -> None:
    person = data.draw(people())
    acc = Accumulators(
        YEAR,
        acct_balc=data.draw(st.integers(0, 1_000_000)),
        mulaid_balc=data.draw(st.integers(0, 500_000)),
        serious_base=data.draw(st.integers(0, 5_000_000)),
    )
    start = acc
    pol = resolve(person.insuplc_admdvs, date(YEAR, 7, 1))
    deltas = []
    day = date(YEAR, 1, 2)
    for _ in range(data.draw(st.integers(1, 6))):
        enc = data.draw(encounters(person, day))
        r = settle(person, enc, acc, pol)
        _check_result(r)
        after = apply_deltas(acc, r.deltas)
        assert apply_deltas(after, reverse(r).deltas).to_dict() == acc.to_dict()
        acc = after
        deltas.append(r.deltas)
        assert acc.acct_balc >= 0 and acc.mulaid_balc >= 0
        _check_caps(person, acc)
        day += timedelta(days=data.draw(st.integers(0, 50)))
    for d in reversed(deltas):  # cancelling everything restores the start of the year
        acc = apply_deltas(acc, d.negated())
    assert acc.to_dict() == start.to_dict()


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_larger_bill_never_lowers_the_patients_share(data: st.DataObject) -> None:
    person = data.draw(people())
    enc = data.draw(encounters(person, date(YEAR, 6, 1)))
    acc = Accumulators(
        YEAR,
        admissions=data.draw(st.integers(0, 3)),
        serious_base=data.draw(st.integers(0, 3_000_000)),
    )
    pol = resolve(person.insuplc_admdvs, date(YEAR, 6, 1))
    i = data.draw(st.integers(0, len(enc.items) - 1))
    extra = data.draw(st.integers(1, 2_000_000))
    bigger_item = replace(
        enc.items[i], det_item_fee_sumamt=enc.items[i].det_item_fee_sumamt + extra
    )
    bigger = replace(enc, items=(*enc.items[:i], bigger_item, *enc.items[i + 1 :]))
    small = settle(person, enc, acc, pol).setlinfo
    large = settle(person, bigger, acc, pol).setlinfo
    assert large.psn_part_amt >= small.psn_part_amt
    assert large.medfee_sumamt - small.medfee_sumamt == extra

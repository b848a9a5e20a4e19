"""Property tests whose generated cases reach EVERY payer layer of the one-stop split.

The older generators (test_properties*.py) drew people, bills and year-to-date totals uniformly,
so 大病/大额 (which need a year's co-payments above a 10 000-yuan deductible) and 公务员 (which no
shipped policy enables) almost never paid, and a bug in those layers could not show. Here each
case first picks a layer to *aim at* and shapes the draw so that layer is likely to pay —
everything else stays random — so every layer pays in a real share of cases:

- 统筹 (hifp): a covered setting and a bill above the deductible;
- 大病 (hifmi, 390200: Shenzhen/Guangzhou residents) and 大额 (hifob, 330100: their employees):
  an inpatient bill with the year's 大病 base already near or past its deductible, and now and
  then the 统筹 cap already used up (Guangzhou's 大额 pays only above the cap, and Guangzhou
  ships no employee cap — "none", assumed — so those cases override one: 50 000 or 200 000);
- 公务员 (cvlserv): an employee flagged 公务员 under the shipped policy plus an override that
  enables the subsidy (none of the shipped regions does; the override is the test's, not a fact);
- 救助 (maf): a 特困/低保 person (national 70 %);
- 个人账户 (acct): an employee with money in the account, account use on;
- 现金 (cash): 全自费 or 超限价 lines the account may not pay.

Properties: the identities of DESIGN.md §5 to the fen and the exact mirror (from
:func:`tests.unit.settlement.test_properties._check_result`), and who may be paid: 公务员 only
for flagged employees, 救助 only for an assistance class, 大病 only for residents and 大额 only
for employees, the account never past its balance nor when not used. ``event`` labels report
the share of cases per paying layer (``pytest --hypothesis-show-statistics``);
:func:`test_every_payer_pays_in_a_real_share_of_cases` counts them over a fixed, derandomized
run and requires each layer in at least 10 % of the cases.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, event, given, settings, target
from hypothesis import strategies as st

from tests.unit.settlement.test_properties import YEAR, _check_result, items
from yibao.policy.loader import resolve
from yibao.policy.model import ResolvedPolicy
from yibao.settlement.engine import apply_deltas, reverse, settle
from yibao.settlement.model import (
    Accumulators,
    AssistanceClass,
    Encounter,
    Item,
    Person,
    SettlementResult,
)

#: the layers and the setlinfo amount each pays
LAYERS = {
    "统筹": "hifp_pay",
    "大病": "hifmi_pay",
    "大额": "hifob_pay",
    "公务员": "cvlserv_pay",
    "救助": "maf_pay",
    "个人账户": "acct_pay",
    "现金": "psn_cash_pay",
}
REGIONS = ("440300", "440100")  # both ship 大病 (residents) and 大额 (employees)
DAY = date(YEAR, 6, 1)


@dataclass(frozen=True, slots=True)
class Case:
    aim: str
    person: Person
    encounter: Encounter
    acc: Accumulators
    overrides: dict[str, Any]

    def policy(self) -> ResolvedPolicy:
        return _policy(self.person.insuplc_admdvs, tuple(sorted(self.overrides.items())))


_POLICIES: dict[tuple[str, tuple[tuple[str, Any], ...]], ResolvedPolicy] = {}


def _policy(region: str, overrides: tuple[tuple[str, Any], ...]) -> ResolvedPolicy:
    key = (region, tuple((k, repr(v)) for k, v in overrides))
    if key not in _POLICIES:
        _POLICIES[key] = resolve(region, DAY, dict(overrides) or None)
    return _POLICIES[key]


def _serious_deductible(region: str, scheme: str) -> int:
    """The shipped 大病/大额 annual deductible (fen) the draw aims near."""
    return int(_policy(region, ()).value(f"{scheme}.serious.deductible"))


def _priced(draw: st.DrawFn, lo: int, hi: int, *, lv: str = "01") -> Item:
    """A covered line of ``lo``..``hi`` fen (甲类 unless told), no price limit."""
    fen = draw(st.integers(lo, hi))
    return Item(
        feedetl_sn=str(draw(st.integers(1, 10_000))), med_list_codg="X", name="x",
        list_type="201", chrgitm_lv=lv, med_chrgitm_type="05", det_item_fee_sumamt=fen,
        cnt=Decimal(1), pric=Decimal(fen) / 100,
        selfpay_prop=Decimal("0.01") if lv == "02" else Decimal(0),
    )  # fmt: skip


@st.composite
def cases(draw: st.DrawFn) -> Case:
    aim = draw(st.sampled_from(tuple(LAYERS)))
    region = draw(st.sampled_from(REGIONS))
    employee = {"大额": True, "大病": False, "公务员": True, "个人账户": True}.get(
        aim, draw(st.booleans())
    )
    scheme = "employee" if employee else "resident"
    cls = draw(st.sampled_from(("tekun", "dibao"))) if aim == "救助" else None
    if cls is None and draw(st.integers(0, 4)) == 0:
        cls = draw(st.sampled_from(("tekun", "dibao", "dibao_edge")))
    person = Person(
        psn_no="P",
        insutype="310" if employee else "390",
        psn_type=draw(st.sampled_from(("11", "21") if employee else ("50", "60", "41"))),
        insuplc_admdvs=region,
        age=draw(st.integers(1, 90)),
        cvlserv_flag=employee and (aim == "公务员" or draw(st.booleans())),
        enrol_months=draw(st.integers(0, 150)),
        assistance=() if cls is None else (AssistanceClass(cls, date(YEAR, 1, 1)),),
    )
    overrides: dict[str, Any] = {}
    if aim == "公务员" or draw(st.booleans()):
        overrides = {
            "employee.civil_servant.enabled": True,
            "employee.civil_servant.settings": ["inpatient", "chronic", "outpatient"],
            "employee.civil_servant.ratio": draw(st.sampled_from((0.3, 0.5, 0.8))),
            "employee.civil_servant.cap": draw(st.sampled_from(("none", 2000, 50_000))),
        }
    in_serious = aim in ("大病", "大额") or draw(st.integers(0, 2)) == 0
    med_type = (
        draw(st.sampled_from(("21", "22")))
        if in_serious
        else draw(st.sampled_from(("11", "13", "21", "41")))
    )
    # the bill: covered lines above the deductibles, now and then 乙/丙 lines and random ones
    lines = [_priced(draw, 50_000, 2_000_000) for _ in range(draw(st.integers(1, 3)))]
    if aim == "现金" or draw(st.booleans()):
        lines.append(_priced(draw, 100, 500_000, lv=draw(st.sampled_from(("02", "03")))))
    lines += draw(st.lists(items(), max_size=2))
    # 大病/大额 pay once the year's base passes their deductible (Shenzhen 10 000, Guangzhou
    # residents 18 000 yuan) or, for Guangzhou's 大额, above the 统筹 cap: start near or past both
    ded = _serious_deductible(region, scheme)
    near = st.integers(ded, ded + 2_000_000) | st.integers(max(0, ded - 100_000), ded)
    gz_over_cap = aim == "大额" and region == "440100"
    if gz_over_cap:  # Guangzhou ships no employee 统筹 cap (assumed none): give it one
        overrides["employee.inpatient.cap"] = draw(st.sampled_from((50_000, 200_000)))
    used_up = in_serious and (gz_over_cap or draw(st.integers(0, 3)) == 0)
    acc = Accumulators(
        YEAR,
        admissions=draw(st.integers(0, 2)),
        hifp={"inpatient": 10**9} if used_up else {},
        serious_base=draw(near if in_serious else st.integers(0, 5_000_000)),
        acct_balc=draw(st.integers(1, 1_000_000)) if employee else 0,
        mulaid_balc=draw(st.integers(0, 200_000)),
    )
    if aim == "个人账户" or draw(st.booleans()):
        acct_flag = draw(st.sampled_from(("1", "2")))
    else:
        acct_flag = draw(st.sampled_from(("0", "1", "2")))
    enc = Encounter(
        med_type=med_type,
        mdtrtarea_admvs=region,
        begntime=DAY,
        items=tuple(lines),
        hosp_lv=draw(st.sampled_from(("2", "5", "8", "11"))),
        endtime=DAY + timedelta(days=draw(st.integers(0, 20))),
        acct_used_flag=acct_flag if employee else "0",
    )
    return Case(aim, person, enc, acc, overrides)


def paying(r: SettlementResult) -> list[str]:
    """The layers that paid something in this settlement."""
    return [name for name, amount in LAYERS.items() if getattr(r.setlinfo, amount) > 0]


def check_payers(case: Case, r: SettlementResult) -> None:
    """Who may be paid, independent of how much."""
    s, p = r.setlinfo, case.person
    employee = p.insutype == "310"
    if s.cvlserv_pay:
        assert employee and p.cvlserv_flag and case.overrides.get("employee.civil_servant.enabled")
    if s.maf_pay:
        assert p.assistance
    if s.hifmi_pay:
        assert not employee  # 390200: residents' 大病保险
    if s.hifob_pay:
        assert employee  # 330100: employees' 大额补助
    if s.acct_pay:
        assert case.encounter.acct_used_flag in ("1", "2")
        assert s.acct_pay - s.acct_mulaid_pay <= case.acc.acct_balc
        assert s.acct_mulaid_pay <= case.acc.mulaid_balc
    assert s.psn_cash_pay == s.psn_part_amt - s.acct_pay
    # each fund's setldetail line is the setlinfo field of that fund (no payer mislabelled)
    lines = {d.fund_pay_type: d.fund_payamt for d in r.setldetail}
    basic = "310100" if employee else "390100"
    for fpt, amount in (
        (basic, s.hifp_pay), ("390200", s.hifmi_pay), ("330100", s.hifob_pay),
        ("320100", s.cvlserv_pay), ("610100", s.maf_pay), ("310200", s.acct_pay),
    ):  # fmt: skip
        assert lines.get(fpt, 0) == amount, (fpt, lines, amount)


def run_case(case: Case) -> SettlementResult:
    r = settle(case.person, case.encounter, case.acc, case.policy())
    _check_result(r)
    check_payers(case, r)
    after = apply_deltas(case.acc, r.deltas)
    assert apply_deltas(after, reverse(r).deltas).to_dict() == case.acc.to_dict()
    # a second, identical bill on top of the first keeps the identities too
    again = settle(case.person, case.encounter, after, case.policy())
    _check_result(again)
    check_payers(replace(case, acc=after), again)
    cap = case.overrides.get("employee.civil_servant.cap", "none")
    if cap != "none":  # the subsidy never pays past its annual cap (yuan → fen)
        assert apply_deltas(after, again.deltas).cvlserv_pay <= cap * 100
    return r


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_every_layer_keeps_the_identities_and_pays_only_whom_it_may(case: Case) -> None:
    r = run_case(case)
    event(f"aimed at {case.aim}")
    layers = paying(r)
    for name in layers:
        event(f"pays: {name}")
    target(float(len(layers)), label="payers in one settlement")


def test_every_payer_pays_in_a_real_share_of_cases() -> None:
    """An explicit count over a fixed (derandomized) run of the same generator."""
    seen: Counter[str] = Counter()
    total = [0]

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def count(case: Case) -> None:
        total[0] += 1
        seen.update(paying(run_case(case)))

    count()
    shares = {name: seen[name] / total[0] for name in LAYERS}
    print("share of cases in which each payer pays:", {k: f"{v:.0%}" for k, v in shares.items()})
    assert total[0] >= 200
    assert all(v >= 0.10 for v in shares.values()), shares

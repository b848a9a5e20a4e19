"""The grouper over the shipped tables, property-tested: total (a status for any input), consistent
codes, exclusion tables honoured, and the result independent of the order of other diagnoses."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.payment import tables
from yibao.payment.model import dip, drg
from yibao.payment.model.case import GroupCase, Status, age_on

LIB = tables.library()
DRG = LIB.find("drg", "441481", date(2025, 7, 1))
DIP = LIB.find("dip", "440300", date(2025, 7, 1))
assert isinstance(DRG, drg.DrgTables) and isinstance(DIP, dip.DipTables)
PRINCIPALS = sorted(DRG.dx_mdcs)
CCS = sorted(DRG.cc)
PROCS = sorted({c for (_, n), codes in DRG.lists.items() if n == "main_proc" for c in codes})
codes = st.one_of(
    st.sampled_from(PRINCIPALS),
    st.sampled_from(CCS),
    st.from_regex(r"[A-Z][0-9]{2}\.[0-9]{3}", fullmatch=True),
)
cases = st.builds(
    GroupCase,
    principal_dx=codes,
    other_dx=st.lists(codes, max_size=5).map(tuple),
    main_proc=st.one_of(st.just(""), st.sampled_from(PROCS)),
    sex=st.sampled_from(("", "1", "2")),
    age_years=st.integers(0, 100),
    age_days=st.one_of(st.none(), st.integers(0, 364)),
    weight_g=st.one_of(st.none(), st.integers(500, 5000)),
)


@settings(max_examples=400, deadline=None)
@given(case=cases)
def test_drg_grouping_is_total_and_consistent(case: GroupCase) -> None:
    r = drg.group(DRG, case)
    assert isinstance(r.status, Status) and r.version == DRG.manifest.version
    if r.ok:
        assert r.mdc == "MDC" + r.adrg[0] and r.drg.startswith(r.adrg) and r.weight is not None
        assert (
            r.drg == DRG.drgs_by_adrg[r.adrg][{"1": "mcc", "3": "cc"}.get(r.drg[-1], "none")].code
        )
        if r.cc_code:
            assert case.principal_dx not in DRG.exclusions[DRG.cc[r.cc_code].table]
    reordered = GroupCase(
        case.principal_dx,
        tuple(reversed(case.other_dx)),
        case.main_proc,
        (),
        case.sex,
        case.age_years,
        case.age_days,
        case.weight_g,
    )
    again = drg.group(DRG, reordered)
    assert (again.status, again.drg, again.cc_level) == (r.status, r.drg, r.cc_level)


@settings(max_examples=200, deadline=None)
@given(case=cases)
def test_dip_grouping_is_total(case: GroupCase) -> None:
    r = dip.group(DIP, case)
    assert r.ok == (r.code in DIP.groups) and (r.score is not None) == r.ok


def test_age_on_birthdays() -> None:
    assert age_on(date(2025, 6, 22), date(2025, 7, 7)) == (0, 15)
    assert age_on(date(1957, 5, 25), date(2025, 5, 24)) == (67, None)
    assert age_on(date(1957, 5, 25), date(2025, 5, 25)) == (68, None)

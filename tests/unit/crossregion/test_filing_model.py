"""Filing rules (异地就医备案), pure."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.filing.model import (
    EMERGENCY,
    LONG_TERM,
    REFERRAL,
    TEMPORARY,
    UNFILED,
    Filing,
    FilingError,
    FilingType,
    Status,
    add_months,
    check_cancel,
    check_end,
    check_new,
    covers,
    status_for,
    validity,
)
from yibao.policy.model import FILINGS

HZ, GZ, SZ, GS = "441300", "440100", "440300", "421381"


def f(
    ftype: FilingType,
    place: str = GZ,
    beg: date = date(2026, 1, 1),
    end: date | None = None,
    status: Status = Status.ACTIVE,
) -> Filing:
    return Filing("BA1", "P1", HZ, place, ftype, beg, end, status)


def test_codes_are_the_engines() -> None:
    assert {LONG_TERM, REFERRAL, EMERGENCY, TEMPORARY, UNFILED} == set(FILINGS)


def test_covers_by_hierarchy() -> None:
    assert covers("440100", "440100")
    assert covers("440100", "440106")  # a district of the filed city
    assert covers("440000", "440300")  # the whole province
    assert not covers("440100", "440300")
    assert not covers("440106", "440100")


def test_temporary_validity_at_least_six_months() -> None:
    assert validity(FilingType.TEMPORARY, date(2026, 1, 31), None) == date(2026, 7, 30)
    assert validity(FilingType.RESIDENT_WORK, date(2026, 1, 1), None) is None
    with pytest.raises(FilingError, match="不少于6个月") as e:
        validity(FilingType.REFERRAL, date(2026, 1, 1), date(2026, 3, 1))
    assert e.value.field == "enddate"
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_new_filing_must_be_cross_region_and_one_long_term_at_a_time() -> None:
    with pytest.raises(FilingError, match="不属于异地就医"):
        check_new(FilingType.TEMPORARY, HZ, "441302", date(2026, 1, 1), None, [])
    with pytest.raises(FilingError, match="不属于异地就医"):
        check_new(FilingType.TEMPORARY, HZ, "440000", date(2026, 1, 1), None, [])
    old = f(FilingType.RESIDENT_WORK)
    with pytest.raises(FilingError, match="已有有效的长期备案"):
        check_new(FilingType.LONG_RESIDENCE, HZ, SZ, date(2026, 5, 1), None, [old])
    ended = f(FilingType.RESIDENT_WORK, end=date(2026, 4, 30), status=Status.ENDED)
    assert check_new(FilingType.LONG_RESIDENCE, HZ, SZ, date(2026, 5, 1), None, [ended]) is None
    # a temporary filing beside a long-term one is fine
    assert check_new(FilingType.TEMPORARY, HZ, SZ, date(2026, 5, 1), None, [old])


def test_status_prefers_the_best_filing_and_emergency_is_deemed_filed() -> None:
    fs = [f(FilingType.TEMPORARY, SZ, end=date(2026, 6, 30)), f(FilingType.RESIDENT_WORK, GZ)]
    assert status_for(fs, HZ, GZ, date(2026, 3, 1), emergency=False) == LONG_TERM
    assert status_for(fs, HZ, SZ, date(2026, 3, 1), emergency=False) == TEMPORARY
    assert status_for(fs, HZ, SZ, date(2026, 3, 1), emergency=True) == EMERGENCY
    assert status_for(fs, HZ, SZ, date(2026, 7, 1), emergency=False) == UNFILED
    assert status_for(fs, HZ, "440400", date(2026, 3, 1), emergency=True) == EMERGENCY
    assert status_for(fs, HZ, "441302", date(2026, 3, 1), emergency=False) == UNFILED  # local
    # another insured region's filing does not count
    assert status_for(fs, "440400", GZ, date(2026, 3, 1), emergency=False) == UNFILED


def test_filing_before_discharge_covers_the_stay() -> None:
    late = f(FilingType.REFERRAL, GZ, beg=date(2026, 3, 5), end=date(2026, 9, 4))
    admitted, discharged = date(2026, 3, 1), date(2026, 3, 8)
    assert status_for([late], HZ, GZ, admitted, emergency=False) == UNFILED
    assert status_for([late], HZ, GZ, admitted, emergency=False, settle_date=discharged) == REFERRAL


def test_cancelled_filing_counts_for_nothing_and_cancel_rules() -> None:
    c = f(FilingType.RESIDENT_WORK, status=Status.CANCELLED)
    assert status_for([c], HZ, GZ, date(2026, 3, 1), emergency=False) == UNFILED
    with pytest.raises(FilingError, match="已用于异地结算"):
        check_cancel(f(FilingType.RESIDENT_WORK), used_by=["S1"], today=date(2026, 3, 1))
    check_cancel(f(FilingType.RESIDENT_WORK), used_by=[], today=date(2026, 3, 1))
    with pytest.raises(FilingError, match="不能撤销"):
        check_cancel(c, used_by=[], today=date(2026, 3, 1))


def test_end_not_before_last_use_or_today() -> None:
    lt = f(FilingType.RESIDENT_WORK)
    with pytest.raises(FilingError, match="不得早于 2026-03-10"):
        check_end(lt, date(2026, 3, 5), last_use=date(2026, 3, 10), today=date(2026, 3, 1))
    check_end(lt, date(2026, 3, 10), last_use=date(2026, 3, 10), today=date(2026, 3, 1))

"""The ledger roll-up interval comes from YIBAO_LEDGER_ROLLUP_SECONDS (0 = off)."""

from __future__ import annotations

import pytest

from yibao.api.background import DEFAULT_ROLLUP_SECONDS, ROLLUP_ENV, rollup_interval


def test_default_when_unset_or_blank() -> None:
    assert rollup_interval({}) == DEFAULT_ROLLUP_SECONDS == 300
    assert rollup_interval({ROLLUP_ENV: " "}) == DEFAULT_ROLLUP_SECONDS


def test_explicit_seconds_and_zero_disables() -> None:
    assert rollup_interval({ROLLUP_ENV: "60"}) == 60
    assert rollup_interval({ROLLUP_ENV: "0.5"}) == 0.5
    assert rollup_interval({ROLLUP_ENV: "0"}) == 0


@pytest.mark.parametrize("raw", ["five", "-1", "nan"])
def test_bad_value_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match=ROLLUP_ENV):
        rollup_interval({ROLLUP_ENV: raw})

"""The infno registry: one handler per number, every handler module loaded."""

from __future__ import annotations

import pytest

from yibao.api.nhsa import dispatcher
from yibao.api.nhsa.dispatcher import Context, transaction


def test_phase_one_transactions_are_registered() -> None:
    reg = dispatcher.registered()
    for infno in ("9001", "9002", "1101", "1201", "1901", "2001", "9101", "9102", "1301", "1306"):
        assert infno in reg, infno
    assert not reg["9001"].needs_sign_in and reg["1201"].needs_sign_in
    assert reg["9002"].name == "签退"


def test_a_second_handler_for_the_same_infno_is_refused() -> None:
    def other(ctx: Context) -> dict[str, object]:
        return {}

    with pytest.raises(RuntimeError, match="already registered"):
        transaction("9001", "签到")(other)
    assert dispatcher.lookup("0000") is None

"""The online centres' envelope: SM4 + SM3withSM2 round trips; any change is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.online.envelope import (
    DEFAULT_UID,
    EnvelopeError,
    Keys,
    compact,
    keypair_from_seed,
    loads,
    open_envelope,
    seal,
    sign_text,
    sm2_sign,
    sm2_verify,
    sm3,
    sm4_key,
)

INST = keypair_from_seed(b"unit-inst")
PLAT = keypair_from_seed(b"unit-platform")
CLIENT = Keys("MPH440300000010000", "secret-0123456789", INST[0], PLAT[1])
SERVER = Keys("MPH440300000010000", "secret-0123456789", PLAT[0], INST[1])
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_sm3_standard_vector() -> None:  # GB/T 32905 example 1
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_round_trip_keeps_exact_amounts() -> None:
    data = {
        "payOrdId": "MP1",
        "feeSumamt": Decimal("12.30"),
        "list": [{"cnt": Decimal("1.0000")}],
        "名": "张三",
    }
    env = seal(CLIENT, data, NOW, transType="6202")
    assert set(env) >= {
        "appId",
        "encType",
        "signType",
        "version",
        "timestamp",
        "encData",
        "signData",
    }
    assert env["encData"] == env["encData"].upper() and "payOrdId" not in str(env)
    got = open_envelope(SERVER, env, NOW)
    assert got == data and compact(got) == compact(data)


def test_sign_text_rule() -> None:
    text = sign_text({"b": "2", "a": "1", "empty": "", "signData": "x", "encData": "y", "extra": {"k": 1},
                      "data": {"z": 1, "y": Decimal("0.10")}}, "S")  # fmt: skip
    assert text == 'a=1&b=2&data={"y":0.10,"z":1}&key=S'


@pytest.mark.parametrize(
    ("field", "change"),
    [("encData", lambda e: e["encData"][:-2] + ("00" if e["encData"][-2:] != "00" else "11")),
     ("signData", lambda e: e["signData"][:-4] + "AAAA"), ("timestamp", lambda e: "20261203160001"),
     ("appId", lambda e: "MPH440300000019999")],
)  # fmt: skip
def test_any_change_is_refused(field: str, change: object) -> None:
    env = seal(CLIENT, {"payOrdId": "MP1", "amt": Decimal("1.00")}, NOW)
    env[field] = change(env)  # type: ignore[operator]
    with pytest.raises(EnvelopeError):
        open_envelope(SERVER, env, NOW)


def test_replay_window_and_wrong_key() -> None:
    env = seal(CLIENT, {"a": "1"}, NOW)
    with pytest.raises(EnvelopeError, match="timestamp"):
        open_envelope(SERVER, env, NOW + timedelta(minutes=6))
    other = Keys(SERVER.app_id, SERVER.app_secret, PLAT[0], keypair_from_seed(b"someone")[1])
    with pytest.raises(EnvelopeError, match="signData"):
        open_envelope(other, env, NOW)


def test_the_app_secret_as_user_id_is_accepted() -> None:  # the [ITAII] variant
    plain = {"appId": CLIENT.app_id, "data": {"a": "1"}, "encType": "sm4", "signType": "sm2",
             "timestamp": str(int(NOW.timestamp() * 1000)), "version": "1.0.0"}  # fmt: skip
    sig = sm2_sign(
        INST[0], sign_text(plain, CLIENT.app_secret).encode(), CLIENT.app_secret.encode()
    )
    from yibao.online.envelope import _sm4  # the same encryption as seal

    enc = _sm4(
        sm4_key(CLIENT.app_id, CLIENT.app_secret), compact({"a": "1"}).encode(), decrypt=False
    )
    env = {k: v for k, v in plain.items() if k != "data"} | {
        "encData": enc.hex().upper(),
        "signData": sig,
    }
    assert open_envelope(SERVER, env, NOW) == {"a": "1"}


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_signatures_are_always_64_bytes_and_verify(message: bytes) -> None:
    sig = sm2_sign(INST[0], message)
    assert sm2_verify(INST[1], message, sig, (DEFAULT_UID,))
    assert not sm2_verify(INST[1], message + b"!", sig, (DEFAULT_UID,))


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_decimal_amounts_survive_the_trip_exactly(amount: Decimal) -> None:
    assert loads(compact({"x": amount}))["x"] == amount
    assert compact(loads(compact({"x": amount}))) == compact({"x": amount})

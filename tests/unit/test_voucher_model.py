"""E-voucher model: code signing/verification, channel signatures, password rules and lockout."""

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.voucher import model as m

KEY = b"k" * 32
CLAIMS = m.CodeClaims("k1", "jti-abc", "4401000000000001", "440100", "wechat", 1_000, 1_060)


def _err(fn: object, *args: object) -> str:
    with pytest.raises(m.EcError) as ei:
        fn(*args)  # type: ignore[operator]
    return ei.value.key


def test_sign_and_verify_roundtrip() -> None:
    code = m.sign_code(KEY, CLAIMS)
    assert code.startswith("YB1.") and code.count(".") == 2
    assert m.verify_code(code, {"k1": KEY}, 1_030) == CLAIMS


def test_expired_tampered_foreign_malformed_are_distinct() -> None:
    code = m.sign_code(KEY, CLAIMS)
    assert _err(m.verify_code, code, {"k1": KEY}, 1_060) == "EC_CODE_EXPIRED"
    assert _err(m.verify_code, code, {"k2": KEY}, 1_030) == "EC_CODE_FOREIGN"
    assert _err(m.verify_code, code, {"k1": b"x" * 32}, 1_030) == "EC_CODE_TAMPERED"
    assert _err(m.verify_code, "hello", {"k1": KEY}, 1_030) == "EC_CODE_MALFORMED"
    # a payload with another person, signed with the old signature
    other = m.sign_code(
        KEY, m.CodeClaims("k1", "jti-abc", "4401000000000002", "440100", "wechat", 1_000, 1_060)
    )
    forged = other.split(".")[0] + "." + other.split(".")[1] + "." + code.split(".")[2]
    assert _err(m.verify_code, forged, {"k1": KEY}, 1_030) == "EC_CODE_TAMPERED"


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0), st.data())
def test_any_flipped_character_is_refused(seed: int, data: st.DataObject) -> None:
    code = m.sign_code(KEY, CLAIMS)
    i = data.draw(st.integers(4, len(code) - 1))
    ch = data.draw(st.sampled_from("ABCxyz019-_"))
    if code[i] == ch or code[i] == ".":
        return
    changed = code[:i] + ch + code[i + 1 :]
    with pytest.raises(m.EcError) as ei:
        m.verify_code(changed, {"k1": KEY}, 1_030)
    assert ei.value.key in ("EC_CODE_TAMPERED", "EC_CODE_MALFORMED", "EC_CODE_FOREIGN")
    del seed


def test_lifetime_over_60_seconds_cannot_be_signed() -> None:
    with pytest.raises(ValueError):
        m.sign_code(KEY, m.CodeClaims("k1", "j", "p", "440100", "c", 0, 61))


def test_channel_signature() -> None:
    sig = m.channel_signature(
        "s3cret", "POST", "/api/voucher/channel/code", "1000", "nonce-123", b"{}"
    )
    m.check_channel_signature(
        "s3cret", "POST", "/api/voucher/channel/code", "1000", "nonce-123", b"{}", sig, 1_100, 300
    )
    assert (
        _err(
            m.check_channel_signature,
            "s3cret",
            "POST",
            "/api/voucher/channel/code",
            "1000",
            "nonce-123",
            b"{ }",
            sig,
            1_100,
            300,
        )
        == "EC_AUTH_BAD_SIGNATURE"
    )
    assert (
        _err(
            m.check_channel_signature,
            "s3cret",
            "POST",
            "/api/voucher/channel/code",
            "1000",
            "nonce-123",
            b"{}",
            sig,
            1_400,
            300,
        )
        == "EC_AUTH_STALE"
    )


def test_lockout_after_five_failures_and_timed_unlock() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    lock = timedelta(minutes=30)
    s = m.PasswordState()
    for i in range(4):
        s = m.after_failure(s, t, lock)
        assert not s.locked(t) and m.tries_left(s) == 4 - i
    s = m.after_failure(s, t, lock)
    assert s.locked(t) and s.locked(t + lock - timedelta(seconds=1))
    assert not s.locked(t + lock)
    # after the timed unlock a new wrong try starts counting from 1 again
    s = m.after_failure(s, t + lock, lock)
    assert s.failed == 1 and not s.locked(t + lock)
    assert m.after_success() == m.PasswordState()


@pytest.mark.parametrize("pw", ["12345", "111111", "123456", "987654", "900315", "12a456"])
def test_weak_passwords(pw: str) -> None:
    with pytest.raises(m.EcError) as ei:
        m.check_new_password(pw, "440106199003150015", date(1990, 3, 15))
    assert ei.value.key == "EC_PWD_WEAK"


def test_good_password_and_guardian_rule() -> None:
    m.check_new_password("274916", "440106199003150015", date(1990, 3, 15))
    assert m.guardian_consent_allowed(10, True)
    assert not m.guardian_consent_allowed(10, False)
    assert not m.guardian_consent_allowed(70, True)


def test_a_second_spelling_of_the_signature_is_refused() -> None:
    """base64url's last character carries unused low bits: a code whose signature differs only
    there decodes to the same bytes, and must still be refused (found by the property test)."""
    code = m.sign_code(KEY, CLAIMS)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(code[-1])
    twin = code[:-1] + alphabet[last ^ 1]  # the lowest bit is padding for a 32-byte signature
    assert base64.urlsafe_b64decode(twin.split(".")[2] + "=") == base64.urlsafe_b64decode(
        code.split(".")[2] + "="
    )
    assert _err(m.verify_code, twin, {"k1": KEY}, 1_030) == "EC_CODE_MALFORMED"

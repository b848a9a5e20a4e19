"""Gateway signatures: fixed vectors computed with openssl/sha256sum, and the refusal rules."""

from __future__ import annotations

import pytest

from yibao.wire import transport as tr

# printf '%s' '_api_access_key=AK123&_api_name=1101&_api_timestamp=1700000000000&_api_version=1.0.0' \
#   | openssl dgst -sha1 -hmac 'SK456' -binary | base64
CSB_VECTOR = "Q9ZPl82LB20gs15HqznJ3cQZ3sY="
# printf '%s' '1700000000SK456abcdef01234567891700000000' | sha256sum
TIF_VECTOR = "e34534e9647e3c8dcbdf344fe0e9dc67850e853e543b5b9d9e7916edee81e3fe"
WINDOW = 30 * 60 * 1000


def test_csb_signature_matches_openssl() -> None:
    assert tr.csb_signature("SK456", "AK123", "1101", "1700000000000", "1.0.0") == CSB_VECTOR


def test_csb_string_sorts_keys() -> None:
    s = tr.csb_string_to_sign("a", "n", "1", "v")
    assert s == "_api_access_key=a&_api_name=n&_api_timestamp=1&_api_version=v"


def test_tif_signature_matches_sha256sum() -> None:
    assert tr.tif_signature("SK456", "1700000000", "abcdef0123456789") == TIF_VECTOR


def test_csb_headers_verify() -> None:
    headers = tr.sign_csb("AK123", "SK456", "1101", 1_700_000_000_000)
    auth = tr.read_headers(headers)
    assert auth.scheme == tr.CSB and auth.app_key == "AK123"
    tr.verify(auth, "SK456", 1_700_000_000_000 + 60_000, WINDOW)


def test_csb_seconds_timestamp_tolerated() -> None:
    ts = "1700000000"
    headers = {
        "_api_name": "1101",
        "_api_version": "1.0.0",
        "_api_timestamp": ts,
        "_api_access_key": "AK123",
        "_api_signature": tr.csb_signature("SK456", "AK123", "1101", ts, "1.0.0"),
    }
    auth = tr.read_headers(headers)
    assert auth.timestamp_ms == 1_700_000_000_000
    tr.verify(auth, "SK456", 1_700_000_000_000, WINDOW)


def test_wrong_secret_is_refused() -> None:
    auth = tr.read_headers(tr.sign_csb("AK123", "SK456", "1101", 1_700_000_000_000))
    with pytest.raises(tr.GatewayAuthError) as err:
        tr.verify(auth, "other", 1_700_000_000_000, WINDOW)
    assert err.value.message == tr.BAD_SIGNATURE


def test_stale_timestamp_is_refused() -> None:
    auth = tr.read_headers(tr.sign_tif("P1", "SK456", 1_700_000_000, "abcdef0123456789"))
    with pytest.raises(tr.GatewayAuthError) as err:
        tr.verify(auth, "SK456", 1_700_000_000_000 + WINDOW + 1000, WINDOW)
    assert err.value.message == tr.STALE_TIMESTAMP


def test_tif_verify_and_tamper() -> None:
    headers = tr.sign_tif("P1", "SK456", 1_700_000_000, "abcdef0123456789")
    tr.verify(tr.read_headers(headers), "SK456", 1_700_000_000_000, WINDOW)
    headers["x-tif-nonce"] = "abcdef0123456780"
    with pytest.raises(tr.GatewayAuthError):
        tr.verify(tr.read_headers(headers), "SK456", 1_700_000_000_000, WINDOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"_api_name": "1101", "_api_access_key": "AK"},
        {"x-tif-paasid": "P1", "x-tif-timestamp": "1"},
    ],
)
def test_missing_headers(headers: dict[str, str]) -> None:
    with pytest.raises(tr.GatewayAuthError) as err:
        tr.read_headers(headers)
    assert err.value.message == tr.MISSING_HEADERS


def test_header_names_are_case_insensitive() -> None:
    headers = {k.upper(): v for k, v in tr.sign_tif("P1", "S", 1, "abcdef0123456789").items()}
    assert tr.read_headers(headers).scheme == tr.TIF

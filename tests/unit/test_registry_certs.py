"""Certificate numbers: GB 11643 check digit, permit/passport formats, masking (脱敏)."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.registry import certs


def test_known_id_number_is_valid() -> None:
    # The GB 11643-1999 standard's own example number.
    assert certs.validate("01", "11010519491231002x") == "11010519491231002X"


def test_wrong_check_digit_names_the_expected_one() -> None:
    with pytest.raises(certs.CertError, match="校验位错误\\(应为X\\)"):
        certs.validate("01", "110105194912310021")


@pytest.mark.parametrize(
    ("certno", "reason"),
    [
        ("11010519491231002", "18位"),
        ("110105194913310024", "出生日期无效"),
        ("1101051949123100AX", "18位"),
    ],
)
def test_bad_id_numbers(certno: str, reason: str) -> None:
    with pytest.raises(certs.CertError, match=reason):
        certs.validate("01", certno)


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    st.integers(0, 999),
    st.sampled_from(["440106", "440304", "421381"]),
)
def test_composed_numbers_validate_and_encode_birth_and_gender(
    born: date, seq: int, region: str
) -> None:
    n = certs.compose_id18(region, born, seq)
    assert certs.validate("01", n) == n
    assert certs.id18_birth_date(n) == born
    assert certs.id18_gender(n) == ("1" if seq % 2 else "2")
    # any single changed digit among the first 17 breaks the check digit (or the date)
    i = seq % 17
    changed = n[:i] + str((int(n[i]) + 1) % 10) + n[i + 1 :]
    with pytest.raises(certs.CertError):
        certs.validate("01", changed)


@pytest.mark.parametrize(
    ("cert_type", "certno", "ok"),
    [
        ("04", "H12345678", True),
        ("04", "H1234567890", True),
        ("04", "M12345678", False),
        ("05", "M12345678", True),
        ("06", "12345678", True),
        ("06", "1234567", False),
        ("08", "E12345678", True),
        ("08", "X1", False),
        ("16", "E12345678", True),
        ("16", "P12345678", False),
        ("07", "USA440106123456", True),
        ("17", "81000019900101001", False),
    ],
)
def test_permits_and_passports(cert_type: str, certno: str, ok: bool) -> None:
    if ok:
        assert certs.validate(cert_type, certno) == certno
    else:
        with pytest.raises(certs.CertError):
            certs.validate(cert_type, certno)


def test_hmt_residence_permit_uses_id_structure() -> None:
    n = certs.compose_id18("810000", date(1990, 1, 1), 1)
    assert certs.validate("17", n) == n
    with pytest.raises(certs.CertError, match="810000"):
        certs.validate("17", certs.compose_id18("440106", date(1990, 1, 1), 1))


def test_mask_keeps_first_6_and_last_4() -> None:
    assert certs.mask("11010519491231002X") == "110105********002X"
    assert certs.mask("H12345678") == "H1*****78"
    assert certs.mask("1234") == "****"


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789X", min_size=11, max_size=30))
def test_mask_never_shows_the_middle(n: str) -> None:
    masked = certs.mask(n)
    assert len(masked) == len(n)
    assert masked[:6] == n[:6] and masked[-4:] == n[-4:]
    assert set(masked[6:-4]) <= {"*"}

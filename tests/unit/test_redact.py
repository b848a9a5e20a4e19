"""Log redaction (脱敏) by field name and by pattern, and the logging setup's exception text."""

from __future__ import annotations

import io
import logging
from datetime import date

import structlog
from hypothesis import given
from hypothesis import strategies as st

from yibao import logging as ylog
from yibao.redact import REDACTED, mask_id, mask_name, redact_event, redact_text
from yibao.registry.certs import compose_id18

CERTNO = "44030519880714357X"
PHONE = "13923456781"


def test_by_field_name_secrets_vanish_and_persons_are_masked() -> None:
    event = {
        "event": "x",
        "app_secret": "s3cr3t",
        "password": "pw",
        "ecToken": "tok",
        "X-Tif-Signature": "sig",
        "psn_name": "欧阳明轩",
        "userName": "李四",
        "certno": CERTNO,
        "mdtrt_cert_no": CERTNO,
        "tel": PHONE,
        "nested": {"data": [{"idNo": CERTNO, "mob": PHONE}]},
        "count": 3,
    }
    out = redact_event(event)
    assert out["app_secret"] == out["password"] == out["ecToken"] == REDACTED
    assert out["X-Tif-Signature"] == REDACTED
    assert out["psn_name"] == "欧***" and out["userName"] == "李*"
    assert out["certno"] == out["mdtrt_cert_no"] == "44**************7X"
    assert out["tel"] == "138****5678".replace("138", "139").replace("5678", "6781")
    assert out["nested"] == {"data": [{"idNo": "44**************7X", "mob": "139****6781"}]}
    assert out["count"] == 3 and out["event"] == "x"


def test_by_pattern_anywhere_in_text() -> None:
    text = (
        f"GET /api/registry/persons?certno={CERTNO.lower()} from {PHONE}; "
        "app_secret='abc123' password=hunter2 token: xyz "
        "440300ec0123456789abcdef0123456789abcdef fernet:gAAAAAB-x_y= "
        "DETAIL:  Key (psn_cert_type, certno)=(01, ABC) already exists."
    )
    out = redact_text(text)
    for secret in (CERTNO.lower(), PHONE, "abc123", "hunter2", "xyz", "gAAAAAB", "(01, ABC)"):
        assert secret not in out
    assert "0123456789abcdef0123456789abcdef" not in out
    assert "44**************7x" in out and "139****6781" in out


def test_identifiers_that_are_not_personal_stay_readable() -> None:
    ids = (
        "msgid H44030000001202610231010100001 setl 440100S20261122000000000042 psn 4403000000000017"
    )
    assert redact_text(ids) == ids


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    seq=st.integers(0, 999),
    before=st.text(alphabet="abc =:,/ 中文", max_size=8),
    after=st.text(alphabet="abc =:,/ 中文", max_size=8),
)
def test_every_id_number_in_free_text_is_masked(
    born: date, seq: int, before: str, after: str
) -> None:
    certno = compose_id18("440305", born, seq)
    out = redact_text(before + certno + after)
    assert certno not in out and certno[6:14] not in out


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_mobile_number_in_free_text_is_masked(phone: str) -> None:
    assert phone not in redact_text(f"联系电话{phone}。")


def test_masks() -> None:
    assert mask_id(PHONE) == "139****6781"
    assert mask_id("abc") == "***"
    assert mask_name("张三") == "张*" and mask_name("") == ""


def test_exception_text_has_no_locals_and_is_redacted() -> None:
    def fail(app_secret: str, certno: str) -> None:
        raise RuntimeError(f"cannot settle {certno}")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ylog.formatter())
    logger = logging.getLogger("test_redact")
    logger.addHandler(handler)
    secret = "the-decrypted-" + "secret"  # not a literal on the failing source line
    try:
        try:
            fail(secret, CERTNO)
        except RuntimeError:
            logger.exception("unexpected", extra={"x": 1})
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "Traceback (most recent call last)" in out and "RuntimeError" in out
    assert "the-decrypted-secret" not in out and CERTNO not in out


def test_configure_routes_structlog_through_the_redacting_handler(capsys: object) -> None:
    ylog.configure("INFO")
    try:
        structlog.get_logger("t").info("person_seen", certno=CERTNO, note=f"tel {PHONE}")
        err = capsys.readouterr().err  # type: ignore[attr-defined]
        assert "person_seen" in err and CERTNO not in err and PHONE not in err
    finally:
        ylog._configured = None
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

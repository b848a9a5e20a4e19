"""docs/voucher.md lists every e-voucher error code with its key."""

from pathlib import Path

from yibao.voucher.model import ERRORS

DOC = Path(__file__).resolve().parents[2] / "docs" / "voucher.md"


def test_every_error_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for key, kind in ERRORS.items():
        if key.startswith("EC_AUTH_"):
            assert key.removeprefix("EC_AUTH_") in text, key
            continue
        assert f"| {kind.code} | {key} | {kind.http_status} |" in text, key

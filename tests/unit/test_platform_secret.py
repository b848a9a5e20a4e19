"""The platform secret may live outside the data folder (issue 10, finding 10):
``YIBAO_SECRET_KEY_FILE`` names its file, so a copy of the data folder alone decrypts nothing."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from yibao import platform_secret
from yibao.institutions.sealing import SealError
from yibao.voucher import secrets_at_rest as box


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    platform_secret._key_from.cache_clear()
    yield
    platform_secret._key_from.cache_clear()


def test_key_file_outside_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, keys = tmp_path / "var", tmp_path / "keys"
    monkeypatch.delenv("YIBAO_SECRET_KEY", raising=False)
    monkeypatch.setenv("YIBAO_DATA_DIR", str(data))
    monkeypatch.setenv("YIBAO_SECRET_KEY_FILE", str(keys / "platform.key"))
    sealed = box.seal_text("the institution's SK")
    assert (keys / "platform.key").exists() and not (data / "secret.key").exists()
    assert stat.S_IMODE((keys / "platform.key").stat().st_mode) == 0o600
    assert box.open_text(sealed) == "the institution's SK"
    # the data folder copied elsewhere, without the key file: nothing can be opened
    platform_secret._key_from.cache_clear()
    monkeypatch.delenv("YIBAO_SECRET_KEY_FILE")
    with pytest.raises(SealError):
        box.open_text(sealed)
    assert (data / "secret.key").exists()  # a new, different default key was made there


def test_default_stays_in_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YIBAO_SECRET_KEY", raising=False)
    monkeypatch.delenv("YIBAO_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path))
    assert platform_secret.secret_key() == (tmp_path / "secret.key").read_text().strip()

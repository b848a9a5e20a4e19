"""Gateway secrets sealed at rest."""

from __future__ import annotations

import pytest

from yibao.institutions.sealing import PREFIX, SealError, seal, unseal


def test_round_trip_and_plain_without_key() -> None:
    stored = seal("SK-123", "server-key")
    assert stored.startswith(PREFIX) and "SK-123" not in stored
    assert unseal(stored, "server-key") == "SK-123"
    assert seal("SK-123", "") == "SK-123" and unseal("SK-123", "any") == "SK-123"


def test_wrong_or_missing_key_is_refused() -> None:
    stored = seal("SK-123", "server-key")
    with pytest.raises(SealError):
        unseal(stored, "other-key")
    with pytest.raises(SealError, match="YIBAO_SECRET_KEY"):
        unseal(stored, "")

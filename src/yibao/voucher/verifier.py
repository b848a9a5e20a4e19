"""Real-person verification (实人核验) behind a pluggable interface.

Production plugs a face/liveness service in by setting ``YIBAO_EC_VERIFIER=package.module:factory``
(a zero-argument callable returning a :class:`RealPersonVerifier`). The default ``demo`` verifier is
deterministic: the evidence must be ``FACE-`` followed by the last 6 characters of the person's
certificate number (e.g. ``FACE-12345X``); anything else fails.
"""

from __future__ import annotations

import importlib
from typing import Protocol


class RealPersonVerifier(Protocol):
    """Checks that the living person in front of the channel is the registry person."""

    def verify(self, *, psn_no: str, psn_name: str, certno: str, evidence: str) -> bool: ...


class DemoVerifier:
    """Deterministic demo: accepts exactly ``"FACE-" + certno[-6:]``."""

    def verify(self, *, psn_no: str, psn_name: str, certno: str, evidence: str) -> bool:
        del psn_no, psn_name
        return evidence == demo_evidence(certno)


def demo_evidence(certno: str) -> str:
    """The evidence string the demo verifier accepts for ``certno``."""
    return "FACE-" + certno[-6:]


def load_verifier(spec: str) -> RealPersonVerifier:
    """``"demo"`` or ``"module:factory"``."""
    if spec in ("", "demo"):
        return DemoVerifier()
    module, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    verifier: RealPersonVerifier = factory()
    return verifier

"""What checkout needs from outside its process (端口): the cross-province hub.

Checkout never imports the hub: the entry points hand a :class:`HubPort` to the use cases that
may need one (settlements of persons insured in another province, 跨省异地就医), and
:mod:`yibao.hub.port` implements it over HTTP. Tests can pass their own.
"""

from __future__ import annotations

from typing import Protocol


class HubFailed(Exception):
    """The hub or the insured province refused or did not answer; ``message`` is for the HIS.
    ``uncertain``: the outcome on the insured side is unknown (retry the reversal later)."""

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.uncertain = uncertain


class HubPort(Protocol):
    """The cross-province hub as checkout uses it."""

    def is_cross_province(self, insuplc_admdvs: str) -> bool:
        """Whether persons of ``insuplc_admdvs`` are insured in another province's deployment."""
        ...

    def reverse(self, relay_id: str, insuplc_admdvs: str, mdtrtarea_admvs: str) -> None:
        """冲正 a relayed settlement on the insured side (idempotent); :class:`HubFailed`."""
        ...

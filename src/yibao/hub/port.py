"""The hub as checkout's port (跨省中转端口): :class:`yibao.checkout.ports.HubPort` over HTTP."""

from __future__ import annotations

from yibao.checkout.ports import HubFailed
from yibao.hub import client
from yibao.hub.model import RelayError


class HttpHub:
    """The cross-province hub reached with this deployment's hub settings."""

    def is_cross_province(self, insuplc_admdvs: str) -> bool:
        return client.is_cross_province(insuplc_admdvs)

    def reverse(self, relay_id: str, insuplc_admdvs: str, mdtrtarea_admvs: str) -> None:
        try:
            client.reverse_settlement(relay_id, insuplc_admdvs, mdtrtarea_admvs)
        except RelayError as e:
            raise HubFailed(e.message, uncertain=e.uncertain) from None


HUB = HttpHub()

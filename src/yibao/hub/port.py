"""The hub as other capabilities' port (跨省中转端口): checkout's :class:`HubPort`, the
e-voucher's :class:`OtherProvinces` and clearing's :class:`ProvinceHub`, over HTTP.

Those capabilities never import the hub (the hub uses their services, so that would be an import
cycle); the entry points and the app hand them these objects.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.checkout.ports import HubFailed
from yibao.clearing.ports import HubUnavailable
from yibao.hub import client, voucher_relay
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


class HubVouchers:
    """Other provinces' 医保码 and ecTokens, resolved by their issuer through the hub."""

    def issuing_region(self, qr_code: str) -> str | None:
        return voucher_relay.issuing_region(qr_code)

    def exchange_elsewhere(self, region: str, query: dict[str, str]) -> dict[str, object]:
        return voucher_relay.exchange_elsewhere(region, query)

    def token_region(self, token: str) -> str | None:
        return voucher_relay.token_region(token)

    def identity_elsewhere(
        self, region: str, token: str, org_id: str, on: date
    ) -> dict[str, object]:
        return voucher_relay.identity_elsewhere(region, token, org_id, on)


HUB_VOUCHERS = HubVouchers()


class HubClearing:
    """The month's report to the hub and the hub's inter-province statement."""

    def report(self, conn: sa.Connection, period: str) -> dict[str, Any]:
        try:
            return client.report_clearing(conn, period)
        except RelayError as e:
            raise HubUnavailable(e.message) from None

    def statement(self, period: str) -> dict[str, Any]:
        try:
            return client.clearing_statement(period)
        except RelayError as e:
            raise HubUnavailable(e.message) from None


HUB_CLEARING = HubClearing()

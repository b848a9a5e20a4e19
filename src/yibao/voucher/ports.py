"""What the e-voucher needs from outside (端口): other provinces' Yibao, reached through the hub.

A 医保码 or ecToken issued by another province is resolved there (跨省医保电子凭证). The voucher never
imports the hub (the hub's insured side uses the voucher's service, so that would be an import
cycle): the app hands an :class:`OtherProvinces` to the e-voucher API as
``app.state.voucher_elsewhere`` (:class:`yibao.hub.port.HubVouchers`); without one, every code
and token is treated as this deployment's own, as when no hub is configured.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol


class OtherProvinces(Protocol):
    """Codes and tokens of other provinces, as the e-voucher's institution API uses them."""

    def issuing_region(self, qr_code: str) -> str | None:
        """The code's insured region when another province issued it, else ``None``."""
        ...

    def exchange_elsewhere(self, region: str, query: dict[str, str]) -> dict[str, object]:
        """ec.query answered by the issuing province (identity + an ecToken for
        ``query["orgId"]``); its refusal raised as :class:`~yibao.voucher.model.EcError`."""
        ...

    def token_region(self, token: str) -> str | None:
        """The insured region an ecToken names when another province issued it, else ``None``."""
        ...

    def identity_elsewhere(
        self, region: str, token: str, org_id: str, on: date
    ) -> dict[str, object]:
        """The 1101 output for another province's ecToken, resolved there for ``org_id``."""
        ...


class ThisProvinceOnly:
    """No hub: every code and token is this deployment's own."""

    def issuing_region(self, qr_code: str) -> str | None:
        return None

    def exchange_elsewhere(self, region: str, query: dict[str, str]) -> dict[str, object]:
        raise AssertionError("no other province without a hub")

    def token_region(self, token: str) -> str | None:
        return None

    def identity_elsewhere(
        self, region: str, token: str, org_id: str, on: date
    ) -> dict[str, object]:
        raise AssertionError("no other province without a hub")


THIS_PROVINCE_ONLY = ThisProvinceOnly()

"""E-voucher use cases (电子凭证服务): one facade over the capability's use-case modules.

- :mod:`.channels` — channel registration and signed-call authentication;
- :mod:`.activation` — 实名 + 实人 activation, authorisation, revocation, activation events;
- :mod:`.exchange` — dynamic codes, the institution exchange (ec.query/6101), ecToken identity;
- :mod:`.password` — payment password with lockout;
- :mod:`.family` — 亲情账户;
- :mod:`.stats` — activation rates.

The clock is injected (``clock``) so expiry and lockout are testable; the model takes explicit
times. Each public method is one transaction. For the gateway, :func:`resolve_ec_token`,
:func:`person_info_1101_by_ec_token` and :func:`password_verified` work inside the caller's
transaction.
"""

from __future__ import annotations

from yibao.voucher.activation import ActivationOps
from yibao.voucher.base import (
    CHANNEL_KINDS,
    Clock,
    VoucherSettings,
    password_verified,
    person_info_1101_by_ec_token,
    resolve_ec_token,
    system_clock,
)
from yibao.voucher.channels import ChannelOps
from yibao.voucher.exchange import CodeOps
from yibao.voucher.family import FamilyOps
from yibao.voucher.password import PasswordOps
from yibao.voucher.stats import StatsOps

__all__ = [
    "CHANNEL_KINDS",
    "Clock",
    "VoucherService",
    "VoucherSettings",
    "password_verified",
    "person_info_1101_by_ec_token",
    "resolve_ec_token",
    "system_clock",
]


class VoucherService(ChannelOps, ActivationOps, CodeOps, PasswordOps, FamilyOps, StatsOps):
    """The e-voucher use cases over an engine; ``clock`` and ``verifier`` are injectable."""

"""A request signed with an institution's gateway credential, outside the national-interface
frame (定点机构签名鉴权): the e-voucher institution API (``/api/voucher/ec/*``).

Same headers as the national-interface gateway (CSB ``_api_*`` HMAC-SHA1 or Guangdong ``x-tif-*``
SHA-256), same credentials (:func:`yibao.institutions.store.get_credential`), same verification
(:func:`yibao.wire.transport.verify`) and same nonce store (:func:`yibao.gateway.store.use_nonce`).
A CSB request has no nonce, so its signature is recorded as one: a captured request cannot be
replayed within the timestamp window. An institution whose network status is not normal (暂停联网 /
取消定点) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from yibao.gateway import store as gateway_store
from yibao.institutions import store
from yibao.wire import transport
from yibao.wire.transport import GatewayAuthError


class InstitutionRefused(Exception):
    """The signature is good but the institution may not transact (未登记、暂停联网、取消定点)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedBy:
    """The institution and credential a request was signed with."""

    fixmedins_code: str
    app_key: str


def authenticate(
    engine: sa.Engine,
    headers: Mapping[str, str],
    *,
    window_s: int,
    nonce_ttl_s: int,
    now_ms: int,
) -> SignedBy:
    """Check the gateway headers of one request and use its one-time value (one transaction).

    Raises :class:`~yibao.wire.transport.GatewayAuthError` (the gateway's own message) for a bad
    or replayed signature and :class:`InstitutionRefused` for an institution that may not
    transact.
    """
    auth = transport.read_headers(headers)
    with engine.begin() as conn:
        cred = store.get_credential(conn, auth.app_key)
        if cred is None or not cred.active:
            raise GatewayAuthError(transport.ILLEGAL_USER)
        transport.verify(auth, cred.app_secret, now_ms, window_s * 1000)
        once = auth.nonce if auth.scheme == transport.TIF else "csb:" + auth.signature
        if not gateway_store.use_nonce(conn, cred.app_key, once, nonce_ttl_s):
            raise GatewayAuthError(transport.REPLAYED_NONCE)
        inst = store.get_institution(conn, cred.fixmedins_code)
    why = f"定点医药机构{cred.fixmedins_code}未登记" if inst is None else inst.refusal()
    if why is not None:  # 暂停联网 / 取消定点: no e-voucher business either
        raise InstitutionRefused(why)
    return SignedBy(cred.fixmedins_code, cred.app_key)

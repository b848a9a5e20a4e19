"""Cross-province e-voucher (跨省医保电子凭证): a dynamic code issued by another province's Yibao.

A 医保码 is signed by the insured person's province (docs/voucher.md "Dynamic code"); only that
deployment holds the signing keys, the single-use record and the voucher and channel state. An
institution here scans it and calls its own ``/api/voucher/ec/query`` as always; when the code's
(signed, readable) insured region belongs to another province, the scanned code goes through the
hub to that province, which verifies it like a local exchange and issues the ecToken **bound to
this institution** (``orgId``). The HIS then uses ``mdtrt_cert_type=01`` + that ecToken in
1101/2201/2401/2101/2102, and :mod:`yibao.api.nhsa.handlers._across` has the issuing province resolve it
(institution binding included); ``/api/voucher/ec/identity`` with such a token is answered the same
way (:func:`identity_elsewhere`). Nothing about the person is stored here.
"""

from __future__ import annotations

from datetime import date

from yibao.hub import client
from yibao.hub.model import RelayError, province
from yibao.hub.settings import HubSettings
from yibao.voucher.model import ERRORS, EcError, parse_code


def issuing_region(qr_code: str, cfg: HubSettings | None = None) -> str | None:
    """The code's insured region when it belongs to another province (relay it), else None
    (a local code, or not readable: the local exchange gives the usual error)."""
    cfg = cfg or HubSettings()
    if not cfg.province:
        return None
    try:
        claims, _, _ = parse_code(qr_code)
    except EcError:
        return None
    return claims.admdvs if province(claims.admdvs) != cfg.province else None


def exchange_elsewhere(
    region: str, query: dict[str, str], cfg: HubSettings | None = None
) -> dict[str, object]:
    """ec.query by the issuing province through the hub: identity + an ecToken for
    ``query["orgId"]``. Its refusal is raised as the same :class:`EcError` (code and key), the
    message saying which province refused; an unreachable hub is ``EC_RELAY_FAILED``."""
    try:
        body = client.relay_ec_query(region, query, cfg=cfg)
    except RelayError as e:
        raise EcError("EC_RELAY_FAILED", e.message) from None
    if body.get("status") == "ok":
        return dict(body["data"])
    key = str(body.get("error") or "")
    err = EcError(key if key in ERRORS else "EC_FIELD_INVALID")
    err.message = f"{body.get('message') or err.message}（参保地 {region} 核验）"
    raise err


def token_region(token: str, cfg: HubSettings | None = None) -> str | None:
    """The insured region an ecToken names (``<admdvs>ec<hex>``) when that region belongs to
    another province, else None."""
    cfg = cfg or HubSettings()
    region = token[:6]
    if not cfg.province or not (region.isdigit() and token[6:8] == "ec"):
        return None
    return region if province(region) != cfg.province else None


def identity_elsewhere(
    region: str, token: str, org_id: str, on: date, cfg: HubSettings | None = None
) -> dict[str, object]:
    """The 1101 output for an ecToken issued by another province, resolved there for
    ``org_id`` (its refusal raised as the same :class:`EcError`)."""
    try:
        return client.relay_person_info("", region, on, ec_token=token, org_id=org_id, cfg=cfg)
    except RelayError as e:
        if e.key not in ERRORS:
            raise EcError("EC_RELAY_FAILED", e.message) from None
        err = EcError(e.key)
        err.message = f"{err.message}（参保地 {region} 核验）"
        raise err from None

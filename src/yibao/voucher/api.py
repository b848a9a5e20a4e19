"""E-voucher HTTP API (医保电子凭证接口): thin over :class:`VoucherService`.

Three faces:

- ``/api/voucher/channel/*`` — channel apps; every call is signed (headers ``X-Yibao-Channel``,
  ``X-Yibao-Timestamp``, ``X-Yibao-Nonce``, ``X-Yibao-Signature``; see ``docs/voucher.md``);
- ``/api/voucher/ec/*`` — institutions (HIS/POS): code exchange (like ``ec.query``/6101), identity
  (1101 output) by ecToken, token check, PIN-pad password verification; every call is signed with
  the institution's gateway credential (:mod:`yibao.http.institution`) and ``orgId`` must be
  the signing institution;
- ``/api/voucher/admin/*`` — bureau: channels, revocation, unlock, activation rates; a signed-in
  console user (:mod:`yibao.http.staff`), CSRF header on writes, region-scoped.

Answers are ``{"code": 0, "message": "成功", "data": …}``; errors ``{"code": <n>, "error": <key>,
"message": <中文>}`` with a 4xx status (codes in :data:`yibao.voucher.model.ERRORS`).
"""

from __future__ import annotations

from fastapi import APIRouter

from yibao.clock import CHINA as CHINA_TZ
from yibao.voucher.api_bureau import router as bureau_router
from yibao.voucher.api_channel import router as channel_router
from yibao.voucher.api_common import EcRoute, channel_of, elsewhere_of, ok, service_of
from yibao.voucher.api_institution import router as institution_router

__all__ = ["CHINA_TZ", "channel_of", "elsewhere_of", "ok", "router", "service_of"]

router = APIRouter(prefix="/api/voucher", tags=["voucher 医保电子凭证"], route_class=EcRoute)
router.include_router(channel_router)  # /channel/*: channel apps (渠道)
router.include_router(institution_router)  # /ec/*, /qr: institutions (定点机构)
router.include_router(bureau_router)  # /admin/*: bureau staff (经办)

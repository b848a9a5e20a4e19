"""Institution authentication for the e-voucher institution API (定点机构接口鉴权).

``/api/voucher/ec/*`` (code exchange, identity, token check, PIN-pad password) accepts only a
designated institution (定点医药机构) signed with its gateway credential — checked by
:func:`yibao.institutions.signed.authenticate` (same headers, credentials, verification and
nonce store as the national-interface gateway).

The authenticated ``fixmedins_code`` is the institution; one whose network status is not normal
(暂停联网 / 取消定点) is refused (``EC_ORG_SUSPENDED``), and a body whose ``orgId`` names another
institution is refused (``EC_ORG_MISMATCH``), before any code is consumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from yibao.gateway.settings import GatewaySettings
from yibao.institutions import signed
from yibao.wire.transport import GatewayAuthError


class InstitutionAuthError(Exception):
    """A refused institution call: 401 (not authenticated) or 403 (orgId of another institution)."""

    def __init__(self, status: int, code: int, key: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.key = key
        self.message = message


def auth_failed(reason: str) -> InstitutionAuthError:
    return InstitutionAuthError(
        401,
        1606,
        "EC_AUTH_INSTITUTION",
        f"定点机构鉴权失败：{reason}（须按服务网关规则携带 _api_* 或 x-tif-* 签名请求头）",
    )


@dataclass(frozen=True, slots=True)
class AuthenticatedInstitution:
    """The institution a request was signed by."""

    fixmedins_code: str
    app_key: str

    def require_org(self, org_id: str, field: str = "orgId") -> str:
        """The caller's ``orgId`` must be its own code (empty means: the authenticated one)."""
        if org_id and org_id != self.fixmedins_code:
            raise InstitutionAuthError(
                403,
                1607,
                "EC_ORG_MISMATCH",
                f"{field}（{org_id}）与请求签名所属的定点机构（{self.fixmedins_code}）不一致",
            )
        return self.fixmedins_code


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings | None = getattr(request.app.state, "nhsa_settings", None)
    return settings or GatewaySettings()


def authenticate(
    engine: sa.Engine, headers: dict[str, str], settings: GatewaySettings, now_ms: int
) -> AuthenticatedInstitution:
    """Check the gateway headers of one request; raise :class:`InstitutionAuthError`."""
    try:
        got = signed.authenticate(
            engine,
            headers,
            window_s=settings.timestamp_window_s,
            nonce_ttl_s=settings.nonce_ttl_s,
            now_ms=now_ms,
        )
    except GatewayAuthError as exc:
        raise auth_failed(exc.message) from exc
    except signed.InstitutionRefused as exc:
        raise InstitutionAuthError(403, 1608, "EC_ORG_SUSPENDED", exc.message) from exc
    return AuthenticatedInstitution(got.fixmedins_code, got.app_key)


async def institution_of(request: Request) -> AuthenticatedInstitution:
    """FastAPI dependency: the designated institution that signed this request."""
    return await run_in_threadpool(
        authenticate,
        request.app.state.engine,
        dict(request.headers),
        _settings(request),
        int(time.time() * 1000),
    )

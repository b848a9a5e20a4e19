"""Staff authentication for the bureau HTTP APIs (经办人员接口鉴权).

The registry (``/api/registry/*``) and e-voucher admin (``/api/voucher/admin/*``) APIs accept only
a signed-in console user (控制台会话): the ``yibao_console`` session cookie is resolved by
:func:`yibao.console.service.resolve_session`, so the actor in every audit row is the real user.
State-changing calls (POST, PUT, PATCH, DELETE) must also send the session's CSRF token in the
``X-CSRF-Token`` header; ``GET /api/staff/session`` (:mod:`yibao.api.staff_auth`) tells a
signed-in client its token.

What each role may do (权限) is decided here, once, by :class:`Capability`; which persons and
regions it reaches is decided by the console's :class:`~yibao.console.model.Scope`.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass

from fastapi import Request

from yibao.config import deployment_province
from yibao.console import service as console_service
from yibao.console.model import Principal, Role, Scope, scope_for

SESSION_COOKIE = "yibao_console"  # the console's session cookie (yibao.web.auth.SESSION_COOKIE)
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class StaffAuthError(Exception):
    """A refused staff call: ``status`` 401 (not signed in) or 403 (not allowed), Chinese text."""

    def __init__(self, status: int, key: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.key = key
        self.message = message


def not_signed_in() -> StaffAuthError:
    return StaffAuthError(
        401,
        "AUTH_REQUIRED",
        "未登录或会话已过期：请先登录经办控制台（/console/login），并携带会话 Cookie yibao_console",
    )


def forbidden(message: str) -> StaffAuthError:
    return StaffAuthError(403, "FORBIDDEN", message)


def out_of_scope(what: str) -> StaffAuthError:
    return StaffAuthError(403, "OUT_OF_SCOPE", f"{what}不在您的管辖区域内")


class Capability(enum.StrEnum):
    """What a staff call does (操作权限); roles are granted a set of them."""

    PERSON_READ = "person_read"  # 查看参保人（证件号码脱敏）
    PERSON_LOOKUP = "person_lookup"  # 按证件查找参保人（窗口核验身份）
    PERSON_WRITE = "person_write"  # 登记、参保、身份、家庭
    CERTNO_REVEAL = "certno_reveal"  # 查看完整证件号码（须事由，审计）
    ACCOUNT_POST = "account_post"  # 个人账户划入/支出
    BULK_IMPORT = "bulk_import"  # 批量导入
    BULK_EXPORT = "bulk_export"  # 批量导出（脱敏，须填用途，审计）
    EXPORT_DISCLOSE = "export_disclose"  # 导出未脱敏的证件号码、姓名、电话（审计）
    VOUCHER_ADMIN = "voucher_admin"  # 注销电子凭证、解锁密码
    CHANNEL_ADMIN = "channel_admin"  # 登记渠道（全省）
    CHANNEL_READ = "channel_read"  # 查看渠道
    STATS_READ = "stats_read"  # 激活率统计
    CLEARING_READ = "clearing_read"  # 查看清算单
    CLEARING_WRITE = "clearing_write"  # 生成、确认、审核、退回清算单
    FILING_READ = "filing_read"  # 查看异地就医备案
    FUNDS_READ = "funds_read"  # 查看基金收支、可支付月数和缴费汇总
    FUNDS_UNIT_READ = "funds_unit_read"  # 查看单位和个人缴费明细
    FUNDS_WRITE = "funds_write"  # 核定、税务文件交换、减征缓缴审批、财政拨入

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[Capability, str] = {
    Capability.PERSON_READ: "查看参保人信息",
    Capability.PERSON_LOOKUP: "按证件查找参保人",
    Capability.PERSON_WRITE: "办理参保登记",
    Capability.CERTNO_REVEAL: "查看完整证件号码",
    Capability.ACCOUNT_POST: "个人账户记账",
    Capability.BULK_IMPORT: "批量导入参保数据",
    Capability.BULK_EXPORT: "批量导出参保数据",
    Capability.EXPORT_DISCLOSE: "导出未脱敏的个人信息",
    Capability.VOUCHER_ADMIN: "管理医保电子凭证",
    Capability.CHANNEL_ADMIN: "登记渠道",
    Capability.CHANNEL_READ: "查看渠道",
    Capability.STATS_READ: "查看激活率统计",
    Capability.CLEARING_READ: "查看清算单",
    Capability.CLEARING_WRITE: "办理异地清算",
    Capability.FILING_READ: "查看异地就医备案",
    Capability.FUNDS_READ: "查看基金收支",
    Capability.FUNDS_UNIT_READ: "查看单位和个人缴费明细",
    Capability.FUNDS_WRITE: "办理缴费核定与征收",
}

_ADMIN = frozenset(Capability) - {Capability.CHANNEL_ADMIN, Capability.EXPORT_DISCLOSE}
ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.PROVINCE_ADMIN: frozenset(Capability),
    # channels are province-wide: registered by the province only; an unmasked export is the
    # province's decision (a separate permission, issue 10)
    Role.CITY_ADMIN: _ADMIN,
    # the counter identifies a person by certificate (masked answer); nothing else of the registry
    Role.INSTITUTION_OPERATOR: frozenset({Capability.PERSON_LOOKUP}),
    # aggregates only, never a person (issue 10): statistics, channels, clearing totals
    Role.ANALYST: frozenset(
        {
            Capability.CHANNEL_READ,
            Capability.STATS_READ,
            Capability.CLEARING_READ,
            Capability.FUNDS_READ,  # aggregates only: no unit or person detail
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Staff:
    """The authenticated caller of a staff API: the console user and what they may reach."""

    principal: Principal
    scope: Scope
    csrf_token: str

    @property
    def actor(self) -> str:
        """The name written into audit rows (审计操作人): the signed-in username."""
        return self.principal.username

    def can(self, cap: Capability) -> bool:
        return cap in ROLE_CAPABILITIES[self.principal.role]

    def require(self, cap: Capability) -> None:
        if not self.can(cap):
            raise forbidden(f"角色“{self.principal.role.label}”无权{cap.label}")

    def allows_region(self, admdvs: str | None) -> bool:
        """Region scope only (an institution operator's own region counts)."""
        return self.scope.allows_region(admdvs)

    def require_region(self, admdvs: str | None, what: str = "医保区划") -> None:
        if not self.allows_region(admdvs):
            raise out_of_scope(f"{what} {admdvs or '（未指定）'} ")

    def require_any_region(self, regions: list[str], what: str) -> None:
        if not any(self.allows_region(r) for r in regions):
            raise out_of_scope(what)

    def default_admdvs(self, admdvs: str | None) -> str | None:
        """A filter for lists and statistics (a region or a region prefix): the given region if in
        scope, else the deployment's province for a province-wide user, the caller's region for
        the others; None (every region) only for a scope without a deployment province."""
        if admdvs:
            self.require_region(admdvs)
            return admdvs
        if self.scope.all_regions:
            return None
        if self.scope.province_wide:
            return self.scope.prefixes[0]
        if self.principal.admdvs:
            return self.principal.admdvs
        raise out_of_scope("全省数据")


def check_csrf_header(request: Request, csrf_token: str) -> None:
    """Refuse a state-changing call without the session's CSRF token (403)."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not (csrf_token and given and hmac.compare_digest(csrf_token.encode(), given.encode())):
        raise StaffAuthError(
            403,
            "CSRF_FAILED",
            f"缺少或错误的 CSRF 令牌：修改类请求须在请求头 {CSRF_HEADER} 中携带会话的令牌"
            "（GET /api/staff/session 可取得）",
        )


def staff_of(request: Request) -> Staff:
    """FastAPI dependency: the signed-in console user (401 if none), CSRF-checked on writes."""
    token = request.cookies.get(SESSION_COOKIE, "")
    row = console_service.resolve_session(request.app.state.engine, token) if token else None
    if row is None:
        raise not_signed_in()
    staff = Staff(row.principal, scope_for(row.principal, deployment_province()), row.csrf_token)
    check_csrf_header(request, staff.csrf_token)
    return staff

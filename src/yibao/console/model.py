"""Console users, roles and region scope (控制台用户、角色与管辖区域). Pure: no I/O, no clock.

Roles (角色):

- ``province_admin`` 省级管理员: every region of the province.
- ``city_admin`` 市级管理员: its own pooling region (统筹区, admdvs) and the districts under it.
- ``institution_operator`` 定点机构操作员: its own designated institution (定点医药机构) only.
- ``analyst`` 政策分析员: read-only policy, simulation and dashboards (aggregates, no person data).

Every page asks :class:`Scope` (built once per request by :func:`scope_for`) what it may show.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from yibao.clock import CHINA as BEIJING  # China keeps no daylight saving time

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5  # consecutive failures before the account locks (账户锁定)
LOCKOUT = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20  # failed logins from one address within ADDRESS_WINDOW (登录限流)
ADDRESS_WINDOW = timedelta(minutes=10)
SESSION_IDLE = timedelta(minutes=30)  # 会话空闲超时
SESSION_MAX = timedelta(hours=8)  # absolute session lifetime (一个工作日)


class Role(enum.StrEnum):
    """Console role (角色)."""

    PROVINCE_ADMIN = "province_admin"
    CITY_ADMIN = "city_admin"
    INSTITUTION_OPERATOR = "institution_operator"
    ANALYST = "analyst"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.PROVINCE_ADMIN: "省级管理员",
    Role.CITY_ADMIN: "市级管理员",
    Role.INSTITUTION_OPERATOR: "定点机构操作员",
    Role.ANALYST: "政策分析员",
}


class Page(enum.StrEnum):
    """Console pages (页面); a role is allowed a set of them."""

    OVERVIEW = "overview"
    PERSONS = "persons"
    SETTLEMENTS = "settlements"
    INSTITUTIONS = "institutions"
    POLICY = "policy"
    RECONCILIATION = "reconciliation"
    AUDIT = "audit"
    SIMULATOR = "simulator"
    PAYMENT = "payment"  # 支付方式改革 (DRG/DIP, 特例单议, 医共体)
    FUNDS_UNITS = "funds_units"  # 单位缴费
    FUND_FLOWS = "fund_flows"  # 基金收支
    FUND_MONTHS = "fund_months"  # 可支付月数
    CAMPAIGNS = "campaigns"  # 激活推广专项 (issue 16)
    CLAIMS = "claims"  # 零星报销 (issue 16)
    SIMULATION = "simulation"  # 政策测算 (analysts, province and city staff)
    ONLINE = "online"  # 线上结算: 移动支付订单, 电子处方


ROLE_PAGES: dict[Role, frozenset[Page]] = {
    Role.PROVINCE_ADMIN: frozenset(Page),
    Role.CITY_ADMIN: frozenset(Page) - {Page.AUDIT},
    Role.INSTITUTION_OPERATOR: frozenset(
        {
            Page.OVERVIEW,
            Page.SETTLEMENTS,
            Page.INSTITUTIONS,
            Page.POLICY,
            Page.RECONCILIATION,
            Page.SIMULATOR,
            Page.PAYMENT,
            Page.ONLINE,
        }
    ),
    # aggregates only: the funds pages show the analyst totals, never a unit or a person
    Role.ANALYST: frozenset(
        {
            Page.OVERVIEW,
            Page.POLICY,
            Page.PAYMENT,
            Page.FUNDS_UNITS,
            Page.FUND_FLOWS,
            Page.FUND_MONTHS,
            Page.CAMPAIGNS,
            Page.SIMULATION,
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in console user (当前用户) as pages see it."""

    user_id: int
    username: str
    display_name: str
    role: Role
    admdvs: str | None  # the user's region (医保区划); None for a province-wide user
    fixmedins_code: str | None  # institution operators only

    def may_open(self, page: Page) -> bool:
        return page in ROLE_PAGES[self.role]


def region_prefix(admdvs: str) -> str:
    """The admdvs prefix a region covers: ``440000`` → ``44``, ``440100`` → ``4401``.

    City-level codes cover their districts and their 本级 code (``440199``); county codes cover
    only themselves.
    """
    if len(admdvs) != 6 or not admdvs.isdigit():
        raise ValueError(f"admdvs 医保区划必须是 6 位数字: {admdvs!r}")
    if admdvs.endswith("0000"):
        return admdvs[:2]
    if admdvs.endswith("00"):
        return admdvs[:4]
    return admdvs


@dataclass(frozen=True, slots=True)
class Scope:
    """What a user may see (管辖范围): regions by admdvs prefix, and optionally one institution.

    ``prefixes`` empty and ``all_regions`` true means every region in the database (a scope built
    without a deployment province). A province-wide user of a deployment (:func:`scope_for` with
    ``province``) gets ``prefixes=(province,)`` and ``province_wide``: the regions of this
    deployment's province only (one province per deployment, docs/adr/0019).
    """

    all_regions: bool
    prefixes: tuple[str, ...] = ()
    fixmedins_code: str | None = None
    person_data: bool = True  # may see individual persons and settlements (分析员 cannot)
    province_wide: bool = False  # every region of the deployment's province (全省)

    @property
    def whole_province(self) -> bool:
        """The user sees the whole province (全省), with or without a deployment province."""
        return self.all_regions or self.province_wide

    def allows_region(self, admdvs: str | None) -> bool:
        if self.all_regions:
            return True
        if not admdvs:
            return False
        return any(admdvs.startswith(p) for p in self.prefixes)

    def allows_any_region(self, *codes: str | None) -> bool:
        """True if any of the codes is in scope (a cross-region settlement concerns both ends)."""
        return any(self.allows_region(c) for c in codes)

    def allows_institution(self, fixmedins_code: str | None) -> bool:
        return self.fixmedins_code is None or fixmedins_code == self.fixmedins_code

    @property
    def label(self) -> str:
        if self.fixmedins_code:
            return f"机构 {self.fixmedins_code}"
        if self.whole_province:
            return "全省"
        return "、".join(self.prefixes)


def scope_for(p: Principal, province: str = "") -> Scope:
    """The one place that turns a user into what they may see (区域权限).

    ``province`` is the deployment's province (two digits, ``YIBAO_PROVINCE``); province-wide
    users then see that province's regions only. Without it they see every region.
    """
    if p.role is Role.INSTITUTION_OPERATOR:
        if not p.fixmedins_code:
            raise ValueError("定点机构操作员必须绑定定点医药机构编号")
        prefixes = (region_prefix(p.admdvs),) if p.admdvs else ()
        return Scope(all_regions=False, prefixes=prefixes, fixmedins_code=p.fixmedins_code)
    if p.role is Role.ANALYST:
        if p.admdvs:
            return Scope(all_regions=False, prefixes=(region_prefix(p.admdvs),), person_data=False)
        return _whole(province, person_data=False)
    if p.role is Role.CITY_ADMIN:
        if not p.admdvs:
            raise ValueError("市级管理员必须绑定医保区划")
        return Scope(all_regions=False, prefixes=(region_prefix(p.admdvs),))
    if p.admdvs and not p.admdvs.endswith("0000"):
        raise ValueError("省级管理员的医保区划必须是省级代码 (xx0000)")
    return _whole(province)


def _whole(province: str, *, person_data: bool = True) -> Scope:
    if not province:
        return Scope(all_regions=True, person_data=person_data)
    if len(province) != 2 or not province.isdigit():
        raise ValueError(f"YIBAO_PROVINCE 省份代码必须是 2 位数字: {province!r}")
    return Scope(False, (province,), person_data=person_data, province_wide=True)


_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")


def password_problems(password: str, username: str) -> list[str]:
    """Every rule the password breaks (密码规则), as Chinese messages; empty list means acceptable."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码长度至少 {MIN_PASSWORD_LENGTH} 位（当前 {len(password)} 位）")
    if not _LETTER.search(password) or not _DIGIT.search(password):
        problems.append("密码必须同时包含英文字母和数字")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if password != password.strip():
        problems.append("密码首尾不能有空格")
    return problems


@dataclass(frozen=True, slots=True)
class LoginState:
    """The lockout counters of one user (登录失败计数)."""

    failed_logins: int
    locked_until: datetime | None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime) -> LoginState:
        """Count a failure; the 5th consecutive failure locks the account for 15 minutes."""
        failures = self.failed_logins + 1
        if failures >= MAX_FAILED_LOGINS:
            return LoginState(0, now + LOCKOUT)
        return LoginState(failures, self.locked_until)


@dataclass(frozen=True, slots=True)
class Throttle:
    """Failed logins of one key (a user name or a client address) and until when it is blocked.

    - per user name (:meth:`after_user_failure`): like :class:`LoginState`, the 5th consecutive
      failure blocks the name for :data:`LOCKOUT` — kept for every name tried, registered or not;
    - per address (:meth:`after_address_failure`): :data:`ADDRESS_MAX_FAILURES` failures within
      :data:`ADDRESS_WINDOW` block the address until the window ends.
    """

    failures: int = 0
    window_start: datetime | None = None
    blocked_until: datetime | None = None

    def is_blocked(self, now: datetime) -> bool:
        return self.blocked_until is not None and now < self.blocked_until

    def after_user_failure(self, now: datetime) -> Throttle:
        failures = self.failures + 1
        if failures >= MAX_FAILED_LOGINS:
            return Throttle(0, now, now + LOCKOUT)
        return Throttle(failures, self.window_start or now, self.blocked_until)

    def after_address_failure(self, now: datetime) -> Throttle:
        if self.window_start is None or now >= self.window_start + ADDRESS_WINDOW:
            return Throttle(1, now, None)
        failures = self.failures + 1
        blocked = self.window_start + ADDRESS_WINDOW if failures >= ADDRESS_MAX_FAILURES else None
        return Throttle(failures, self.window_start, blocked or self.blocked_until)


def beijing(moment: datetime) -> str:
    """A moment as people in the province read it: ``10月23日 14:05（北京时间）``."""
    local = moment.astimezone(BEIJING)
    return f"{local.month}月{local.day}日 {local:%H:%M}（北京时间）"


def session_expiry(created_at: datetime, now: datetime) -> datetime:
    """Sliding expiry (滑动过期): idle timeout, capped by the absolute lifetime."""
    return min(now + SESSION_IDLE, created_at + SESSION_MAX)


def mask_id(certno: str | None) -> str:
    """Mask an ID number (证件号码脱敏): first 6 + last 4 characters kept (issue 3 §3)."""
    if not certno:
        return ""
    if len(certno) <= 10:
        return certno[:2] + "*" * max(len(certno) - 2, 0)
    return certno[:6] + "*" * (len(certno) - 10) + certno[-4:]


def mask_phone(phone: str | None) -> str:
    """Mask a phone number (手机号脱敏): 138****5678."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]

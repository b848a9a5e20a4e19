"""Console use cases (控制台用例): users, login with lockout, sessions, password change, audit.

Each function is one transaction on the engine. Times come from the caller (``now``) so that
tests can drive the lockout and expiry clocks; the web layer passes the real clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import argon2
import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from yibao.console import store
from yibao.console.model import (
    LoginState,
    Principal,
    Role,
    Throttle,
    beijing,
    password_problems,
    region_prefix,
    session_expiry,
)
from yibao.db.tables import audit

# argon2id with the library's RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4)
_hasher = argon2.PasswordHasher()
# verified against when the user does not exist, so timing does not reveal valid usernames
_DUMMY_HASH = _hasher.hash("yibao-dummy-password-0")


def utcnow() -> datetime:
    return datetime.now(UTC)


class ConsoleError(Exception):
    """A refused console request with a Chinese message for the user."""


class PasswordRejected(ConsoleError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


class UserExists(ConsoleError):
    pass


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of a login attempt (登录结果)."""

    principal: Principal | None
    message: str = ""  # Chinese reason on failure

    @property
    def ok(self) -> bool:
        return self.principal is not None


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str  # the cookie value; only its SHA-256 is stored
    csrf_token: str
    expires_at: datetime


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_assignment(role: Role, admdvs: str | None, fixmedins_code: str | None) -> None:
    if admdvs is not None:
        region_prefix(admdvs)  # validates the format
    if role is Role.CITY_ADMIN and not admdvs:
        raise ConsoleError("市级管理员必须指定医保区划 (admdvs)")
    if role is Role.INSTITUTION_OPERATOR and not fixmedins_code:
        raise ConsoleError("定点机构操作员必须指定定点医药机构编号 (fixmedins_code)")
    if role is Role.PROVINCE_ADMIN and admdvs and not admdvs.endswith("0000"):
        raise ConsoleError("省级管理员的医保区划必须是省级代码 (xx0000)")


def create_user(
    engine: sa.Engine,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    admdvs: str | None = None,
    fixmedins_code: str | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> int:
    """Create a console user; refuses a weak password with every broken rule listed."""
    username = username.strip()
    if not username:
        raise ConsoleError("用户名不能为空")
    problems = password_problems(password, username)
    if problems:
        raise PasswordRejected(problems)
    _check_assignment(role, admdvs, fixmedins_code)
    now = now or utcnow()
    with engine.begin() as conn:
        if store.user_by_name(conn, username) is not None:
            raise UserExists(f"用户名已存在: {username}")
        user_id = store.insert_user(
            conn,
            username=username,
            display_name=display_name or username,
            role=role,
            admdvs=admdvs,
            fixmedins_code=fixmedins_code,
            password_hash=hash_password(password),
            now=now,
        )
        audit(conn, actor, "console.user_created", username, role=role.value, admdvs=admdvs)
    return user_id


GENERIC_FAILURE = "用户名或密码错误"


def authenticate(
    engine: sa.Engine, username: str, password: str, *, ip: str = "", now: datetime | None = None
) -> LoginResult:
    """Check a username and password (登录), throttled per user name and per address.

    Every refusal reads the same whether the user exists, is disabled, is locked or mistyped the
    password (usernames cannot be enumerated): "用户名或密码错误", plus — once the *name* has
    failed 5 times in a row, registered or not — until when it is blocked, in Beijing time. An
    address with :data:`~yibao.console.model.ADDRESS_MAX_FAILURES` failures within
    :data:`~yibao.console.model.ADDRESS_WINDOW` is refused until the window ends. Every attempt
    costs one argon2 verification, so timing does not tell either.
    """
    now = now or utcnow()
    name = username.strip()
    ukey, akey = "user:" + name.lower()[:100], "addr:" + (ip or "-")
    with engine.begin() as conn:
        throttles = store.lock_throttles(conn, [ukey, akey])
        by_name, by_addr = throttles[ukey], throttles[akey]
        if by_addr.is_blocked(now):
            _verify(_DUMMY_HASH, password)
            audit(conn, name[:100], "console.login_failed", name[:100], ip=ip, reason="address")
            assert by_addr.blocked_until is not None
            return LoginResult(
                None, f"该地址登录失败次数过多，请于 {beijing(by_addr.blocked_until)} 后再试"
            )
        user = store.user_by_name(conn, name, for_update=True)
        usable = user is not None and not user.disabled and not by_name.is_blocked(now)
        password_ok = False
        if user is not None and usable:
            password_ok = _verify(user.password_hash, password)
        else:
            _verify(_DUMMY_HASH, password)  # the same cost as a real check
        if user is not None and usable and password_ok:
            store.save_throttle(conn, ukey, Throttle())
            store.record_login(conn, user.principal.user_id, now)
            if _hasher.check_needs_rehash(user.password_hash):
                store.set_password_hash(conn, user.principal.user_id, hash_password(password), now)
            audit(conn, name, "console.login", name, ip=ip)
            return LoginResult(user.principal)
        reason = (
            "unknown_user" if user is None else "disabled" if user.disabled
            else "locked" if by_name.is_blocked(now) else "bad_password"
        )  # fmt: skip
        if not by_name.is_blocked(now):  # a refusal while blocked does not extend the block
            by_name = by_name.after_user_failure(now)
            store.save_throttle(conn, ukey, by_name)
            if by_name.is_blocked(now):
                audit(conn, name[:100], "console.locked", name[:100], ip=ip,
                      until=str(by_name.blocked_until))  # fmt: skip
        store.save_throttle(conn, akey, by_addr.after_address_failure(now))
        if user is not None:  # the account shows the same state to administrators
            store.save_login_state(
                conn, user.principal.user_id, LoginState(by_name.failures, by_name.blocked_until)
            )
        audit(conn, name[:100], "console.login_failed", name[:100], ip=ip, reason=reason)
        return LoginResult(None, _failure_message(by_name, now))


def _failure_message(by_name: Throttle, now: datetime) -> str:
    if by_name.is_blocked(now):
        assert by_name.blocked_until is not None
        return (
            f"{GENERIC_FAILURE}；连续失败次数过多，请于 {beijing(by_name.blocked_until)} "
            "后再试，或联系管理员"
        )
    return GENERIC_FAILURE


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def open_session(
    engine: sa.Engine,
    principal: Principal,
    *,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> OpenedSession:
    """Start a server-side session (服务端会话) with its own CSRF token."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = session_expiry(now, now)
    with engine.begin() as conn:
        store.insert_session(
            conn,
            token_hash=token_hash(token),
            user_id=principal.user_id,
            csrf_token=csrf,
            now=now,
            expires_at=expires,
            ip=ip,
            user_agent=user_agent,
        )
    return OpenedSession(token, csrf, expires)


def resolve_session(
    engine: sa.Engine, token: str, *, now: datetime | None = None
) -> store.SessionRow | None:
    """The live session for a cookie value, its expiry slid forward; None if absent or expired."""
    if not token:
        return None
    now = now or utcnow()
    h = token_hash(token)
    with engine.begin() as conn:
        row = store.live_session(conn, h, now)
        if row is None:
            return None
        # slide the idle expiry at most once a minute (no write on every request)
        if (now - row.last_seen_at).total_seconds() >= 60:
            store.touch_session(conn, h, now, session_expiry(row.created_at, now))
        return row


def logout(engine: sa.Engine, token: str, *, ip: str = "", now: datetime | None = None) -> None:
    """End the session (退出登录); idempotent."""
    now = now or utcnow()
    with engine.begin() as conn:
        user_id = store.end_session(conn, token_hash(token), now)
        if user_id:
            name = conn.execute(
                sa.select(store.console_user.c.username).where(store.console_user.c.id == user_id)
            ).scalar_one()
            audit(conn, name, "console.logout", name, ip=ip)


def change_password(
    engine: sa.Engine,
    principal: Principal,
    old_password: str,
    new_password: str,
    *,
    now: datetime | None = None,
) -> None:
    """Change one's own password (修改密码); every other session of the user ends."""
    now = now or utcnow()
    problems = password_problems(new_password, principal.username)
    if old_password == new_password:
        problems.append("新密码不能与原密码相同")
    with engine.begin() as conn:
        user = store.user_by_name(conn, principal.username, for_update=True)
        if user is None or not _verify(user.password_hash, old_password):
            raise ConsoleError("原密码不正确")
        if problems:
            raise PasswordRejected(problems)
        store.set_password_hash(conn, principal.user_id, hash_password(new_password), now)
        store.end_user_sessions(conn, principal.user_id, now)
        audit(conn, principal.username, "console.password_changed", principal.username)


def audit_view(
    engine: sa.Engine, principal: Principal, what: str, subject: str, **detail: object
) -> None:
    """Record a sensitive view (敏感信息查看), e.g. a person's record or a settlement."""
    with engine.begin() as conn:
        audit(
            conn,
            principal.username,
            f"console.view_{what}",
            subject,
            role=principal.role.value,
            **detail,
        )

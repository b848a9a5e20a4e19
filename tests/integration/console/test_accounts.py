"""Console accounts on PostgreSQL: users, login with lockout, sessions, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.console import service
from yibao.console.demo import DEMO_PASSWORD
from yibao.console.model import LOCKOUT, SESSION_IDLE, Role
from yibao.db.tables import audit_log

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def test_weak_password_is_refused_with_every_rule(engine: Engine) -> None:
    with pytest.raises(service.PasswordRejected) as e:
        service.create_user(engine, username="bob", password="bob1", role=Role.PROVINCE_ADMIN)
    assert "密码长度至少 10 位（当前 4 位）" in e.value.problems
    assert "密码不能包含用户名" in e.value.problems
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM console_user")).scalar() == 0


def test_city_admin_needs_a_region_and_duplicate_names_refused(engine: Engine) -> None:
    with pytest.raises(service.ConsoleError, match="医保区划"):
        service.create_user(engine, username="c", password=DEMO_PASSWORD, role=Role.CITY_ADMIN)
    service.create_user(
        engine, username="c", password=DEMO_PASSWORD, role=Role.CITY_ADMIN, admdvs="440100"
    )
    with pytest.raises(service.UserExists):
        service.create_user(
            engine, username="c", password=DEMO_PASSWORD, role=Role.CITY_ADMIN, admdvs="440100"
        )


def test_password_stored_as_argon2id(engine: Engine) -> None:
    service.create_user(engine, username="p", password=DEMO_PASSWORD, role=Role.ANALYST)
    with engine.connect() as conn:
        h = conn.execute(sa.text("SELECT password_hash FROM console_user")).scalar_one()
    assert h.startswith("$argon2id$")
    assert DEMO_PASSWORD not in h


def test_login_lockout_and_unlock_after_timeout(engine: Engine) -> None:
    service.create_user(
        engine, username="gz", password=DEMO_PASSWORD, role=Role.CITY_ADMIN, admdvs="440100"
    )
    for i in range(4):
        r = service.authenticate(engine, "gz", "wrong-pass-1", now=T0 + timedelta(seconds=i))
        assert r.message == "用户名或密码错误"
    r = service.authenticate(engine, "gz", "wrong-pass-1", now=T0 + timedelta(seconds=5))
    assert "连续失败次数过多" in r.message and "16:15（北京时间）" in r.message
    # even the right password is refused while locked
    r = service.authenticate(engine, "gz", DEMO_PASSWORD, now=T0 + timedelta(minutes=1))
    assert not r.ok and "连续失败次数过多" in r.message
    r = service.authenticate(engine, "gz", DEMO_PASSWORD, now=T0 + LOCKOUT + timedelta(seconds=6))
    assert r.ok and r.principal is not None and r.principal.admdvs == "440100"
    acts = actions(engine)
    assert acts.count("console.login_failed") == 6
    assert "console.locked" in acts and acts[-1] == "console.login"


def test_unknown_user_gets_the_same_message_and_is_audited(engine: Engine) -> None:
    r = service.authenticate(engine, "nobody", "whatever123")
    assert r.message == "用户名或密码错误"
    assert actions(engine) == ["console.login_failed"]


def test_locked_and_unknown_users_read_the_same_in_beijing_time(engine: Engine) -> None:
    """Issue 10, finding 8: a locked real user and an unknown user see the same message, with
    the time the name unblocks in Beijing time (T0 08:00 UTC + 15 min = 16:15 北京时间)."""
    service.create_user(engine, username="real", password=DEMO_PASSWORD, role=Role.ANALYST)
    seen: dict[str, list[str]] = {"real": [], "ghost": []}
    for name in seen:
        for i in range(7):
            at = T0 + timedelta(seconds=i)
            seen[name].append(service.authenticate(engine, name, "wrong-pass-1", now=at).message)
    assert seen["real"] == seen["ghost"]
    assert (
        seen["real"][-1].startswith("用户名或密码错误") and "16:15（北京时间）" in seen["real"][-1]
    )
    assert "UTC" not in seen["real"][-1] and "08:15" not in seen["real"][-1]


def test_one_address_is_throttled_across_user_names(engine: Engine) -> None:
    """Issue 10, finding 8: 20 failures from one address within 10 minutes block the address
    (whatever names it tries); another address is not affected."""
    service.create_user(engine, username="victim", password=DEMO_PASSWORD, role=Role.ANALYST)
    for i in range(20):
        at = T0 + timedelta(seconds=i)
        r = service.authenticate(engine, f"guess{i}", "x-1234567", ip="10.0.0.9", now=at)
        assert r.message == "用户名或密码错误"
    r = service.authenticate(
        engine, "victim", DEMO_PASSWORD, ip="10.0.0.9", now=T0 + timedelta(minutes=1)
    )
    assert not r.ok and "该地址" in r.message and "16:10（北京时间）" in r.message
    ok = service.authenticate(
        engine, "victim", DEMO_PASSWORD, ip="10.0.0.10", now=T0 + timedelta(minutes=1)
    )
    assert ok.ok
    later = T0 + timedelta(minutes=10, seconds=1)
    assert service.authenticate(engine, "victim", DEMO_PASSWORD, ip="10.0.0.9", now=later).ok


def test_session_expires_when_idle_and_ends_on_logout(engine: Engine) -> None:
    service.create_user(engine, username="zhang", password=DEMO_PASSWORD, role=Role.PROVINCE_ADMIN)
    p = service.authenticate(engine, "zhang", DEMO_PASSWORD, now=T0).principal
    assert p is not None
    s = service.open_session(engine, p, now=T0)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM console_session")).scalar_one()
    assert stored != s.token  # only the hash is stored
    assert service.resolve_session(engine, s.token, now=T0 + timedelta(minutes=20)) is not None
    # activity at +20 min slid the expiry to +50 min
    assert service.resolve_session(engine, s.token, now=T0 + timedelta(minutes=45)) is not None
    later = T0 + timedelta(minutes=45) + SESSION_IDLE + timedelta(seconds=1)
    assert service.resolve_session(engine, s.token, now=later) is None
    s2 = service.open_session(engine, p, now=T0)
    service.logout(engine, s2.token, now=T0)
    service.logout(engine, s2.token, now=T0)  # idempotent
    assert service.resolve_session(engine, s2.token, now=T0) is None
    assert actions(engine).count("console.logout") == 1


def test_change_password_ends_sessions(engine: Engine) -> None:
    service.create_user(engine, username="zhang", password=DEMO_PASSWORD, role=Role.PROVINCE_ADMIN)
    p = service.authenticate(engine, "zhang", DEMO_PASSWORD).principal
    assert p is not None
    s = service.open_session(engine, p)
    with pytest.raises(service.ConsoleError, match="原密码不正确"):
        service.change_password(engine, p, "bad-old-123", "NewPassword42")
    with pytest.raises(service.PasswordRejected):
        service.change_password(engine, p, DEMO_PASSWORD, "short")
    service.change_password(engine, p, DEMO_PASSWORD, "NewPassword42")
    assert service.resolve_session(engine, s.token) is None
    assert service.authenticate(engine, "zhang", "NewPassword42").ok

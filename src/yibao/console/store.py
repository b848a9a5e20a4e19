"""SQL for console users and sessions (控制台用户与会话的存储)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from yibao.console.model import LoginState, Principal, Role, Throttle

metadata = sa.MetaData()

console_user = sa.Table(
    "console_user",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("username", sa.Text),
    sa.Column("display_name", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("admdvs", sa.String(6)),
    sa.Column("fixmedins_code", sa.String(30)),
    sa.Column("password_hash", sa.Text),
    sa.Column("failed_logins", sa.Integer),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("disabled", sa.Boolean),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("password_changed_at", sa.DateTime(timezone=True)),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
)

console_login_throttle = sa.Table(
    "console_login_throttle",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer),
    sa.Column("window_start", sa.DateTime(timezone=True)),
    sa.Column("blocked_until", sa.DateTime(timezone=True)),
)

console_session = sa.Table(
    "console_session",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("csrf_token", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("last_seen_at", sa.DateTime(timezone=True)),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("ip", sa.Text),
    sa.Column("user_agent", sa.Text),
)


@dataclass(frozen=True, slots=True)
class UserRow:
    """A stored console user with what login needs."""

    principal: Principal
    password_hash: str
    login: LoginState
    disabled: bool


def _principal(row: sa.Row[tuple[object, ...]]) -> Principal:
    m = row._mapping
    return Principal(
        user_id=int(m["id"]),
        username=str(m["username"]),
        display_name=str(m["display_name"]),
        role=Role(m["role"]),
        admdvs=m["admdvs"],
        fixmedins_code=m["fixmedins_code"],
    )


def user_by_name(conn: sa.Connection, username: str, *, for_update: bool = False) -> UserRow | None:
    stmt = sa.select(console_user).where(console_user.c.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        return None
    m = row._mapping
    return UserRow(
        principal=_principal(row),
        password_hash=str(m["password_hash"]),
        login=LoginState(int(m["failed_logins"]), m["locked_until"]),
        disabled=bool(m["disabled"]),
    )


def insert_user(
    conn: sa.Connection,
    *,
    username: str,
    display_name: str,
    role: Role,
    admdvs: str | None,
    fixmedins_code: str | None,
    password_hash: str,
    now: datetime,
) -> int:
    return int(
        conn.execute(
            console_user.insert()
            .values(
                username=username,
                display_name=display_name,
                role=role.value,
                admdvs=admdvs,
                fixmedins_code=fixmedins_code,
                password_hash=password_hash,
                created_at=now,
                password_changed_at=now,
            )
            .returning(console_user.c.id)
        ).scalar_one()
    )


def lock_throttles(conn: sa.Connection, keys: list[str]) -> dict[str, Throttle]:
    """The throttle rows of ``keys`` (created when missing), locked until the transaction ends."""
    from sqlalchemy.dialects.postgresql import insert

    t = console_login_throttle
    conn.execute(
        insert(t).values([{"key": k, "failures": 0} for k in keys]).on_conflict_do_nothing()
    )
    rows = conn.execute(
        sa.select(t).where(t.c.key.in_(keys)).order_by(t.c.key).with_for_update()
    ).mappings()
    return {r["key"]: Throttle(r["failures"], r["window_start"], r["blocked_until"]) for r in rows}


def save_throttle(conn: sa.Connection, key: str, state: Throttle) -> None:
    t = console_login_throttle
    conn.execute(
        t.update()
        .where(t.c.key == key)
        .values(
            failures=state.failures,
            window_start=state.window_start,
            blocked_until=state.blocked_until,
        )
    )


def save_login_state(conn: sa.Connection, user_id: int, state: LoginState) -> None:
    conn.execute(
        console_user.update()
        .where(console_user.c.id == user_id)
        .values(failed_logins=state.failed_logins, locked_until=state.locked_until)
    )


def record_login(conn: sa.Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        console_user.update()
        .where(console_user.c.id == user_id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
    )


def set_password_hash(conn: sa.Connection, user_id: int, password_hash: str, now: datetime) -> None:
    conn.execute(
        console_user.update()
        .where(console_user.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )


def list_users(conn: sa.Connection) -> list[sa.Row[tuple[object, ...]]]:
    return list(conn.execute(sa.select(console_user).order_by(console_user.c.id)).all())


def insert_session(
    conn: sa.Connection,
    *,
    token_hash: str,
    user_id: int,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
    ip: str,
    user_agent: str,
) -> None:
    conn.execute(
        console_session.insert().values(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
            ip=ip,
            user_agent=user_agent[:500],
        )
    )


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live session joined with its user."""

    token_hash: str
    principal: Principal
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


def live_session(conn: sa.Connection, token_hash: str, now: datetime) -> SessionRow | None:
    """The session if it exists, has not ended or expired, and its user is enabled."""
    s, u = console_session, console_user
    row = conn.execute(
        sa.select(s, u)
        .join(u, u.c.id == s.c.user_id)
        .where(
            s.c.token_hash == token_hash,
            s.c.ended_at.is_(None),
            s.c.expires_at > now,
            u.c.disabled.is_(False),
        )
    ).first()
    if row is None:
        return None
    m = row._mapping
    return SessionRow(
        token_hash=token_hash,
        principal=_principal(row),
        csrf_token=str(m["csrf_token"]),
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        last_seen_at=m["last_seen_at"],
    )


def touch_session(
    conn: sa.Connection, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        console_session.update()
        .where(console_session.c.token_hash == token_hash)
        .values(last_seen_at=now, expires_at=expires_at)
    )


def end_session(conn: sa.Connection, token_hash: str, now: datetime) -> int:
    """Mark the session ended; returns the user id (0 if there was no live session)."""
    row = conn.execute(
        console_session.update()
        .where(console_session.c.token_hash == token_hash, console_session.c.ended_at.is_(None))
        .values(ended_at=now)
        .returning(console_session.c.user_id)
    ).first()
    return int(row[0]) if row else 0


def end_user_sessions(conn: sa.Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        console_session.update()
        .where(console_session.c.user_id == user_id, console_session.c.ended_at.is_(None))
        .values(ended_at=now)
    )

"""Demo console users (演示账户), documented in docs/console.md. Change their passwords in production.

All demo users share the password :data:`DEMO_PASSWORD`; the seeder is idempotent (existing users
are left as they are, including a changed password).
"""

from __future__ import annotations

import sqlalchemy as sa

from yibao.console import service, store
from yibao.console.model import Role

DEMO_PASSWORD = "Yibao2026demo"

# (username, display name, role, admdvs, fixmedins_code)
DEMO_USERS: tuple[tuple[str, str, Role, str | None, str | None], ...] = (
    ("admin", "省医保局管理员", Role.PROVINCE_ADMIN, "440000", None),
    ("gz_admin", "广州市医保局管理员", Role.CITY_ADMIN, "440100", None),
    ("sz_admin", "深圳市医保局管理员", Role.CITY_ADMIN, "440300", None),
    # 梅州 (covers 兴宁 441481): the second expert of 兴宁's 特例单议 beside admin
    ("mz_admin", "梅州市医保局管理员", Role.CITY_ADMIN, "441400", None),
    ("analyst", "政策分析员", Role.ANALYST, None, None),
    # 广州市第一人民医院, one of the demo institutions of yibao.institutions.demo
    ("gz_his", "广州市第一人民医院收费处", Role.INSTITUTION_OPERATOR, "440100", "H44010000001"),
)


def seed(engine: sa.Engine) -> None:
    """Create the demo users that do not exist yet."""
    with engine.connect() as conn:
        existing = {r._mapping["username"] for r in store.list_users(conn)}
    for username, display, role, admdvs, code in DEMO_USERS:
        if username in existing:
            continue
        service.create_user(
            engine,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display,
            admdvs=admdvs,
            fixmedins_code=code,
            actor="demo",
        )

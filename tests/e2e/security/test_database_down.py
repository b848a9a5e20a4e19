"""Finding 6 (issue 10, outside the gateway): liveness, readiness and clear answers while the
database is down.

``/healthz`` answered a plain-text 500 while PostgreSQL was down. Now ``/healthz`` is liveness
(200 JSON, no database), ``/readyz`` readiness (200 JSON, or 503 JSON saying whether the database
is unreachable or its migrations are behind), and the console and the staff APIs answer a clear
503 instead of a 500; once PostgreSQL is back everything answers again without a restart.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.e2e.conftest import ServerProcess
from tests.e2e.staff_login import create_staff, login
from yibao.console.model import Role
from yibao.db.embedded import EmbeddedPostgres
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade


def test_health_readiness_and_clear_answers_while_the_database_is_down() -> None:
    pgdata = Path(tempfile.mkdtemp(prefix="yibao-down-pg-")) / "pgdata"
    pg = EmbeddedPostgres(pgdata)
    url = pg.ensure_database("yibao_down")
    upgrade(url)
    create_staff(url, "down_admin", Role.PROVINCE_ADMIN)
    server = ServerProcess(url)
    server.start()
    try:
        base = server.url
        ready = httpx.get(base + "/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        staff = login(base, "down_admin")
        engine = make_engine(url, pool_size=1)
        with engine.begin() as conn:  # the schema falls behind the code: the voucher branch's head
            voucher_head = conn.execute(
                sa.text(
                    "DELETE FROM alembic_version WHERE version_num LIKE 'voucher_%' "
                    "RETURNING version_num"
                )
            ).scalar_one()
        behind = httpx.get(base + "/readyz", timeout=10)
        assert behind.status_code == 503 and behind.json()["migrations"] == "outdated"
        assert voucher_head in behind.json()["message"]
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": voucher_head})
        engine.dispose()

        pg.stop()  # PostgreSQL goes away under the running server
        live = httpx.get(base + "/healthz", timeout=10)
        assert live.status_code == 200 and live.json()["status"] == "ok"
        down = httpx.get(base + "/readyz", timeout=10)
        assert down.status_code == 503 and down.json()["database"] == "unreachable"
        assert down.headers["content-type"].startswith("application/json")
        api = staff.get("/api/registry/persons?certno=440305198807143579")
        assert api.status_code == 503 and api.json()["error"] == "DATABASE_UNAVAILABLE"
        assert "数据库暂不可用" in api.json()["message"]
        page = staff.get("/console/")
        assert page.status_code == 503 and "数据库暂不可用" in page.text
        with httpx.Client(base_url=base, timeout=10) as anon:
            form = anon.get("/console/login")
            assert form.status_code == 200  # the login form needs no database
            token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            r = anon.post("/console/login", data={"username": "down_admin", "password": "x1",
                                                  "csrf_token": token})  # fmt: skip
            assert r.status_code == 503 and "数据库暂不可用" in r.text

        pg = EmbeddedPostgres(pgdata)  # back again: no restart of the server needed
        assert httpx.get(base + "/readyz", timeout=10).status_code == 200
        assert staff.get("/api/staff/session").status_code == 200
        staff.close()
    finally:
        server.stop()
        pg.stop()

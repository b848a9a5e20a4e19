"""The embedded PostgreSQL and the migrations."""

from sqlalchemy import Engine, text

from yibao.db.migrate import current_heads
from yibao.db.tables import audit


def test_migrations_reach_every_head(db_url: str) -> None:
    from yibao.api.health import missing_revisions

    heads = current_heads(db_url)
    assert heads and missing_revisions(frozenset(heads)) == []
    some = sorted(heads)[0]  # any head (a new migration moves a branch's head)
    assert missing_revisions(frozenset(heads) - {some}) == [some]


def test_audit_log_round_trip(engine: Engine) -> None:
    with engine.begin() as conn:
        audit(conn, "tester", "view_full_id", "psn:1", reason="unit")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, action, detail FROM audit_log")).one()
    assert row.actor == "tester" and row.detail == {"reason": "unit"}


def test_server_is_real_postgresql(engine: Engine) -> None:
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version_num")).scalar_one()
    assert int(version) >= 150000

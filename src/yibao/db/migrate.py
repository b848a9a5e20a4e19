"""Schema migrations (数据库迁移) through Alembic.

Each capability owns its own Alembic *branch* (``branch_labels = ("registry",)`` …) in
``yibao/db/migrations/versions``, so capabilities evolve without fighting over one linear chain.
``upgrade`` always goes to ``heads`` (every branch's newest revision).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from yibao.db.embedded import libpq_to_sqlalchemy

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", libpq_to_sqlalchemy(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, target: str = "heads") -> None:
    """Apply every pending migration (``yibao db upgrade``)."""
    command.upgrade(alembic_config(url), target)


def current_heads(url: str) -> list[str]:
    """The revisions the database is at."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(libpq_to_sqlalchemy(url))
    try:
        with engine.connect() as conn:
            return sorted(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()

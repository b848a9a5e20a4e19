"""Where the database comes from at run time: the URL, or the embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from yibao.config import Settings
from yibao.db.embedded import EmbeddedPostgres

log = structlog.get_logger(__name__)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a libpq URL: ``YIBAO_DATABASE_URL`` if set, else a started embedded PostgreSQL.

    The embedded server is stopped cleanly when the block exits.
    """
    if settings.database_url:
        yield settings.database_url
        return
    pg = EmbeddedPostgres(settings.pgdata)
    try:
        url = pg.ensure_database()
        log.info("embedded_postgres_started", pgdata=str(settings.pgdata))
        yield url
    finally:
        pg.stop()
        log.info("embedded_postgres_stopped", pgdata=str(settings.pgdata))

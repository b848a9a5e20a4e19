"""The embedded PostgreSQL (内置数据库) started from the ``pgserver`` package.

With no ``YIBAO_DATABASE_URL`` Yibao runs its own private PostgreSQL in ``<data_dir>/pgdata``.
The server listens on a unix socket only; it is stopped when the last handle is released
(:meth:`EmbeddedPostgres.stop`, or at interpreter exit).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg

DATABASE_NAME = "yibao"


def _quiet_platformdirs() -> None:
    # pgserver asks platformdirs for a runtime dir; give it a private one so it does not warn.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.gettempdir()) / f"yibao-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def libpq_to_sqlalchemy(uri: str) -> str:
    """``postgresql://…`` → ``postgresql+psycopg://…`` (SQLAlchemy's psycopg 3 dialect)."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {uri}")


def sqlalchemy_to_libpq(url: str) -> str:
    """The inverse of :func:`libpq_to_sqlalchemy`, for psycopg and pgbench."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(uri: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parsed = urlparse(uri)
    return parsed._replace(path="/" + dbname).geturl()


def socket_dir_of(uri: str) -> str | None:
    """The unix-socket directory of a ``?host=/path`` URL, if any."""
    host = parse_qs(urlparse(uri).query).get("host")
    return host[0] if host else None


HANDLES_FILE = ".handle_pids.json"  # pgserver's list of the processes holding the server


def _alive(pid: int) -> bool:
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the processes that died without releasing the server (kill -9, OOM) from pgserver's
    handle list; return them.

    pgserver stops PostgreSQL when its *last* handle is released, and it counts handles by PID in
    ``<pgdata>/.handle_pids.json``. A holder killed with ``-9`` never removes its PID, so every
    later clean stop believed another holder remained and left PostgreSQL running (issue 10).
    """
    from pgserver.postgres_server import PostgresServer

    path = pgdata / HANDLES_FILE
    with PostgresServer._lock:
        if not path.exists():
            return []
        try:
            pids = [int(p) for p in json.loads(path.read_text() or "[]")]
        except (ValueError, TypeError):
            pids = []
        dead = [p for p in pids if p != os.getpid() and not _alive(p)]
        if dead:
            path.write_text(json.dumps([p for p in pids if p not in dead]))
    return dead


class EmbeddedPostgres:
    """A private PostgreSQL server in a data folder (pgserver)."""

    def __init__(self, pgdata: Path, *, delete_on_stop: bool = False) -> None:
        _quiet_platformdirs()
        import pgserver  # imported lazily: only the embedded mode needs it

        pgdata.mkdir(parents=True, exist_ok=True)
        forget_dead_handles(pgdata)
        self.pgdata = pgdata
        self._server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            pgdata, cleanup_mode="delete" if delete_on_stop else "stop"
        )
        self._stopped = False

    @property
    def admin_uri(self) -> str:
        """libpq URI of the ``postgres`` maintenance database."""
        return str(self._server.get_uri())

    def ensure_database(self, name: str = DATABASE_NAME) -> str:
        """Create ``name`` if missing; return its libpq URI."""
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.admin_uri, name)

    def stop(self) -> None:
        """Stop the server (and delete its folder when created with ``delete_on_stop``)."""
        if not self._stopped:
            self._stopped = True
            forget_dead_handles(self.pgdata)  # a holder that died since we started
            self._server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client binary shipped with pgserver (e.g. ``pgbench``, ``psql``)."""
    import pgserver._commands as commands

    path = Path(commands.POSTGRES_BIN_PATH) / name
    if not path.exists():  # pragma: no cover - packaging problem
        found = shutil.which(name)
        if not found:
            raise FileNotFoundError(name)
        return found
    return str(path)

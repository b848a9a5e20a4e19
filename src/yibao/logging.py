"""The one logging setup (日志配置) of the server, its workers and the command line.

Everything that logs — structlog loggers, the standard library (SQLAlchemy, pgserver), uvicorn's
``uvicorn``/``uvicorn.error``/``uvicorn.access`` — ends in one handler whose formatter runs one
processor chain:

    level, time → exception as plain text (no local variables) → redaction → render

- **No local variables in tracebacks.** structlog's default renderer draws exceptions with
  ``rich`` and ``show_locals=True``: a failing request printed the institution's decrypted
  ``app_secret``, ID numbers and names, and took ~1.8 s of CPU for it. Here an exception is
  rendered by :func:`traceback.format_exception` (milliseconds), then redacted.
- **Redaction** by field name and by pattern (:mod:`yibao.redact`) on every event, structlog's
  and the standard library's alike, including the exception text and uvicorn's access lines.
- ``YIBAO_LOG_LEVEL`` (default ``INFO``), ``YIBAO_LOG_FORMAT`` ``console`` (default) or ``json``.

Call :func:`configure` once per process: ``yibao`` (:func:`yibao.cli.main`) and every uvicorn
worker (:func:`yibao.api.app.app_from_env`) do. It is idempotent.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any

import structlog

from yibao.redact import redact_event

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_configured: tuple[str, bool] | None = None


def plain_exception(exc_info: Any) -> str:
    """An exception as the interpreter prints it: frames and source lines, no local variables."""
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif not isinstance(exc_info, tuple):
        exc_info = sys.exc_info()
    if exc_info[0] is None:
        return ""
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


def _exception_to_text(_: Any, __: str, event: structlog.typing.EventDict) -> Any:
    """``exc_info`` → ``exception`` (plain text), before redaction sees the event."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        text = plain_exception(exc_info)
        if text:
            event["exception"] = text
    return event


_META = ("_record", "_from_structlog")


def _redact(_: Any, __: str, event: structlog.typing.EventDict) -> Any:
    meta = {k: event.pop(k) for k in _META if k in event}  # the formatter's own keys
    return {**redact_event(event), **meta}


def _render_exception(sio: Any, exc_info: Any) -> None:  # the console renderer's formatter
    sio.write("\n" + plain_exception(exc_info))


def processors() -> list[structlog.typing.Processor]:
    """The chain every event goes through before rendering (exception, then redaction)."""
    return [
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.StackInfoRenderer(),
        _exception_to_text,
        _redact,
    ]


def formatter(json: bool = False) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of the one handler (also used by tests that capture logs)."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_render_exception)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *processors()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def configure(level: str | None = None, json: bool | None = None) -> None:
    """Route every logger through one redacting handler on stderr (idempotent)."""
    global _configured
    level = (level or os.environ.get("YIBAO_LOG_LEVEL") or "INFO").upper()
    if json is None:
        json = os.environ.get("YIBAO_LOG_FORMAT", "console").lower() == "json"
    if _configured == (level, json):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(json))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up chatter
    for name in UVICORN_LOGGERS:  # uvicorn installs its own handlers: hand them to ours
        lg = logging.getLogger(name)
        for old in list(lg.handlers):
            lg.removeHandler(old)
        lg.propagate = True
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            *processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _configured = (level, json)

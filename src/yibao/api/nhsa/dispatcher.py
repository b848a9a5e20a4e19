"""infno → handler registry (交易分发).

A transaction module registers a handler with one decorator::

    from yibao.api.nhsa.dispatcher import Context, transaction

    @transaction("1201", "医药机构信息获取")
    def query_institutions(ctx: Context) -> dict[str, Any]:
        data = ctx.node("medinsinfo")
        ...
        return {"medinsinfo": [...]}

The handler gets a :class:`Context` (institution, operator, envelope, a database connection inside
the request's one transaction, the request time) and returns the ``output`` object — or a
:class:`FileOutput` for a streamed file (9102). It raises :class:`~yibao.api.nhsa.fields.InputError`
for bad input (nothing written, nothing logged) or :class:`BusinessError` for a refusal that is
recorded in the message log like a success (a retry gets the same refusal).

A handler may instead be a *flow* (a generator function, :mod:`yibao.db.flow`): it gets a
:class:`Request` (no connection), parses its input, delegates to a use case with
``yield from`` and returns the output. The gateway drives it on an asynchronous connection, with
its reads in one round trip and its writes sent together with the message-log row and the commit
(the settlement path: ADR 0010)::

    @transaction("2207", "门诊结算")
    def settle(req: Request) -> Flow[dict[str, Any]]:
        cmd = read_settle_command(req)          # InputError on bad input
        outcome = yield from checkout.settle_visit(cmd)
        return format_settlement(outcome)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from yibao.api.nhsa import fields
from yibao.institutions.model import Institution, Operator
from yibao.wire.envelope import Envelope


class BusinessError(Exception):
    """A business refusal (业务处理错误): rolled back, answered with infcode -1, and recorded."""

    def __init__(self, err_msg: str) -> None:
        super().__init__(err_msg)
        self.err_msg = err_msg


@dataclass(frozen=True, slots=True)
class FileOutput:
    """A streamed file answer (9102 文件下载: ``application/octet-stream``)."""

    content: bytes
    filename: str
    media_type: str = "application/octet-stream"


Output = dict[str, Any] | FileOutput


@dataclass(slots=True)
class Request:
    """What a flow handler gets: who calls, what they sent, when (no connection: its use case
    describes its I/O and the gateway runs it)."""

    envelope: Envelope
    institution: Institution
    operator: Operator
    now: datetime  # request receive time, timezone-aware
    upload: bytes | None = None  # the file part of a 9101 multipart upload
    warnings: list[str] = field(default_factory=list)

    @property
    def input(self) -> dict[str, Any]:
        return self.envelope.input

    @property
    def msgid(self) -> str:
        return self.envelope.msgid

    def node(self, name: str, *, required: bool = True) -> dict[str, Any]:
        """A single-row input node (``data``, ``signIn`` …)."""
        return fields.node(self.envelope.input, name, required=required)

    def rows(self, name: str, *, required: bool = True) -> list[dict[str, Any]]:
        """A multi-row input node (``feedetail``, ``diseinfo`` …)."""
        return fields.rows(self.envelope.input, name, required=required)

    def warn(self, message: str) -> None:
        """Add a ``warn_msg`` to a successful answer."""
        self.warnings.append(message)


@dataclass(slots=True)
class Context(Request):
    """What a plain handler gets: a :class:`Request` and the request's transaction."""

    conn: sa.Connection = field(default=None)  # type: ignore[assignment]  # always given


Handler = Callable[[Context], Output]


@dataclass(frozen=True, slots=True)
class Transaction:
    """A registered transaction (交易): number, Chinese name, handler and its rules."""

    infno: str
    name: str
    handler: Callable[..., Any]  # a Handler, or a flow handler taking a Request
    needs_sign_in: bool = True  # sign_no of a valid 9001 签到 required (all but 9001)
    plain: Handler | None = None  # a flow's plain twin for requests ``use_plain`` picks
    use_plain: Callable[[Envelope], bool] | None = None

    @property
    def is_flow(self) -> bool:
        """A flow handler (generator function) runs on the lean asynchronous path."""
        return inspect.isgeneratorfunction(self.handler)

    def flow_for(self, env: Envelope) -> bool:
        """Whether this request runs as a flow (else :meth:`plain_handler` in a thread)."""
        return self.is_flow and not (self.use_plain is not None and self.use_plain(env))

    @property
    def plain_handler(self) -> Handler:
        return self.plain if self.plain is not None else self.handler


_REGISTRY: dict[str, Transaction] = {}


def transaction(
    infno: str,
    name: str,
    *,
    needs_sign_in: bool = True,
    plain: Handler | None = None,
    use_plain: Callable[[Envelope], bool] | None = None,
) -> Callable[[Any], Any]:
    """Register ``handler`` (plain or flow) for ``infno`` (one decorator per transaction); a
    flow may name a ``plain`` handler for the requests ``use_plain`` picks."""

    def register(handler: Any) -> Any:
        existing = _REGISTRY.get(infno)
        if existing is not None and existing.handler is not handler:
            raise RuntimeError(f"infno {infno} already registered by {existing.handler.__module__}")
        _REGISTRY[infno] = Transaction(infno, name, handler, needs_sign_in, plain, use_plain)
        return handler

    return register


_loaded = False


def load_handlers() -> None:
    """Import every module of :mod:`yibao.api.nhsa.handlers` (each registers its transactions)."""
    global _loaded
    if _loaded:
        return
    from yibao.api.nhsa import handlers

    for info in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"{handlers.__name__}.{info.name}")
    _loaded = True


def lookup(infno: str) -> Transaction | None:
    load_handlers()
    return _REGISTRY.get(infno)


def registered() -> dict[str, Transaction]:
    """Every registered transaction by infno."""
    load_handlers()
    return dict(sorted(_REGISTRY.items()))

"""Signing and forwarding to the centre (签名转发), and re-sending queued 2601 冲正.

:class:`Frontend` holds one :class:`httpx.AsyncClient` (connections reused, a connect timeout
and a read timeout) and the institution's credentials. For every envelope the HIS posts:

1. an envelope of another institution is refused (the processor signs for its own only);
2. the envelope is signed with fresh transport headers (CSB ``_api_*`` with ``_api_nonce``, or
   TIF ``x-tif-*``; :func:`yibao.client.signed_headers`) and posted to the same path at the
   centre;
3. the centre's answer goes back unchanged: status, body bytes, content type (and a 9102 file's
   name);
4. when the centre does not answer: a message that could not be sent (connection refused or
   timed out while connecting) was **not delivered** and nothing happened (502); a message sent
   without an answer in time has an **unknown outcome** (504) — for a settlement the answer says
   to send 2601 with its msgid. Neither is ever re-sent by the processor;
5. a **2601** that gets no answer (or the centre's "unavailable") is written to the durable queue
   (:mod:`yibao.frontend.queue`) and the HIS is told so (202); :meth:`Frontend.redeliver_once`
   re-sends it, signed afresh with the same msgid and body, until the centre answers.

The log (structlog, redacted by :mod:`yibao.logging`) has per message: infno, msgid, the client
address, the HTTP status, infcode, milliseconds and the outcome — never the body, the centre's
``err_msg`` (it may quote a name), the credentials or the local token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import structlog

from yibao.client import signed_headers
from yibao.clock import CHINA
from yibao.frontend import model
from yibao.frontend.model import Credentials, Network, Peek, Reversal
from yibao.frontend.queue import ReversalQueue

log = structlog.get_logger("yibao.frontend")
JSON = "application/json; charset=utf-8"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class Settings:
    """How one processor runs (``yibao frontend run`` options)."""

    centre: str
    institution: str
    credentials: Credentials
    queue_path: Path
    allow: tuple[Network, ...] = ()
    origins: tuple[str, ...] = ()
    token: str = field(default="", repr=False)
    timeout_s: float = 30.0
    connect_timeout_s: float = 3.0
    retry_every_s: float = 5.0
    retry_ceiling_s: float = 60.0
    max_body: int = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    """What goes back to the HIS."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, value: object) -> Outcome:
    import json

    return Outcome(status, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _now() -> datetime:
    """Beijing time (the queue's records, the answers' respond_time)."""
    return datetime.now(CHINA)


class Frontend:
    """One institution's processor: credentials, the connection pool to the centre, the queue."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = _now) -> None:
        self.settings = settings
        self.clock = clock
        self.queue = ReversalQueue(settings.queue_path)
        self.http = httpx.AsyncClient(
            base_url=settings.centre.rstrip("/"),
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        self._due: dict[str, float] = {}

    async def close(self) -> None:
        await self.http.aclose()
        self.queue.close()

    # ---- one message ------------------------------------------------------------------------

    def _headers(self, infno: str, content_type: str) -> dict[str, str]:
        c = self.settings.credentials
        headers = signed_headers(c.transport, c.app_key, c.app_secret, infno or "callService")
        headers["Content-Type"] = content_type
        return headers

    async def _post(self, path: str, body: bytes, content_type: str, infno: str) -> httpx.Response:
        return await self.http.post(path, content=body, headers=self._headers(infno, content_type))

    async def forward(
        self, path: str, body: bytes, content_type: str, p: Peek, client: str
    ) -> Outcome:
        """Sign and forward one envelope; the centre's answer unchanged (see the module doc)."""
        started = time.perf_counter()
        if p.fixmedins_code and p.fixmedins_code != self.settings.institution:
            self._log(p, client, 403, None, started, "other_institution")
            return _json(403, model.refusal(403, f"前置机只为机构 {self.settings.institution} "
                                                 f"签名转发，报文机构为 {p.fixmedins_code}"))  # fmt: skip
        if p.infno == model.REVERSAL and self.queue.get(p.msgid) is not None:
            self._log(p, client, 202, None, started, "already_queued")
            return _json(202, model.answer(model.queued_message(p), self.clock()))
        try:
            r = await self._post(path, body, content_type, p.infno)
        except _NOT_SENT as exc:
            return self._no_answer(p, path, body, content_type, client, started, exc, sent=False)
        except httpx.HTTPError as exc:
            return self._no_answer(p, path, body, content_type, client, started, exc, sent=True)
        if p.infno == model.REVERSAL and not model.is_centre_answer(r.status_code, r.content):
            return self._queue(p, path, body, content_type, client, started, "centre_unavailable")
        infcode = model.infcode_of(r.content) if _is_json(r) else None
        self._log(p, client, r.status_code, infcode, started, "answered")
        headers = {}
        if "content-disposition" in r.headers:
            headers["Content-Disposition"] = r.headers["content-disposition"]
        ctype = r.headers.get("content-type", "application/octet-stream")
        return Outcome(r.status_code, r.content, ctype, headers)

    def _no_answer(
        self,
        p: Peek,
        path: str,
        body: bytes,
        content_type: str,
        client: str,
        started: float,
        exc: Exception,
        *,
        sent: bool,
    ) -> Outcome:
        kind = type(exc).__name__
        if p.infno == model.REVERSAL:
            return self._queue(p, path, body, content_type, client, started, kind)
        if not sent:
            self._log(p, client, 502, None, started, f"not_delivered:{kind}")
            return _json(502, model.answer(model.not_delivered_message(p), self.clock()))
        self._log(p, client, 504, None, started, f"unknown_outcome:{kind}")
        return _json(504, model.answer(model.unknown_outcome_message(p), self.clock()))

    def _queue(
        self,
        p: Peek,
        path: str,
        body: bytes,
        content_type: str,
        client: str,
        started: float,
        why: str,
    ) -> Outcome:
        r = Reversal(
            msgid=p.msgid,
            omsgid=p.omsgid,
            oinfno=p.oinfno,
            path=path,
            content_type=content_type,
            body=body.decode("utf-8", "replace"),
            queued_at=self.clock().isoformat(timespec="seconds"),
        )
        self.queue.put(r)  # fsync-ed before the HIS hears "queued"
        self._due.setdefault(p.msgid, time.monotonic() + self.settings.retry_every_s)
        self._log(p, client, 202, None, started, f"queued:{why}")
        return _json(202, model.answer(model.queued_message(p), self.clock()))

    # ---- the queue --------------------------------------------------------------------------

    async def redeliver_once(self) -> int:
        """Send every queued reversal that is due; the number delivered."""
        delivered = 0
        now = time.monotonic()
        for r in self.queue.pending():
            if self._due.get(r.msgid, 0.0) > now:
                continue
            started = time.perf_counter()
            p = Peek(model.REVERSAL, r.msgid, "", r.omsgid, r.oinfno)
            body = r.body.encode("utf-8")
            try:
                resp = await self._post(r.path, body, r.content_type, model.REVERSAL)
            except httpx.HTTPError as exc:
                self._retry_later(r, type(exc).__name__, started, p)
                continue
            if not model.is_centre_answer(resp.status_code, resp.content):
                self._retry_later(r, f"http_{resp.status_code}", started, p)
                continue
            infcode = model.infcode_of(resp.content)
            self.queue.delivered(r.msgid, self.clock().isoformat(timespec="seconds"), infcode)
            self._due.pop(r.msgid, None)
            self._log(p, "queue", resp.status_code, infcode, started, "redelivered")
            delivered += 1
        return delivered

    def _retry_later(self, r: Reversal, outcome: str, started: float, p: Peek) -> None:
        self.queue.attempted(r.msgid, self.clock().isoformat(timespec="seconds"), outcome)
        s = self.settings
        self._due[r.msgid] = time.monotonic() + model.backoff(
            r.attempts, s.retry_every_s, s.retry_ceiling_s
        )
        self._log(p, "queue", 0, None, started, f"retry_later:{outcome}")

    async def redeliver_forever(self) -> None:
        """The queue's loop (cancelled at shutdown)."""
        while True:
            try:
                await self.redeliver_once()
            except Exception as exc:  # never let the loop die; the queue is on disk
                log.error("frontend_queue_error", error=type(exc).__name__)
            await asyncio.sleep(min(1.0, self.settings.retry_every_s))

    # ---- log --------------------------------------------------------------------------------

    def _log(
        self, p: Peek, client: str, status: int, infcode: int | None, started: float, outcome: str
    ) -> None:
        log.info(
            "frontend_message",
            infno=p.infno,
            msgid=p.msgid,
            omsgid=p.omsgid or None,
            client=client,
            status=status,
            infcode=infcode,
            ms=round((time.perf_counter() - started) * 1000, 1),
            outcome=outcome,
        )


def _is_json(r: httpx.Response) -> bool:
    return str(r.headers.get("content-type", "")).startswith("application/json")

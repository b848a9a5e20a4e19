"""The front-end processor's HTTP face (plain ASGI): the centre's paths, for the HIS.

Paths are the centre's (:mod:`yibao.api.nhsa.asgi`): the single URL
``/fsi/api/rsfComIfsService/callService``, Guangdong's ``…/hsa/hgs/{infno}`` and Hebei's
per-service paths; each message is forwarded to the same path at the centre. Bodies: the
envelope as JSON, form-encoded (``jsonStr``, or the only pair — a browser HIS page posts one pair
with an empty name) — forwarded as JSON — or ``multipart/form-data`` for 9101, forwarded as it
came. ``GET /healthz`` answers the processor's state (institution, reversals waiting).

Every request is checked, in this order: the client address against the allowlist (403), the
local token header ``X-Yibao-Frontend-Token`` when one is configured (401). CORS headers are
sent to configured origins (and origin patterns) on every answer, refusals included, so a
browser page can read why it was refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from starlette.types import Receive, Scope, Send

from yibao.api.nhsa import asgi as centre_paths
from yibao.frontend import model
from yibao.frontend.service import JSON, Frontend, Outcome
from yibao.http.cors import cors_headers

log = structlog.get_logger("yibao.frontend")
_ALLOWED_HEADERS = f"content-type, {model.TOKEN_HEADER}"


def _cors(origin: str, origins: tuple[str, ...], preflight: bool) -> list[tuple[bytes, bytes]]:
    return cors_headers(origin, origins, _ALLOWED_HEADERS, preflight)


async def _send(send: Send, out: Outcome, cors: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", out.content_type.encode("latin-1")),
        (b"content-length", str(len(out.body)).encode("ascii")),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.headers.items()),
        *cors,
    ]
    await send({"type": "http.response.start", "status": out.status, "headers": headers})
    await send({"type": "http.response.body", "body": out.body})


def _refusal(status: int, message: str) -> Outcome:
    return Outcome(status, json.dumps(model.refusal(status, message), ensure_ascii=False).encode())


async def _body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _multipart_envelope(scope: Scope, body: bytes) -> bytes:
    """The ``jsonStr`` part of a multipart body (only read to learn the infno and msgid)."""
    from starlette.requests import Request

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, replay).form(max_files=2, max_fields=20)
    except Exception:  # a malformed body: forwarded, the centre says why it is refused
        return b""
    part = form.get("jsonStr")
    if part is None:
        return b""
    return part.encode("utf-8") if isinstance(part, str) else await part.read()


class FrontendApp:
    """ASGI app over one :class:`Frontend` (its queue loop runs while the app is up)."""

    def __init__(self, frontend: Frontend) -> None:
        self.frontend = frontend
        self._loop_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop_task = asyncio.create_task(self.frontend.redeliver_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._loop_task is not None:
                    self._loop_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._loop_task
                await self.frontend.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        s = self.frontend.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin", "")
        method = scope["method"]
        cors = _cors(origin, s.origins, method == "OPTIONS")
        client = (scope.get("client") or ("", 0))[0]
        if not model.address_allowed(client, s.allow):
            log.warning("frontend_refused", client=client, reason="address_not_allowed")
            msg = f"前置机拒绝：来源地址 {client} 不在允许列表（--allow）"
            await _send(send, _refusal(403, msg), cors)
            return
        path = scope["path"]
        if path == "/healthz" and method == "GET":
            await self._health(send, cors)
            return
        infno = centre_paths.path_infno(path)
        if infno is None:
            await _send(send, _refusal(404, f"前置机没有这个地址：{path}"), cors)
            return
        if method == "OPTIONS":
            await _send(send, Outcome(204, b""), cors)
            return
        if method != "POST":
            await _send(send, _refusal(405, "国家接口只接受POST请求"), cors)
            return
        if not model.token_ok(s.token, headers.get(model.TOKEN_HEADER)):
            log.warning("frontend_refused", client=client, reason="local_token")
            await _send(send, _refusal(401, "前置机本地令牌缺失或不符"), cors)
            return
        await self._forward(scope, receive, send, headers, cors, client, infno)

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        cors: list[tuple[bytes, bytes]],
        client: str,
        path_infno: str,
    ) -> None:
        s = self.frontend.settings
        body = await _body(receive, s.max_body + 4096)
        if body is None:
            await _send(send, _refusal(413, "请求报文过大"), cors)
            return
        ctype = headers.get("content-type", "")
        if ctype.lower().startswith("multipart/form-data"):
            envelope, forward_type = await _multipart_envelope(scope, body), ctype
        else:
            if ctype.lower().startswith("application/x-www-form-urlencoded"):
                body = centre_paths.form_envelope(body)
            envelope, forward_type = body, "application/json;charset=utf-8"
        p = model.peek(envelope)
        if not p.infno and path_infno:
            p = model.Peek(path_infno, p.msgid, p.fixmedins_code)
        out = await self.frontend.forward(scope["path"], body, forward_type, p, client)
        await _send(send, out, cors)

    async def _health(self, send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        s = self.frontend.settings
        body = {
            "status": "ok",
            "institution": s.institution,
            "centre": s.centre,
            "transport": s.credentials.transport,
            "pending_reversals": len(self.frontend.queue.pending()),
        }
        await _send(send, Outcome(200, json.dumps(body, ensure_ascii=False).encode(), JSON), cors)

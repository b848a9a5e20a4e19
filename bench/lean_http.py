"""A lean HTTP/1.1 client for the benchmarks (负载生成): raw keep-alive sockets, no framework.

The load generator runs on the same 2 cores as the server and PostgreSQL, so every microsecond it
spends is taken from them; httpx costs about 1.5 ms of CPU per call, this about a tenth of that.
:class:`LeanNhsaClient` is :class:`yibao.client.NhsaClient` (envelopes, msgids, signatures) with
its transport replaced; :func:`raw_request` pre-builds a request's bytes so a timed phase only
sends and receives.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from yibao.client import NhsaClient, NhsaResponse


def raw_request(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The bytes of one POST (keep-alive)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


class RawHttp:
    """One keep-alive connection: send bytes, read one response (Content-Length framed)."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self._connect()

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""

    def request(self, raw: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) of the answer to ``raw``; a connection the server
        closed while idle (keep-alive timeout) is opened again and the request sent once more
        (nothing of it was read: it never arrived)."""
        try:
            return self._request(raw)
        except (ConnectionError, BrokenPipeError):
            if self._buf:
                raise
            self.sock.close()
            self._connect()
            return self._request(raw)

    def _request(self, raw: bytes) -> tuple[int, str, bytes]:
        self.sock.sendall(raw)
        buf = self._buf
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
            self._buf = buf
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, ctype = 0, ""
        for ln in lines[1:]:
            name, _, value = ln.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"content-type":
                ctype = value.strip().decode("latin-1")
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            rest += chunk
        self._buf = rest[length:]
        return status, ctype, rest[:length]

    def close(self) -> None:
        self.sock.close()


class LeanNhsaClient(NhsaClient):
    """:class:`NhsaClient` over :class:`RawHttp` (JSON envelopes only)."""

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        hostport = base_url.split("://", 1)[1].rstrip("/")
        host, _, port = hostport.partition(":")
        self.host = hostport
        self.raw = RawHttp(host, int(port or 80))

    def prepared(self, infno: str, body: dict[str, Any]) -> bytes:
        """The signed request's bytes (headers signed now: send them within the window)."""
        headers = self.headers(infno)
        headers["Content-Type"] = "application/json;charset=utf-8"
        path = self.url(infno)[len(self.base_url) :]
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return raw_request(self.host, path, headers, content)

    def post(
        self,
        infno: str,
        body: dict[str, Any] | bytes | str,
        *,
        headers: dict[str, str] | None = None,
        files: dict[str, Any] | None = None,
    ) -> NhsaResponse:
        if files is not None or not isinstance(body, dict) or headers:
            return super().post(infno, body, headers=headers, files=files)
        status, ctype, data = self.raw.request(self.prepared(infno, body))
        return NhsaResponse(infno, str(body.get("msgid", "")), status, data, ctype, body)

    def close(self) -> None:
        self.raw.close()
        super().close()

"""What the gateway sends back (应答): envelopes as bytes, gateway refusals, request hashes.

Pure helpers shared by both execution paths of :mod:`yibao.api.nhsa.frame`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from yibao.clock import CHINA
from yibao.wire import envelope, jsonio
from yibao.wire.envelope import Envelope

JSON = "application/json; charset=utf-8"

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock (UTC): the default business time of every transaction."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What the HTTP layer sends."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


_seq = itertools.count(1)
_pid = os.getpid() % 1000


def _next_seq() -> int:
    return _pid * 10**7 + next(_seq) % 10**7


def gateway_error(message: str, status: int = 401) -> HttpAnswer:
    """A gateway-level refusal (表6): ``{"code":401,"message":…}``."""
    return HttpAnswer(status, jsonio.dumps_bytes({"code": status, "message": message}))


UNAVAILABLE = "医保网关暂不可用，交易未办理，请稍后重试"
BUSY = "该参保人另有结算正在同时办理，本笔交易未办理：请以同一msgid重试"
UNKNOWN_OUTCOME = "系统内部错误，交易结果未知：请以同一msgid重试或调用【2601】冲正"


def envelope_bytes(
    received: datetime,
    answered: datetime,
    admdvs: str,
    *,
    infcode: int,
    output: Any = None,
    err_msg: str | None = None,
    warn_msg: str | None = None,
) -> tuple[bytes, str]:
    """The response envelope as sent, and its ``inf_refmsgid``."""
    ref = envelope.refmsgid(admdvs, received.astimezone(CHINA), _next_seq())
    body = envelope.response(
        infcode=infcode,
        inf_refmsgid=ref,
        refmsg_time=envelope.ms_time(received.astimezone(CHINA)),
        respond_time=envelope.ms_time(answered.astimezone(CHINA)),
        output=output,
        err_msg=err_msg,
        warn_msg=warn_msg,
    )
    return jsonio.dumps_bytes(body), ref


def request_hash(env: Envelope, upload: bytes | None) -> str:
    """SHA-256 over the business content: infno, institution, regions, input (+ uploaded file)."""
    content = {
        "infno": env.infno,
        "fixmedins_code": env.fixmedins_code,
        "mdtrtarea_admvs": env.mdtrtarea_admvs,
        "insuplc_admdvs": env.insuplc_admdvs,
        "input": env.input,
    }
    h = hashlib.sha256(jsonio.canonical_bytes(content))
    if upload is not None:
        h.update(b"\x00file:" + hashlib.sha256(upload).hexdigest().encode())
    return h.hexdigest()


#: infnos whose request is kept in the message log (aggregates only, no personal data): the
#: console's reconciliation page shows what the institution claimed. Every other request is
#: kept as its hash only.
KEEP_REQUEST = frozenset({"3201", "3202"})


def stored_request(env: Envelope) -> str:
    """What the message log keeps of a request (ADR 0010: minimised)."""
    if env.infno not in KEEP_REQUEST:
        return ""
    return jsonio.canonical({"infno": env.infno, "input": env.input})


def psn_no_of(payload: dict[str, Any]) -> str:
    """The ``psn_no`` of the first input node that has one (kept on the message-log row)."""
    for value in payload.values():
        row = value[0] if isinstance(value, list) and value else value
        if isinstance(row, dict) and isinstance(row.get("psn_no"), str):
            return str(row["psn_no"])[:30]
    return ""


def file_answer(body: bytes, content_type: str) -> HttpAnswer:
    """A stored answer as sent: JSON, or a file (9102) with its name in Content-Disposition."""
    headers: dict[str, str] = {}
    if not content_type.startswith("application/json"):
        media, _, param = content_type.partition(";")
        name = param.strip().removeprefix("name=").strip('"')
        if name:
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        content_type = media.strip()
    return HttpAnswer(200, body, content_type, headers)

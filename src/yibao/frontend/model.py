"""The front-end processor's rules and records (前置机规则). Pure: no I/O, no clock.

- **Who may call**: a client address inside the allowlist (addresses or CIDR blocks), the local
  token when one is configured, and — for a browser page — an origin that is listed or matches a
  listed pattern (``http://*.hospital.example``).
- **What a message is about**: :func:`peek` reads ``infno``, ``msgid``, ``fixmedins_code`` and,
  for a 2601, ``omsgid``/``oinfno``/``psn_no`` — nothing else of the envelope is looked at (the
  body is forwarded as the HIS sent it).
- **The processor's own answers** are envelopes (``infcode`` -1, ``err_msg`` in Chinese) so a HIS
  reads them as it reads the centre's: outcome unknown (a timeout after the message was sent),
  not delivered (the centre could not be reached: nothing happened), reversal queued.
- **The reversal queue** (ADR 0014) holds only 2601 冲正 that could not reach the centre; its file
  is JSON lines of ``queued``/``attempt``/``delivered`` records, replayed on start.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REVERSAL = "2601"
#: what 2601 may reverse (the centre's list, yibao.checkout.reversal.REVERSIBLE; [JX] order)
REVERSIBLE = ("2102", "2103", "2207", "2208", "2304", "2305", "2401")
#: the centre's answer while its database is unreachable: nothing was done, so a queued reversal
#: is sent again (yibao.api.nhsa.answers.UNAVAILABLE begins with this)
CENTRE_UNAVAILABLE = "医保网关暂不可用"
TOKEN_HEADER = "x-yibao-frontend-token"


class FrontendError(ValueError):
    """A configuration the processor cannot start with (message in Chinese)."""


# ---- who may call ---------------------------------------------------------------------------


def parse_allowlist(items: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and CIDR blocks (``10.0.0.0/8``, ``192.168.1.20``, ``::1``), comma lists too."""
    out: list[Network] = []
    for item in items:
        for part in item.split(","):
            text = part.strip()
            if not text:
                continue
            try:
                out.append(ipaddress.ip_network(text, strict=False))
            except ValueError as exc:
                raise FrontendError(f"--allow: {text!r} 不是IP地址或网段（CIDR）") from exc
    return tuple(out)


def address_allowed(address: str, allow: tuple[Network, ...]) -> bool:
    """Whether a client address lies inside the allowlist (IPv4-mapped IPv6 read as IPv4)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in allow)


def token_ok(expected: str, given: str | None) -> bool:
    """The local token check (constant time); no token configured means none is asked for."""
    if not expected:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def parse_origins(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(p.strip().rstrip("/") for item in items for p in item.split(",") if p.strip())


# ---- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """The institution's gateway credentials (AK/SK) and the transport that signs with them."""

    app_key: str
    app_secret: str = field(repr=False)
    transport: str = "csb"


def parse_key_file(text: str, transport: str | None = None) -> Credentials:
    """The key file: JSON ``{"app_key": …, "app_secret": …, "transport": "csb"|"tif"}``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FrontendError("密钥文件不是合法的JSON") from exc
    if not isinstance(data, dict):
        raise FrontendError("密钥文件须为JSON对象")
    key, secret = data.get("app_key"), data.get("app_secret")
    if not isinstance(key, str) or not key or not isinstance(secret, str) or not secret:
        raise FrontendError("密钥文件须含 app_key 与 app_secret")
    chosen = transport or str(data.get("transport") or "csb")
    if chosen not in ("csb", "tif"):
        raise FrontendError(f"transport 须为 csb 或 tif，收到 {chosen!r}")
    return Credentials(key, secret, chosen)


def key_file_text(app_key: str, app_secret: str, transport: str = "csb") -> str:
    return json.dumps({"app_key": app_key, "app_secret": app_secret, "transport": transport})


def key_file_mode_problem(mode: int) -> str | None:
    """Why a key file's permission bits are unsafe (readable or writable by others), or None."""
    if mode & 0o077:
        return f"密钥文件权限为 {mode & 0o777:o}，只允许属主读写（chmod 600）"
    return None


# ---- what a message is about ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peek:
    """What the processor reads of an envelope (nothing personal)."""

    infno: str = ""
    msgid: str = ""
    fixmedins_code: str = ""
    omsgid: str = ""  # 2601
    oinfno: str = ""  # 2601
    psn_no: str = ""  # 2601 (kept in the queue to resend it; not logged)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def peek(envelope: bytes | str) -> Peek:
    """Read an envelope's routing fields; an unreadable body peeks as empty (the centre will say
    why it is refused)."""
    try:
        data = json.loads(envelope)
    except (ValueError, UnicodeDecodeError):
        return Peek()
    if not isinstance(data, dict):
        return Peek()
    infno, msgid = _text(data.get("infno")), _text(data.get("msgid"))
    code = _text(data.get("fixmedins_code"))
    if infno != REVERSAL:
        return Peek(infno, msgid, code)
    node = (data.get("input") or {}).get("data") if isinstance(data.get("input"), dict) else None
    if isinstance(node, list) and len(node) == 1:
        node = node[0]
    node = node if isinstance(node, dict) else {}
    return Peek(
        infno,
        msgid,
        code,
        _text(node.get("omsgid")),
        _text(node.get("oinfno")),
        _text(node.get("psn_no")),
    )


# ---- the processor's own answers -----------------------------------------------------------


def ms_time(at: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` as the centre writes ``respond_time``."""
    return f"{at:%Y%m%d%H%M%S}{at.microsecond // 1000:03d}"


def answer(err_msg: str, at: datetime) -> dict[str, Any]:
    """A failure envelope in the order of the centre's (§1.2), answered by the processor."""
    return {
        "infcode": -1,
        "inf_refmsgid": "",
        "refmsg_time": "",
        "respond_time": ms_time(at),
        "err_msg": err_msg,
        "warn_msg": None,
        "cainfo": None,
        "signtype": None,
        "enctype": None,
        "output": None,
    }


def unknown_outcome_message(p: Peek) -> str:
    """A timeout after the message was sent: it may or may not have been done."""
    head = f"医保中心未在时限内应答，交易【{p.infno or '?'}】结果未知（报文ID {p.msgid or '?'}）"
    if p.infno in REVERSIBLE:
        return (
            f"{head}：请勿重复结算；请以【2601】冲正（omsgid={p.msgid}，oinfno={p.infno}），"
            "或以同一报文ID原样重发查询结果"
        )
    return f"{head}：请以同一报文ID原样重发"


def not_delivered_message(p: Peek) -> str:
    """The centre could not be reached: the message was not sent, nothing happened."""
    return (
        f"无法连接医保中心，交易【{p.infno or '?'}】未送达、未办理（报文ID {p.msgid or '?'}），"
        "请稍后重试"
    )


def queued_message(p: Peek) -> str:
    return (
        f"医保中心暂未应答：冲正【2601】（报文ID {p.msgid}，冲正 {p.oinfno} {p.omsgid}）已由前置机"
        "保存，将自动重发直至医保中心应答；可稍后以同一报文ID重发查询结果"
    )


def refusal(status: int, message: str) -> dict[str, Any]:
    """A refusal by the processor itself, shaped like the centre's gateway refusals."""
    return {"code": status, "message": message}


def is_centre_answer(status: int, body: bytes) -> bool:
    """Whether a queued reversal got an answer from the centre (done, or refused for a reason
    that resending will not change); "unavailable" and HTTP errors mean: send again."""
    if status != 200:
        return False
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(data, dict) or "infcode" not in data:
        return False
    return not str(data.get("err_msg") or "").startswith(CENTRE_UNAVAILABLE)


def infcode_of(body: bytes) -> int | None:
    try:
        data = json.loads(body)
        return int(data["infcode"])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None


# ---- the reversal queue --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reversal:
    """A 2601 waiting for the centre: the envelope as the HIS sent it, and where it goes."""

    msgid: str
    omsgid: str
    oinfno: str
    path: str
    content_type: str
    body: str
    queued_at: str
    attempts: int = 0


def queued_record(r: Reversal) -> str:
    return json.dumps({"op": "queued", **asdict(r)}, ensure_ascii=False)


def attempt_record(msgid: str, at: str, outcome: str) -> str:
    return json.dumps({"op": "attempt", "msgid": msgid, "at": at, "outcome": outcome})


def delivered_record(msgid: str, at: str, infcode: int | None) -> str:
    return json.dumps({"op": "delivered", "msgid": msgid, "at": at, "infcode": infcode})


def replay(lines: Iterable[str]) -> dict[str, Reversal]:
    """The reversals still waiting after a queue file's records, in the order queued. A last
    line cut short by a crash (not valid JSON) is skipped: its reversal was never acknowledged
    to the HIS as queued."""
    pending: dict[str, Reversal] = {}
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, Mapping):
            continue
        msgid = str(rec.get("msgid", ""))
        op = rec.get("op")
        if op == "queued":
            fields = {k: rec[k] for k in Reversal.__dataclass_fields__ if k in rec}
            pending.setdefault(msgid, Reversal(**fields))
        elif op == "attempt" and msgid in pending:
            pending[msgid] = replace(pending[msgid], attempts=pending[msgid].attempts + 1)
        elif op == "delivered":
            pending.pop(msgid, None)
    return pending


def backoff(attempts: int, every: float, ceiling: float) -> float:
    """Seconds before the next try: ``every`` doubled per failed attempt, at most ``ceiling``."""
    return float(min(ceiling, every * (2 ** min(attempts, 16))))

"""HTTP face of the gateway (thin, plain ASGI): paths, bodies, CORS — no web framework per call.

Paths (reference §1.5):

- ``POST /fsi/api/rsfComIfsService/callService`` — the CSB single URL (every infno);
- ``POST /ebus/gdyb_inf/poc/hsa/hgs/{infno}`` and ``/ebus/gdyb_api/prd/hsa/hgs/{infno}`` —
  Guangdong's per-infno form (test and production bases);
- ``POST /fsi/api/<service>/<method>`` (also under ``/ebus/rio_fsi``) — Hebei's per-service paths.

Any path accepts either transport's headers. The body is the envelope as JSON (any content
type), or form-encoded (``application/x-www-form-urlencoded``: the pair named ``jsonStr``, or
the only pair — browser HIS pages post one pair with an empty name), or ``multipart/form-data``
for 9101 uploads (the envelope in the text part ``jsonStr``, the ZIP in ``file`` or ``in``).
CORS answers configured origins and origin patterns (``YIBAO_NHSA_CORS_ORIGINS``), refusals
included, so a browser page can read why it was refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from yibao.api.nhsa.answers import HttpAnswer
from yibao.api.nhsa.frame import Gateway
from yibao.gateway.settings import GatewaySettings
from yibao.http.cors import cors_headers, origin_allowed
from yibao.wire import jsonio

SINGLE_URL = "/fsi/api/rsfComIfsService/callService"
TIF_BASES = ("/ebus/gdyb_inf/poc/hsa/hgs/", "/ebus/gdyb_api/prd/hsa/hgs/")
HEBEI_PREFIXES = ("", "/ebus/rio_fsi")

# Hebei per-service paths (reference §1.5 item 4; spellings such as "Rregistration" are original).
HEBEI_PATHS: dict[str, str] = {
    "/fsi/api/signInSignOutService/signIn": "9001",
    "/fsi/api/fsiPsnInfoService/queryPsnInfo": "1101",
    "/fsi/api/catalogqueryservice/queryHilist": "1312",
    "/fsi/api/outpatientDocInfoService/outpatientRregistration": "2201",
    "/fsi/api/outpatientDocInfoService/outpatientFeeListUp": "2204",
    "/fsi/api/outpatientSettleService/preSettletment": "2206",
    "/fsi/api/outpatientSettleService/saveSettletmentV2": "2207",
    "/fsi/api/outpatientSettleService/cancleSettletment": "2208",
    "/fsi/api/hospFeeDtlService/feeDtlUp": "2301",
    "/fsi/api/hospSettService/preSett": "2303",
    "/fsi/api/hospSettService/settV2": "2304",
    "/fsi/api/hospSettService/settCl": "2305",
    "/fsi/api/hospitalRegisterService/hospitalRegisterSave": "2401",
    "/fsi/api/dscgService/dischargeProcess": "2402",
    "/fsi/api/reverseService/revsMethod": "2601",
    "/fsi/api/ybSettlementStmtService/stmtTotal": "3201",
    "/fsi/api/ybSettlementStmtService/stmtDetail": "3202",
    "/fsi/api/fsiIntegratedQueryService/querySetlInfo": "5203",
    "/fsi/api/fsiIntegratedQueryService/queryFeeList": "5204",
    "/fsi/api/fileupload/upload": "9101",
    "/fsi/api/fileupload/download": "9102",
}
_FIXED = {prefix + path: infno for prefix in HEBEI_PREFIXES for path, infno in HEBEI_PATHS.items()}

_ALLOWED_HEADERS = (
    "content-type, _api_name, _api_version, _api_timestamp, _api_access_key, _api_signature, "
    "_api_nonce, x-tif-paasid, x-tif-timestamp, x-tif-nonce, x-tif-signature"
)


def path_infno(path: str) -> str | None:
    """The infno a gateway path fixes ("" for the single URL), or None for any other path."""
    if path == SINGLE_URL:
        return ""
    for base in TIF_BASES:
        if path.startswith(base):
            return path[len(base) :]
    return _FIXED.get(path)


def cors_allowed(origin: str, settings: GatewaySettings) -> bool:
    """Whether a browser origin may call the gateway: listed, or matching a listed pattern."""
    return origin_allowed(origin, settings.cors_origins)


def _cors(origin: str, settings: GatewaySettings, preflight: bool) -> list[tuple[bytes, bytes]]:
    return cors_headers(origin, settings.cors_origins, _ALLOWED_HEADERS, preflight)


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it exceeds ``limit`` bytes."""
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


def form_envelope(body: bytes) -> bytes:
    """The envelope of a form-encoded body: ``jsonStr``, else the only pair (a raw JSON body
    sent with the form content type is taken as it is). The only pair is ``=<json>`` from a
    browser page; ``curl --data-urlencode "=<json>"`` sends the encoded JSON without the ``=``,
    which reads as a name without a value: then the name is the envelope."""
    if body.lstrip()[:1] in (b"{", b"["):
        return body
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    named = dict(pairs)
    if "jsonStr" in named:
        return named["jsonStr"].encode("utf-8")
    if len(pairs) == 1:
        name, value = pairs[0]
        return (value or name).encode("utf-8")
    return body


async def _multipart(scope: Scope, body: bytes) -> tuple[bytes, bytes | None]:
    """(envelope, uploaded file) of a multipart body (9101)."""
    from starlette.requests import Request

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(scope, replay).form(max_files=2, max_fields=20)
    json_part = form.get("jsonStr")
    if json_part is None:
        return b"", None
    envelope = json_part.encode("utf-8") if isinstance(json_part, str) else await json_part.read()
    for name in ("file", "in"):
        part = form.get(name)
        if part is not None and not isinstance(part, str):
            return envelope, await part.read()
    return envelope, None


async def _send(send: Send, answer: HttpAnswer, cors: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", answer.content_type.encode("latin-1")),
        (b"content-length", str(len(answer.body)).encode("ascii")),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()),
        *cors,
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


_NOT_ALLOWED = HttpAnswer(
    405,
    jsonio.dumps_bytes({"code": 405, "message": "国家接口只接受POST请求"}),
    headers={"Allow": "POST, OPTIONS"},
)
_TOO_LARGE = "请求报文过大"


async def serve(gateway: Gateway, infno: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one HTTP request on a gateway path."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    origin = headers.get("origin", "")
    method = scope["method"]
    if method == "OPTIONS":
        await _send(send, HttpAnswer(204, b""), _cors(origin, gateway.settings, True))
        return
    cors = _cors(origin, gateway.settings, False)
    if method != "POST":
        await _send(send, _NOT_ALLOWED, cors)
        return
    body = await _body(receive, gateway.settings.max_body + 4096)
    if body is None:
        body = b"x" * (gateway.settings.max_body + 1)  # refused by the envelope's size rule
    ctype = headers.get("content-type", "").lower()
    upload: bytes | None = None
    if ctype.startswith("multipart/form-data"):
        try:
            body, upload = await _multipart(scope, body)
        except Exception:  # a malformed multipart body: answered as an envelope error
            body, upload = b"\x00", None
    elif ctype.startswith("application/x-www-form-urlencoded"):
        body = form_envelope(body)
    answer = await gateway.handle(body, headers, path_infno=infno, upload=upload)
    await _send(send, answer, cors)

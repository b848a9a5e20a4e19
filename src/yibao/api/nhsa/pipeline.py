"""One national-interface request from bytes to bytes (交易处理流程).

authenticate (transport headers, timestamp, nonce) → parse the envelope → find the handler →
:func:`yibao.gateway.service.execute_once` (institution, network status, region and sign-in
checks, then the handler, then the message-log row, all in one transaction) → response bytes.

Nothing here raises: gateway refusals become ``{"code":401,…}``, everything else an envelope with
``infcode`` 0 or -1. Unexpected errors are logged with the ``inf_refmsgid`` they were answered with.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog

from yibao.api.nhsa import dispatcher, envelope, jsonio, transport
from yibao.api.nhsa.dispatcher import BusinessError, Context, FileOutput
from yibao.api.nhsa.envelope import Envelope, EnvelopeError
from yibao.api.nhsa.settings import GatewaySettings
from yibao.gateway import service as gateway
from yibao.gateway import store as gateway_store
from yibao.institutions import service as institutions
from yibao.institutions import store as institution_store
from yibao.institutions.model import Credential, Operator
from yibao.institutions.service import CHINA

log = structlog.get_logger(__name__)

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What the HTTP layer sends."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


_seq = itertools.count(1)
_pid = os.getpid() % 1000


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock (UTC): the default business time of every transaction."""
    return datetime.now(UTC)


def _next_seq() -> int:
    return _pid * 10**7 + next(_seq) % 10**7


def gateway_error(message: str) -> HttpAnswer:
    """A gateway-level refusal (表6): ``{"code":401,"message":…}``."""
    return HttpAnswer(401, jsonio.dumps({"code": 401, "message": message}).encode("utf-8"))


class CredentialCache:
    """AK/SK lookups cached briefly (a revoked key stops working within ``ttl`` seconds)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, Credential | None]] = {}
        self._lock = threading.Lock()

    def get(self, engine: sa.Engine, app_key: str) -> Credential | None:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(app_key)
        if hit and hit[0] > now:
            return hit[1]
        with engine.connect() as conn:
            cred = institution_store.get_credential(conn, app_key)
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[app_key] = (now + self.ttl, cred)
        return cred


def request_hash(env: Envelope, upload: bytes | None) -> str:
    """SHA-256 over the business content: infno, institution, regions, input (+ uploaded file)."""
    content = {
        "infno": env.infno,
        "fixmedins_code": env.fixmedins_code,
        "mdtrtarea_admvs": env.mdtrtarea_admvs,
        "insuplc_admdvs": env.insuplc_admdvs,
        "input": env.input,
    }
    h = hashlib.sha256(jsonio.canonical(content).encode("utf-8"))
    if upload is not None:
        h.update(b"\x00file:" + hashlib.sha256(upload).hexdigest().encode())
    return h.hexdigest()


def _psn_no(payload: dict[str, Any]) -> str:
    for value in payload.values():
        row = value[0] if isinstance(value, list) and value else value
        if isinstance(row, dict) and isinstance(row.get("psn_no"), str):
            return str(row["psn_no"])[:30]
    return ""


class Gateway:
    """The request pipeline over one engine; one instance per app.

    ``clock`` gives the business time of each transaction (``Context.now``: settlement time,
    sign-in, reply times); it defaults to the real clock. Only the demo seeder passes another
    one, to play past days in-process. Transport authentication always uses the real time.
    """

    def __init__(
        self,
        engine: sa.Engine,
        settings: GatewaySettings | None = None,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.engine = engine
        self.settings = settings or GatewaySettings()
        self.clock = clock
        self.credentials = CredentialCache(self.settings.credential_cache_s)
        self._purge_counter = itertools.count()
        dispatcher.load_handlers()

    # ---- helpers -------------------------------------------------------------------------

    def _envelope_bytes(
        self,
        received: datetime,
        admdvs: str,
        *,
        infcode: int,
        output: Any = None,
        err_msg: str | None = None,
        warn_msg: str | None = None,
    ) -> tuple[bytes, str]:
        ref = envelope.refmsgid(admdvs, received.astimezone(CHINA), _next_seq())
        body = envelope.response(
            infcode=infcode,
            inf_refmsgid=ref,
            refmsg_time=envelope.ms_time(received.astimezone(CHINA)),
            respond_time=envelope.ms_time(self.clock().astimezone(CHINA)),
            output=output,
            err_msg=err_msg,
            warn_msg=warn_msg,
        )
        return jsonio.dumps(body).encode("utf-8"), ref

    def _fail(self, received: datetime, admdvs: str, err_msg: str) -> HttpAnswer:
        body, _ = self._envelope_bytes(
            received, admdvs, infcode=envelope.INFCODE_FAIL, err_msg=err_msg
        )
        return HttpAnswer(200, body)

    def _authenticate(self, headers: dict[str, str], now_ms: int) -> Credential:
        auth = transport.read_headers(headers)
        cred = self.credentials.get(self.engine, auth.app_key)
        if cred is None or not cred.active:
            raise transport.GatewayAuthError(transport.ILLEGAL_USER)
        transport.verify(auth, cred.app_secret, now_ms, self.settings.timestamp_window_s * 1000)
        if auth.scheme == transport.TIF:
            with self.engine.begin() as conn:
                fresh = gateway_store.use_nonce(
                    conn, cred.app_key, auth.nonce, self.settings.nonce_ttl_s
                )
                if next(self._purge_counter) % 500 == 0:
                    gateway_store.purge_nonces(conn)
            if not fresh:
                raise transport.GatewayAuthError(transport.REPLAYED_NONCE)
        return cred

    # ---- the pipeline --------------------------------------------------------------------

    def handle(
        self,
        body: bytes,
        headers: dict[str, str],
        *,
        path_infno: str = "",
        upload: bytes | None = None,
    ) -> HttpAnswer:
        """Answer one request; never raises."""
        received = self.clock()
        admdvs = ""
        try:
            try:
                cred = self._authenticate(headers, int(time.time() * 1000))
            except transport.GatewayAuthError as exc:
                return gateway_error(exc.message)
            try:
                if len(body) > self.settings.max_body:
                    raise EnvelopeError("报文", f"请求报文超过{self.settings.max_body}字节")
                try:
                    raw = jsonio.loads(body)
                except jsonio.JsonError as exc:
                    raise EnvelopeError("报文", str(exc)) from exc
                admdvs = envelope.peek(raw, "mdtrtarea_admvs")
                env = envelope.parse_envelope(raw)
                if path_infno and path_infno != env.infno:
                    raise EnvelopeError(
                        "infno", f"报文交易编号{env.infno}与请求路径的交易编号{path_infno}不符"
                    )
                if env.fixmedins_code != cred.fixmedins_code:
                    raise EnvelopeError(
                        "fixmedins_code",
                        f"定点医药机构编号{env.fixmedins_code}与网关凭证所属机构不符",
                    )
                tx = dispatcher.lookup(env.infno)
                if tx is None:
                    raise EnvelopeError("infno", f"交易编号{env.infno}暂不支持")
            except EnvelopeError as exc:
                return self._fail(received, admdvs, str(exc))
            return self._run(env, tx, received, upload)
        except Exception:
            body_bytes, ref = self._envelope_bytes(
                received,
                admdvs,
                infcode=envelope.INFCODE_FAIL,
                err_msg="系统内部错误，交易结果未知：请以同一msgid重试或调用【2601】冲正",
            )
            log.exception("nhsa_gateway_error", inf_refmsgid=ref)
            return HttpAnswer(200, body_bytes)

    def _run(
        self, env: Envelope, tx: dispatcher.Transaction, received: datetime, upload: bytes | None
    ) -> HttpAnswer:
        key = gateway.MessageKey(
            fixmedins_code=env.fixmedins_code,
            msgid=env.msgid,
            infno=env.infno,
            request_hash=request_hash(env, upload),
            request=jsonio.canonical(
                {"infno": env.infno, "insuplc_admdvs": env.insuplc_admdvs, "input": env.input}
            )
            if upload is None
            else "",
            opter=env.opter,
        )
        admdvs = env.mdtrtarea_admvs

        def refuse(err_msg: str, *, record: bool) -> gateway.Refusal:
            body, ref = self._envelope_bytes(
                received, admdvs, infcode=envelope.INFCODE_FAIL, err_msg=err_msg
            )
            return gateway.Refusal(
                gateway.Answer(
                    body, JSON, envelope.INFCODE_FAIL, err_msg, _psn_no(env.input), ref, record
                )
            )

        def work(conn: sa.Connection) -> gateway.Answer:
            inst, problem = institutions.authorise(
                conn,
                env.fixmedins_code,
                env.sign_no,
                received,
                needs_sign_in=tx.needs_sign_in and self.settings.require_sign_in,
            )
            if inst is not None and problem is None and env.mdtrtarea_admvs != inst.admdvs:
                problem = (
                    f"mdtrtarea_admvs: 就医地医保区划须为本机构所在医保区划{inst.admdvs}，"
                    f"收到{env.mdtrtarea_admvs}"
                )
            if inst is None or problem is not None:
                raise refuse(problem or "fixmedins_code: 未登记", record=False)
            ctx = Context(
                conn=conn,
                envelope=env,
                institution=inst,
                operator=Operator(inst.fixmedins_code, env.opter, env.opter_name, env.opter_type),
                now=received,
                upload=upload,
            )
            try:
                output = tx.handler(ctx)
            except EnvelopeError as exc:  # InputError included: nothing written, not recorded
                raise refuse(str(exc), record=False) from exc
            except BusinessError as exc:
                raise refuse(exc.err_msg, record=True) from exc
            if isinstance(output, FileOutput):
                ctype = f'{output.media_type}; name="{output.filename}"'
                return gateway.Answer(output.content, ctype, 0, "", _psn_no(env.input), "")
            body, ref = self._envelope_bytes(
                received,
                admdvs,
                infcode=envelope.INFCODE_OK,
                output=output,
                warn_msg="；".join(ctx.warnings) or None,
            )
            return gateway.Answer(body, JSON, envelope.INFCODE_OK, "", _psn_no(env.input), ref)

        outcome = gateway.execute_once(self.engine, key, work)
        if outcome.kind == gateway.CONFLICT:
            assert outcome.stored is not None
            if outcome.stored.request_hash.startswith(gateway.CLOSED_PREFIX):
                # the msgid was closed before it arrived (2601 冲正 of a message never seen)
                return self._fail(received, admdvs, outcome.stored.err_msg)
            return self._fail(
                received,
                admdvs,
                f"msgid: 发送方报文ID {env.msgid} 已用于另一笔内容不同的交易"
                f"(infno {outcome.stored.infno})，同一msgid只能重发完全相同的报文",
            )
        if outcome.kind == gateway.REPLAY:
            assert outcome.stored is not None
            return _http(outcome.stored.response, outcome.stored.content_type)
        assert outcome.answer is not None
        return _http(outcome.answer.body, outcome.answer.content_type)


def _http(body: bytes, content_type: str) -> HttpAnswer:
    headers: dict[str, str] = {}
    if not content_type.startswith("application/json"):
        media, _, param = content_type.partition(";")
        name = param.strip().removeprefix("name=").strip('"')
        if name:
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        content_type = media.strip()
    return HttpAnswer(200, body, content_type, headers)

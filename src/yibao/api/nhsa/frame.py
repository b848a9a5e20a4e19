"""One national-interface request from bytes to bytes (交易处理流程), on the event loop.

authenticate (transport headers, timestamp; credentials cached) → parse the envelope (msgspec,
control characters refused) → check in (one autocommit statement: the header set's one-time
value and the msgid's logged answer) → a known msgid is answered from the log → otherwise the
transaction's handler:

- a *flow* handler (the settlement path) runs here, on an asynchronous connection: its reads in
  one round trip, its writes with the message-log row and the commit in another
  (:func:`yibao.gateway.aio.run_flow`);
- a plain handler runs in a worker thread inside :func:`yibao.gateway.service.execute_once`.

Nothing here raises: gateway refusals become ``{"code":401,…}``, everything else an envelope with
``infcode`` 0 or -1. While the database is unreachable every request is answered at once
(``infcode -1``, 医保网关暂不可用) for a second before the next one tries again. Unexpected errors
are logged without local variables, with the ``inf_refmsgid`` they were answered with.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa
import structlog
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from yibao.api.nhsa import dispatcher
from yibao.api.nhsa.answers import (
    BUSY,
    JSON,
    UNAVAILABLE,
    UNKNOWN_OUTCOME,
    Clock,
    HttpAnswer,
    envelope_bytes,
    file_answer,
    gateway_error,
    psn_no_of,
    request_hash,
    stored_request,
    system_clock,
)
from yibao.api.nhsa.caches import CredentialCache, InstitutionCache
from yibao.api.nhsa.dispatcher import BusinessError, Context, FileOutput, Request
from yibao.clock import CHINA
from yibao.db.embedded import sqlalchemy_to_libpq
from yibao.db.flow import Refused
from yibao.gateway import aio
from yibao.gateway import service as gateway
from yibao.gateway.settings import GatewaySettings
from yibao.institutions import service as institutions
from yibao.institutions.model import Institution, Operator
from yibao.wire import envelope, jsonio, transport
from yibao.wire.envelope import Envelope, EnvelopeError

log = structlog.get_logger(__name__)

#: seconds every request is answered "unavailable" after the database failed one
DOWN_SECONDS = 1.0

#: The lean gateway's connections: autocommit (each statement is its own transaction), statements
#: prepared on first use, and generic plans (ADR 0010): the gateway's statements are lookups by
#: key whose plan does not depend on the values, and planning a read of a dozen subqueries costs
#: more than executing it. PostgreSQL replans when ANALYZE changes a table's statistics. No
#: sequential scan where an index serves: a plan made while a table was small (a new deployment,
#: before autovacuum's first ANALYZE) or for a small table updated at every settlement (counters,
#: accounts) otherwise reads every row version on each call; the bench's preparation of 2,400
#: visits (2201→2206, from empty tables) took 36–39 s with them and 14–27 s without, in runs
#: minutes apart (docs/operations.md, Throughput).
#: No JIT: with sequential scans priced out every plan's cost passes ``jit_above_cost``, and a
#: server built with LLVM (Debian's PostgreSQL 15: jit=on) then compiled each 2204 read for
#: ~3 s; key lookups never gain from JIT. (The embedded PostgreSQL has no LLVM.)
POOL_CONNECTION = {
    "autocommit": True,
    "connect_timeout": 3,
    "prepare_threshold": 0,
    "options": "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c jit=off",
}


class Gateway:
    """The request pipeline over one database; one instance per app (per worker process).

    ``clock`` gives the business time of each transaction (settlement time, sign-in, reply
    times); it defaults to the real clock. Only the demo seeder passes another one, to play past
    days in-process. Transport authentication always uses the real time.
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
        self.institutions = InstitutionCache(self.settings.credential_cache_s)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._pool_lock = asyncio.Lock()
        self._down_until = 0.0
        dispatcher.load_handlers()

    # ---- resources ---------------------------------------------------------------------------

    async def pool(self) -> AsyncConnectionPool[Any]:
        """The worker's asynchronous connection pool (opened on first use)."""
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                        sqlalchemy_to_libpq(self.engine.url.render_as_string(hide_password=False)),
                        min_size=2,
                        max_size=self.settings.pool_size,
                        timeout=self.settings.pool_timeout_s,
                        kwargs=POOL_CONNECTION,
                        open=False,
                        name="nhsa-gateway",
                    )
                    await pool.open(wait=False)
                    self._pool = pool
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # ---- answers -----------------------------------------------------------------------------

    def _fail(self, received: datetime, admdvs: str, err_msg: str) -> HttpAnswer:
        return self._failed(received, admdvs, err_msg)[0]

    def _failed(self, received: datetime, admdvs: str, err_msg: str) -> tuple[HttpAnswer, str]:
        """An ``infcode -1`` answer and its ``inf_refmsgid``."""
        body, ref = envelope_bytes(
            received, self.clock(), admdvs, infcode=envelope.INFCODE_FAIL, err_msg=err_msg
        )
        return HttpAnswer(200, body), ref

    def _answer(
        self,
        received: datetime,
        env: Envelope,
        *,
        err_msg: str = "",
        output: Any = None,
        warnings: list[str] | None = None,
        record: bool = True,
    ) -> gateway.Answer:
        infcode = envelope.INFCODE_FAIL if err_msg else envelope.INFCODE_OK
        body, ref = envelope_bytes(
            received,
            self.clock(),
            env.mdtrtarea_admvs,
            infcode=infcode,
            output=output,
            err_msg=err_msg or None,
            warn_msg="；".join(warnings or []) or None,
        )
        return gateway.Answer(body, JSON, infcode, err_msg, psn_no_of(env.input), ref, record)

    def _stored(
        self, received: datetime, env: Envelope, key: gateway.MessageKey, stored: aio.Stored
    ) -> HttpAnswer:
        if stored.closed_by_reversal:  # 2601 closed this msgid before it arrived: its answer
            return file_answer(stored.response, stored.content_type)
        if stored.request_hash == key.request_hash and stored.infno == key.infno:
            return file_answer(stored.response, stored.content_type)  # an identical retry
        return self._fail(
            received,
            env.mdtrtarea_admvs,
            f"msgid: 发送方报文ID {env.msgid} 已用于另一笔内容不同的交易"
            f"(infno {stored.infno})，同一msgid只能重发完全相同的报文",
        )

    # ---- the pipeline ------------------------------------------------------------------------

    async def handle(
        self,
        body: bytes,
        headers: dict[str, str],
        *,
        path_infno: str = "",
        upload: bytes | None = None,
    ) -> HttpAnswer:
        """Answer one request; never raises."""
        received = self.clock()
        if time.monotonic() < self._down_until:
            return self._fail(received, "", UNAVAILABLE)
        try:
            return await self._handle(body, headers, received, path_infno, upload)
        except (psycopg.OperationalError, PoolTimeout, sa.exc.OperationalError) as exc:
            self._down_until = time.monotonic() + DOWN_SECONDS
            log.warning("nhsa_gateway_database_unavailable", error=type(exc).__name__)
            return self._fail(received, "", UNAVAILABLE)
        except Exception:
            # the traceback without local variables, redacted (yibao.logging); the client was
            # answered with this inf_refmsgid
            answer, ref = self._failed(received, "", UNKNOWN_OUTCOME)
            log.exception("nhsa_gateway_error", inf_refmsgid=ref)
            return answer

    async def _handle(
        self,
        body: bytes,
        headers: dict[str, str],
        received: datetime,
        path_infno: str,
        upload: bytes | None,
    ) -> HttpAnswer:
        try:
            auth = transport.read_headers(headers)
            cred = await self.credentials.get(self.engine, auth.app_key)
            if cred is None or not cred.active:
                raise transport.GatewayAuthError(transport.ILLEGAL_USER)
            transport.verify(
                auth,
                cred.app_secret,
                int(time.time() * 1000),
                self.settings.timestamp_window_s * 1000,
            )
        except transport.GatewayAuthError as exc:
            return gateway_error(exc.message)
        env: Envelope | None = None
        problem = ""
        try:
            env = self._parse(body, path_infno, cred.fixmedins_code)
        except EnvelopeError as exc:
            problem = str(exc)
        once = aio.Once(
            cred.app_key,
            transport.one_time_value(auth),
            self.settings.nonce_ttl_s,
            env.fixmedins_code if env else "",
            env.msgid if env else "",
            auth.timestamp_ms,
        )
        pool = await self.pool()
        if env is None:
            stop = await self._gate(pool, await aio.check_in(pool, once), received, None, None)
            return stop or self._fail(received, envelope.peek_admdvs(body), problem)
        key = gateway.MessageKey(
            fixmedins_code=env.fixmedins_code,
            msgid=env.msgid,
            infno=env.infno,
            request_hash=request_hash(env, upload),
            request=stored_request(env),
            opter=env.opter,
        )
        tx = dispatcher.lookup(env.infno)
        if tx is not None and tx.flow_for(env):
            return await self._run_flow(pool, env, tx, key, once, received, upload)
        stop = await self._gate(pool, await aio.check_in(pool, once), received, env, key)
        if stop is not None:
            return stop
        if tx is None:
            return self._fail(received, env.mdtrtarea_admvs, f"infno: 交易编号{env.infno}暂不支持")
        answer = await asyncio.to_thread(self._run_plain, env, tx, key, received, upload)
        if env.infno in ("9001", "9002"):
            self.institutions.forget(env.fixmedins_code)
        return answer

    async def _gate(
        self,
        pool: AsyncConnectionPool[Any],
        check: aio.CheckIn,
        received: datetime,
        env: Envelope | None,
        key: gateway.MessageKey | None,
    ) -> HttpAnswer | None:
        """What stops a request at its check-in (replayed or stale headers, a known msgid)."""
        if not check.sentinel:  # PostgreSQL lost the one-time values: start afresh from now
            await aio.raise_floor(pool)
            return gateway_error(transport.STALE_TIMESTAMP)
        if check.stale:
            return gateway_error(transport.STALE_TIMESTAMP)
        if not check.fresh:
            return gateway_error(transport.REPLAYED_NONCE)
        if check.stored is not None and env is not None and key is not None:
            return self._stored(received, env, key, check.stored)
        return None

    def _parse(self, body: bytes, path_infno: str, fixmedins_code: str) -> Envelope:
        if len(body) > self.settings.max_body:
            raise EnvelopeError("报文", f"请求报文超过{self.settings.max_body}字节")
        try:
            raw = jsonio.loads(body)
        except jsonio.JsonError as exc:
            raise EnvelopeError("报文", str(exc)) from exc
        env = envelope.parse_envelope(raw)
        sent = env.inf_time.replace(tzinfo=CHINA)
        if (self.clock() - sent).days > self.settings.message_window_days:
            raise EnvelopeError(
                "inf_time",
                f"交易时间 {env.inf_time:%Y-%m-%d} 早于报文受理期限"
                f"（{self.settings.message_window_days}天），请以新的报文重新办理",
            )
        if path_infno and path_infno != env.infno:
            raise EnvelopeError(
                "infno", f"报文交易编号{env.infno}与请求路径的交易编号{path_infno}不符"
            )
        if env.fixmedins_code != fixmedins_code:
            raise EnvelopeError(
                "fixmedins_code", f"定点医药机构编号{env.fixmedins_code}与网关凭证所属机构不符"
            )
        return env

    def _refusal(self, inst: Institution | None, problem: str | None, env: Envelope) -> str | None:
        if inst is None or problem is not None:
            return problem or "fixmedins_code: 未登记"
        if env.mdtrtarea_admvs != inst.admdvs:
            return (
                f"mdtrtarea_admvs: 就医地医保区划须为本机构所在医保区划{inst.admdvs}，"
                f"收到{env.mdtrtarea_admvs}"
            )
        return None

    async def _run_flow(
        self,
        pool: AsyncConnectionPool[Any],
        env: Envelope,
        tx: dispatcher.Transaction,
        key: gateway.MessageKey,
        once: aio.Once,
        received: datetime,
        upload: bytes | None,
    ) -> HttpAnswer:
        inst, signin = await self.institutions.get(self.engine, env.fixmedins_code, env.sign_no)
        problem = institutions.check_authorised(
            inst,
            env.sign_no,
            signin,
            received,
            needs_sign_in=tx.needs_sign_in and self.settings.require_sign_in,
            fixmedins_code=env.fixmedins_code,
        )
        refused = self._refusal(inst, problem, env)
        if refused is not None:  # a logged answer of the msgid is still replayed
            stop = await self._gate(pool, await aio.check_in(pool, once), received, env, key)
            return stop or self._fail(received, env.mdtrtarea_admvs, refused)
        assert inst is not None
        operator = Operator(inst.fixmedins_code, env.opter, env.opter_name, env.opter_type)
        requests: list[Request] = []

        def make_flow() -> Any:
            req = Request(env, inst, operator, received, upload)
            requests.append(req)
            return tx.handler(req)

        def on_value(output: Any) -> gateway.Answer:
            return self._answer(received, env, output=output, warnings=requests[-1].warnings)

        def on_error(exc: Exception) -> gateway.Answer:
            if isinstance(exc, BusinessError):
                return self._answer(received, env, err_msg=exc.err_msg)
            if isinstance(exc, Refused):
                return self._answer(received, env, err_msg=exc.message)
            if isinstance(exc, EnvelopeError):  # InputError included: not recorded
                return self._answer(received, env, err_msg=str(exc), record=False)
            raise exc

        try:
            outcome = await aio.run_flow(pool, key, once, make_flow, on_value, on_error)
        except aio.Busy:  # nothing applied, nothing logged: the same msgid may come again
            log.warning("nhsa_gateway_busy", infno=key.infno, attempts=aio.ATTEMPTS)
            return self._fail(received, env.mdtrtarea_admvs, BUSY)
        except aio.Duplicate:
            stored = await aio.find(pool, key.fixmedins_code, key.msgid)
            if stored is None:  # pragma: no cover - the key's row committed, then vanished
                return self._fail(received, env.mdtrtarea_admvs, UNKNOWN_OUTCOME)
            return self._stored(received, env, key, stored)
        if outcome.check_in is not None:
            stop = await self._gate(pool, outcome.check_in, received, env, key)
            assert stop is not None
            return stop
        assert outcome.answer is not None
        return HttpAnswer(200, outcome.answer.body)

    # ---- plain handlers (a worker thread, one SQLAlchemy transaction) --------------------------

    def _run_plain(
        self,
        env: Envelope,
        tx: dispatcher.Transaction,
        key: gateway.MessageKey,
        received: datetime,
        upload: bytes | None,
    ) -> HttpAnswer:
        def refuse(err_msg: str, *, record: bool) -> gateway.Refusal:
            return gateway.Refusal(self._answer(received, env, err_msg=err_msg, record=record))

        def work(conn: sa.Connection) -> gateway.Answer:
            inst, problem = institutions.authorise(
                conn,
                env.fixmedins_code,
                env.sign_no,
                received,
                needs_sign_in=tx.needs_sign_in and self.settings.require_sign_in,
            )
            refused = self._refusal(inst, problem, env)
            if refused is not None:
                raise refuse(refused, record=False)
            assert inst is not None
            ctx = Context(
                envelope=env,
                institution=inst,
                operator=Operator(inst.fixmedins_code, env.opter, env.opter_name, env.opter_type),
                now=received,
                upload=upload,
                conn=conn,
            )
            try:
                output = tx.plain_handler(ctx)
            except EnvelopeError as exc:  # InputError included: nothing written, not recorded
                raise refuse(str(exc), record=False) from exc
            except BusinessError as exc:
                raise refuse(exc.err_msg, record=True) from exc
            if isinstance(output, FileOutput):
                ctype = f'{output.media_type}; name="{output.filename}"'
                return gateway.Answer(output.content, ctype, 0, "", psn_no_of(env.input), "")
            return self._answer(received, env, output=output, warnings=ctx.warnings)

        outcome = gateway.execute_once(self.engine, key, work)
        if outcome.kind in (gateway.CONFLICT, gateway.REPLAY):
            assert outcome.stored is not None
            s = outcome.stored
            return self._stored(
                received,
                env,
                key,
                aio.Stored(s.infno, s.request_hash, s.content_type, s.response, s.err_msg),
            )
        assert outcome.answer is not None
        return file_answer(outcome.answer.body, outcome.answer.content_type)

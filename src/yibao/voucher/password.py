"""Payment password (电子凭证密码): set, change, reset, verify with lockout, bureau unlock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert

from yibao.db.tables import audit
from yibao.registry import store as reg
from yibao.voucher import model as m
from yibao.voucher.base import (
    T,
    VoucherBase,
    _Deferred,
    resolve_ec_token,
)
from yibao.voucher.model import EcError
from yibao.voucher.store import (
    ec_password,
    ec_token,
)


class PasswordOps(VoucherBase):
    """Payment password (电子凭证密码)."""

    def _pwd_row(self, conn: sa.Connection, psn_no: str) -> sa.RowMapping | None:
        return (
            conn.execute(
                sa.select(ec_password).where(ec_password.c.psn_no == psn_no).with_for_update()
            )
            .mappings()
            .first()
        )

    def _store_pwd(self, conn: sa.Connection, psn_no: str, password: str, now: datetime) -> None:
        p = reg.get_person(conn, psn_no)
        assert p is not None
        m.check_new_password(password, p.certno, p.brdy)
        values = {
            "hash": self.hasher.hash(password),
            "failed": 0,
            "locked_until": None,
            "updated_at": now,
        }
        conn.execute(
            insert(ec_password)
            .values(psn_no=psn_no, **values)
            .on_conflict_do_update(index_elements=["psn_no"], set_=values)
        )

    def set_password(self, chnl_id: str, chnl_user_id: str, password: str) -> None:
        """First setting of the 电子凭证密码."""
        now = self.clock()
        with self.engine.begin() as conn:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            if self._pwd_row(conn, psn_no) is not None:
                raise EcError("EC_PWD_ALREADY_SET")
            self._store_pwd(conn, psn_no, password, now)
            audit(conn, f"chnl:{chnl_id}", "voucher.password.set", psn_no)

    def _check(self, conn: sa.Connection, psn_no: str, password: str, now: datetime) -> None:
        """Verify with lockout; commits the failure count (the caller's transaction must commit)."""
        row = self._pwd_row(conn, psn_no)
        if row is None:
            raise EcError("EC_PWD_NOT_SET")
        state = m.PasswordState(row["failed"], row["locked_until"])
        if state.locked(now):
            assert state.locked_until is not None
            raise EcError("EC_PWD_LOCKED", f"将于{state.locked_until.isoformat()}自动解锁")
        try:
            ok: bool = self.hasher.verify(row["hash"], password)
        except (VerificationError, InvalidHashError):
            ok = False
        new = (
            m.after_success()
            if ok
            else m.after_failure(state, now, timedelta(seconds=self.settings.lock_seconds))
        )
        conn.execute(
            ec_password.update()
            .where(ec_password.c.psn_no == psn_no)
            .values(failed=new.failed, locked_until=new.locked_until)
        )
        if not ok:
            if new.locked(now):
                assert new.locked_until is not None
                raise _Deferred(
                    EcError("EC_PWD_LOCKED", f"将于{new.locked_until.isoformat()}自动解锁")
                )
            raise _Deferred(EcError("EC_PWD_WRONG", f"还可尝试{m.tries_left(new)}次"))

    def _run_check(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run ``fn`` in a transaction that commits a failed-try count before raising."""
        deferred: EcError | None = None
        with self.engine.begin() as conn:
            try:
                return fn(conn)
            except _Deferred as d:
                deferred = d.error
        assert deferred is not None
        raise deferred

    def change_password(self, chnl_id: str, chnl_user_id: str, old: str, new: str) -> None:
        now = self.clock()

        def run(conn: sa.Connection) -> None:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            self._check(conn, psn_no, old, now)
            self._store_pwd(conn, psn_no, new, now)
            audit(conn, f"chnl:{chnl_id}", "voucher.password.change", psn_no)

        self._run_check(run)

    def reset_password(
        self,
        chnl_id: str,
        chnl_user_id: str,
        *,
        psn_name: str,
        psn_cert_type: str,
        certno: str,
        evidence: str,
        new: str,
    ) -> None:
        """Reset after a fresh 实名 + 实人 check; also clears a lockout."""
        now = self.clock()
        with self.engine.begin() as conn:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            p = self._real_name(conn, psn_name, psn_cert_type, certno)
            if p.psn_no != psn_no:
                raise EcError("EC_REALNAME_FAILED", "与渠道绑定的参保人不一致")
            self._real_person(p, evidence)
            self._store_pwd(conn, psn_no, new, now)
            audit(conn, f"chnl:{chnl_id}", "voucher.password.reset", psn_no)

    def verify_password(
        self, chnl_id: str, chnl_user_id: str, password: str, *, ec_token_value: str = ""
    ) -> dict[str, object]:
        """The insured confirms on the phone (参保人在移动端验证支付密码); with an ecToken of
        theirs, that token is marked verified for the pharmacy's settlement."""
        now = self.clock()

        def run(conn: sa.Connection) -> dict[str, object]:
            psn_no = self._authorized(conn, chnl_id, chnl_user_id)
            if ec_token_value:
                owner = conn.execute(
                    sa.select(ec_token.c.psn_no, ec_token.c.expires_at).where(
                        ec_token.c.ec_token == ec_token_value
                    )
                ).first()
                if owner is None or owner.psn_no != psn_no:
                    raise EcError("EC_TOKEN_INVALID")
                if now >= owner.expires_at:
                    raise EcError("EC_TOKEN_EXPIRED")
            self._check(conn, psn_no, password, now)
            if ec_token_value:
                conn.execute(
                    ec_token.update()
                    .where(ec_token.c.ec_token == ec_token_value)
                    .values(pwd_verified_at=now)
                )
            return {"verified": True, "psnNo": psn_no}

        return self._run_check(run)

    def verify_password_at_institution(
        self, token: str, org_id: str, password: str
    ) -> dict[str, object]:
        """Password typed on the institution's PIN pad, for its own ecToken."""
        now = self.clock()

        def run(conn: sa.Connection) -> dict[str, object]:
            psn_no = resolve_ec_token(conn, token, org_id, now)
            self._check(conn, psn_no, password, now)
            conn.execute(
                ec_token.update().where(ec_token.c.ec_token == token).values(pwd_verified_at=now)
            )
            return {"verified": True, "psnNo": psn_no}

        return self._run_check(run)

    def unlock_password(self, psn_no: str, *, actor: str) -> None:
        """Bureau unlock (经办解锁) before the timed unlock."""
        with self.engine.begin() as conn:
            conn.execute(
                ec_password.update()
                .where(ec_password.c.psn_no == psn_no)
                .values(failed=0, locked_until=None)
            )
            audit(conn, actor, "voucher.password.unlock", psn_no)

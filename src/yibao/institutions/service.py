"""Use cases for institutions and operators (定点医药机构、经办人、签到签退).

Each function runs inside the caller's transaction (``conn``); the gateway passes the connection
of the request so the sign-in and the message-log row commit together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from yibao.clock import CHINA
from yibao.institutions import store
from yibao.institutions.model import (
    Credential,
    Institution,
    InstitutionError,
    Operator,
    SignIn,
    make_sign_no,
    validate_institution,
)


class SignInError(ValueError):
    """A sign-in or sign-out that breaks the 9001/9002 rules (签到签退错误)."""


def register(conn: sa.Connection, inst: Institution) -> Institution:
    """Create or update an institution after validating it."""
    errors = validate_institution(inst)
    if errors:
        raise InstitutionError("; ".join(errors))
    store.upsert_institution(conn, inst)
    return inst


def get(conn: sa.Connection, fixmedins_code: str) -> Institution | None:
    """One institution by code, or None (read for other capabilities, e.g. payment reform)."""
    return store.get_institution(conn, fixmedins_code)


def in_region(conn: sa.Connection, admdvs: str) -> list[Institution]:
    """The institutions located in a pooling region (所在医保区划); every one for ``""``."""
    return store.search_institutions(conn, admdvs=admdvs, limit=10_000)


def active_credentials(conn: sa.Connection, fixmedins_code: str) -> list[Credential]:
    """An institution's gateway credentials (AK/SK) that are in use."""
    return [c for c in store.credentials_of(conn, fixmedins_code) if c.active]


def set_online_flag(conn: sa.Connection, fixmedins_code: str, flag: str) -> bool:
    """Change the network status (定点联网开通标志); ``False`` if there is no such institution."""
    return store.set_online_flag(conn, fixmedins_code, flag)


def issue_credential(
    conn: sa.Connection, fixmedins_code: str, app_key: str = "", app_secret: str = ""
) -> Credential:
    """Give an institution a gateway AK/SK (random unless given)."""
    if store.get_institution(conn, fixmedins_code) is None:
        raise InstitutionError(f"fixmedins_code: 定点医药机构{fixmedins_code}不存在")
    cred = Credential(
        app_key=app_key or f"{fixmedins_code.lower()}-{secrets.token_hex(4)}",
        fixmedins_code=fixmedins_code,
        app_secret=app_secret or secrets.token_urlsafe(24),
    )
    store.add_credential(conn, cred)
    return cred


def business_day(now: datetime) -> datetime:
    """``now`` in China time (业务日期 is the Beijing calendar day)."""
    return now.astimezone(CHINA)


@dataclass(frozen=True, slots=True)
class SignInResult:
    sign_no: str
    sign_time: datetime  # China time
    reused: bool  # an open sign-in of the same operator and day was returned


def sign_in(
    conn: sa.Connection,
    inst: Institution,
    opter_no: str,
    opter_name: str,
    opter_type: str,
    mac: str,
    ip: str,
    now: datetime,
) -> SignInResult:
    """9001 签到: one open sign-in per operator and day ("同一操作员在不同终端登录，返回同一个签到流水号")."""
    existing_op = store.get_operator(conn, inst.fixmedins_code, opter_no)
    if existing_op is not None and not existing_op.active:
        raise SignInError(f"opter_no: 经办人{opter_no}已停用，不能签到")
    store.upsert_operator(
        conn, Operator(inst.fixmedins_code, opter_no, opter_name or opter_no, opter_type or "1")
    )
    local = business_day(now)
    for _ in range(3):
        current = store.open_signin(conn, inst.fixmedins_code, opter_no, local.date())
        if current is not None:
            return SignInResult(current.sign_no, current.sign_time.astimezone(CHINA), True)
        sign_no = make_sign_no(inst.admdvs, local, store.next_signin_seq(conn))
        new = SignIn(sign_no, inst.fixmedins_code, opter_no, local.date(), local)
        if store.insert_signin(conn, new, mac, ip) is not None:
            return SignInResult(sign_no, local, False)
    raise SignInError("签到冲突，请重试")  # pragma: no cover - three lost races in a row


def sign_out(
    conn: sa.Connection, inst: Institution, sign_no: str, opter_no: str, now: datetime
) -> datetime:
    """9002 签退: the sign_no (and the operator's other terminals that day) become invalid."""
    current = store.get_signin(conn, sign_no)
    if current is None or current.fixmedins_code != inst.fixmedins_code:
        raise SignInError(f"sign_no: 签到流水号{sign_no}不存在")
    if current.opter_no != opter_no:
        raise SignInError(f"opter_no: 签到流水号{sign_no}不是经办人{opter_no}的签到")
    if current.signed_out_at is not None:
        raise SignInError(f"sign_no: 签到流水号{sign_no}已签退")
    local = business_day(now)
    if current.sign_date != local.date():
        raise SignInError(
            f"sign_no: 当天没有签到信息，签到流水号{sign_no}为{current.sign_date}的签到"
        )
    store.sign_out(conn, sign_no, local)
    return local


def sign_no_problem(
    inst: Institution, sign_no: str, current: SignIn | None, now: datetime
) -> str | None:
    """Why ``sign_no`` (looked up as ``current``) does not authorise a transaction now."""
    if not sign_no:
        return "sign_no: 未签到，请先调用【9001】签到并在报文中传入签到流水号"
    if current is None:
        return f"sign_no: 签到流水号{sign_no}不存在，请先调用【9001】签到"
    return current.problem(inst.fixmedins_code, business_day(now).date())


def check_sign_no(
    conn: sa.Connection, inst: Institution, sign_no: str, now: datetime
) -> str | None:
    """Why ``sign_no`` does not authorise a transaction now, or ``None`` when it does."""
    current = store.get_signin(conn, sign_no) if sign_no else None
    return sign_no_problem(inst, sign_no, current, now)


def check_authorised(
    inst: Institution | None,
    sign_no: str,
    current: SignIn | None,
    now: datetime,
    *,
    needs_sign_in: bool,
    fixmedins_code: str = "",
) -> str | None:
    """Why an institution (looked up with its sign-in ``current``) may not transact now:
    unknown, network status (联网状态), sign-in (签到); ``None`` when it may. Pure."""
    if inst is None:
        return f"fixmedins_code: 定点医药机构{fixmedins_code}未登记"
    if (why := inst.refusal()) is not None:
        return why
    if needs_sign_in:
        return sign_no_problem(inst, sign_no, current, now)
    return None


def authorise(
    conn: sa.Connection, fixmedins_code: str, sign_no: str, now: datetime, *, needs_sign_in: bool
) -> tuple[Institution | None, str | None]:
    """The institution and why it may not transact now (unknown, network status, sign-in)."""
    inst, current = store.institution_and_signin(conn, fixmedins_code, sign_no)
    why = check_authorised(
        inst, sign_no, current, now, needs_sign_in=needs_sign_in, fixmedins_code=fixmedins_code
    )
    return inst, why

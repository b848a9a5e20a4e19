"""9001 签到 / 9002 签退 (reference §2.1).

- 9001 ``signIn{opter_no, mac, ip}`` → ``signinoutb{sign_time, sign_no}``; the same operator on
  several terminals the same day gets the same ``sign_no``.
- 9002 ``signOut{sign_no, opter_no}`` → ``signoutoutb{sign_time}``; the sign_no (and the
  operator's other terminals) become invalid; only a sign-in of today can be signed out.
"""

from __future__ import annotations

from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.institutions import service
from yibao.institutions.service import SignInError


@transaction("9001", "签到", needs_sign_in=False)
def sign_in(ctx: Context) -> dict[str, Any]:
    data = ctx.node("signIn")
    where = "input.signIn"
    opter_no = fields.text(data, "opter_no", where, required=True, max_len=20, label="操作员编号")
    mac = fields.text(data, "mac", where, required=True, max_len=64, label="签到MAC地址")
    ip = fields.text(data, "ip", where, required=True, max_len=64, label="签到IP地址")
    name = ctx.envelope.opter_name if ctx.envelope.opter == opter_no else opter_no
    try:
        result = service.sign_in(
            ctx.conn, ctx.institution, opter_no, name, ctx.envelope.opter_type, mac, ip, ctx.now
        )
    except SignInError as exc:
        raise BusinessError(str(exc)) from exc
    return {
        "signinoutb": {
            "sign_time": f"{result.sign_time:%Y-%m-%d %H:%M:%S}",
            "sign_no": result.sign_no,
        }
    }


@transaction("9002", "签退", needs_sign_in=False)
def sign_out(ctx: Context) -> dict[str, Any]:
    data = ctx.node("signOut")
    where = "input.signOut"
    sign_no = fields.text(data, "sign_no", where, required=True, max_len=30, label="签到编号")
    opter_no = fields.text(data, "opter_no", where, required=True, max_len=20, label="操作员编号")
    try:
        at = service.sign_out(ctx.conn, ctx.institution, sign_no, opter_no, ctx.now)
    except SignInError as exc:
        raise BusinessError(str(exc)) from exc
    return {"signoutoutb": {"sign_time": f"{at:%Y-%m-%d %H:%M:%S}"}}

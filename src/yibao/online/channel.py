"""The insured's side in a channel app (参保人手机): authorise an order, pay it, see their orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from yibao.online import orders, paying, queries
from yibao.online.model import OnlineError

if TYPE_CHECKING:
    from yibao.online.service import Centre


def holder(conn: sa.Connection, chnl_id: str, chnl_user_id: str) -> str:
    """The person a channel user authorised their e-voucher for (active authorisation)."""
    from yibao.voucher.store import ec_authorization as a

    got = conn.execute(
        sa.select(a.c.psn_no).where(
            a.c.chnl_id == chnl_id, a.c.chnl_user_id == chnl_user_id, a.c.status == "active"
        )
    ).scalar()
    if got is None:
        raise OnlineError("chnlUserId", "该渠道用户尚未激活医保电子凭证")
    return str(got)


def act(centre: Centre, action: str, chnl_id: str, chnl_user_id: str, pay_ord_id: str,
        pay_auth_no: str) -> dict[str, Any]:  # fmt: skip
    now = centre.clock()
    with centre.engine.connect() as conn:
        psn_no = holder(conn, chnl_id, chnl_user_id)
    if action == "authorise":
        return paying.authorise(centre.engine, chnl_id, chnl_user_id, psn_no, pay_ord_id, now)
    if action == "pay":
        row = paying.pay_in_cashier(centre.engine, psn_no, pay_ord_id, pay_auth_no, now,
                                    centre.provider, centre.timing)  # fmt: skip
        return orders.result_of(row, "")
    if action == "orders":
        with centre.engine.connect() as conn:
            return {"orders": [o.as_json() for o in queries.orders_of_person(conn, psn_no)]}
    raise OnlineError("action", f"未知操作：{action}")

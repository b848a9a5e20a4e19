"""The HIS simulator's side of the callbacks (院内系统模拟): receive 6302/7108/7109 from the centres.

Only demo institutions have one (their keys are public demo data). The callback envelope is
opened with the institution's keys: the platform's SM2 signature verified, the body decrypted;
it is kept in ``online_callback_inbox`` (the console and the tests read it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from yibao.online import apps, store
from yibao.online.envelope import EnvelopeError, open_envelope


def receive(engine: sa.Engine, fixmedins_code: str, raw: bytes) -> tuple[bool, str]:
    from yibao.institutions import demo as inst_demo

    if not any(r[0] == fixmedins_code for r in inst_demo.DEMO_INSTITUTIONS):
        return False, "只有演示机构有院内系统模拟器"
    try:
        envelope = json.loads(raw)
        data = open_envelope(apps.demo_client_keys(fixmedins_code), envelope, datetime.now(UTC))
    except (ValueError, EnvelopeError) as exc:
        return False, f"回调报文无效：{exc}"
    ref = str(data.get("payOrdId") or data.get("hiRxno") or "")
    kind = str(envelope.get("transType", ""))
    c = store.callback_inbox
    with engine.begin() as conn:
        seen = conn.execute(sa.select(c.c.id).where(
            c.c.fixmedins_code == fixmedins_code, c.c.pay_ord_id == ref,
            c.c.body["transType"].astext == kind)).first()  # fmt: skip
        if seen is not None:  # a repeated delivery: booked once, answered the same
            return True, "院内已入账"
        conn.execute(store.callback_inbox.insert().values(
            fixmedins_code=fixmedins_code, pay_ord_id=ref,
            body={"transType": envelope.get("transType", ""), "data": json.loads(json.dumps(data, default=str))}))  # fmt: skip
    return True, "院内已入账"

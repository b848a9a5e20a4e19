"""Payment prompts (支付确认提示): what the person's phone asks them to confirm.

A counter that pre-settled with an e-voucher (ecToken) asks the person to confirm the amount: the
prompt holds the pre-settlement's amounts in fen and is replaced by a later pre-settlement of the
same token, and supersedes an unsettled one of an earlier code of the same person at the same
institution (one prompt per pre-settlement); once the counter settled, the prompt is closed and
disappears from the phone. Used by the training simulators (web.sim*); each call is one
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from yibao.voucher.store import ec_token

PROMPT_KEYS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")


def ask(engine: sa.Engine, token: str, amounts_fen: Mapping[str, int]) -> bool:
    """Ask the token's person to confirm ``amounts_fen`` (keys of :data:`PROMPT_KEYS`); a new
    pre-settlement replaces the prompt and needs a new confirmation. False: no such open token."""
    prompt = {k: int(amounts_fen.get(k, 0)) for k in PROMPT_KEYS}
    t = ec_token
    with engine.begin() as conn:
        done = conn.execute(
            t.update()
            .where(t.c.ec_token == token, t.c.settled_at.is_(None))
            .values(prompt=prompt, prompted_at=datetime.now(UTC), pwd_verified_at=None)
            .returning(t.c.psn_no, t.c.org_id)
        ).first()
        if done is not None:  # an earlier unsettled code of the same person there is superseded
            conn.execute(
                t.update()
                .where(
                    t.c.psn_no == done.psn_no,
                    t.c.org_id == done.org_id,
                    t.c.ec_token != token,
                    t.c.settled_at.is_(None),
                    t.c.prompt.is_not(None),
                )
                .values(prompt=sa.null())  # SQL NULL (None would store JSON null)
            )
    return done is not None


def settled(engine: sa.Engine, token: str) -> None:
    """The counter settled the token's pre-settlement: its prompt is closed."""
    with engine.begin() as conn:
        conn.execute(
            ec_token.update()
            .where(ec_token.c.ec_token == token, ec_token.c.settled_at.is_(None))
            .values(settled_at=datetime.now(UTC))
        )

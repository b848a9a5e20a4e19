"""Ledger SQL as flow statements (:mod:`yibao.db.flow`): a chain posted with the settlement.

Data-modifying parts of a settlement's one write statement: a guard that stops it when a
touched account is closed (``yibao_refuse``), the missing accounts (no lock on existing rows, as
in :func:`yibao.ledger.store.insert_chain`), the chain head and its transfers. A chain id used
before fails on its primary key and nothing is applied.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from yibao.db.flow import Jsonb, Q, W
from yibao.ledger.model import Account, AccountFlags, AccountKind, Chain, Side, Transfer

_GUARD = (
    "SELECT yibao_refuse('基金记账失败：账户已关闭（' || string_agg(code, ',') || '）')"
    " FROM ledger_account WHERE code = ANY(%(codes)s) AND flags & 4 <> 0 HAVING count(*) > 0"
)
_ACCOUNTS = """
INSERT INTO ledger_account (code, kind, region, normal_side, name, fund_pay_type,
                            counterpart_region, owner, flags)
SELECT code, kind, region, normal_side, name, fund_pay_type, counterpart_region, owner, flags
  FROM jsonb_to_recordset(%(accounts)s) AS a(code text, kind text, region text,
       normal_side text, name text, fund_pay_type text, counterpart_region text, owner text,
       flags int)
ON CONFLICT (code) DO NOTHING
"""
_CHAIN = """
INSERT INTO ledger_chain (chain_id, kind, value_date, setl_id, msgid, fixmedins_code,
                          reverses, transfer_count, total, fingerprint, memo)
VALUES (%(chain_id)s, %(kind)s, %(value_date)s, %(setl_id)s, %(msgid)s, %(fix)s,
        %(reverses)s, %(n)s, %(total)s, %(fp)s, %(memo)s)
"""
_TRANSFERS = """
INSERT INTO ledger_transfer (id, chain_id, debit_account, credit_account, amount, code,
                             fund_pay_type, reverses, value_date)
SELECT id, %(chain_id)s, debit, credit, amount, code, fpt, rev, %(value_date)s
  FROM jsonb_to_recordset(%(transfers)s) AS t(id text, debit text, credit text,
       amount bigint, code text, fpt text, rev text)
"""


def post_chain(chain: Chain) -> list[W]:
    """The writes that post ``chain`` (none for a chain without transfers). Accounts and
    transfers travel as one jsonb parameter each."""
    if not chain.transfers:
        return []
    accounts = chain.accounts()
    return [
        W(_GUARD, {"codes": [a.code for a in accounts]}, expect=0),
        W(
            _ACCOUNTS,
            {
                "accounts": Jsonb(
                    [
                        {
                            "code": a.code,
                            "kind": a.kind.value,
                            "region": a.region,
                            "normal_side": a.normal_side.value,
                            "name": a.name,
                            "fund_pay_type": a.fund_pay_type,
                            "counterpart_region": a.counterpart_region,
                            "owner": a.owner,
                            "flags": int(a.flags),
                        }
                        for a in accounts
                    ]
                )
            },
        ),
        W(
            _CHAIN,
            {
                "chain_id": chain.chain_id,
                "kind": chain.kind,
                "value_date": chain.value_date,
                "setl_id": chain.setl_id,
                "msgid": chain.msgid,
                "fix": chain.fixmedins_code,
                "reverses": chain.reverses,
                "n": len(chain.transfers),
                "total": chain.total,
                "fp": chain.fingerprint(),
                "memo": Jsonb(dict(chain.memo)),
            },
        ),
        W(
            _TRANSFERS,
            {
                "chain_id": chain.chain_id,
                "value_date": chain.value_date,
                "transfers": Jsonb(
                    [
                        {
                            "id": t.id,
                            "debit": t.debit.code,
                            "credit": t.credit.code,
                            "amount": t.amount,
                            "code": t.code,
                            "fpt": t.fund_pay_type,
                            "rev": t.reverses,
                        }
                        for t in chain.transfers
                    ]
                ),
            },
        ),
    ]


_CHAIN_Q = """
SELECT json_build_array(c.chain_id, c.kind, c.value_date, c.setl_id, c.msgid, c.fixmedins_code,
  c.reverses, c.memo,
  (SELECT json_agg(json_build_array(t.id, t.debit_account, t.credit_account, t.amount, t.code,
          t.fund_pay_type, t.reverses) ORDER BY t.seq)
     FROM ledger_transfer t WHERE t.chain_id = c.chain_id),
  (SELECT json_agg(json_build_array(a.code, a.kind, a.region, a.normal_side, a.name,
          a.fund_pay_type, a.counterpart_region, a.owner, a.flags))
     FROM ledger_account a WHERE a.code IN (
       SELECT debit_account FROM ledger_transfer WHERE chain_id = c.chain_id
       UNION SELECT credit_account FROM ledger_transfer WHERE chain_id = c.chain_id)))
  FROM ledger_chain c WHERE c.chain_id = %(c)s
"""


def chain_q(chain_id: str) -> Q:
    """A posted chain with its transfers and accounts as one JSON value (decode with
    :func:`chain_of`)."""
    return Q(_CHAIN_Q, {"c": chain_id})


def chain_of(v: list[Any] | None) -> Chain | None:
    """Decode :func:`chain_q` (None: no such chain)."""
    if v is None:
        return None
    accounts = {
        a[0]: Account(
            code=a[0],
            kind=AccountKind(a[1]),
            region=a[2],
            normal_side=Side(a[3]),
            name=a[4],
            fund_pay_type=a[5],
            counterpart_region=a[6],
            owner=a[7],
            flags=AccountFlags(int(a[8])),
        )
        for a in v[9] or []
    }
    transfers = tuple(
        Transfer(
            id=t[0],
            debit=accounts[t[1]],
            credit=accounts[t[2]],
            amount=int(t[3]),
            code=t[4],
            fund_pay_type=t[5],
            reverses=t[6],
        )
        for t in v[8] or []
    )
    return Chain(
        chain_id=v[0],
        kind=v[1],
        value_date=date.fromisoformat(v[2]),
        transfers=transfers,
        setl_id=v[3],
        msgid=v[4],
        fixmedins_code=v[5],
        reverses=v[6],
        memo=dict(v[7] or {}),
    )

"""Ledger SQL as flow statements (:mod:`yibao.db.flow`): a chain posted with the settlement.

Data-modifying parts of a settlement's one write statement: a guard that stops it when a
touched account is closed (``yibao_refuse``), the missing accounts (no lock on existing rows, as
in :func:`yibao.ledger.store.insert_chain`), the chain head and its transfers. A chain id used
before fails on its primary key and nothing is applied.
"""

from __future__ import annotations

from yibao.db.flow import Jsonb, W
from yibao.ledger.model import Chain

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

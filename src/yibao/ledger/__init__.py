"""Fund ledger (基金账务): append-only double-entry postings in PostgreSQL.

Public API::

    from yibao.ledger import SettlementPosting, post_settlement, post_reversal, verify
"""

from yibao.ledger.model import (
    INCOME_CODES,
    OPENING_CODE,
    REFUND_CODES,
    Account,
    AccountFlags,
    AccountKind,
    Chain,
    LedgerConflict,
    LedgerError,
    SettlementPosting,
    Side,
    Transfer,
    build_settlement_chain,
    flow_category,
    mirror_chain,
    posting_from_setlinfo,
    settlement_chain_id,
)
from yibao.ledger.service import (
    account_balances,
    clearing_position,
    daily_movements,
    flows,
    fund_balances,
    payable_balance,
    post_chain,
    post_clearing,
    post_reversal,
    post_settlement,
    rollup,
    verify,
)
from yibao.ledger.store import PostResult
from yibao.ledger.store_balances import Balance, DailyMovement, Flow
from yibao.ledger.store_checks import VerifyReport

__all__ = [
    "INCOME_CODES",
    "OPENING_CODE",
    "REFUND_CODES",
    "Account",
    "AccountFlags",
    "AccountKind",
    "Balance",
    "Chain",
    "DailyMovement",
    "Flow",
    "LedgerConflict",
    "LedgerError",
    "PostResult",
    "SettlementPosting",
    "Side",
    "Transfer",
    "VerifyReport",
    "account_balances",
    "build_settlement_chain",
    "clearing_position",
    "daily_movements",
    "flow_category",
    "flows",
    "fund_balances",
    "mirror_chain",
    "payable_balance",
    "post_chain",
    "post_clearing",
    "post_reversal",
    "post_settlement",
    "posting_from_setlinfo",
    "rollup",
    "settlement_chain_id",
    "verify",
]

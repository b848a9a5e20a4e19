"""Fund ledger model (基金账务): accounts, transfers, chains. Pure: no I/O, no clock.

Three modules — :mod:`~yibao.ledger.model.accounts`, :mod:`~yibao.ledger.model.chains`,
:mod:`~yibao.ledger.model.settlement` — whose names this package re-exports.

Semantics follow TigerBeetle's: a *transfer* moves a positive amount (fen) from a debit account to
a credit account, so every transfer sums to zero by construction; transfers that must happen
together form a *chain* (linked transfers, here: one settlement = one chain); a mistake is never
edited, it is corrected by a new chain whose transfers mirror the original (``reverses``).

Account codes (账户编码) are readable and deterministic, so a posting never has to look them up:

========================  ==========  =====================================================
code                      normal      meaning
========================  ==========  =====================================================
``FUND:{admdvs}:{fpt}``   credit      fund of a pooling region by ``fund_pay_type`` (基金)
``ACCT:{psn_no}``         credit      personal account of an insured (个人账户, 310200)
``MULAID:{admdvs}``       credit      family mutual-aid pool when the helper is unknown (共济)
``PAY:{fixmedins_code}``  credit      payable to a designated institution (应付定点医药机构)
``CLR:{own}:{other}``     debit       clearing with another region (异地清算往来):
                                      positive = ``other`` owes ``own``
``BANK:{admdvs}``         debit       the region's fund bank account (基金银行存款)
``HOLD:{fixmedins_code}`` credit      quality deposit withheld from an institution (质量保证金)
``YCM:{community_id}``    credit      a county medical community's budget (医共体包干额度):
                                      allocations in, its insured's spending charged out
========================  ==========  =====================================================
"""

from __future__ import annotations

from yibao.ledger.model.accounts import (
    FPT_PERSONAL_ACCOUNT,
    INCOME_CODES,
    OPENING_CODE,
    REFUND_CODES,
    SETLINFO_FIELD_OF_FPT,
    Account,
    AccountFlags,
    AccountKind,
    LedgerConflict,
    LedgerError,
    Side,
    bank_account,
    clearing_account,
    community_account,
    deposit_account,
    flow_category,
    fund_account,
    mulaid_account,
    payable_account,
    personal_account,
)
from yibao.ledger.model.chains import (
    Chain,
    Transfer,
    entry_sum,
)
from yibao.ledger.model.settlement import (
    SettlementPosting,
    build_settlement_chain,
    mirror_chain,
    posting_from_setlinfo,
    settlement_chain_id,
)

__all__ = [
    "FPT_PERSONAL_ACCOUNT",
    "INCOME_CODES",
    "OPENING_CODE",
    "REFUND_CODES",
    "SETLINFO_FIELD_OF_FPT",
    "Account",
    "AccountFlags",
    "AccountKind",
    "Chain",
    "LedgerConflict",
    "LedgerError",
    "SettlementPosting",
    "Side",
    "Transfer",
    "bank_account",
    "build_settlement_chain",
    "clearing_account",
    "community_account",
    "deposit_account",
    "entry_sum",
    "flow_category",
    "fund_account",
    "mirror_chain",
    "mulaid_account",
    "payable_account",
    "personal_account",
    "posting_from_setlinfo",
    "settlement_chain_id",
]

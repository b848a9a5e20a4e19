"""Transfers and chains (转账与链): a transfer moves a positive amount from a debit account to a
credit account; a chain is the transfers that happen together, balanced by construction. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from yibao.ledger.model.accounts import (
    Account,
    LedgerError,
)


@dataclass(frozen=True, slots=True)
class Transfer:
    """One transfer (转账): ``amount`` fen from ``debit`` to ``credit``; ``id`` is idempotent."""

    id: str
    debit: Account
    credit: Account
    amount: int
    code: str  # what it is: "fund_pay", "acct_pay", "acct_mulaid_pay", "advance", "clearing", …
    fund_pay_type: str = ""
    reverses: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise LedgerError(f"transfer {self.id}: amount must be integer fen")
        if self.amount <= 0:
            raise LedgerError(f"transfer {self.id}: amount must be > 0 fen, got {self.amount}")
        if self.debit.code == self.credit.code:
            raise LedgerError(f"transfer {self.id}: debit and credit are both {self.debit.code}")


@dataclass(frozen=True, slots=True)
class Chain:
    """Transfers posted atomically together (链): one settlement, one cancellation, one clearing."""

    chain_id: str
    kind: str  # "settlement" | "reversal" | "clearing" | "other"
    value_date: date
    transfers: tuple[Transfer, ...]
    setl_id: str = ""
    msgid: str = ""
    fixmedins_code: str = ""
    reverses: str | None = None  # chain_id of the chain this one mirrors
    memo: Mapping[str, object] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Sum of transfer amounts (fen)."""
        return sum(t.amount for t in self.transfers)

    def entries(self) -> list[tuple[str, int]]:
        """Signed entries (分录): ``+amount`` on the debit account, ``-amount`` on the credit one."""
        out: list[tuple[str, int]] = []
        for t in self.transfers:
            out.append((t.debit.code, t.amount))
            out.append((t.credit.code, -t.amount))
        return out

    def accounts(self) -> list[Account]:
        """Distinct accounts touched, in first-use order."""
        seen: dict[str, Account] = {}
        for t in self.transfers:
            seen.setdefault(t.debit.code, t.debit)
            seen.setdefault(t.credit.code, t.credit)
        return list(seen.values())

    def fingerprint(self) -> str:
        """A digest of the content, to tell a retry (same) from a conflicting reuse of the id."""
        body = {
            "kind": self.kind,
            "value_date": self.value_date.isoformat(),
            "setl_id": self.setl_id,
            "fixmedins_code": self.fixmedins_code,
            "reverses": self.reverses,
            "transfers": [
                [t.id, t.debit.code, t.credit.code, t.amount, t.code, t.fund_pay_type, t.reverses]
                for t in self.transfers
            ],
        }
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(raw).hexdigest()


def entry_sum(entries: Iterable[tuple[str, int]]) -> int:
    """Sum of signed entries; zero for any balanced set."""
    return sum(amount for _, amount in entries)

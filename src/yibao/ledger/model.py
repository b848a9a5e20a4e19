"""Fund ledger model (基金账务): accounts, transfers, chains. Pure: no I/O, no clock.

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

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import IntFlag, StrEnum

# fund_pay_type 基金支付类型 (nhsa-interface.md §3.7)
FPT_PERSONAL_ACCOUNT = "310200"  # 职工个人账户 → acct_pay
#: setlinfo field each fund_pay_type is reported in (nhsa-interface.md §3.7 "Mapping to setlinfo")
SETLINFO_FIELD_OF_FPT: Mapping[str, str] = {
    "310100": "hifp_pay",
    "390100": "hifp_pay",
    "320100": "cvlserv_pay",
    "330100": "hifob_pay",
    "390200": "hifmi_pay",
    "370100": "hifes_pay",
    "610100": "maf_pay",
    "350100": "hifdm_pay",
}


# Transfer codes of money that is not a settlement (非结算收支代码), posted by the funds capability.
# For the account an entry CREDITS, an income code is income (收入); any other credit is negative
# spending (a reversal). For the account an entry DEBITS, a refund code is negative income (退费);
# any other debit is spending (支出). ``opening_balance`` carries balances over from a legacy
# system (期初结转) and is neither. So income − spending + opening = credits − debits, always.
INCOME_CODES: frozenset[str] = frozenset(
    {
        "contribution_employer",  # 单位缴费 (统筹部分)
        "contribution_employee",  # 个人缴费划入个人账户
        "contribution_flexible",  # 灵活就业人员缴费
        "contribution_resident",  # 居民个人缴费
        "large_amount",  # 大额/重大疾病医疗补助缴费
        "late_fee",  # 滞纳金
        "fiscal_subsidy",  # 财政补助
        "assistance_subsidy",  # 医疗救助基金资助参保
        "budget_transfer",  # 财政预算拨入 (救助、公务员补助)
        "fund_allocation",  # 基金间划拨 (居民医保 → 大病保险)
        "acct_credit",  # 统筹基金划入个人账户 (退休人员)
        "interest",  # 利息收入
    }
)
REFUND_CODES: frozenset[str] = frozenset({"contribution_refund"})  # 退费
OPENING_CODE = "opening_balance"  # 期初结转


def flow_category(code: str, side: str) -> tuple[str, int]:
    """(category, sign) of a transfer for one of its two accounts (``side`` 'credit'/'debit').

    Categories: ``income`` 收入, ``spending`` 支出, ``opening`` 期初结转; the sign makes
    credits − debits = Σ sign × amount over the categories income − spending + opening.
    """
    if code == OPENING_CODE:
        return ("opening", 1 if side == "credit" else -1)
    if side == "credit":
        return ("income", 1) if code in INCOME_CODES else ("spending", -1)
    return ("income", -1) if code in REFUND_CODES else ("spending", 1)


class LedgerError(ValueError):
    """A posting that cannot be accepted (记账错误); nothing is written."""


class LedgerConflict(LedgerError):
    """The same id was posted before with different content (同一ID内容不一致)."""


class Side(StrEnum):
    """Normal side of an account (余额方向)."""

    DEBIT = "debit"
    CREDIT = "credit"


class AccountKind(StrEnum):
    """What an account stands for (账户类别)."""

    FUND = "fund"  # 基金
    PERSONAL = "personal"  # 个人账户
    MULAID = "mulaid"  # 共济池
    PAYABLE = "payable"  # 应付定点医药机构
    CLEARING = "clearing"  # 异地清算往来
    BANK = "bank"  # 基金银行存款
    DEPOSIT = "deposit"  # 质量保证金 (payment reform)
    COMMUNITY = "community"  # 医共体包干额度 (payment reform)


class AccountFlags(IntFlag):
    """Account flags (账户标志), after TigerBeetle's account flags.

    ``CLOSED`` is enforced at posting time (a closed account refuses new transfers). The balance
    limits are declared for reports and checked by :func:`yibao.ledger.store.verify` (enforcing
    them on the settlement path would need a balance read per posting).
    """

    NONE = 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2
    CLOSED = 4


@dataclass(frozen=True, slots=True)
class Account:
    """One ledger account (账户)."""

    code: str
    kind: AccountKind
    region: str  # admdvs the account belongs to ('' for persons/institutions without one)
    normal_side: Side
    name: str
    fund_pay_type: str = ""
    counterpart_region: str = ""
    owner: str = ""  # psn_no or fixmedins_code
    flags: AccountFlags = AccountFlags.NONE


def fund_account(region: str, fund_pay_type: str) -> Account:
    """The fund of ``fund_pay_type`` in pooling region ``region`` (统筹/大病/大额/公务员/救助 …)."""
    _check_admdvs(region, "region")
    if not (fund_pay_type.isdigit() and 6 <= len(fund_pay_type) <= 8):
        raise LedgerError(f"fund_pay_type: {fund_pay_type!r} is not a 6–8 digit code (§3.7)")
    return Account(
        code=f"FUND:{region}:{fund_pay_type}",
        kind=AccountKind.FUND,
        region=region,
        normal_side=Side.CREDIT,
        name=f"{region} 基金 {fund_pay_type}",
        fund_pay_type=fund_pay_type,
    )


def personal_account(psn_no: str, region: str) -> Account:
    """The personal account (个人账户, fund_pay_type 310200) of an insured person."""
    _check_id(psn_no, "psn_no")
    return Account(
        code=f"ACCT:{psn_no}",
        kind=AccountKind.PERSONAL,
        region=region,
        normal_side=Side.CREDIT,
        name=f"个人账户 {psn_no}",
        fund_pay_type=FPT_PERSONAL_ACCOUNT,
        owner=psn_no,
    )


def mulaid_account(region: str) -> Account:
    """The region's family mutual-aid pool (个人账户共济) for ``acct_mulaid_pay`` without a helper."""
    _check_admdvs(region, "region")
    return Account(
        code=f"MULAID:{region}",
        kind=AccountKind.MULAID,
        region=region,
        normal_side=Side.CREDIT,
        name=f"{region} 个人账户共济",
        fund_pay_type=FPT_PERSONAL_ACCOUNT,
    )


def payable_account(fixmedins_code: str, region: str) -> Account:
    """What the fund owes a designated institution (应付定点医药机构)."""
    _check_id(fixmedins_code, "fixmedins_code")
    return Account(
        code=f"PAY:{fixmedins_code}",
        kind=AccountKind.PAYABLE,
        region=region,
        normal_side=Side.CREDIT,
        name=f"应付定点医药机构 {fixmedins_code}",
        owner=fixmedins_code,
    )


def clearing_account(own: str, other: str) -> Account:
    """Region ``own``'s clearing position towards ``other`` (异地清算往来); positive: other owes."""
    _check_admdvs(own, "own region")
    _check_admdvs(other, "other region")
    if own == other:
        raise LedgerError(f"clearing account: both regions are {own}")
    return Account(
        code=f"CLR:{own}:{other}",
        kind=AccountKind.CLEARING,
        region=own,
        normal_side=Side.DEBIT,
        name=f"{own} 与 {other} 异地清算往来",
        counterpart_region=other,
    )


def bank_account(region: str) -> Account:
    """The region's fund bank account (基金银行存款)."""
    _check_admdvs(region, "region")
    return Account(
        code=f"BANK:{region}",
        kind=AccountKind.BANK,
        region=region,
        normal_side=Side.DEBIT,
        name=f"{region} 基金银行存款",
    )


def deposit_account(fixmedins_code: str, region: str) -> Account:
    """The quality deposit withheld from an institution's payments (质量保证金)."""
    _check_id(fixmedins_code, "fixmedins_code")
    return Account(
        code=f"HOLD:{fixmedins_code}",
        kind=AccountKind.DEPOSIT,
        region=region,
        normal_side=Side.CREDIT,
        name=f"质量保证金 {fixmedins_code}",
        owner=fixmedins_code,
    )


def community_account(community_id: str, region: str) -> Account:
    """A county medical community's global budget (医共体包干额度)."""
    _check_id(community_id, "community_id")
    _check_admdvs(region, "region")
    return Account(
        code=f"YCM:{community_id}",
        kind=AccountKind.COMMUNITY,
        region=region,
        normal_side=Side.CREDIT,
        name=f"医共体包干额度 {community_id}",
        owner=community_id,
    )


def _check_admdvs(value: str, what: str) -> None:
    if not (len(value) == 6 and value.isdigit()):
        raise LedgerError(f"{what}: {value!r} is not a 6-digit admdvs code (医保区划)")


def _check_id(value: str, what: str) -> None:
    if not value or len(value) > 30 or ":" in value or value != value.strip():
        raise LedgerError(f"{what}: {value!r} must be 1–30 characters without ':' or spaces")


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


@dataclass(frozen=True, slots=True)
class SettlementPosting:
    """What the ledger needs from one settlement (结算记账凭证); amounts are fen.

    ``fund_lines`` are the ``setldetail`` rows as ``(fund_pay_type, fund_payamt)``; a 310200 line
    is ignored there because the personal account is given by ``acct_pay``. ``acct_pay`` includes
    ``acct_mulaid_pay`` (nhsa-interface.md §2.6 rule 4). ``psn_cash_pay`` and ``hosp_part_amt``
    do not move fund money; they are kept in the chain memo for reconciliation.
    """

    setl_id: str
    msgid: str
    fixmedins_code: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    insutype: str
    value_date: date
    fund_lines: Sequence[tuple[str, int]]
    acct_pay: int = 0
    acct_mulaid_pay: int = 0
    psn_cash_pay: int = 0
    psn_no: str = ""
    mulaid_psn_no: str | None = None  # whose account pays acct_mulaid_pay (共济人), if known
    hosp_part_amt: int = 0

    @property
    def cross_region(self) -> bool:
        """异地就医: the insured region differs from the treatment region."""
        return self.insuplc_admdvs != self.mdtrtarea_admvs


def settlement_chain_id(setl_id: str) -> str:
    """The chain id of a settlement (结算记账链)."""
    return f"setl:{setl_id}"


def build_settlement_chain(p: SettlementPosting) -> Chain:
    """The transfers of one settlement.

    Local care: each fund line debits ``FUND:{insuplc}:{fpt}`` and credits the institution's
    payable; ``acct_pay`` debits the person's account (the mutual-aid part the helper's account
    or the region's pool).

    Cross-region care (异地): the insured region's fund owes the treatment region
    (credit ``CLR:{insuplc}:{mdtrtarea}``) and the treatment region advances the money to the
    institution (debit ``CLR:{mdtrtarea}:{insuplc}``, credit the payable) until clearing (清算).
    """
    _check_admdvs(p.insuplc_admdvs, "insuplc_admdvs")
    _check_admdvs(p.mdtrtarea_admvs, "mdtrtarea_admvs")
    _check_id(p.setl_id, "setl_id")
    for name in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay", "hosp_part_amt"):
        v = getattr(p, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise LedgerError(f"{name}: must be integer fen ≥ 0, got {v!r}")
    if p.acct_mulaid_pay > p.acct_pay:
        raise LedgerError(
            f"acct_mulaid_pay ({p.acct_mulaid_pay}) exceeds acct_pay ({p.acct_pay}); "
            "acct_pay includes the mutual-aid part"
        )
    own_acct = p.acct_pay - p.acct_mulaid_pay
    if own_acct and not p.psn_no:
        raise LedgerError("psn_no: required when acct_pay > 0")

    chain_id = settlement_chain_id(p.setl_id)
    payable = payable_account(p.fixmedins_code, p.mdtrtarea_admvs)
    owed_by_insured = (
        clearing_account(p.insuplc_admdvs, p.mdtrtarea_admvs) if p.cross_region else None
    )
    advanced = clearing_account(p.mdtrtarea_admvs, p.insuplc_admdvs) if p.cross_region else None

    sources: list[tuple[Account, int, str, str]] = []  # (source account, amount, code, fpt)
    seen_fpt: set[str] = set()
    for fpt, amount in p.fund_lines:
        if fpt == FPT_PERSONAL_ACCOUNT:
            continue
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise LedgerError(f"fund line {fpt}: amount must be integer fen, got {amount!r}")
        if amount < 0:
            raise LedgerError(f"fund line {fpt}: amount must be ≥ 0 fen, got {amount}")
        if fpt in seen_fpt:
            raise LedgerError(f"fund line {fpt}: fund_pay_type appears twice")
        seen_fpt.add(fpt)
        if amount:
            sources.append((fund_account(p.insuplc_admdvs, fpt), amount, "fund_pay", fpt))
    if own_acct:
        sources.append(
            (
                personal_account(p.psn_no, p.insuplc_admdvs),
                own_acct,
                "acct_pay",
                FPT_PERSONAL_ACCOUNT,
            )
        )
    if p.acct_mulaid_pay:
        helper = (
            personal_account(p.mulaid_psn_no, p.insuplc_admdvs)
            if p.mulaid_psn_no
            else mulaid_account(p.insuplc_admdvs)
        )
        sources.append((helper, p.acct_mulaid_pay, "acct_mulaid_pay", FPT_PERSONAL_ACCOUNT))

    transfers: list[Transfer] = []
    for source, amount, code, fpt in sources:
        if owed_by_insured is None or advanced is None:
            transfers.append(
                Transfer(f"{chain_id}/{len(transfers) + 1}", source, payable, amount, code, fpt)
            )
        else:
            transfers.append(
                Transfer(
                    f"{chain_id}/{len(transfers) + 1}", source, owed_by_insured, amount, code, fpt
                )
            )
            transfers.append(
                Transfer(
                    f"{chain_id}/{len(transfers) + 1}", advanced, payable, amount, "advance", fpt
                )
            )
    return Chain(
        chain_id=chain_id,
        kind="settlement",
        value_date=p.value_date,
        transfers=tuple(transfers),
        setl_id=p.setl_id,
        msgid=p.msgid,
        fixmedins_code=p.fixmedins_code,
        memo={
            "insutype": p.insutype,
            "psn_no": p.psn_no,
            "insuplc_admdvs": p.insuplc_admdvs,
            "mdtrtarea_admvs": p.mdtrtarea_admvs,
            "cross_region": p.cross_region,
            "psn_cash_pay": p.psn_cash_pay,
            "hosp_part_amt": p.hosp_part_amt,
        },
    )


def mirror_chain(
    original: Chain, *, chain_id: str, setl_id: str, msgid: str, value_date: date
) -> Chain:
    """The correcting chain (冲销链): every transfer with debit and credit swapped.

    Transfer ids are ``{chain_id}/{n}`` and each new transfer ``reverses`` the original's id.
    """
    if original.reverses is not None:
        raise LedgerError(f"chain {original.chain_id} is itself a reversal; it cannot be mirrored")
    transfers = tuple(
        Transfer(
            id=f"{chain_id}/{i}",
            debit=t.credit,
            credit=t.debit,
            amount=t.amount,
            code=t.code,
            fund_pay_type=t.fund_pay_type,
            reverses=t.id,
        )
        for i, t in enumerate(original.transfers, start=1)
    )
    return Chain(
        chain_id=chain_id,
        kind="reversal",
        value_date=value_date,
        transfers=transfers,
        setl_id=setl_id,
        msgid=msgid,
        fixmedins_code=original.fixmedins_code,
        reverses=original.chain_id,
        memo={**original.memo, "reverses_setl_id": original.setl_id},
    )


def posting_from_setlinfo(
    setlinfo: Mapping[str, object],
    setldetail: Iterable[Mapping[str, object]],
    *,
    msgid: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    value_date: date,
    psn_no: str | None = None,
    setl_id: str | None = None,
) -> SettlementPosting:
    """Build a :class:`SettlementPosting` from the engine's ``setlinfo``/``setldetail`` (fen).

    ``setldetail`` rows need ``fund_pay_type`` and ``fund_payamt``; ``setlinfo`` supplies
    ``setl_id``, ``insutype``, ``psn_no``, ``acct_pay``, ``acct_mulaid_pay``, ``psn_cash_pay``.
    """

    def fen(key: str, src: Mapping[str, object]) -> int:
        v = src.get(key, 0) or 0
        if isinstance(v, bool) or not isinstance(v, int):
            raise LedgerError(f"{key}: expected integer fen, got {v!r}")
        return v

    lines: dict[str, int] = {}
    for row in setldetail:
        fpt = str(row.get("fund_pay_type", ""))
        lines[fpt] = lines.get(fpt, 0) + fen("fund_payamt", row)
    return SettlementPosting(
        setl_id=setl_id or str(setlinfo.get("setl_id", "")),
        msgid=msgid,
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
        insutype=str(setlinfo.get("insutype", "")),
        value_date=value_date,
        fund_lines=tuple(lines.items()),
        acct_pay=fen("acct_pay", setlinfo),
        acct_mulaid_pay=fen("acct_mulaid_pay", setlinfo),
        psn_cash_pay=fen("psn_cash_pay", setlinfo),
        hosp_part_amt=fen("hosp_part_amt", setlinfo),
        psn_no=psn_no or str(setlinfo.get("psn_no", "")),
    )

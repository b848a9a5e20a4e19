"""Ledger accounts (基金账户): fund codes, account kinds and flags, and the readable,
deterministic account codes (``FUND:…``, ``ACCT:…``, ``PAY:…``, ``CLR:…``, …). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    limits are declared for reports and checked by :func:`yibao.ledger.store_checks.verify`
    (enforcing them on the settlement path would need a balance read per posting).
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

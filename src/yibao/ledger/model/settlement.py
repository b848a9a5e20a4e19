"""A settlement's chain (结算记账): what the ledger needs from a setlinfo, the chain that posts it,
and the mirror chain that reverses it (冲销). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from yibao.ledger.model.accounts import (
    FPT_PERSONAL_ACCOUNT,
    Account,
    LedgerError,
    _check_admdvs,
    _check_id,
    clearing_account,
    fund_account,
    mulaid_account,
    payable_account,
    personal_account,
)
from yibao.ledger.model.chains import (
    Chain,
    Transfer,
)


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

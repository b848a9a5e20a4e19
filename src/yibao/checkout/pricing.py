"""Pricing a bill (计算): registry snapshot → policy → filing → engine. Pure.

Every input is given (read by the caller in one round trip): the person's registry facts, the
year's counters, the account balance, the person's cross-region filings. The policy comes from
the shipped policy files (cached in memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from yibao.checkout import model
from yibao.checkout.bills import EMERGENCY_MED_TYPES, Bill, CheckoutError, Priced
from yibao.filing.model import Filing, status_for
from yibao.policy import PolicyError, resolve
from yibao.registry.model import NotEnrolled, build_snapshot
from yibao.registry.store import SettlementFacts
from yibao.settlement.engine import service_year
from yibao.settlement.engine import settle as engine_settle
from yibao.settlement.model import Encounter as EngineEncounter
from yibao.settlement.model import SettlementError


def price_bill(
    bill: Bill,
    facts: SettlementFacts | None,
    counters: Mapping[str, int],
    *,
    mdtrtarea_admvs: str,
    hosp_lv: str,
    filings: Iterable[Filing] = (),
    acct_balc: int | None = None,
    setl_seq: int | None = None,
    settle_date: date | None = None,
) -> Priced:
    """The engine's split of ``bill`` treated in ``mdtrtarea_admvs`` at ``hosp_lv``.

    ``acct_balc`` is the personal account's balance read under its row lock (settlement); without
    it the registry facts' balance is used (pre-settlement). ``settle_date``: the day a filing
    must still be valid on (default: the bill's discharge date)."""
    if facts is None:
        raise CheckoutError(f"psn_no: 人员编号 {bill.psn_no} 不存在")
    person, enrolments, identities, balc = facts
    try:
        snap = build_snapshot(
            person,
            enrolments,
            identities,
            balc if acct_balc is None else acct_balc,
            bill.insutype,
            bill.service_date,
        )
    except NotEnrolled as exc:
        raise CheckoutError(f"insutype: {exc}") from exc
    if snap.insuplc_admdvs != bill.insuplc_admdvs:
        raise CheckoutError(
            f"insuplc_admdvs: 参保地医保区划须为 {snap.insuplc_admdvs}（见【1101】insuinfo），"
            f"收到 {bill.insuplc_admdvs}"
        )
    try:
        policy = resolve(bill.insuplc_admdvs, bill.service_date)
    except PolicyError as exc:
        raise CheckoutError(
            f"insuplc_admdvs: 参保地 {bill.insuplc_admdvs} 在 {bill.service_date} 无可用的医保政策：{exc}"
        ) from exc
    filing = "unfiled"
    if bill.insuplc_admdvs != mdtrtarea_admvs:  # 异地就医: the filing (备案) sets the ratio
        filing = status_for(
            filings,
            bill.insuplc_admdvs,
            mdtrtarea_admvs,
            bill.service_date,
            emergency=bill.emergency or bill.med_type in EMERGENCY_MED_TYPES,
            settle_date=settle_date or bill.endtime,
        )
    enc = EngineEncounter(
        med_type=bill.med_type,
        mdtrtarea_admvs=mdtrtarea_admvs,
        begntime=bill.service_date,
        items=bill.items,
        hosp_lv=hosp_lv,
        endtime=bill.endtime,
        dise_codg=bill.dise_codg or None,
        acct_used_flag=bill.acct_used_flag,
        psn_setlway=bill.psn_setlway,
        filing=filing,
    )
    year = service_year(bill.service_date)
    acc = model.unflatten(counters, year, acct_balc=snap.acct_balance_fen)
    try:
        result = engine_settle(model.engine_person(snap), enc, acc, policy)
    except SettlementError as exc:
        raise CheckoutError(f"结算失败：{exc}") from exc
    except PolicyError as exc:
        raise CheckoutError(f"结算失败（政策参数）：{exc}") from exc
    info = model.setlinfo_fen(result)
    info["psn_no"] = bill.psn_no
    return Priced(
        bill=bill,
        result=result,
        snapshot=snap,
        person=person,
        acc_year=year,
        setlinfo=info,
        setldetail=model.setldetail_fen(result),
        deltas=model.flatten(result.deltas),
        setl_seq=setl_seq,
        filing=filing,
    )

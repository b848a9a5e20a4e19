"""Reconciliation (对账) of an institution's settlements: 3201 totals and 3202 details. Pure.

Result codes ``stmt_rslt`` (nhsa-interface.md §3.13, [JX]): 0 平, 1 中心多, 2 医药机构多,
3 数据不一致. 3201 answers 0 (平) or 1 (不平) with a description naming every differing total.

Counting rule (our reading of ``refd_setl_flag`` 退费结算标志, documented in docs/encounter.md):
``"1"`` or absent — every settlement record in the period, cancellations as their own negative
rows (amounts net out, each row counts once); ``"0"`` — only settlements that were not cancelled,
without the cancellation rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from yibao.money import fen_str

STMT_BALANCED = "0"  # 平
STMT_CENTER_MORE = "1"  # 中心多 (3202) / 不平 (3201)
STMT_INSTITUTION_MORE = "2"  # 医药机构多
STMT_MISMATCH = "3"  # 数据不一致


@dataclass(frozen=True, slots=True)
class Totals:
    """3201 totals (对总账) in fen."""

    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    fixmedins_setl_cnt: int


_TOTAL_LABELS = (
    ("medfee_sumamt", "医疗费总额", True),
    ("fund_pay_sumamt", "基金支付总额", True),
    ("acct_pay", "个人账户支出", True),
    ("fixmedins_setl_cnt", "结算笔数", False),
)


@dataclass(frozen=True, slots=True)
class TotalsResult:
    """3201 ``stmtinfo`` (对账结果)."""

    setl_optins: str
    stmt_rslt: str
    stmt_rslt_dscr: str


def compare_totals(setl_optins: str, center: Totals, institution: Totals) -> TotalsResult:
    """Compare the centre's totals with the institution's claim."""
    diffs = []
    for name, label, money in _TOTAL_LABELS:
        ours, theirs = getattr(center, name), getattr(institution, name)
        if ours != theirs:
            fmt = fen_str if money else str
            diffs.append(f"{label}：中心 {fmt(ours)}，医药机构 {fmt(theirs)}")
    if not diffs:
        return TotalsResult(setl_optins, STMT_BALANCED, "对账平")
    return TotalsResult(setl_optins, STMT_CENTER_MORE, "对账不平：" + "；".join(diffs))


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One row of the 3202 detail file (对明细账) in fen."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medfee_sumamt: int
    fund_pay_sumamt: int
    acct_pay: int
    refd_setl_flag: str
    msgid: str = ""


@dataclass(frozen=True, slots=True)
class DetailResult:
    """One row of the 3202 result file: ``psn_no, mdtrt_id, setl_id, msgid, stmt_rslt,
    refd_setl_flag, memo`` (nhsa-interface.md §2.11)."""

    psn_no: str
    mdtrt_id: str
    setl_id: str
    msgid: str
    stmt_rslt: str
    refd_setl_flag: str
    memo: str


def compare_details(
    center: Iterable[DetailRow], institution: Iterable[DetailRow]
) -> list[DetailResult]:
    """Match rows by ``setl_id``; one result per distinct ``setl_id`` on either side.

    ``msgid`` comes from the centre's record (用于冲正).
    """
    ours = {r.setl_id: r for r in center}
    theirs: dict[str, DetailRow] = {}
    duplicated: set[str] = set()
    for r in institution:
        if r.setl_id in theirs:
            duplicated.add(r.setl_id)
        theirs[r.setl_id] = r
    out: list[DetailResult] = []
    for setl_id in sorted(ours.keys() | theirs.keys()):
        c, i = ours.get(setl_id), theirs.get(setl_id)
        if c is None:
            assert i is not None
            out.append(
                DetailResult(
                    i.psn_no,
                    i.mdtrt_id,
                    setl_id,
                    "",
                    STMT_INSTITUTION_MORE,
                    i.refd_setl_flag,
                    "中心无此结算记录",
                )
            )
            continue
        if i is None:
            out.append(
                DetailResult(
                    c.psn_no,
                    c.mdtrt_id,
                    setl_id,
                    c.msgid,
                    STMT_CENTER_MORE,
                    c.refd_setl_flag,
                    "医药机构未上传此结算记录",
                )
            )
            continue
        problems = []
        if setl_id in duplicated:
            problems.append("结算ID重复")
        for name, label in (
            ("mdtrt_id", "就诊ID"),
            ("psn_no", "人员编号"),
            ("refd_setl_flag", "退费结算标志"),
        ):
            if getattr(c, name) != getattr(i, name):
                problems.append(
                    f"{label}不一致（中心 {getattr(c, name)}，机构 {getattr(i, name)}）"
                )
        for name, label in (
            ("medfee_sumamt", "医疗费总额"),
            ("fund_pay_sumamt", "基金支付总额"),
            ("acct_pay", "个人账户支出"),
        ):
            if getattr(c, name) != getattr(i, name):
                problems.append(
                    f"{label}不一致（中心 {fen_str(getattr(c, name))}，"
                    f"机构 {fen_str(getattr(i, name))}）"
                )
        out.append(
            DetailResult(
                c.psn_no,
                c.mdtrt_id,
                setl_id,
                c.msgid,
                STMT_MISMATCH if problems else STMT_BALANCED,
                c.refd_setl_flag,
                "；".join(problems) if problems else "平",
            )
        )
    return out


def totals_of(rows: Iterable[DetailRow]) -> Totals:
    """Totals of detail rows (for a 3202 file's own header check)."""
    rows = list(rows)
    return Totals(
        medfee_sumamt=sum(r.medfee_sumamt for r in rows),
        fund_pay_sumamt=sum(r.fund_pay_sumamt for r in rows),
        acct_pay=sum(r.acct_pay for r in rows),
        fixmedins_setl_cnt=len(rows),
    )

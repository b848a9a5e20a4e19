"""Payment-reform use cases for the console and the CLI, one transaction each (事务边界).

The gateway's transactions (4101–4104, 3601–3607) run inside the request's transaction and call
:mod:`service_lists` / :mod:`service_special` directly; everything started by bureau staff comes
here: the monthly advance, the year-end clearing, a 特例单议 opinion, 医共体 and budget settings.
Each action is audited (审计日志).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from yibao.db.tables import audit
from yibao.money import fen_str
from yibao.payment import (
    service_community,
    service_lists,
    service_runs,
    service_special,
    store_runs,
)
from yibao.payment.errors import PaymentRefused
from yibao.payment.service_runs import MonthReport, YearReport


def advance(engine: sa.Engine, admdvs: str, month: str, *, actor: str) -> MonthReport:
    """月度预结算 of a region's DRG/DIP cases for a month."""
    with engine.begin() as conn:
        report = service_runs.monthly_advance(conn, admdvs, month, actor=actor)
        audit(
            conn,
            actor,
            "payment.advance",
            f"{admdvs}:{report.month}",
            institutions=len(report.institutions),
        )
        return report


def close_year(engine: sa.Engine, admdvs: str, year: int, *, actor: str) -> YearReport:
    """年度清算 of a region's DRG/DIP year."""
    with engine.begin() as conn:
        report = service_runs.year_end(conn, admdvs, year, actor=actor)
        audit(
            conn,
            actor,
            "payment.year_end",
            f"{admdvs}:{year}",
            final_unit_value=str(report.final_unit_value),
            cases=report.cases,
        )
        return report


def review(
    engine: sa.Engine,
    appy_id: str,
    *,
    reviewer: str,
    reviewer_name: str,
    approve: bool,
    opinion: str,
    deducted: int = 0,
    allowed: Callable[[str], bool] | None = None,
) -> str:
    """One expert's 特例单议 opinion; returns the application's new state."""
    with engine.begin() as conn:
        state = service_special.review(
            conn,
            appy_id,
            reviewer=reviewer,
            reviewer_name=reviewer_name,
            approve=approve,
            opinion=opinion,
            now=datetime.now(UTC),
            deducted=deducted,
            allowed=allowed,
        )
        audit(
            conn,
            reviewer,
            "payment.special_review",
            appy_id,
            approve=approve,
            state=state,
            deducted=fen_str(deducted),
        )
        return state


def save_community(engine: sa.Engine, *, actor: str, **fields: Any) -> None:
    with engine.begin() as conn:
        service_community.save(conn, **fields)
        audit(conn, actor, "payment.community_saved", str(fields.get("ycm_id", "")))


def set_community_budget(
    engine: sa.Engine, ycm_id: str, year: int, amount: int | None, *, actor: str
) -> int:
    """Set a community's budget (the rule's suggestion when ``amount`` is None); returns it."""
    with engine.begin() as conn:
        basis = "人工设定"
        if amount is None:
            amount, basis = service_community.suggest_budget(conn, ycm_id, year)
        service_community.set_budget(conn, ycm_id, year, amount, basis=basis, actor=actor)
        audit(conn, actor, "payment.community_budget", f"{ycm_id}:{year}", amount=fen_str(amount))
        return amount


def community_month(engine: sa.Engine, ycm_id: str, month: str, *, actor: str) -> dict[str, Any]:
    with engine.begin() as conn:
        row = service_community.run_month(conn, ycm_id, month)
        audit(conn, actor, "payment.community_month", f"{ycm_id}:{row['month']}")
        return row


def community_year_end(engine: sa.Engine, ycm_id: str, year: int, *, actor: str) -> dict[str, Any]:
    with engine.begin() as conn:
        row = service_community.year_end(conn, ycm_id, year)
        audit(conn, actor, "payment.community_year_end", f"{ycm_id}:{year}")
        return row


def set_institution_budget(
    engine: sa.Engine, fixmedins_code: str, year: int, amount: int, *, actor: str
) -> None:
    """An institution's annual DRG/DIP budget (总额控制指标), for 预算执行率."""
    if amount <= 0:
        raise PaymentRefused("预算须大于0")
    with engine.begin() as conn:
        store_runs.set_budget(conn, fixmedins_code, year, amount, actor)
        audit(
            conn,
            actor,
            "payment.institution_budget",
            f"{fixmedins_code}:{year}",
            amount=fen_str(amount),
        )


def review_lists(engine: sa.Engine, setl_ids: list[str], *, approve: bool, actor: str) -> None:
    """The bureau's review of submitted lists (1 → 2 审核通过 or 1 → 3 审核不通过), all or none."""
    target = "2" if approve else "3"
    with engine.begin() as conn:
        service_lists.change_status(
            conn,
            "",
            [("", s, target) for s in setl_ids],
            msgid=f"console:{actor}",
            now=datetime.now(UTC),
            by_bureau=True,
            actor=actor,
        )
        audit(conn, actor, "payment.list_review", ",".join(setl_ids), state=target)

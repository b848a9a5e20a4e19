"""Audit log read model (审计日志): console logins, failures and sensitive views."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from yibao.console import queries
from yibao.console.model import Role

ACTION_LABELS: dict[str, str] = {
    "console.login": "登录成功",
    "console.login_failed": "登录失败",
    "console.locked": "账户锁定",
    "console.logout": "退出登录",
    "console.password_changed": "修改密码",
    "console.user_created": "创建用户",
    "console.view_person": "查看参保人",
    "console.view_settlement": "查看结算单",
    "console.view_institution": "查看定点机构",
    "payment.advance": "DRG/DIP月度预结算",
    "payment.year_end": "DRG/DIP年度清算",
    "payment.special_review": "特例单议评审",
    "payment.community_saved": "医共体设置",
    "payment.community_budget": "医共体年度预算",
    "payment.community_month": "医共体月度分配",
    "payment.community_year_end": "医共体年度结算",
    "payment.institution_budget": "机构年度预算",
    "payment.list_review": "结算清单审核",
}

REASON_LABELS: dict[str, str] = {
    "unknown_user": "用户不存在",
    "bad_password": "密码错误",
    "locked": "账户已锁定",
    "disabled": "账户已停用",
}


DETAIL_LABELS: dict[str, str] = {
    "ip": "IP",
    "reason": "原因",
    "role": "角色",
    "admdvs": "区划",
    "until": "锁定至",
}


def _detail(raw: dict[str, object]) -> dict[str, str]:
    """Detail keys and codes in Chinese; empty values left out."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        if value in (None, ""):
            continue
        text = str(value)
        if key == "reason":
            text = REASON_LABELS.get(text, text)
        elif key == "role":
            with contextlib.suppress(ValueError):
                text = Role(text).label
        out[DETAIL_LABELS.get(key, key)] = text
    return out


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    action_label: str
    subject: str
    detail: dict[str, str]


def recent(
    conn: sa.Connection, *, actor: str = "", action: str = "", limit: int = 200
) -> list[AuditRow]:
    """The newest audit records, optionally filtered by actor and action prefix."""
    rows = []
    for m in queries.audit_records(conn, actor=actor, action=action, limit=limit):
        detail = _detail(dict(m["detail"] or {}))
        rows.append(
            AuditRow(
                at=m["at"],
                actor=m["actor"],
                action=m["action"],
                action_label=ACTION_LABELS.get(m["action"]) or m["action"],
                subject=m["subject"],
                detail=detail,
            )
        )
    return rows

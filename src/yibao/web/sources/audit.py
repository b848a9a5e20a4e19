"""Audit log read model (审计日志): console logins, failures, sensitive views and staff actions.

Actions, actors and detail keys are shown through :mod:`yibao.web.labels_audit` (Chinese only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from yibao.console import queries
from yibao.web.labels_audit import (
    action_choices,
    action_label,
    actor_label,
    detail,
    subject_label,
)

ACTION_LABELS: dict[str, str] = action_choices()


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    actor: str
    actor_label: str
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
        rows.append(
            AuditRow(
                at=m["at"],
                actor=m["actor"],
                actor_label=actor_label(m["actor"]),
                action=m["action"],
                action_label=action_label(m["action"]),
                subject=subject_label(m["action"], m["subject"]),
                detail=detail(m["action"], dict(m["detail"] or {})),
            )
        )
    return rows

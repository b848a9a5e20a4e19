"""Reconciliation and clearing read model (对账与清算)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.web.sources import Unavailable

NO_RECON = Unavailable("对账结果尚未接入：定点机构对账（3201/3202）服务尚未上线。", "api/nhsa")
NO_CLEARING = Unavailable("清算数据尚未接入：异地清算与基金账务服务尚未上线。", "ledger")


@dataclass(slots=True)
class ReconView:
    recon: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    clearing: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    balances: list[dict[str, Any]] | Unavailable = field(default_factory=list)


def build(conn: sa.Connection, scope: Scope) -> ReconView:
    return ReconView(recon=NO_RECON, clearing=NO_CLEARING, balances=NO_CLEARING)

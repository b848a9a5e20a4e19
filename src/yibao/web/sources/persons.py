"""Registry read model (参保人查询): search with masked IDs, person detail.

Reads the registry capability (``yibao.registry``) through the scoping helper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Scope
from yibao.web.sources import Unavailable

PENDING = Unavailable(
    "参保登记数据尚未接入：参保登记服务尚未上线，暂无可查询的参保人。", "registry"
)


@dataclass(slots=True)
class PersonRow:
    psn_no: str
    psn_name: str
    certno_masked: str
    gend: str
    brdy: str
    insuplc_admdvs: str
    insutypes: str


@dataclass(slots=True)
class PersonDetail:
    psn_no: str
    fields: list[tuple[str, str]]
    insuplc_admdvs: str
    enrolments: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    assistance: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    filings: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    settlements: list[dict[str, Any]] | Unavailable = field(default_factory=list)
    voucher: list[tuple[str, str]] | Unavailable = field(default_factory=list)


def search(
    conn: sa.Connection, scope: Scope, q: str, limit: int = 50
) -> list[PersonRow] | Unavailable:
    return PENDING


def detail(conn: sa.Connection, scope: Scope, psn_no: str) -> PersonDetail | Unavailable | None:
    return PENDING

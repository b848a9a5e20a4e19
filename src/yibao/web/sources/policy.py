"""Policy in force read model (政策查询): parameters for a region on a date, with references."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from yibao.web.sources import Unavailable

PENDING = Unavailable("政策参数尚未接入：政策参数服务尚未上线，暂无可查询的政策。", "policy")


@dataclass(slots=True)
class PolicyParam:
    path: str
    label: str
    value: str
    since: str
    reference: str
    source_region: str


@dataclass(slots=True)
class PolicyView:
    admdvs: str
    on: date
    params: list[PolicyParam] = field(default_factory=list)


def regions() -> list[str]:
    """Regions with a shipped policy (统筹区)."""
    return []


def in_force(admdvs: str, on: date) -> PolicyView | Unavailable:
    return PENDING

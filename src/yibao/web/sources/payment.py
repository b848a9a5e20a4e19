"""Payment-reform read model for the console (支付方式改革), through :mod:`yibao.payment.queries`.

Scope: a region must be in the user's scope; an institution operator sees only their own
institution; the analyst sees aggregates (no case or person rows, no 特例单议 queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.console.model import Role, Scope
from yibao.console.scoping import NoPersonData, OutOfScope
from yibao.payment import queries
from yibao.payment.model.special import STATE_LABELS
from yibao.web.unavailable import Unavailable

NO_PAYMENT = Unavailable("支付方式改革数据尚未接入：数据库未升级到含 payment 的版本。", "payment")
#: regions with payment parameters shipped (DRG 441481, DIP 440300) first, then the others
REGIONS = ("441481", "440300", "440100", "440400", "441300", "421381")
REVIEWERS = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN)


@dataclass(frozen=True, slots=True)
class Filter:
    admdvs: str
    year: int


def regions(scope: Scope) -> list[str]:
    return [r for r in REGIONS if scope.allows_region(r)]


def check_region(scope: Scope, admdvs: str) -> None:
    if not (len(admdvs) == 6 and admdvs.isdigit()) or not scope.allows_region(admdvs):
        raise OutOfScope()


def overview(
    conn: sa.Connection, scope: Scope, f: Filter, today: date
) -> queries.RegionView | Unavailable:
    if not queries.available(conn):
        return NO_PAYMENT
    check_region(scope, f.admdvs)
    return queries.region_view(conn, f.admdvs, f.year, today, fixmedins_code=scope.fixmedins_code)


def institution(conn: sa.Connection, scope: Scope, code: str, year: int) -> dict[str, Any]:
    if not scope.person_data:
        raise NoPersonData()
    if not scope.allows_institution(code):
        raise OutOfScope()
    found = queries.institution_cases(conn, code, year)
    inst = found["institution"]
    if inst is None or not scope.allows_region(inst.admdvs):
        raise OutOfScope()
    return found


def special_queue(conn: sa.Connection, scope: Scope, state: str) -> list[dict[str, Any]]:
    if not scope.person_data:
        raise NoPersonData()
    states = (state,) if state in STATE_LABELS else ()
    prefixes = None if scope.all_regions else scope.prefixes
    return queries.special_queue(
        conn, prefixes=prefixes, fixmedins_code=scope.fixmedins_code, states=states
    )


def statement(conn: sa.Connection, scope: Scope, f: Filter, today: date) -> dict[str, Any]:
    check_region(scope, f.admdvs)
    if scope.fixmedins_code is not None or not scope.person_data:
        raise OutOfScope()
    return queries.statement(conn, f.admdvs, f.year, today)


def check_community(conn: sa.Connection, scope: Scope, ycm_id: str) -> None:
    """The community exists and lies in the user's scope."""
    found = [c for c in queries.communities(conn) if c["ycm_id"] == ycm_id]
    if not found or not scope.allows_region(found[0]["admdvs"]):
        raise OutOfScope()

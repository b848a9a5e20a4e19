"""The one scoping helper (区域权限过滤): every console query and record view goes through here.

- :func:`scoped` adds the WHERE clause that keeps a list query inside the user's regions and
  institution;
- :func:`ensure_visible` refuses a single record (a person, a settlement) outside them, so that a
  city admin cannot open another city's record even by typing its URL.

A record is visible if *any* of its region columns is in scope: a cross-region (异地) settlement
concerns both the insured place (参保地) and the place of treatment (就医地).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from yibao.console.model import Scope


class OutOfScope(Exception):
    """The record exists outside the user's scope (不在管辖范围内); pages answer 404."""


class NoPersonData(Exception):
    """The role may not see individual persons or settlements (政策分析员)."""


def region_filter(scope: Scope, columns: Sequence[ColumnElement[str]]) -> ColumnElement[bool]:
    """SQL: any of ``columns`` starts with one of the scope's admdvs prefixes."""
    if scope.all_regions:
        return sa.true()
    if not scope.prefixes or not columns:
        return sa.false()
    return sa.or_(*(col.startswith(p, autoescape=True) for col in columns for p in scope.prefixes))


def institution_filter(scope: Scope, column: ColumnElement[str] | None) -> ColumnElement[bool]:
    """SQL: the record belongs to the operator's institution (if the scope is one institution)."""
    if scope.fixmedins_code is None:
        return sa.true()
    if column is None:
        return sa.false()
    return column == scope.fixmedins_code


S = TypeVar("S", bound=sa.Select)  # type: ignore[type-arg]


def scoped(
    stmt: S,
    scope: Scope,
    *,
    regions: Sequence[ColumnElement[str]] = (),
    institution: ColumnElement[str] | None = None,
    person_data: bool = False,
) -> S:
    """Restrict a SELECT to the scope. ``person_data`` marks queries that list individuals."""
    if person_data and not scope.person_data:
        raise NoPersonData("该角色不能查看个人明细数据")
    if scope.fixmedins_code is not None:
        return stmt.where(institution_filter(scope, institution))
    return stmt.where(region_filter(scope, regions))


def require_person_data(scope: Scope) -> None:
    """Refuse person-level data to roles that see aggregates only (政策分析员)."""
    if not scope.person_data:
        raise NoPersonData("该角色不能查看个人明细数据")


def ensure_visible(
    scope: Scope,
    *,
    regions: Sequence[str | None] = (),
    institution: str | None = None,
    person_data: bool = True,
) -> None:
    """Raise :class:`OutOfScope` unless one record is inside the scope."""
    if person_data and not scope.person_data:
        raise NoPersonData("该角色不能查看个人明细数据")
    if scope.fixmedins_code is not None:
        if institution != scope.fixmedins_code:
            raise OutOfScope()
        return
    if not scope.allows_any_region(*regions):
        raise OutOfScope()

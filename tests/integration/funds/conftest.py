"""Fixtures for the funds integration tests: a world imported through the registry's bulk import."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.funds_world import World
from yibao.registry import bulk, rows, unit_import

Load = Callable[[World], None]


def load_world(engine: Engine, world: World) -> None:
    """Import the world's persons, units and employment (three files, as staff would)."""
    with engine.begin() as conn:
        checked = rows.check_rows(bulk.read_rows_bytes("persons.csv", world.persons_csv()))
        bulk.import_checked(conn, checked, skip_bad=False, actor="test", source="persons.csv")
        unit_import.import_units(
            conn, unit_import.read_units("units.csv", world.units_csv()),
            skip_bad=False, actor="test", source="units.csv",
        )  # fmt: skip
        unit_import.import_employments(
            conn, unit_import.read_employments("employment.csv", world.employment_csv()),
            skip_bad=False, actor="test", source="employment.csv",
        )  # fmt: skip


@pytest.fixture
def load(engine: Engine) -> Load:
    return lambda world: load_world(engine, world)

"""Fixtures for the settlement e2e tests: a live server over a seeded province (机构, 目录, 参保人)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from yibao.catalog import service as catalog
from yibao.checkout import demo as persons
from yibao.client import NhsaClient
from yibao.hissim import flows
from yibao.institutions import demo as institutions

HOSPITAL = "H44030000001"  # 深圳市人民医院 (三级甲等, 440300)
PHARMACY = "P44030000001"
PERSONS = 60

ClientFactory = Callable[..., NhsaClient]


def seed_world(engine: Engine, count: int = PERSONS) -> None:
    institutions.seed(engine)
    catalog.seed_demo(engine)
    persons.seed(engine, count)


@pytest.fixture
def world(engine: Engine) -> Engine:
    seed_world(engine)
    return engine


def make(url: str, code: str) -> NhsaClient:
    row = next(r for r in institutions.DEMO_INSTITUTIONS if r[0] == code)
    c = NhsaClient(
        url,
        fixmedins_code=code,
        fixmedins_name=row[1],
        mdtrtarea_admvs=row[3],
        app_key=institutions.demo_app_key(code),
        app_secret=institutions.demo_secret(code),
    )
    c.sign_in()
    return c


@pytest.fixture
def make_client(world: Engine, live_server: str) -> Iterator[ClientFactory]:
    made: list[NhsaClient] = []

    def factory(code: str = HOSPITAL) -> NhsaClient:
        c = make(live_server, code)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


def patients(
    client: NhsaClient, *, insutype: str | None = None, region: str = ""
) -> list[flows.Patient]:
    """Demo persons (via 1101 by ID number), optionally one insurance type or insured region."""
    out = []
    for row in persons.demo_rows(PERSONS):
        if insutype and row["insutype"] != insutype:
            continue
        if region and row["insuplc_admdvs"] != region:
            continue
        out.append(flows.lookup(client, row["certno"]))
    return out


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)

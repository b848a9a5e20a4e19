"""Fixtures of the payment-reform e2e tests: a server on a July-2025 business clock over a seeded
province, with the shipped policies except the 兴宁 DRG budget scaled to the test's volume."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ServerProcess
from tests.e2e.settlement.conftest import seed_world
from yibao.db.engine import make_engine

START = "2025-07-10T09:00:00+08:00"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """The shipped policies with the 兴宁 2025 DRG budget and planned weight scaled to this test's
    month (the budget rate stays near the shipped ≈ 10,941 元/权重)."""
    target = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", target)
    f = target / "guangdong" / "441481.yaml"
    text = f.read_text(encoding="utf-8")
    text = text.replace("value: 186000000", "value: 120000")  # 费用总额预算 176,470.59 元
    text = text.replace("value: 25000\n", "value: 16.2\n")  # 预算费率 10,893.2463 元/权重
    f.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def server(db_url: str, policy_dir: Path) -> Iterator[str]:
    """A live server on the business clock; 200 demo persons (23 insured in 兴宁)."""
    engine = make_engine(db_url, pool_size=2)
    try:
        seed_world(engine, 200)
    finally:
        engine.dispose()
    s = ServerProcess(
        db_url,
        {"YIBAO_TEST_BUSINESS_START": START, "YIBAO_POLICY_DIR": str(policy_dir)},
        app="tests.e2e.payment.month_app:month_app",
    )
    s.start()
    try:
        yield s.url
    finally:
        s.stop()

"""Shared data for the simulation tests: a stress-profile synthetic dataset (all regions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from yibao.policy.loader import default_tree
from yibao.simulation.synthetic import generate


@pytest.fixture(scope="session")
def stress_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 bills over every shipped region, caps and special groups made frequent."""
    root = tmp_path_factory.mktemp("stress")
    generate(root, 100_000, 2025, default_tree(), seed=7, profile="stress", partition_bills=20_000)
    return root

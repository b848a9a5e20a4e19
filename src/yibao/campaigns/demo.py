"""Campaign demo data (推广方案演示数据): the shipped plans (``campaigns/*.yaml``), e.g. 广水 2021.

Idempotent: loading the same file content again changes nothing.
"""

from __future__ import annotations

from sqlalchemy import Engine

from yibao.campaigns.service import load_shipped


def seed(engine: Engine) -> None:
    load_shipped(engine, actor="demo")

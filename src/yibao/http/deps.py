"""FastAPI dependencies every router may use."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine


def engine_of(request: Request) -> Engine:
    """FastAPI dependency: the app's SQLAlchemy engine."""
    engine: Engine = request.app.state.engine
    return engine

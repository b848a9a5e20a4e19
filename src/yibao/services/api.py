"""Public service-desk API (网上服务大厅): the catalogue and policy Q&A; no sign-in, read-only."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from yibao.services import service

router = APIRouter(prefix="/api/services", tags=["services 网上服务大厅"])


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=200, description="问题（中文）")
    admdvs: str = Field("", pattern=r"^(\d{6})?$", description="参保地医保区划（可选）")
    on: date | None = Field(None, description="日期（默认今天）")


@router.get("/catalogue")
def catalogue() -> dict[str, Any]:
    """Every online service: name, channels, required inputs, time limit, entry."""
    return {"code": 0, "message": "成功", "data": [asdict(s) for s in service.catalogue()]}


@router.post("/ask")
async def ask(body: AskIn) -> dict[str, Any]:
    """Policy Q&A (边问边办): the clause, its source, the parameter in force, the service entry."""
    data = await run_in_threadpool(service.ask, body.question, body.admdvs, body.on)
    return {"code": 0, "message": "成功", "data": data}

"""Why a page section has no data (暂无数据的原因): a plain Chinese explanation, never a made-up
figure. Shared by the read models (:mod:`yibao.web.sources`) and the templates' helpers
(:mod:`yibao.web.render`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Why a page section has no data (暂无数据的原因)."""

    reason: str
    module: str = ""

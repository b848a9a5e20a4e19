"""A settlement's trace as stored (计算过程): the engine's steps and the parameters they used.

Temporary home of the one serialiser until the engine's own lands (issue 11 item 2).
"""

from __future__ import annotations

from yibao.settlement.model import SettlementResult


def of(result: SettlementResult) -> list[dict[str, object]]:
    """JSON-ready trace lines of ``result``."""
    return [
        {
            "step": t.step,
            "label": t.label,
            "amount": t.amount,
            "detail": t.detail,
            "params": [getattr(u, "key", str(u)) for u in t.params],
        }
        for t in result.trace
    ]

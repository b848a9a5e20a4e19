"""Activation rates (激活率) by region, town, unit, category or channel."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from yibao.voucher.base import (
    REGION_NAMES,
    VoucherBase,
    _psn_type_label,
)
from yibao.voucher.model import EcError
from yibao.voucher.store import activation_rate_sql


class StatsOps(VoucherBase):
    """Activation-rate queries (激活率统计)."""

    def activation_rates(
        self, by: str, *, admdvs: str | None = None, until: datetime | None = None
    ) -> list[dict[str, object]]:
        """Activation rate (激活率) by region, town, unit, category or channel."""
        if by not in ("region", "town", "unit", "category", "channel"):
            raise EcError("EC_FIELD_INVALID", "by应为region/town/unit/category/channel")
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(activation_rate_sql(by)),
                {"admdvs": admdvs, "until": until or self.clock() + timedelta(seconds=1)},
            ).mappings()
            out = []
            for r in rows:
                insured, activated = int(r["insured"]), int(r["activated"])
                key = r["key"] or ""
                label = r["label"] or ""
                if by == "region":
                    label = REGION_NAMES.get(key, label)
                elif by == "category":
                    label = _psn_type_label(key)
                out.append(
                    {
                        "key": key,
                        "label": label,
                        "insured": insured,
                        "activated": activated,
                        "rate": f"{activated * 100 / insured:.1f}%" if insured else "-",
                    }
                )
            return out

"""Payment-reform parameters of a region on a date, from the policy files (政策参数).

Every value comes from ``policies/`` (``payment.*`` keys, docs/policy-format.md §3) with its
reference; the trace of a case carries the :class:`~yibao.policy.model.ParamUse` of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from yibao.encounter.amounts import AMOUNT_FIELDS
from yibao.payment.model.community import Band
from yibao.payment.model.pay import PayError, PayParams, cost_budget, unit_value
from yibao.policy.loader import resolve
from yibao.policy.model import PolicyError, ResolvedPolicy

#: institution ``dedc_hosp_lv`` (1/2/3/9) → policy ``level`` dimension (0–3)
LEVEL_OF = {"1": "1", "2": "2", "3": "3", "9": "0"}

_CASE_KEYS = (
    "payment.method",
    "payment.level_coefficient",
    "payment.min_stay_days",
    "payment.max_stay_days",
    "payment.fund_due.deductions",
)


@dataclass(frozen=True)
class RegionPayment:
    """What a region's payment runs need for one year (the values in force on 1 January)."""

    admdvs: str
    method: str
    policy: ResolvedPolicy

    def _v(self, key: str) -> Any:
        return self.policy.value(key)

    def for_level(self, dedc_hosp_lv: str) -> PayParams:
        """Case parameters for an institution of this level (起付线医院等级 1/2/3/9)."""
        level = (LEVEL_OF.get(dedc_hosp_lv, "0"),)
        m = self.method
        deductions = tuple(self._v("payment.fund_due.deductions"))
        bad = [d for d in deductions if d not in AMOUNT_FIELDS or d == "medfee_sumamt"]
        if bad:
            raise PolicyError(f"{self.admdvs}: payment.fund_due.deductions: 非结算金额字段 {bad}")
        keys = list(_CASE_KEYS)
        high = low = None
        if m in ("drg", "dip"):
            keys += [f"payment.{m}.high_ratio", f"payment.{m}.low_ratio"]
            high = self.policy.pick(f"payment.{m}.high_ratio", level)
            low = self._v(f"payment.{m}.low_ratio")
        if m == "drg":
            keys += ["payment.drg.high_rule", "payment.drg.low_rule"]
        return PayParams(
            method=m,
            coef=int(self.policy.pick("payment.level_coefficient", level)),
            high_ratio=int(high) if high is not None else 3 * 10_000,
            low_ratio=int(low) if low is not None else 5_000,
            high_rule=str(self._v("payment.drg.high_rule")) if m == "drg" else "by_item",
            low_rule=str(self._v("payment.drg.low_rule")) if m == "drg" else "by_item",
            min_stay_days=int(self._v("payment.min_stay_days")),
            max_stay_days=int(self._v("payment.max_stay_days")),
            deductions=deductions,
            uses={k: self.policy.use(k) for k in keys if self.policy.has(k)},
        )

    @property
    def cost_budget(self) -> int:
        """费用总额预算 = fund budget ÷ reimbursement ratio (fen)."""
        m = self._require_method()
        return cost_budget(
            int(self._v(f"payment.{m}.fund_budget")),
            int(self._v(f"payment.{m}.reimbursement_ratio")),
        )

    @property
    def planned_total(self) -> Decimal:
        m = self._require_method()
        key = (
            "payment.drg.planned_weight_total" if m == "drg" else "payment.dip.planned_score_total"
        )
        return Decimal(self._v(key))

    @property
    def provisional_unit_value(self) -> Decimal:
        """预算费率 / 预算点值 = cost budget ÷ planned total."""
        return unit_value(self.cost_budget, self.planned_total)

    def ratio(self, key: str) -> int:
        return int(self._v(key))

    @property
    def require_approval(self) -> bool:
        return bool(self._v("payment.list.require_approval"))

    def community_rule(self) -> tuple[int, int, tuple[Band, ...]]:
        """(retain share, retain cap, overrun bands) of the 医共体 rule, 1/10000 units."""
        bands = tuple(Band(u, s) for u, s in self._v("payment.ycm.overrun_bands"))
        return self.ratio("payment.ycm.retain_share"), self.ratio("payment.ycm.retain_cap"), bands

    def _require_method(self) -> str:
        if self.method not in ("drg", "dip"):
            raise PayError(
                f"{self.admdvs}: 本统筹区未实行DRG/DIP付费 (payment.method = {self.method})"
            )
        return self.method


def region(admdvs: str, year_or_day: int | date) -> RegionPayment:
    """The region's payment parameters for a year (values in force on 1 January) or a day."""
    on = date(year_or_day, 1, 1) if isinstance(year_or_day, int) else year_or_day
    policy = resolve(admdvs, on)
    return RegionPayment(admdvs, str(policy.value("payment.method")), policy)


def method_of(admdvs: str, on: date) -> str:
    """The region's inpatient payment method on a day (``none`` for a region without a file)."""
    try:
        return str(resolve(admdvs, on).value("payment.method"))
    except PolicyError:
        return "none"

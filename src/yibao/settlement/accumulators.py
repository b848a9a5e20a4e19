"""Year-to-date totals of one person (累计值) and their deltas: what the engine reads and what a
settlement adds. Pure data (re-exported by ``yibao.settlement.model``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(
    slots=True
)  # not frozen: built in the hot path (frozen __init__ costs ~4 µs); treat as immutable
class Accumulators:
    """Year-to-date totals for one person in one 医保年度 (all fen, except ``admissions``).

    The same type carries *deltas* (what one settlement adds); :meth:`plus` applies them and
    :meth:`negated` mirrors them. Keyed maps: ``dedc``/``inscp``/``maf_base``/``maf_pay`` by setting
    (inpatient/outpatient/chronic), ``hifp``/``eligible`` by cap pool, ``chronic`` by disease code.
    """

    year: int
    admissions: int = 0  # 住院次数
    dedc: Mapping[str, int] = field(default_factory=dict)  # 起付线已付
    inscp: Mapping[str, int] = field(default_factory=dict)  # 政策范围内费用累计 (分段用)
    hifp: Mapping[str, int] = field(default_factory=dict)  # 统筹基金已付
    eligible: Mapping[str, int] = field(default_factory=dict)  # 计入限额的核准费用 (珠海口径)
    chronic: Mapping[str, int] = field(default_factory=dict)  # 门慢特病基金已付, by disease
    serious_base: int = 0  # 大病/大额累计基数
    serious_pay: int = 0  # 大病/大额已付
    cvlserv_pay: int = 0  # 公务员补助已付
    maf_base: Mapping[str, int] = field(default_factory=dict)  # 救助累计基数
    maf_pay: Mapping[str, int] = field(default_factory=dict)  # 救助已付
    maf2_base: int = 0  # 倾斜救助累计基数
    maf2_pay: int = 0  # 倾斜救助已付
    acct_balc: int = 0  # 个人账户余额
    mulaid_balc: int = 0  # 共济账户可用余额

    def plus(self, delta: Accumulators) -> Accumulators:
        """These totals with ``delta`` applied (same year required)."""
        if delta.year != self.year:
            raise ValueError(
                f"accumulators: delta for year {delta.year} applied to year {self.year}"
            )
        return Accumulators(
            year=self.year,
            admissions=self.admissions + delta.admissions,
            dedc=_add(self.dedc, delta.dedc),
            inscp=_add(self.inscp, delta.inscp),
            hifp=_add(self.hifp, delta.hifp),
            eligible=_add(self.eligible, delta.eligible),
            chronic=_add(self.chronic, delta.chronic),
            serious_base=self.serious_base + delta.serious_base,
            serious_pay=self.serious_pay + delta.serious_pay,
            cvlserv_pay=self.cvlserv_pay + delta.cvlserv_pay,
            maf_base=_add(self.maf_base, delta.maf_base),
            maf_pay=_add(self.maf_pay, delta.maf_pay),
            maf2_base=self.maf2_base + delta.maf2_base,
            maf2_pay=self.maf2_pay + delta.maf2_pay,
            acct_balc=self.acct_balc + delta.acct_balc,
            mulaid_balc=self.mulaid_balc + delta.mulaid_balc,
        )

    def negated(self) -> Accumulators:
        """The mirror delta (冲销)."""
        return Accumulators(
            year=self.year,
            admissions=-self.admissions,
            dedc=_neg(self.dedc),
            inscp=_neg(self.inscp),
            hifp=_neg(self.hifp),
            eligible=_neg(self.eligible),
            chronic=_neg(self.chronic),
            serious_base=-self.serious_base,
            serious_pay=-self.serious_pay,
            cvlserv_pay=-self.cvlserv_pay,
            maf_base=_neg(self.maf_base),
            maf_pay=_neg(self.maf_pay),
            maf2_base=-self.maf2_base,
            maf2_pay=-self.maf2_pay,
            acct_balc=-self.acct_balc,
            mulaid_balc=-self.mulaid_balc,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for persistence); zero entries in maps are dropped."""
        out: dict[str, Any] = {}
        for name in _ACC_FIELDS:
            v = getattr(self, name)
            out[name] = {k: x for k, x in v.items() if x} if isinstance(v, Mapping) else v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Accumulators:
        """Inverse of :meth:`to_dict`; unknown keys are refused."""
        unknown = set(data) - set(_ACC_FIELDS)
        if unknown:
            raise ValueError(f"accumulators: unknown field(s) {sorted(unknown)}")
        kw: dict[str, Any] = {}
        for name in _ACC_FIELDS:
            if name in data:
                v = data[name]
                kw[name] = (
                    {str(k): int(x) for k, x in v.items()} if isinstance(v, Mapping) else int(v)
                )
        if "year" not in kw:
            raise ValueError("accumulators: year is required")
        return cls(**kw)


_ACC_FIELDS = (
    "year", "admissions", "dedc", "inscp", "hifp", "eligible", "chronic", "serious_base",
    "serious_pay", "cvlserv_pay", "maf_base", "maf_pay", "maf2_base", "maf2_pay", "acct_balc",
    "mulaid_balc",
)  # fmt: skip


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """Key-wise sum; zero entries are dropped so that a reversal restores an equal value."""
    if not b:
        return dict(a)
    out = dict(a)
    for k, v in b.items():
        total = out.get(k, 0) + v
        if total:
            out[k] = total
        else:
            out.pop(k, None)
    return out


def _neg(a: Mapping[str, int]) -> dict[str, int]:
    return {k: -v for k, v in a.items()}

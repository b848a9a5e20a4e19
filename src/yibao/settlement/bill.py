"""One bill on its way through the engine's steps (结算单据): the inputs, the benefit line found
for it, and what each step has worked out so far. Pure data; the steps in
``yibao.settlement.steps`` fill it in order and each appends its own trace line(s)."""

from __future__ import annotations

from yibao.policy.model import ResolvedPolicy
from yibao.settlement.model import (
    Accumulators,
    Encounter,
    ItemSplit,
    Person,
    SetlDetail,
    TraceStep,
)
from yibao.settlement.rules import BasicRule

FUND_NAMES = {
    "310100": "职工基本医疗保险统筹基金",
    "390100": "城乡居民基本医疗保险基金",
    "320100": "公务员医疗补助基金",
    "330100": "大额医疗费用补助基金",
    "390200": "城乡居民大病医疗保险基金",
    "310300": "职工大病补助基金",
    "390300": "城乡居民大病补充保险基金",
    "610100": "医疗救助基金",
    "310200": "城镇职工基本医疗保险个人账户基金",
}


class Bill:
    """Inputs and benefit line (set by ``open_bill``), then each step's figures (fen).

    A plain class, not a dataclass: one is built per settlement, and class-level defaults keep
    its construction to the inputs and the containers (a 44-field dataclass costs ~2 µs).
    """

    # 明细分割
    tot: int = 0
    ful: int = 0
    over: int = 0
    pre: int = 0
    inscp: int = 0
    class_inscp: dict[str, int] | None = None  # policy-range amount per item class (own ratio)
    # 起付线, 统筹基金
    act_dedc: int = 0
    hifp: int = 0
    over_cap: int = 0
    reduction: int = 0  # cross-region reduction (异地降低部分)
    prop_units: int = 0
    admissions: int = 0
    # 大病/大额, 公务员, 救助
    serious_fpt: str = ""
    serious_base: int = 0
    serious_pay: int = 0
    cvl_pay: int = 0
    maf_base: int = 0
    maf1: int = 0
    maf2_base: int = 0
    maf2: int = 0
    # 个人账户, 现金
    fund_sum: int = 0  # 基金支付总额 (set by the account step)
    psn_part: int = 0
    own: int = 0
    mulaid: int = 0
    cash: int = 0

    def __init__(
        self, person: Person, enc: Encounter, acc: Accumulators, policy: ResolvedPolicy,
        scheme: str, setting: str, level: str, scope: str | None, groups: tuple[str, ...],
        cls: str | None, basic: BasicRule | None,
    ) -> None:  # fmt: skip
        self.person = person
        self.enc = enc
        self.acc = acc
        self.policy = policy
        self.scheme = scheme  # employee 职工 / resident 居民
        self.setting = setting  # inpatient / outpatient / chronic / account_only
        self.level = level  # 起付线医院等级 "0".."3"
        self.scope = scope  # None 本地; in_province / cross_province 异地
        self.groups = groups  # 人群, most specific first
        self.cls = cls  # assistance class in force (救助类别), most protected first
        self.basic = basic  # None: account_only
        self.trace: list[TraceStep] = []
        self.details: list[SetlDetail] = []
        self.splits: list[ItemSplit] = []
        self.d_dedc: dict[str, int] = {}
        self.d_inscp: dict[str, int] = {}
        self.d_hifp: dict[str, int] = {}
        self.d_elig: dict[str, int] = {}
        self.d_chronic: dict[str, int] = {}

    @property
    def psn_scp(self) -> int:
        """The policy-range share left to the person after the pooled fund."""
        return self.inscp - self.hifp

    @property
    def copay(self) -> int:
        """The person's co-pay within the pooled fund's reach (分担): not deductible, not over cap."""
        return self.inscp - self.hifp - self.act_dedc - self.over_cap

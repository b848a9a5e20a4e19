"""Inputs of the settlement engine (结算引擎输入). Pure data: no I/O, no clock.

``Item`` (:mod:`yibao.items`, re-exported here) is the contract between the catalogue (医保目录,
which classifies an HIS fee line) and the engine (which splits it). Field names follow the national 2204 interface where one exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

# chrgitm_lv 收费项目等级 and the classified fee line: shared with the catalogue (yibao.items)
from yibao.items import CLASS_A as CLASS_A
from yibao.items import CLASS_B as CLASS_B
from yibao.items import CLASS_C as CLASS_C
from yibao.items import Item as Item
from yibao.policy.model import ParamUse
from yibao.settlement.accumulators import Accumulators as Accumulators

# --------------------------------------------------------------------------- person, encounter

RETIRED_PSN_TYPES = frozenset({"21", "12", "1204", "126013", "126015", "1112", "31", "13"})
MINOR_PSN_TYPES = frozenset({"41", "42", "43", "1401", "1402", "1403", "1404", "1405"})
SENIOR_PSN_TYPES = frozenset({"60", "16"})
EMPLOYEE_INSUTYPES = frozenset({"310"})
RESIDENT_INSUTYPES = frozenset({"390", "391", "380"})


@dataclass(frozen=True, slots=True)
class AssistanceClass:
    """A medical-assistance class (医疗救助类别) held from ``begndate`` to ``enddate`` (inclusive).

    ``cls`` is one of ``yibao.policy.model.ASSISTANCE_CLASSES``: tekun 特困, orphan 孤儿/事实无人抚养,
    dibao 低保, poverty_return 返贫致贫, dibao_edge 低保边缘, monitored 监测对象,
    illness_poverty 因病致贫重病患者.
    """

    cls: str
    begndate: date
    enddate: date | None = None

    def active_on(self, day: date) -> bool:
        return self.begndate <= day and (self.enddate is None or day <= self.enddate)


@dataclass(frozen=True, slots=True)
class Person:
    """The insured person (参保人) as the engine needs them."""

    psn_no: str
    insutype: str  # 险种类型: "310" 职工 / "390" 居民
    psn_type: str  # 人员类别 (national code: 11 在职, 21 退休, 41-43 学生儿童, 50 成年, 60 老年 …)
    insuplc_admdvs: str  # 参保地医保区划
    age: int = 40
    cvlserv_flag: bool = False  # 公务员标志
    tier: str | None = None  # 参保档次 ("1" 一档 / "2" 二档, Shenzhen)
    enrol_months: int = 120  # 连续参保月数
    assistance: tuple[AssistanceClass, ...] = ()
    pool_only: bool = False  # 单建统筹 (employee insurance without a personal account; 珠海)


FILINGS = ("long_term", "referral", "emergency", "temporary", "unfiled")


@dataclass(frozen=True, slots=True)
class Encounter:
    """One settlement's visit (就诊): where, when, what kind, and the classified fee lines.

    ``hosp_lv`` is the national 医院等级 code (1-14); ``level`` overrides the derived deductible
    level ("0" 一级以下/社康, "1", "2", "3"). ``filing`` is the cross-region filing type (备案类型),
    used only when the treatment region differs from the insured region.
    """

    med_type: str  # 医疗类别 (11, 12, 13, 14, 21, 22, 41, 51, 52 …)
    mdtrtarea_admvs: str  # 就医地医保区划
    begntime: date
    items: tuple[Item, ...]
    hosp_lv: str = "11"
    level: str | None = None
    endtime: date | None = None
    admission_no: int | None = None  # 本年度第几次住院; None: accumulators.admissions + 1
    filing: str = "unfiled"
    dise_codg: str | None = None  # 门诊慢特病病种编码
    acct_used_flag: str = "1"  # 0 不使用 / 1 本人账户 / 2 本人及共济账户
    psn_setlway: str = "01"


# --------------------------------------------------------------------------- results


@dataclass(
    slots=True
)  # not frozen: built in the hot path (frozen __init__ costs ~4 µs); treat as immutable
class ItemSplit:
    """The per-line split (明细分割, the 2204 ``result`` fields), amounts in fen."""

    feedetl_sn: str
    det_item_fee_sumamt: int
    cnt: Decimal
    pric: Decimal
    pric_uplmt_amt: int | None
    selfpay_prop: Decimal
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int
    chrgitm_lv: str
    med_chrgitm_type: str
    lmt_used_flag: str
    hi_nego_drug_flag: str
    memo: str = ""

    def negated(self) -> ItemSplit:
        return ItemSplit(
            self.feedetl_sn,
            -self.det_item_fee_sumamt,
            -self.cnt,
            self.pric,
            self.pric_uplmt_amt,
            self.selfpay_prop,
            -self.fulamt_ownpay_amt,
            -self.overlmt_amt,
            -self.preselfpay_amt,
            -self.inscp_scp_amt,
            self.chrgitm_lv,
            self.med_chrgitm_type,
            self.lmt_used_flag,
            self.hi_nego_drug_flag,
            self.memo,
        )


@dataclass(
    slots=True
)  # not frozen: built in the hot path (frozen __init__ costs ~4 µs); treat as immutable
class SetlDetail:
    """One fund's line (结算基金分项 ``setldetail``)."""

    fund_pay_type: str
    fund_pay_type_name: str
    inscp_scp_amt: int  # the base this fund worked on
    crt_payb_lmt_amt: int  # 本次可支付限额金额: room left under the cap, or the uncapped pay
    fund_payamt: int
    proc: str | Deferred

    @property
    def setl_proc_info(self) -> str:
        """结算过程信息 (free text)."""
        return _text(self.proc)

    def negated(self) -> SetlDetail:
        return SetlDetail(
            self.fund_pay_type,
            self.fund_pay_type_name,
            -self.inscp_scp_amt,
            -self.crt_payb_lmt_amt,
            -self.fund_payamt,
            "冲销: " + self.setl_proc_info,
        )


SETLINFO_AMOUNTS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
    "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "hosp_part_amt",
    "balc", "acct_mulaid_pay",
)  # fmt: skip


@dataclass(
    slots=True
)  # not frozen: built in the hot path (frozen __init__ costs ~4 µs); treat as immutable
class SetlInfo:
    """Settlement amounts (结算信息 ``setlinfo``) in fen, national field names."""

    medfee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    hifp_pay: int
    pool_prop_selfpay: Decimal  # ratio applied by the pooled fund
    cvlserv_pay: int
    hifes_pay: int
    hifmi_pay: int
    hifob_pay: int
    maf_pay: int
    oth_pay: int
    fund_pay_sumamt: int
    psn_part_amt: int
    acct_pay: int
    psn_cash_pay: int
    hosp_part_amt: int
    balc: int  # 个人账户余额 after this settlement
    acct_mulaid_pay: int
    med_type: str
    insutype: str
    psn_type: str
    cvlserv_flag: str
    clr_type: str

    def negated(self, balc: int) -> SetlInfo:
        kw: dict[str, Any] = {n: -getattr(self, n) for n in SETLINFO_AMOUNTS}
        kw["balc"] = balc
        return SetlInfo(
            pool_prop_selfpay=self.pool_prop_selfpay,
            med_type=self.med_type,
            insutype=self.insutype,
            psn_type=self.psn_type,
            cvlserv_flag=self.cvlserv_flag,
            clr_type=self.clr_type,
            **kw,
        )


class Deferred:
    """Text rendered only when read (keeps the engine's hot path free of string formatting)."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Callable[..., str], *args: Any) -> None:
        self.fn = fn
        self.args = args

    def __str__(self) -> str:
        return self.fn(*self.args)

    def __repr__(self) -> str:
        return repr(str(self))


def _text(t: str | Deferred) -> str:
    return t if isinstance(t, str) else str(t)


@dataclass(slots=True, eq=False)  # not frozen: see TraceStep; ``view`` is a serialiser memo
class Used:
    """One parameter as a step used it: the policy's :class:`ParamUse` (key, label, as written,
    since, reference or assumed+reason, region) and the value *applied* to this bill, normalised
    (fen, 1/10000 units, bands, a cap amount or ``None`` for 不设封顶, a rule object …).

    Steps build these once per resolved rule (cached on the policy), so the trace costs no
    allocation per bill; ``yibao.settlement.trace`` formats each once and keeps it in ``view``.
    """

    use: ParamUse
    value: Any
    view: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return self.use.key


@dataclass(
    slots=True
)  # not frozen: built in the hot path (frozen __init__ costs ~4 µs); treat as immutable
class TraceStep:
    """One step of the explanation (结算过程): what was done, the amount, the parameters used
    (:class:`Used`: key, applied value, reference). ``yibao.settlement.trace`` serialises it."""

    step: str
    label: str
    amount: int
    text: str | Deferred
    params: tuple[Used, ...] = ()

    @property
    def detail(self) -> str:
        """The step's explanation in Chinese."""
        return _text(self.text)


@dataclass(
    slots=True
)  # not frozen: built in the hot path (frozen __init__ costs ~4 µs); treat as immutable
class SettlementResult:
    """Everything one settlement produced (pure data)."""

    admdvs: str  # the policy region applied (参保地)
    policy_date: date
    setlinfo: SetlInfo
    setldetail: tuple[SetlDetail, ...]
    items: tuple[ItemSplit, ...]
    deltas: Accumulators
    trace: tuple[TraceStep, ...]
    reversed: bool = False


class SettlementError(ValueError):
    """A bill the engine cannot settle (结算失败): names the field and the rule."""

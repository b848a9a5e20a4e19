"""Registry model (参保登记模型): persons, enrolments, assistance identities. Pure: no I/O, no clock.

The settlement read model :class:`RegistrySnapshot` and the 1101 output are built here from
plain records; the service loads the records and passes the date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from yibao.money import fen_str

# psn_insu_stas 人员参保状态 (nhsa-interface.md §3.13, [HN127] 表668)
STAS_NONE = "0"  # 未参保
STAS_NORMAL = "1"  # 正常参保
STAS_PAUSED = "2"  # 暂停参保
STAS_INVALID = "3"  # 无效参保
STAS_ENDED = "4"  # 终止参保

MAIN_INSUTYPES = ("310", "390")  # 职工基本 / 城乡居民基本: the rows a HIS settles against

# Assistance identities (医疗救助身份) → registry class key and Chinese name. The checkout maps the
# keys onto the engine's (yibao.checkout.model.ASSISTANCE_KEY: extreme_poverty → tekun,
# near_dibao → dibao_edge, the rest unchanged).
# 2306 因病致贫 is the [HN127] 23xx 医疗救助 code; the 2399xx codes are Yibao's local extension
# (地方扩展) for the classes of the 医疗救助 rules (policy-rules.md §6); see codes/data/psn_idet_type.yaml.
ASSISTANCE_CLASSES: dict[str, tuple[str, str]] = {
    "239901": ("extreme_poverty", "特困人员"),
    "239902": ("orphan", "孤儿/事实无人抚养儿童"),
    "239903": ("dibao", "最低生活保障对象(低保)"),
    "239904": ("near_dibao", "低保边缘家庭成员"),
    "239905": ("monitored", "防止返贫监测对象"),
    "239906": ("poverty_return", "返贫致贫人口"),
    "2306": ("illness_poverty", "因病致贫重病患者"),
}


@dataclass(frozen=True, slots=True)
class Person:
    """An insured person (参保人). ``certno`` is the full number: mask it before showing."""

    psn_no: str
    psn_cert_type: str
    certno: str
    psn_name: str
    gend: str
    brdy: date
    naty: str = ""
    tel: str = ""
    town: str = ""  # 乡镇/街道 (for activation targets by town)


BLOCK_REASONS: dict[str, str] = {
    "waiting": "待遇等待期",  # after a first or interrupted enrolment (首次/中断后参保)
    "arrears": "欠费暂停待遇",  # arrears beyond the allowed months (not during approved 缓缴)
    "unpaid": "未缴费",  # the year's resident contribution not paid (居民医保当年未缴费)
}


@dataclass(frozen=True, slots=True)
class BenefitBlock:
    """A period without benefits (待遇限制期) for one insurance type: ``end`` is exclusive.

    Derived by the funds capability from contributions and payments (benefits follow payment);
    ``end`` None means open until paid (restoration on payment sets it).
    """

    begin: date
    end: date | None
    reason: str  # key of BLOCK_REASONS
    detail: str = ""

    def covers(self, on: date) -> bool:
        return self.begin <= on and (self.end is None or on < self.end)

    def describe(self) -> str:
        """Chinese text for a refusal: what, since when, until when."""
        label = BLOCK_REASONS.get(self.reason, self.reason)
        until = f"至{self.end.isoformat()}前" if self.end else "缴清欠费后恢复"
        text = f"{label}（自{self.begin.isoformat()}起，{until}）"
        return f"{text}：{self.detail}" if self.detail else text


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One insurance type of a person (参保信息, one 1101 ``insuinfo`` row)."""

    insutype: str
    psn_insu_stas: str
    psn_insu_date: date
    psn_type: str
    insuplc_admdvs: str
    paus_insu_date: date | None = None
    emp_no: str = ""
    emp_name: str = ""
    flxempe_flag: bool = False  # 灵活就业
    cvlserv_flag: bool = False  # 公务员
    pool_only: bool = False  # 单建统筹 (no personal account); False: 统账结合
    benefit_blocks: tuple[BenefitBlock, ...] = ()  # 待遇限制期 (funds: waiting, arrears, unpaid)

    def active_on(self, on: date) -> bool:
        """Insured on ``on``: started, not paused/ended before, and not 未参保/无效."""
        if self.psn_insu_stas in (STAS_NONE, STAS_INVALID) or on < self.psn_insu_date:
            return False
        if self.paus_insu_date is not None:
            return on < self.paus_insu_date
        return self.psn_insu_stas == STAS_NORMAL


@dataclass(frozen=True, slots=True)
class AssistanceIdentity:
    """A person identity (人员身份, 1101 ``idetinfo``) with its valid period (``endtime`` inclusive)."""

    psn_idet_type: str
    begntime: date
    endtime: date | None = None
    psn_type_lv: str = ""
    memo: str = ""

    def valid_on(self, on: date) -> bool:
        return self.begntime <= on and (self.endtime is None or on <= self.endtime)

    @property
    def assistance_class(self) -> str | None:
        """The engine's 医疗救助 class key, or None for identities that are not assistance."""
        entry = ASSISTANCE_CLASSES.get(self.psn_idet_type)
        return entry[0] if entry else None


@dataclass(frozen=True, slots=True)
class GongjiMember:
    """A household member whose personal account may pay for this person (家庭共济)."""

    psn_no: str
    relation: str
    acct_balance_fen: int


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    """Everything the settlement engine needs about the insured on one date (结算用参保快照)."""

    psn_no: str
    psn_name: str
    gend: str
    brdy: date
    on_date: date
    age: int
    insutype: str
    psn_type: str
    psn_insu_stas: str
    insuplc_admdvs: str
    cvlserv_flag: bool
    flxempe_flag: bool
    emp_name: str
    continuous_months: int  # 连续参保月数 on the date
    acct_balance_fen: int  # 个人账户余额 (fen; read without lock — settle re-reads under lock)
    assistance_classes: tuple[str, ...]  # e.g. ("dibao",) — classes valid on the date
    identities: tuple[AssistanceIdentity, ...]  # all idetinfo rows valid on the date
    supplementary_insutypes: tuple[str, ...]  # other active types (320, 330, 392 …)
    household_no: str | None = None
    gongji_members: tuple[GongjiMember, ...] = field(default=())
    pool_only: bool = False  # 单建统筹 employee insurance (no personal account)


class NotEnrolled(LookupError):
    """The person has no active enrolment of that insutype on the date (未参保或参保状态异常)."""


class NoBenefit(NotEnrolled):
    """Enrolled, but without benefits on the date (待遇等待期 / 欠费暂停 / 未缴费)."""

    def __init__(self, message: str, block: BenefitBlock) -> None:
        super().__init__(message)
        self.block = block


def age_on(brdy: date, on: date) -> int:
    """Age in whole years on ``on`` (周岁)."""
    return on.year - brdy.year - ((on.month, on.day) < (brdy.month, brdy.day))


def full_months(start: date, on: date) -> int:
    """Whole months from ``start`` to ``on`` (0 when ``on`` < ``start``)."""
    if on < start:
        return 0
    months = (on.year - start.year) * 12 + (on.month - start.month)
    if on.day < start.day:
        months -= 1
    return max(months, 0)


def build_snapshot(
    person: Person,
    enrolments: list[Enrolment],
    identities: list[AssistanceIdentity],
    acct_balance_fen: int,
    insutype: str,
    on: date,
    household_no: str | None = None,
    gongji_members: tuple[GongjiMember, ...] = (),
) -> RegistrySnapshot:
    """The settlement snapshot; raises :class:`NotEnrolled` when ``insutype`` is not active."""
    enr = next((e for e in enrolments if e.insutype == insutype and e.active_on(on)), None)
    if enr is None:
        raise NotEnrolled(f"人员{person.psn_no}在{on.isoformat()}无有效的险种{insutype}参保")
    block = next((b for b in enr.benefit_blocks if b.covers(on)), None)
    if block is not None:
        raise NoBenefit(
            f"人员{person.psn_no}在{on.isoformat()}不享受险种{insutype}待遇：{block.describe()}",
            block,
        )
    valid = tuple(i for i in identities if i.valid_on(on))
    classes = tuple(sorted({c for i in valid if (c := i.assistance_class)}))
    supplementary = tuple(
        sorted(e.insutype for e in enrolments if e.insutype != insutype and e.active_on(on))
    )
    cvlserv = enr.cvlserv_flag or "320" in supplementary
    return RegistrySnapshot(
        psn_no=person.psn_no,
        psn_name=person.psn_name,
        gend=person.gend,
        brdy=person.brdy,
        on_date=on,
        age=age_on(person.brdy, on),
        insutype=insutype,
        psn_type=enr.psn_type,
        psn_insu_stas=enr.psn_insu_stas,
        insuplc_admdvs=enr.insuplc_admdvs,
        cvlserv_flag=cvlserv,
        flxempe_flag=enr.flxempe_flag,
        emp_name=enr.emp_name,
        continuous_months=full_months(enr.psn_insu_date, on),
        acct_balance_fen=acct_balance_fen,
        assistance_classes=classes,
        identities=valid,
        supplementary_insutypes=supplementary,
        household_no=household_no,
        gongji_members=gongji_members,
        pool_only=enr.pool_only,
    )


def _d(v: date | None) -> str | None:
    return v.isoformat() if v else None


def build_1101(
    person: Person,
    enrolments: list[Enrolment],
    identities: list[AssistanceIdentity],
    acct_balance_fen: int,
    on: date,
) -> dict[str, object]:
    """The 1101 人员信息获取 output (nhsa-interface.md §2.2) with national field names.

    ``insuinfo`` has one row per insurance type (all statuses, as the national service returns
    them); ``balc`` is the personal-account balance in yuan (2 decimals) on the 310 row and 0.00
    on the others. ``certno`` is the full number: the caller must audit the disclosure.
    """
    insuinfo = [
        {
            "balc": fen_str(acct_balance_fen if e.insutype == "310" else 0),
            "insutype": e.insutype,
            "psn_type": e.psn_type,
            "psn_insu_stas": e.psn_insu_stas,
            "psn_insu_date": e.psn_insu_date.isoformat(),
            "paus_insu_date": _d(e.paus_insu_date),
            "cvlserv_flag": "1" if e.cvlserv_flag else "0",
            "insuplc_admdvs": e.insuplc_admdvs,
            "emp_name": e.emp_name,
        }
        for e in sorted(enrolments, key=lambda e: e.insutype)
    ]
    idetinfo = [
        {
            "psn_idet_type": i.psn_idet_type,
            "psn_type_lv": i.psn_type_lv,
            "memo": i.memo,
            "begntime": f"{i.begntime.isoformat()} 00:00:00",
            "endtime": f"{i.endtime.isoformat()} 23:59:59" if i.endtime else None,
        }
        for i in sorted(identities, key=lambda i: (i.begntime, i.psn_idet_type))
    ]
    return {
        "baseinfo": {
            "psn_no": person.psn_no,
            "psn_cert_type": person.psn_cert_type,
            "certno": person.certno,
            "psn_name": person.psn_name,
            "gend": person.gend,
            "naty": person.naty,
            "brdy": person.brdy.isoformat(),
            "age": f"{age_on(person.brdy, on)}.0",
            "exp_content": "",
        },
        "insuinfo": insuinfo,
        "idetinfo": idetinfo,
    }

"""Cross-region filing (异地就医备案): pure rules — types, validity, matching, status, cancellation.

No I/O, no database, no clock: every function takes the dates it needs.

Sources: policy-rules.md §4 (医保发〔2022〕22号: long-term filings 长期有效; temporary filings
"原则上不少于6个月"; 急诊抢救 视同备案; filing before the discharge settlement still allows direct
settlement) and nhsa-interface.md §5.3 (types; 2501 ``refl_type`` 1 市内 / 2 省内异地 / 3 省外异地;
``biz_appy_type`` 06 转诊转院登记, 07 异地急诊住院登记, 08 异地安置登记).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# The settlement engine's filing codes (yibao.policy.model.FILINGS / yibao.settlement.model.FILINGS).
LONG_TERM = "long_term"
REFERRAL = "referral"
EMERGENCY = "emergency"
TEMPORARY = "temporary"
UNFILED = "unfiled"
ENGINE_FILINGS = (LONG_TERM, REFERRAL, EMERGENCY, TEMPORARY, UNFILED)

#: best first: the status a settlement gets when several filings cover it
PRIORITY = (LONG_TERM, REFERRAL, EMERGENCY, TEMPORARY, UNFILED)

#: 22号: temporary filings are valid "原则上不少于6个月" (policy-rules.md §4)
MIN_TEMPORARY_MONTHS = 6


class FilingType(StrEnum):
    """备案类型. The three long-term ones are 长期 filings; the others temporary."""

    RESETTLED = "resettled"  # 异地安置退休人员
    LONG_RESIDENCE = "long_residence"  # 异地长期居住人员
    RESIDENT_WORK = "resident_work"  # 常驻异地工作人员
    REFERRAL = "referral"  # 异地转诊人员
    TEMPORARY = "temporary"  # 临时外出就医人员
    EMERGENCY = "emergency"  # 急诊抢救 (视同备案; a record is optional, 先就诊后补备案)


TYPE_NAMES: dict[FilingType, str] = {
    FilingType.RESETTLED: "异地安置退休人员",
    FilingType.LONG_RESIDENCE: "异地长期居住人员",
    FilingType.RESIDENT_WORK: "常驻异地工作人员",
    FilingType.REFERRAL: "异地转诊人员",
    FilingType.TEMPORARY: "临时外出就医人员",
    FilingType.EMERGENCY: "急诊抢救人员",
}

LONG_TERM_TYPES = frozenset(
    {FilingType.RESETTLED, FilingType.LONG_RESIDENCE, FilingType.RESIDENT_WORK}
)

ENGINE_CODE: dict[FilingType, str] = {
    FilingType.RESETTLED: LONG_TERM,
    FilingType.LONG_RESIDENCE: LONG_TERM,
    FilingType.RESIDENT_WORK: LONG_TERM,
    FilingType.REFERRAL: REFERRAL,
    FilingType.TEMPORARY: TEMPORARY,
    FilingType.EMERGENCY: EMERGENCY,
}

#: 2505 ``biz_appy_type`` codes that are cross-region filings (nhsa-interface.md §5.3)
BIZ_APPY_FILING: dict[str, FilingType] = {
    "06": FilingType.REFERRAL,  # 转诊转院登记
    "07": FilingType.EMERGENCY,  # 异地急诊住院登记
    "08": FilingType.RESETTLED,  # 异地安置登记
}


class Status(StrEnum):
    ACTIVE = "active"  # 有效
    CANCELLED = "cancelled"  # 已撤销 (void from the start)
    ENDED = "ended"  # 已终止 (valid until enddate)


class FilingError(ValueError):
    """A filing request refused by a rule; the message names the field and the rule (中文)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Filing:
    """One cross-region filing (异地就医备案) of an insured person.

    ``mdtrtarea_admdvs`` is the filed place (备案就医地): a city or county code, or a province
    code ``xx0000`` (the whole province). ``enddate`` None: open-ended (长期有效).
    """

    filing_id: str  # trt_dcla_detl_sn 待遇申报明细流水号
    psn_no: str
    insuplc_admdvs: str
    mdtrtarea_admdvs: str
    filing_type: FilingType
    begndate: date
    enddate: date | None
    status: Status = Status.ACTIVE

    @property
    def engine_code(self) -> str:
        return ENGINE_CODE[self.filing_type]

    def covers_place(self, mdtrtarea_admvs: str) -> bool:
        """The treatment region lies in the filed place (same code, city, or province)."""
        return covers(self.mdtrtarea_admdvs, mdtrtarea_admvs)

    def in_force(self, first: date, last: date | None = None) -> bool:
        """Valid on some day of ``first``..``last`` (a stay filed before discharge counts)."""
        last = last or first
        if self.status is Status.CANCELLED:
            return False
        return self.begndate <= last and (self.enddate is None or first <= self.enddate)


def covers(filed: str, treatment: str) -> bool:
    """Whether filed place ``filed`` contains ``treatment`` (admdvs hierarchy, §3.14)."""
    if filed == treatment:
        return True
    if filed.endswith("0000"):
        return filed[:2] == treatment[:2]
    if filed.endswith("00"):
        return filed[:4] == treatment[:4]
    return False


def is_cross_region(insuplc_admdvs: str, mdtrtarea_admvs: str) -> bool:
    """异地: as the engine decides it (different city: first four digits differ)."""
    return insuplc_admdvs[:4] != mdtrtarea_admvs[:4]


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months (clamped to the month's last day)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def validity(filing_type: FilingType, begndate: date, enddate: date | None) -> date | None:
    """The end date a new filing gets; refuses periods the rules do not allow.

    Long-term: open-ended unless an end is given. Temporary and referral: at least
    :data:`MIN_TEMPORARY_MONTHS` months (default exactly that). Emergency: the given end, or
    the same six months (a 补备案 covering the stay).
    """
    if enddate is not None and enddate < begndate:
        raise FilingError("enddate", f"结束日期 {enddate} 早于开始日期 {begndate}")
    if filing_type in LONG_TERM_TYPES:
        return enddate
    minimum = add_months(begndate, MIN_TEMPORARY_MONTHS) - _ONE_DAY
    if enddate is None:
        return minimum
    if filing_type is not FilingType.EMERGENCY and enddate < minimum:
        raise FilingError(
            "enddate",
            f"临时备案有效期原则上不少于{MIN_TEMPORARY_MONTHS}个月 (医保发〔2022〕22号)，"
            f"结束日期不得早于 {minimum}",
        )
    return enddate


_ONE_DAY = date(2000, 1, 2) - date(2000, 1, 1)


def check_new(
    filing_type: FilingType,
    insuplc_admdvs: str,
    mdtrtarea_admdvs: str,
    begndate: date,
    enddate: date | None,
    existing: Iterable[Filing],
) -> date | None:
    """Validate a new filing against the rules and the person's filings; return its end date.

    Refused: a filed place inside the insured region (not 异地); a second active long-term
    filing whose period overlaps (one 长期 filing at a time — end the old one first).
    """
    for name, code in (("insuplc_admdvs", insuplc_admdvs), ("mdtrtarea_admdvs", mdtrtarea_admdvs)):
        if not (len(code) == 6 and code.isdigit()):
            raise FilingError(name, f"{code!r} 不是6位医保区划代码")
    if covers(mdtrtarea_admdvs, insuplc_admdvs) or not is_cross_region(
        insuplc_admdvs, mdtrtarea_admdvs
    ):
        raise FilingError(
            "mdtrtarea_admdvs",
            f"备案地 {mdtrtarea_admdvs} 含参保地 {insuplc_admdvs}，不属于异地就医",
        )
    end = validity(filing_type, begndate, enddate)
    if filing_type in LONG_TERM_TYPES:
        for f in existing:
            overlaps = (f.enddate is None or f.enddate >= begndate) and (
                end is None or end >= f.begndate
            )
            if f.filing_type in LONG_TERM_TYPES and f.status is not Status.CANCELLED and overlaps:
                raise FilingError(
                    "filing_type",
                    f"已有有效的长期备案 {f.filing_id}（{TYPE_NAMES[f.filing_type]}，"
                    f"备案地 {f.mdtrtarea_admdvs}），请先终止后再备案",
                )
    return end


def status_for(
    filings: Iterable[Filing],
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    on_date: date,
    *,
    emergency: bool,
    settle_date: date | None = None,
) -> str:
    """The engine's filing code for a visit (备案状态).

    Only the person's filings from ``insuplc_admdvs`` whose filed place contains the treatment
    region and whose period meets ``on_date``..``settle_date`` count (so a filing made during a
    stay, before the discharge settlement, covers the stay). The best one wins
    (:data:`PRIORITY`); an emergency visit (急诊抢救) is at least ``emergency`` (视同备案).
    Local care returns ``unfiled`` (the engine ignores filing for local care).
    """
    if not is_cross_region(insuplc_admdvs, mdtrtarea_admvs):
        return UNFILED
    found = {EMERGENCY} if emergency else set()
    for f in filings:
        if (
            f.insuplc_admdvs == insuplc_admdvs
            and f.covers_place(mdtrtarea_admvs)
            and f.in_force(on_date, settle_date)
        ):
            found.add(f.engine_code)
    for code in PRIORITY:
        if code in found:
            return code
    return UNFILED


def check_cancel(f: Filing, *, used_by: Iterable[str], today: date) -> None:
    """撤销 (void from the start): only an active filing that no settlement has relied on."""
    if f.status is not Status.ACTIVE:
        raise FilingError(
            "trt_dcla_detl_sn", f"备案 {f.filing_id} 状态为 {f.status.value}，不能撤销"
        )
    used = sorted(used_by)
    if used:
        raise FilingError(
            "trt_dcla_detl_sn",
            f"备案 {f.filing_id} 已用于异地结算 {', '.join(used[:5])}，不能撤销；请办理终止备案",
        )


def check_end(f: Filing, end: date, *, last_use: date | None, today: date) -> None:
    """终止: set an end date — not before today, the start, or the last settlement it covered."""
    if f.status is not Status.ACTIVE:
        raise FilingError(
            "trt_dcla_detl_sn", f"备案 {f.filing_id} 状态为 {f.status.value}，不能终止"
        )
    floor = max(d for d in (today, f.begndate, last_use) if d is not None)
    if end < floor:
        raise FilingError(
            "enddate", f"终止日期 {end} 不得早于 {floor}（今天、开始日期或最后一次使用日期）"
        )
    if f.enddate is not None and end > f.enddate:
        raise FilingError("enddate", f"终止日期 {end} 晚于原结束日期 {f.enddate}")

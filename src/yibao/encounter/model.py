"""Encounters (就诊) and their state machines. Pure: no I/O, no database, no clock.

Three kinds (nhsa-interface.md §2.3–§2.9, §7.5):

- outpatient (门诊): 2201 挂号 → 2203 就诊信息 → 2204 费用明细 per ``chrg_bchno`` (2205 removes an
  unsettled batch) → 2206 预结算 → 2207 结算 → 2208 撤销; 2202 cancels the registration only when
  nothing is settled;
- inpatient (住院): 2401 入院 → 2301 费用明细 (2302 removes unsettled lines) → 2402 出院
  (2405 undoes it, 2404 cancels the admission) → 2303 预结算 → 2304 结算 → 2305 撤销; a mid-stay
  settlement (中途结算, ``mid_setl_flag=1``) settles the fees so far while the patient stays;
- pharmacy (药店): 2101 预结算 (stateless) → 2102 结算 (creates the visit) → 2103 撤销.

Each transition is a function ``Encounter -> Encounter`` that raises :class:`IllegalTransition`
with a Chinese ``err_msg`` naming the current state and the attempted transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Kind(StrEnum):
    """Encounter kind (就诊类型)."""

    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    PHARMACY = "pharmacy"


class State(StrEnum):
    """Encounter state (就诊状态)."""

    REGISTERED = "registered"
    INFO_UPLOADED = "info_uploaded"
    FEES_UPLOADED = "fees_uploaded"
    PRE_SETTLED = "pre_settled"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    REGISTRATION_CANCELLED = "registration_cancelled"
    ADMITTED = "admitted"
    DISCHARGED = "discharged"
    ADMISSION_CANCELLED = "admission_cancelled"
    PURCHASING = "purchasing"


STATE_LABEL: Mapping[State, str] = {
    State.REGISTERED: "已挂号",
    State.INFO_UPLOADED: "已上传就诊信息",
    State.FEES_UPLOADED: "已上传费用明细",
    State.PRE_SETTLED: "已预结算",
    State.SETTLED: "已结算",
    State.CANCELLED: "结算已撤销",
    State.REGISTRATION_CANCELLED: "挂号已撤销",
    State.ADMITTED: "在院",
    State.DISCHARGED: "已出院",
    State.ADMISSION_CANCELLED: "入院已撤销",
    State.PURCHASING: "购药中",
}

#: transaction names (交易名称), nhsa-interface.md §2
INFNO_NAME: Mapping[str, str] = {
    "2101": "药店预结算",
    "2102": "药店结算",
    "2103": "药店结算撤销",
    "2201": "门诊挂号",
    "2202": "门诊挂号撤销",
    "2203": "门诊就诊信息上传",
    "2204": "门诊费用明细信息上传",
    "2205": "门诊费用明细信息撤销",
    "2206": "门诊预结算",
    "2207": "门诊结算",
    "2208": "门诊结算撤销",
    "2301": "住院费用明细上传",
    "2302": "住院费用明细撤销",
    "2303": "住院预结算",
    "2304": "住院结算",
    "2305": "住院结算撤销",
    "2401": "入院办理",
    "2402": "出院办理",
    "2403": "住院信息变更",
    "2404": "入院撤销",
    "2405": "出院撤销",
}

ALL_BATCHES = "0000"  # chrg_bchno / feedetl_sn "0000": every unsettled line (§2.5, §2.7)


class EncounterError(ValueError):
    """A request the encounter cannot accept; ``err_msg`` is the Chinese message for the HIS."""

    def __init__(self, err_msg: str) -> None:
        super().__init__(err_msg)
        self.err_msg = err_msg


class IllegalTransition(EncounterError):
    """The transaction is not allowed in the encounter's current state (状态不允许)."""

    def __init__(self, enc: Encounter, infno: str, reason: str = "") -> None:
        self.state = enc.state
        self.infno = infno
        msg = (
            f"就诊ID {enc.mdtrt_id or '(新)'} 当前状态为「{STATE_LABEL[enc.state]}」，"
            f"不能办理【{infno}】{INFNO_NAME.get(infno, '')}"
        )
        super().__init__(msg + (f"：{reason}" if reason else ""))


@dataclass(frozen=True, slots=True)
class Encounter:
    """One visit (就诊) as the state machines see it.

    ``unsettled_batches``/``settled_batches`` are the outpatient charge batches (收费批次);
    ``unsettled_lines`` counts fee lines not yet settled (all kinds); ``active_settlements`` are
    settlements not cancelled; ``final_setl_id`` is the inpatient discharge settlement.
    """

    mdtrt_id: str
    kind: Kind
    state: State
    psn_no: str
    insutype: str
    fixmedins_code: str
    insuplc_admdvs: str
    mdtrtarea_admvs: str
    med_type: str = ""
    version: int = 0
    discharged: bool = False
    unsettled_lines: int = 0
    unsettled_batches: frozenset[str] = frozenset()
    settled_batches: Mapping[str, str] = field(default_factory=dict)  # chrg_bchno → setl_id
    active_settlements: frozenset[str] = frozenset()
    final_setl_id: str | None = None

    @property
    def cross_region(self) -> bool:
        """异地就医: insured region ≠ treatment region."""
        return self.insuplc_admdvs != self.mdtrtarea_admvs


def _require(enc: Encounter, infno: str, kind: Kind, *states: State) -> None:
    if enc.kind is not kind:
        raise IllegalTransition(enc, infno, f"该交易不适用于{_KIND_LABEL[kind]}以外的就诊")
    if enc.state not in states:
        raise IllegalTransition(enc, infno)


_KIND_LABEL = {Kind.OUTPATIENT: "门诊", Kind.INPATIENT: "住院", Kind.PHARMACY: "药店购药"}


def _step(enc: Encounter, **changes: object) -> Encounter:
    return replace(enc, version=enc.version + 1, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ outpatient (门诊)


def register_outpatient(
    *,
    mdtrt_id: str,
    psn_no: str,
    insutype: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
) -> Encounter:
    """2201 门诊挂号: a new visit in state 已挂号."""
    return Encounter(
        mdtrt_id=mdtrt_id,
        kind=Kind.OUTPATIENT,
        state=State.REGISTERED,
        psn_no=psn_no,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
        version=1,
    )


def cancel_registration(enc: Encounter) -> Encounter:
    """2202 门诊挂号撤销: only when nothing is settled and no unsettled fee lines remain."""
    _require(
        enc,
        "2202",
        Kind.OUTPATIENT,
        State.REGISTERED,
        State.INFO_UPLOADED,
        State.FEES_UPLOADED,
        State.PRE_SETTLED,
        State.CANCELLED,
        State.SETTLED,
    )
    if enc.active_settlements:
        raise IllegalTransition(
            enc,
            "2202",
            f"存在未撤销的结算 {', '.join(sorted(enc.active_settlements))}，请先办理【2208】",
        )
    if enc.unsettled_batches:
        raise IllegalTransition(
            enc,
            "2202",
            f"存在未结算的费用明细批次 {', '.join(sorted(enc.unsettled_batches))}，请先办理【2205】",
        )
    return _step(enc, state=State.REGISTRATION_CANCELLED)


def upload_visit_info(enc: Encounter, med_type: str) -> Encounter:
    """2203 门诊就诊信息上传: sets the one medical type of the visit (每次就诊只能选择一个医疗类别)."""
    _require(enc, "2203", Kind.OUTPATIENT, State.REGISTERED, State.INFO_UPLOADED)
    if not med_type:
        raise EncounterError("med_type（医疗类别）不能为空")
    return _step(enc, state=State.INFO_UPLOADED, med_type=med_type)


def upload_fee_batch(enc: Encounter, chrg_bchno: str, line_count: int) -> Encounter:
    """2204 门诊费用明细信息上传: one whole charge batch (同一收费批次须一次上传)."""
    _require(
        enc,
        "2204",
        Kind.OUTPATIENT,
        State.INFO_UPLOADED,
        State.FEES_UPLOADED,
        State.PRE_SETTLED,
        State.SETTLED,
        State.CANCELLED,
    )
    if not chrg_bchno or chrg_bchno == ALL_BATCHES:
        raise EncounterError(f"chrg_bchno（收费批次号）无效：{chrg_bchno!r}")
    if chrg_bchno in enc.unsettled_batches or chrg_bchno in enc.settled_batches:
        raise IllegalTransition(enc, "2204", f"收费批次号 {chrg_bchno} 已上传")
    if line_count <= 0:
        raise EncounterError("feedetail（费用明细）不能为空")
    return _step(
        enc,
        state=State.FEES_UPLOADED,
        unsettled_batches=enc.unsettled_batches | {chrg_bchno},
        unsettled_lines=enc.unsettled_lines + line_count,
    )


def _after_fee_change(enc: Encounter) -> State:
    if enc.unsettled_batches:
        return State.FEES_UPLOADED
    if enc.active_settlements:
        return State.SETTLED
    return State.INFO_UPLOADED


def batches_to_remove(enc: Encounter, chrg_bchno: str) -> frozenset[str]:
    """The batches 2205 would remove ("0000" = every unsettled batch); raises if none."""
    if chrg_bchno == ALL_BATCHES:
        if not enc.unsettled_batches:
            raise IllegalTransition(enc, "2205", "无未结算的费用明细")
        return enc.unsettled_batches
    if chrg_bchno in enc.settled_batches:
        raise IllegalTransition(enc, "2205", f"收费批次 {chrg_bchno} 已结算，不能撤销")
    if chrg_bchno not in enc.unsettled_batches:
        raise IllegalTransition(enc, "2205", f"收费批次 {chrg_bchno} 不存在")
    return frozenset({chrg_bchno})


def remove_fee_batch(enc: Encounter, chrg_bchno: str, removed_lines: int) -> Encounter:
    """2205 门诊费用明细信息撤销: drop unsettled batches; settled lines cannot be revoked."""
    _require(
        enc,
        "2205",
        Kind.OUTPATIENT,
        State.FEES_UPLOADED,
        State.PRE_SETTLED,
        State.SETTLED,
        State.CANCELLED,
    )
    gone = batches_to_remove(enc, chrg_bchno)
    nxt = replace(
        enc,
        unsettled_batches=enc.unsettled_batches - gone,
        unsettled_lines=max(enc.unsettled_lines - removed_lines, 0),
    )
    return _step(nxt, state=_after_fee_change(nxt))


def batches_to_settle(enc: Encounter, infno: str, chrg_bchno: str | None) -> frozenset[str]:
    """The batches a 2206/2207 covers: the given one, or all unsettled for ``None``/"0000"."""
    if chrg_bchno in (None, "", ALL_BATCHES):
        if not enc.unsettled_batches:
            raise IllegalTransition(enc, infno, "无未结算的费用明细")
        return enc.unsettled_batches
    assert chrg_bchno is not None
    if chrg_bchno in enc.settled_batches:
        raise IllegalTransition(enc, infno, f"收费批次 {chrg_bchno} 已结算")
    if chrg_bchno not in enc.unsettled_batches:
        raise IllegalTransition(enc, infno, f"收费批次 {chrg_bchno} 未上传费用明细")
    return frozenset({chrg_bchno})


def pre_settle_outpatient(enc: Encounter, chrg_bchno: str | None) -> Encounter:
    """2206 门诊预结算: checks the batch; reserves nothing."""
    _require(enc, "2206", Kind.OUTPATIENT, State.FEES_UPLOADED, State.PRE_SETTLED, State.CANCELLED)
    batches_to_settle(enc, "2206", chrg_bchno)
    return _step(enc, state=State.PRE_SETTLED)


def settle_outpatient(
    enc: Encounter, chrg_bchno: str | None, setl_id: str, settled_lines: int
) -> Encounter:
    """2207 门诊结算 (2206 first is usual but not required)."""
    _require(enc, "2207", Kind.OUTPATIENT, State.FEES_UPLOADED, State.PRE_SETTLED, State.CANCELLED)
    batches = batches_to_settle(enc, "2207", chrg_bchno)
    remaining = enc.unsettled_batches - batches
    return _step(
        enc,
        state=State.FEES_UPLOADED if remaining else State.SETTLED,
        unsettled_batches=remaining,
        settled_batches={**enc.settled_batches, **dict.fromkeys(batches, setl_id)},
        unsettled_lines=max(enc.unsettled_lines - settled_lines, 0),
        active_settlements=enc.active_settlements | {setl_id},
    )


def _require_active(enc: Encounter, infno: str, setl_id: str) -> None:
    if setl_id not in enc.active_settlements:
        raise IllegalTransition(enc, infno, f"结算ID {setl_id} 不存在或已撤销")


def cancel_outpatient_settlement(enc: Encounter, setl_id: str, released_lines: int) -> Encounter:
    """2208 门诊结算撤销: the settled batches become unsettled again."""
    _require(
        enc,
        "2208",
        Kind.OUTPATIENT,
        State.SETTLED,
        State.FEES_UPLOADED,
        State.PRE_SETTLED,
        State.CANCELLED,
    )
    _require_active(enc, "2208", setl_id)
    released = frozenset(b for b, s in enc.settled_batches.items() if s == setl_id)
    return _step(
        enc,
        state=State.CANCELLED,
        unsettled_batches=enc.unsettled_batches | released,
        settled_batches={b: s for b, s in enc.settled_batches.items() if s != setl_id},
        unsettled_lines=enc.unsettled_lines + released_lines,
        active_settlements=enc.active_settlements - {setl_id},
    )


# ------------------------------------------------------------------------- inpatient (住院)


def admit(
    *,
    mdtrt_id: str,
    psn_no: str,
    insutype: str,
    med_type: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
) -> Encounter:
    """2401 入院办理: a new stay in state 在院."""
    if not med_type:
        raise EncounterError("med_type（医疗类别）不能为空")
    return Encounter(
        mdtrt_id=mdtrt_id,
        kind=Kind.INPATIENT,
        state=State.ADMITTED,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
        version=1,
    )


_IPT_OPEN = (State.ADMITTED, State.DISCHARGED, State.PRE_SETTLED, State.CANCELLED)


def _ipt_resting(enc: Encounter) -> State:
    return State.DISCHARGED if enc.discharged else State.ADMITTED


def update_admission(enc: Encounter, med_type: str | None = None) -> Encounter:
    """2403 住院信息变更 (not after the final settlement)."""
    _require(enc, "2403", Kind.INPATIENT, State.ADMITTED, State.DISCHARGED)
    return _step(enc, med_type=med_type or enc.med_type)


def upload_inpatient_fees(enc: Encounter, line_count: int) -> Encounter:
    """2301 住院费用明细上传 (also after discharge, e.g. 出院带药); voids a pending 2303."""
    _require(enc, "2301", Kind.INPATIENT, *_IPT_OPEN)
    if line_count <= 0:
        raise EncounterError("feedetail（费用明细）不能为空")
    nxt = replace(enc, unsettled_lines=enc.unsettled_lines + line_count)
    return _step(nxt, state=_ipt_resting(nxt))


def remove_inpatient_fees(enc: Encounter, removed_lines: int, feedetl_sn: str) -> Encounter:
    """2302 住院费用明细撤销 ("0000" = all unsettled); settled lines cannot be revoked."""
    _require(enc, "2302", Kind.INPATIENT, *_IPT_OPEN)
    if removed_lines <= 0:
        what = (
            "无未结算的费用明细"
            if feedetl_sn == ALL_BATCHES
            else f"费用明细 {feedetl_sn} 不存在或已结算"
        )
        raise IllegalTransition(enc, "2302", what)
    nxt = replace(enc, unsettled_lines=max(enc.unsettled_lines - removed_lines, 0))
    return _step(nxt, state=_ipt_resting(nxt))


def discharge(enc: Encounter) -> Encounter:
    """2402 出院办理."""
    _require(enc, "2402", Kind.INPATIENT, State.ADMITTED)
    return _step(enc, state=State.DISCHARGED, discharged=True)


def undo_discharge(enc: Encounter) -> Encounter:
    """2405 出院撤销: back to 在院 while the discharge settlement is not (or no longer) active."""
    _require(enc, "2405", Kind.INPATIENT, State.DISCHARGED, State.PRE_SETTLED, State.CANCELLED)
    if not enc.discharged:
        raise IllegalTransition(enc, "2405", "患者尚未出院")
    return _step(enc, state=State.ADMITTED, discharged=False)


def cancel_admission(enc: Encounter) -> Encounter:
    """2404 入院撤销: only with no active settlement and no unsettled fee lines."""
    _require(enc, "2404", Kind.INPATIENT, State.ADMITTED)
    if enc.active_settlements:
        raise IllegalTransition(enc, "2404", "存在未撤销的结算，请先办理【2305】")
    if enc.unsettled_lines:
        raise IllegalTransition(enc, "2404", "存在未撤销的费用明细，请先办理【2302】")
    return _step(enc, state=State.ADMISSION_CANCELLED)


def _check_ipt_settle(enc: Encounter, infno: str, mid_setl: bool) -> None:
    if mid_setl:
        _require(enc, infno, Kind.INPATIENT, State.ADMITTED)
    else:
        _require(enc, infno, Kind.INPATIENT, State.DISCHARGED, State.PRE_SETTLED, State.CANCELLED)
        if not enc.discharged:
            raise IllegalTransition(enc, infno, "患者未出院，仅可中途结算（mid_setl_flag=1）")
    if enc.unsettled_lines <= 0:
        raise IllegalTransition(enc, infno, "无未结算的费用明细")


def pre_settle_inpatient(enc: Encounter, mid_setl: bool) -> Encounter:
    """2303 住院预结算; a mid-stay pre-settlement leaves the state unchanged."""
    _check_ipt_settle(enc, "2303", mid_setl)
    return _step(enc, state=State.ADMITTED if mid_setl else State.PRE_SETTLED)


def settle_inpatient(enc: Encounter, setl_id: str, mid_setl: bool) -> Encounter:
    """2304 住院结算: final (after 2402) or mid-stay (中途结算, patient stays 在院)."""
    _check_ipt_settle(enc, "2304", mid_setl)
    return _step(
        enc,
        state=State.ADMITTED if mid_setl else State.SETTLED,
        unsettled_lines=0,
        active_settlements=enc.active_settlements | {setl_id},
        final_setl_id=enc.final_setl_id if mid_setl else setl_id,
    )


def cancel_inpatient_settlement(enc: Encounter, setl_id: str, released_lines: int) -> Encounter:
    """2305 住院结算撤销: the discharge settlement first, then mid-stay ones."""
    _require(enc, "2305", Kind.INPATIENT, State.SETTLED, *_IPT_OPEN)
    _require_active(enc, "2305", setl_id)
    if enc.final_setl_id is not None and setl_id != enc.final_setl_id:
        raise IllegalTransition(enc, "2305", f"请先撤销出院结算 {enc.final_setl_id}")
    return _step(
        enc,
        state=State.CANCELLED if enc.discharged else State.ADMITTED,
        unsettled_lines=enc.unsettled_lines + released_lines,
        active_settlements=enc.active_settlements - {setl_id},
        final_setl_id=None,
    )


# ------------------------------------------------------------------------- pharmacy (药店)


def open_pharmacy_sale(
    *,
    mdtrt_id: str,
    psn_no: str,
    insutype: str,
    med_type: str,
    fixmedins_code: str,
    insuplc_admdvs: str,
    mdtrtarea_admvs: str,
    line_count: int,
) -> Encounter:
    """The visit a 2102 creates (购药中) just before it is settled in the same transaction."""
    if line_count <= 0:
        raise EncounterError("drugdetail（购药明细）不能为空")
    return Encounter(
        mdtrt_id=mdtrt_id,
        kind=Kind.PHARMACY,
        state=State.PURCHASING,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type or "41",
        fixmedins_code=fixmedins_code,
        insuplc_admdvs=insuplc_admdvs,
        mdtrtarea_admvs=mdtrtarea_admvs,
        version=1,
        unsettled_lines=line_count,
    )


def settle_pharmacy(enc: Encounter, setl_id: str) -> Encounter:
    """2102 药店结算."""
    _require(enc, "2102", Kind.PHARMACY, State.PURCHASING)
    return _step(
        enc,
        state=State.SETTLED,
        unsettled_lines=0,
        active_settlements=frozenset({setl_id}),
        final_setl_id=setl_id,
    )


def cancel_pharmacy_settlement(enc: Encounter, setl_id: str) -> Encounter:
    """2103 药店结算撤销."""
    _require(enc, "2103", Kind.PHARMACY, State.SETTLED)
    _require_active(enc, "2103", setl_id)
    return _step(enc, state=State.CANCELLED, active_settlements=frozenset(), final_setl_id=None)


def settle(
    enc: Encounter,
    *,
    setl_id: str,
    chrg_bchno: str | None = None,
    mid_setl: bool = False,
    settled_lines: int = 0,
) -> Encounter:
    """Dispatch 2207 / 2304 / 2102 by kind."""
    if enc.kind is Kind.OUTPATIENT:
        return settle_outpatient(enc, chrg_bchno, setl_id, settled_lines)
    if enc.kind is Kind.INPATIENT:
        return settle_inpatient(enc, setl_id, mid_setl)
    return settle_pharmacy(enc, setl_id)


def cancel(enc: Encounter, *, setl_id: str, released_lines: int = 0) -> Encounter:
    """Dispatch 2208 / 2305 / 2103 by kind."""
    if enc.kind is Kind.OUTPATIENT:
        return cancel_outpatient_settlement(enc, setl_id, released_lines)
    if enc.kind is Kind.INPATIENT:
        return cancel_inpatient_settlement(enc, setl_id, released_lines)
    return cancel_pharmacy_settlement(enc, setl_id)


SETTLE_INFNO: Mapping[Kind, str] = {
    Kind.OUTPATIENT: "2207",
    Kind.INPATIENT: "2304",
    Kind.PHARMACY: "2102",
}
CANCEL_INFNO: Mapping[Kind, str] = {
    Kind.OUTPATIENT: "2208",
    Kind.INPATIENT: "2305",
    Kind.PHARMACY: "2103",
}

"""Encounter state machines (就诊状态机): every legal and illegal transition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.encounter import model as m
from yibao.encounter.ids import format_id
from yibao.encounter.model import Encounter, EncounterError, IllegalTransition, Kind, State

S = State


def outpatient(state: State, **kw: object) -> Encounter:
    base = m.register_outpatient(
        mdtrt_id="440100M20261122000000000001",
        psn_no="P1",
        insutype="310",
        fixmedins_code="H1",
        insuplc_admdvs="440100",
        mdtrtarea_admvs="440100",
    )
    return replace(base, state=state, **kw)  # type: ignore[arg-type]


OUT_FIXTURES: dict[State, Encounter] = {
    S.REGISTERED: outpatient(S.REGISTERED),
    S.INFO_UPLOADED: outpatient(S.INFO_UPLOADED, med_type="11"),
    S.FEES_UPLOADED: outpatient(
        S.FEES_UPLOADED, med_type="11", unsettled_batches=frozenset({"B1"}), unsettled_lines=2
    ),
    S.PRE_SETTLED: outpatient(
        S.PRE_SETTLED, med_type="11", unsettled_batches=frozenset({"B1"}), unsettled_lines=2
    ),
    S.SETTLED: outpatient(
        S.SETTLED,
        med_type="11",
        settled_batches={"B1": "S1"},
        active_settlements=frozenset({"S1"}),
    ),
    S.CANCELLED: outpatient(
        S.CANCELLED, med_type="11", unsettled_batches=frozenset({"B1"}), unsettled_lines=2
    ),
    S.REGISTRATION_CANCELLED: outpatient(S.REGISTRATION_CANCELLED, med_type="11"),
}

OUT_TXNS: dict[str, tuple[Callable[[Encounter], Encounter], set[State]]] = {
    "2202": (m.cancel_registration, {S.REGISTERED, S.INFO_UPLOADED}),
    "2203": (lambda e: m.upload_visit_info(e, "11"), {S.REGISTERED, S.INFO_UPLOADED}),
    "2204": (
        lambda e: m.upload_fee_batch(e, "B2", 3),
        {S.INFO_UPLOADED, S.FEES_UPLOADED, S.PRE_SETTLED, S.SETTLED, S.CANCELLED},
    ),
    "2205": (
        lambda e: m.remove_fee_batch(e, "0000", 2),
        {S.FEES_UPLOADED, S.PRE_SETTLED, S.CANCELLED},
    ),
    "2206": (
        lambda e: m.pre_settle_outpatient(e, None),
        {S.FEES_UPLOADED, S.PRE_SETTLED, S.CANCELLED},
    ),
    "2207": (
        lambda e: m.settle_outpatient(e, "B1", "S2", 2),
        {S.FEES_UPLOADED, S.PRE_SETTLED, S.CANCELLED},
    ),
    "2208": (lambda e: m.cancel_outpatient_settlement(e, "S1", 2), {S.SETTLED}),
    # inpatient and pharmacy transactions never apply to an outpatient visit
    "2402": (m.discharge, set()),
    "2103": (lambda e: m.cancel_pharmacy_settlement(e, "S1"), set()),
}


@pytest.mark.parametrize("infno", sorted(OUT_TXNS))
@pytest.mark.parametrize("state", list(OUT_FIXTURES))
def test_outpatient_transition_matrix(infno: str, state: State) -> None:
    fn, legal = OUT_TXNS[infno]
    enc = OUT_FIXTURES[state]
    if state in legal:
        after = fn(enc)
        assert after.version == enc.version + 1
    else:
        with pytest.raises(IllegalTransition) as err:
            fn(enc)
        assert f"【{infno}】" in err.value.err_msg
        assert m.STATE_LABEL[state] in err.value.err_msg
        assert err.value.state is state


def inpatient(state: State, **kw: object) -> Encounter:
    base = m.admit(
        mdtrt_id="440100Z20261122000000000001",
        psn_no="P1",
        insutype="310",
        med_type="21",
        fixmedins_code="H1",
        insuplc_admdvs="441300",
        mdtrtarea_admvs="440100",
    )
    return replace(base, state=state, **kw)  # type: ignore[arg-type]


IPT_FIXTURES: dict[State, Encounter] = {
    S.ADMITTED: inpatient(S.ADMITTED, unsettled_lines=2),
    S.DISCHARGED: inpatient(S.DISCHARGED, discharged=True, unsettled_lines=2),
    S.PRE_SETTLED: inpatient(S.PRE_SETTLED, discharged=True, unsettled_lines=2),
    S.SETTLED: inpatient(
        S.SETTLED, discharged=True, active_settlements=frozenset({"S1"}), final_setl_id="S1"
    ),
    S.CANCELLED: inpatient(S.CANCELLED, discharged=True, unsettled_lines=2),
    S.ADMISSION_CANCELLED: inpatient(S.ADMISSION_CANCELLED),
}
OPEN = {S.ADMITTED, S.DISCHARGED, S.PRE_SETTLED, S.CANCELLED}
IPT_TXNS: dict[str, tuple[Callable[[Encounter], Encounter], set[State]]] = {
    "2301": (lambda e: m.upload_inpatient_fees(e, 1), OPEN),
    "2302": (lambda e: m.remove_inpatient_fees(e, 1, "0000"), OPEN),
    "2303": (
        lambda e: m.pre_settle_inpatient(e, False),
        {S.DISCHARGED, S.PRE_SETTLED, S.CANCELLED},
    ),
    "2303-mid": (lambda e: m.pre_settle_inpatient(e, True), {S.ADMITTED}),
    "2304": (
        lambda e: m.settle_inpatient(e, "S2", False),
        {S.DISCHARGED, S.PRE_SETTLED, S.CANCELLED},
    ),
    "2304-mid": (lambda e: m.settle_inpatient(e, "S2", True), {S.ADMITTED}),
    "2305": (lambda e: m.cancel_inpatient_settlement(e, "S1", 2), {S.SETTLED}),
    "2402": (m.discharge, {S.ADMITTED}),
    "2403": (m.update_admission, {S.ADMITTED, S.DISCHARGED}),
    "2404": (m.cancel_admission, set()),  # fixtures all have lines or settlements
    "2405": (m.undo_discharge, {S.DISCHARGED, S.PRE_SETTLED, S.CANCELLED}),
    "2207": (lambda e: m.settle_outpatient(e, None, "S2", 1), set()),
}


@pytest.mark.parametrize("txn", sorted(IPT_TXNS))
@pytest.mark.parametrize("state", list(IPT_FIXTURES))
def test_inpatient_transition_matrix(txn: str, state: State) -> None:
    fn, legal = IPT_TXNS[txn]
    enc = IPT_FIXTURES[state]
    if state in legal:
        assert fn(enc).version == enc.version + 1
    else:
        with pytest.raises(IllegalTransition) as err:
            fn(enc)
        assert f"【{txn[:4]}】" in err.value.err_msg


def test_outpatient_happy_path_two_batches_cancel_and_resettle() -> None:
    e = OUT_FIXTURES[S.REGISTERED]
    e = m.upload_visit_info(e, "11")
    e = m.upload_fee_batch(e, "B1", 2)
    e = m.upload_fee_batch(e, "B2", 1)
    e = m.pre_settle_outpatient(e, "B1")
    e = m.settle_outpatient(e, "B1", "S1", 2)
    assert e.state is S.FEES_UPLOADED and e.unsettled_batches == {"B2"}
    e = m.settle_outpatient(e, None, "S2", 1)
    assert e.state is S.SETTLED and e.active_settlements == {"S1", "S2"}
    with pytest.raises(IllegalTransition, match="已结算，不能撤销"):
        m.remove_fee_batch(e, "B1", 0)
    with pytest.raises(IllegalTransition, match="2208"):
        m.cancel_registration(e)
    e = m.cancel_outpatient_settlement(e, "S1", 2)
    assert e.state is S.CANCELLED and e.unsettled_batches == {"B1"}
    with pytest.raises(IllegalTransition, match="不存在或已撤销"):
        m.cancel_outpatient_settlement(e, "S1", 0)
    e = m.settle_outpatient(e, "B1", "S3", 2)
    e = m.cancel_outpatient_settlement(e, "S3", 2)
    e = m.cancel_outpatient_settlement(e, "S2", 1)
    e = m.remove_fee_batch(e, "0000", 3)
    assert e.state is S.INFO_UPLOADED and not e.unsettled_batches
    e = m.cancel_registration(e)
    assert e.state is S.REGISTRATION_CANCELLED and e.version == 13


def test_outpatient_guards() -> None:
    e = OUT_FIXTURES[S.FEES_UPLOADED]
    with pytest.raises(IllegalTransition, match="已上传"):
        m.upload_fee_batch(e, "B1", 1)
    with pytest.raises(EncounterError, match="chrg_bchno"):
        m.upload_fee_batch(e, "0000", 1)
    with pytest.raises(IllegalTransition, match="未上传费用明细"):
        m.settle_outpatient(e, "B9", "S9", 0)
    with pytest.raises(IllegalTransition, match="不存在"):
        m.remove_fee_batch(e, "B9", 0)
    with pytest.raises(EncounterError, match="med_type"):
        m.upload_visit_info(OUT_FIXTURES[S.REGISTERED], "")


def test_inpatient_mid_stay_settlement_and_final() -> None:
    e = inpatient(S.ADMITTED)
    with pytest.raises(IllegalTransition, match="无未结算"):
        m.settle_inpatient(e, "S0", True)
    e = m.upload_inpatient_fees(e, 5)
    with pytest.raises(IllegalTransition, match="仅可中途结算"):
        m.settle_inpatient(replace(e, state=S.CANCELLED), "S0", False)
    e = m.settle_inpatient(e, "M1", True)
    assert e.state is S.ADMITTED and e.final_setl_id is None and e.unsettled_lines == 0
    with pytest.raises(IllegalTransition, match="2305"):
        m.cancel_admission(e)
    e = m.upload_inpatient_fees(e, 3)
    e = m.discharge(e)
    e = m.pre_settle_inpatient(e, False)
    e = m.settle_inpatient(e, "F1", False)
    assert e.state is S.SETTLED and e.active_settlements == {"M1", "F1"}
    with pytest.raises(IllegalTransition, match="请先撤销出院结算 F1"):
        m.cancel_inpatient_settlement(e, "M1", 5)
    with pytest.raises(IllegalTransition, match="2405"):
        m.undo_discharge(e)
    e = m.cancel_inpatient_settlement(e, "F1", 3)
    assert e.state is S.CANCELLED and e.unsettled_lines == 3
    e = m.undo_discharge(e)
    e = m.cancel_inpatient_settlement(e, "M1", 5)
    assert e.state is S.ADMITTED and e.unsettled_lines == 8
    e = m.remove_inpatient_fees(e, 8, "0000")
    e = m.cancel_admission(e)
    assert e.state is S.ADMISSION_CANCELLED


def test_inpatient_remove_nothing_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="不存在或已结算"):
        m.remove_inpatient_fees(inpatient(S.ADMITTED), 0, "L1")


def test_pharmacy_one_shot() -> None:
    e = m.open_pharmacy_sale(
        mdtrt_id="X",
        psn_no="P",
        insutype="310",
        med_type="",
        fixmedins_code="Y1",
        insuplc_admdvs="440100",
        mdtrtarea_admvs="440300",
        line_count=2,
    )
    assert e.med_type == "41" and e.cross_region
    e = m.settle(e, setl_id="S1")
    assert e.state is S.SETTLED
    with pytest.raises(IllegalTransition, match="2102"):
        m.settle_pharmacy(e, "S2")
    with pytest.raises(IllegalTransition, match="S9 不存在"):
        m.cancel(e, setl_id="S9")
    e = m.cancel(e, setl_id="S1")
    assert e.state is S.CANCELLED
    with pytest.raises(IllegalTransition, match="「结算已撤销」"):
        m.cancel(e, setl_id="S1")
    with pytest.raises(EncounterError, match="drugdetail"):
        m.open_pharmacy_sale(
            mdtrt_id="X",
            psn_no="P",
            insutype="310",
            med_type="41",
            fixmedins_code="Y1",
            insuplc_admdvs="440100",
            mdtrtarea_admvs="440100",
            line_count=0,
        )


def test_id_format() -> None:
    assert format_id("440100", "M", date(2026, 11, 22), 42) == "440100M20261122000000000042"
    assert len(format_id("440100", "S", date(2026, 11, 22), 10**12 - 1)) == 27
    with pytest.raises(ValueError, match="admdvs"):
        format_id("4401", "M", date(2026, 11, 22), 1)


def test_kind_dispatch() -> None:
    e = OUT_FIXTURES[S.FEES_UPLOADED]
    assert m.settle(e, setl_id="S1", chrg_bchno="B1").state is S.SETTLED
    assert m.SETTLE_INFNO[Kind.INPATIENT] == "2304"


# ---------------------------------------------------------------- random sequences (hypothesis)


OUT_OPS = st.sampled_from(["2202", "2203", "2204", "2205", "2206", "2207", "2208"])
IPT_OPS = st.sampled_from(["2301", "2302", "2303", "2304", "2305", "2402", "2403", "2404", "2405"])


def _apply_out(e: Encounter, op: str, arg: int, n: int) -> Encounter:
    bchno = f"B{arg % 3}"
    if op == "2202":
        return m.cancel_registration(e)
    if op == "2203":
        return m.upload_visit_info(e, "11")
    if op == "2204":
        return m.upload_fee_batch(e, bchno, 1 + arg % 2)
    if op == "2205":
        return m.remove_fee_batch(e, "0000" if arg % 2 else bchno, 1)
    if op == "2206":
        return m.pre_settle_outpatient(e, None if arg % 2 else bchno)
    if op == "2207":
        return m.settle_outpatient(e, None if arg % 2 else bchno, f"S{n}", 1)
    active = sorted(e.active_settlements)
    return m.cancel_outpatient_settlement(e, active[arg % len(active)] if active else "S?", 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(OUT_OPS, st.integers(0, 5)), max_size=30))
def test_outpatient_random_sequences_keep_invariants(ops: list[tuple[str, int]]) -> None:
    e = OUT_FIXTURES[S.REGISTERED]
    for n, (op, arg) in enumerate(ops):
        try:
            e = _apply_out(e, op, arg, n)
        except EncounterError:
            continue
        assert not (e.unsettled_batches & e.settled_batches.keys())
        assert set(e.settled_batches.values()) <= e.active_settlements
        assert all(s in e.settled_batches.values() for s in e.active_settlements)
        if e.state is S.SETTLED:
            assert e.active_settlements and not e.unsettled_batches
        if e.state in (S.FEES_UPLOADED, S.PRE_SETTLED):
            assert e.unsettled_batches
        if e.state is S.REGISTRATION_CANCELLED:
            assert not e.active_settlements and not e.unsettled_batches


def _apply_ipt(e: Encounter, op: str, arg: int, n: int) -> Encounter:
    mid = arg % 2 == 1
    if op == "2301":
        return m.upload_inpatient_fees(e, 1 + arg % 3)
    if op == "2302":
        return m.remove_inpatient_fees(e, min(e.unsettled_lines, 1), "0000")
    if op == "2303":
        return m.pre_settle_inpatient(e, mid)
    if op == "2304":
        return m.settle_inpatient(e, f"S{n}", mid)
    if op == "2305":
        target = e.final_setl_id or next(iter(sorted(e.active_settlements)), "S?")
        return m.cancel_inpatient_settlement(e, target, 1)
    if op == "2402":
        return m.discharge(e)
    if op == "2403":
        return m.update_admission(e)
    if op == "2404":
        return m.cancel_admission(e)
    return m.undo_discharge(e)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(IPT_OPS, st.integers(0, 5)), max_size=30))
def test_inpatient_random_sequences_keep_invariants(ops: list[tuple[str, int]]) -> None:
    e = inpatient(S.ADMITTED)
    for n, (op, arg) in enumerate(ops):
        try:
            e = _apply_ipt(e, op, arg, n)
        except EncounterError:
            continue
        if e.final_setl_id is not None:
            assert e.final_setl_id in e.active_settlements and e.discharged
        if e.state is S.SETTLED:
            assert e.final_setl_id is not None
        if e.state is S.ADMITTED:
            assert not e.discharged
        if e.state in (S.DISCHARGED, S.PRE_SETTLED):
            assert e.discharged and e.final_setl_id is None
        if e.state is S.ADMISSION_CANCELLED:
            assert not e.active_settlements and e.unsettled_lines == 0
        assert e.unsettled_lines >= 0

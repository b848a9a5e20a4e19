"""Opening a visit (挂号 2201): the person's insured region checked, the visit created. A flow.

The registry facts are read with a fresh ``mdtrt_id`` sequence value in one statement; the visit
row is written with the caller's message-log row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from yibao.checkout.bills import Caller, CheckoutError, CheckoutInputError
from yibao.db.flow import Flow, Read, Write
from yibao.encounter import model as enc_model
from yibao.encounter import statements as encounter_sql
from yibao.encounter.ids import KIND_LETTER, format_id
from yibao.encounter.model import Encounter, Kind
from yibao.encounter.records import business_day
from yibao.registry import store as registry_store
from yibao.registry.store import SettlementFacts
from yibao.voucher import presence
from yibao.voucher.presence import Presented


def insured_region(
    facts: SettlementFacts | None, psn_no: str, insutype: str, on: date, given: str, where: str
) -> str:
    """The person's insured region (参保地) for ``insutype`` on ``on``, checked against the
    envelope's ``insuplc_admdvs`` when ``given``."""
    if facts is None or not facts[1]:
        raise CheckoutError(f"{where}.psn_no: 人员编号 {psn_no} 不存在或无参保记录")
    enr = next((e for e in facts[1] if e.insutype == insutype and e.active_on(on)), None)
    if enr is None:
        raise CheckoutError(
            f"{where}.insutype: 人员{psn_no}在{on.isoformat()}无有效的险种{insutype}参保"
        )
    if given and given != enr.insuplc_admdvs:
        raise CheckoutInputError(
            "insuplc_admdvs",
            f"参保地医保区划须为该人员的 {enr.insuplc_admdvs}（见【1101】insuinfo），收到 {given}",
        )
    return enr.insuplc_admdvs


@dataclass(frozen=True, slots=True)
class RegisterVisit:
    """2201 门诊挂号 of ``psn_no`` under ``insutype`` at ``begntime`` (China time)."""

    caller: Caller
    psn_no: str
    insutype: str
    begntime: datetime
    ipt_otp_no: str
    insuplc_admdvs: str  # the envelope's (may be empty)
    msgid: str
    info: dict[str, Any]
    presented: Presented | None = None  # the credential shown (就诊凭证), checked first


def _read_person(
    caller: Caller, psn_no: str, presented: Presented | None, now: datetime, where: str
) -> Flow[tuple[SettlementFacts | None, int]]:
    """The person's registry facts and a ``mdtrt_id`` sequence value, the presented credential
    checked before anything about the person is used (an unknown ``psn_no`` and a wrong
    credential get the same answer)."""
    qs = [registry_store.settlement_facts_q(psn_no), encounter_sql.MDTRT_SEQ]
    if presented is not None:
        qs.append(presence.facts_q(psn_no, presented))
    res = yield Read(*qs)
    if presented is not None:
        presence.check(
            presented,
            presence.facts_of_json(res[2]),
            psn_no=psn_no,
            fixmedins_code=caller.fixmedins_code,
            now=now,
            where=where,
        )
    return registry_store.facts_of_json(res[0]), int(res[1])


def register_visit(cmd: RegisterVisit) -> Flow[Encounter]:
    """Create the outpatient visit (state 已挂号)."""
    facts, seq = yield from _read_person(
        cmd.caller, cmd.psn_no, cmd.presented, cmd.begntime, "input.data"
    )
    region = insured_region(
        facts,
        cmd.psn_no,
        cmd.insutype,
        cmd.begntime.date(),
        cmd.insuplc_admdvs,
        "input.data",
    )
    mdtrt_id = format_id(
        cmd.caller.admdvs, KIND_LETTER[Kind.OUTPATIENT], business_day(cmd.begntime), int(seq)
    )
    enc = enc_model.register_outpatient(
        mdtrt_id=mdtrt_id,
        psn_no=cmd.psn_no,
        insutype=cmd.insutype,
        fixmedins_code=cmd.caller.fixmedins_code,
        insuplc_admdvs=region,
        mdtrtarea_admvs=cmd.caller.admdvs,
    )
    yield Write(
        encounter_sql.insert_visit(
            enc, msgid=cmd.msgid, ipt_otp_no=cmd.ipt_otp_no, begntime=cmd.begntime, info=cmd.info
        )
    )
    return enc


@dataclass(frozen=True, slots=True)
class AdmitStay:
    """2401 入院办理 of ``psn_no`` under ``insutype`` at ``begntime`` (China time)."""

    caller: Caller
    psn_no: str
    insutype: str
    med_type: str
    begntime: datetime
    ipt_no: str
    insuplc_admdvs: str  # the envelope's (may be empty)
    msgid: str
    dise_codg: str
    dise_name: str
    info: dict[str, Any]
    presented: Presented | None = None  # the credential shown (就诊凭证), checked first


def admit_stay(cmd: AdmitStay) -> Flow[Encounter]:
    """Create the stay (state 在院)."""
    facts, seq = yield from _read_person(
        cmd.caller, cmd.psn_no, cmd.presented, cmd.begntime, "input.mdtrtinfo"
    )
    region = insured_region(
        facts,
        cmd.psn_no,
        cmd.insutype,
        cmd.begntime.date(),
        cmd.insuplc_admdvs,
        "input.mdtrtinfo",
    )
    mdtrt_id = format_id(
        cmd.caller.admdvs, KIND_LETTER[Kind.INPATIENT], business_day(cmd.begntime), int(seq)
    )
    enc = enc_model.admit(
        mdtrt_id=mdtrt_id,
        psn_no=cmd.psn_no,
        insutype=cmd.insutype,
        med_type=cmd.med_type,
        fixmedins_code=cmd.caller.fixmedins_code,
        insuplc_admdvs=region,
        mdtrtarea_admvs=cmd.caller.admdvs,
    )
    yield Write(
        encounter_sql.insert_visit(
            enc,
            msgid=cmd.msgid,
            ipt_otp_no=cmd.ipt_no,
            begntime=cmd.begntime,
            info=cmd.info,
            dise_codg=cmd.dise_codg,
            dise_name=cmd.dise_name,
        )
    )
    return enc

"""Fee uploads (费用明细上传 2204/2301): lines classified by the treatment place's catalogue
(就医地目录) and stored with their split. A flow: the visit, the used ``feedetl_sn`` and the
catalogue are read in one statement, the lines and the visit's new state written in one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yibao.catalog import statements as catalog_sql
from yibao.catalog.model import ClassifiedLine, LineRefusal
from yibao.checkout.bills import Caller, CheckoutError
from yibao.checkout.visits import catalog_lines, china_date, splits_of
from yibao.db.flow import Flow, Read, Write
from yibao.encounter import statements as encounter_sql
from yibao.encounter.fees import FeeLine, check_lines
from yibao.encounter.model import Encounter, EncounterError
from yibao.encounter.records import business_day


@dataclass(frozen=True, slots=True)
class UploadFees:
    """Lines of one upload for visit ``mdtrt_id`` of ``psn_no`` (request ``msgid`` at ``now``)."""

    caller: Caller
    mdtrt_id: str
    psn_no: str
    lines: tuple[FeeLine, ...]
    msgid: str
    now: datetime
    allow_negative: bool = False  # inpatient refund lines (退单)


def classified_or_refused(
    result: Sequence[ClassifiedLine | LineRefusal],
) -> list[ClassifiedLine]:
    """Every line classified, or :class:`CheckoutError` with the first refusal."""
    refusals = [r for r in result if isinstance(r, LineRefusal)]
    if refusals:
        raise CheckoutError(refusals[0].message)
    return [r for r in result if isinstance(r, ClassifiedLine)]


def upload_fees(
    cmd: UploadFees, transition: Callable[[Encounter, int], Encounter]
) -> Flow[list[ClassifiedLine]]:
    """Classify and store ``cmd.lines``; ``transition(visit, line_count)`` is the visit's step
    (2204: one charge batch; 2301: inpatient fees)."""
    day = business_day(cmd.now)
    lines = catalog_lines(cmd.lines)
    res: list[Any] = yield Read(
        encounter_sql.visit(cmd.mdtrt_id),
        encounter_sql.used_sns(cmd.mdtrt_id, [ln.feedetl_sn for ln in cmd.lines]),
        *catalog_sql.classification_qs(cmd.caller.admdvs, day, lines),
    )
    visit = encounter_sql.visit_of(
        res[0], cmd.mdtrt_id, fixmedins_code=cmd.caller.fixmedins_code, psn_no=cmd.psn_no
    )
    enc = visit.encounter
    values = res[2:]
    service_day = china_date(visit.begntime) if visit.begntime else day
    if service_day != day:  # the catalogue in force on the visit's day (an older visit)
        values = yield Read(*catalog_sql.classification_qs(cmd.caller.admdvs, service_day, lines))
    after = transition(enc, len(cmd.lines))
    if res[1]:
        raise EncounterError(f"feedetl_sn（费用明细流水号）已上传：{', '.join(res[1])}")
    result = yield from catalog_sql.classify_read(cmd.caller.admdvs, service_day, lines, values)
    classified = classified_or_refused(result)
    splits = check_lines(cmd.lines, splits_of(classified), allow_negative=cmd.allow_negative)
    yield Write(
        encounter_sql.save_visit(enc, after),
        encounter_sql.insert_lines(cmd.mdtrt_id, cmd.lines, splits, msgid=cmd.msgid),
    )
    return classified

"""Visit changes as flows (就诊流程, :mod:`yibao.db.flow`): read the visit, move its state
machine, write it back if nobody changed it meanwhile (its ``version``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from yibao.db.flow import Flow, Read, Write
from yibao.encounter import model
from yibao.encounter import statements as sql
from yibao.encounter.model import Encounter


def upload_visit_info(
    mdtrt_id: str,
    *,
    psn_no: str,
    fixmedins_code: str,
    med_type: str,
    dise_codg: str = "",
    dise_name: str = "",
    begntime: dt.datetime | None = None,
    info: Mapping[str, Any],
) -> Flow[Encounter]:
    """2203 门诊就诊信息上传 (mdtrtinfo + diseinfo kept in ``info``)."""
    (row,) = yield Read(sql.visit(mdtrt_id))
    enc = sql.visit_of(row, mdtrt_id, fixmedins_code=fixmedins_code, psn_no=psn_no).encounter
    after = model.upload_visit_info(enc, med_type)
    yield Write(
        sql.save_visit_info(
            enc, after, dise_codg=dise_codg, dise_name=dise_name, begntime=begntime, info=info
        )
    )
    return after

"""Insured persons for the cross-region tests, registered through the registry's public service."""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from yibao.registry import service as registry
from yibao.registry.certs import compose_id18
from yibao.registry.model import Enrolment

_seq = itertools.count(1)


def insured(
    conn: sa.Connection,
    admdvs: str,
    *,
    insutype: str = "310",
    psn_type: str = "11",
    born: date = date(1980, 5, 1),
    since: date = date(2015, 1, 1),
    name: str = "测试参保人",
) -> str:
    """Register and enrol one person in ``admdvs``; return the psn_no."""
    n = next(_seq)
    certno = compose_id18(admdvs, born, n * 2 + 1)
    psn_no = registry.register_person(
        conn, psn_cert_type="01", certno=certno, psn_name=name, gend="1", brdy=born, admdvs=admdvs
    )
    registry.enrol(
        conn,
        psn_no,
        Enrolment(
            insutype=insutype,
            psn_insu_stas="1",
            psn_insu_date=since,
            psn_type=psn_type,
            insuplc_admdvs=admdvs,
            emp_name="测试单位" if insutype == "310" else "",
        ),
    )
    return psn_no

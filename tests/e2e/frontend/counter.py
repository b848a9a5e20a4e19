"""What a HIS does at the outpatient counter, through any way of posting an envelope.

``send(envelope) -> (status, text)`` is a browser page's ``fetch`` of a form-encoded envelope or
plain HTTP; nothing here signs (the front-end processor does).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.e2e.frontend.conftest import His, output
from yibao.checkout import demo as persons
from yibao.hissim import flows

Send = Callable[[dict[str, Any]], tuple[int, str]]


@dataclass
class Person:
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    psn_name: str
    certno: str
    base: dict[str, Any] = field(default_factory=dict)
    insuinfo: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Visit:
    mdtrt_id: str = ""
    chrg_bchno: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # the 2206/2207 input
    settle_msgid: str = ""
    setlinfo: dict[str, Any] = field(default_factory=dict)


def demo_person(index: int = 0, *, insutype: str = "310", region: str = "440300") -> dict[str, str]:
    rows = [
        r
        for r in persons.demo_rows(60)
        if r["insutype"] == insutype and r["insuplc_admdvs"] == region
    ]
    return rows[index]


def sign_in(his: His, send: Send) -> None:
    env = his.envelope("9001", {"signIn": {"opter_no": his.opter, "mac": "00-16-3E-00-00-01",
                                           "ip": "10.0.0.8"}})  # fmt: skip
    his.sign_no = str(output(*send(env))["signinoutb"]["sign_no"])


def lookup(his: His, send: Send, row: dict[str, str]) -> Person:
    """1101 by ID number, with the optional psn_cert_type unpadded ("1") as some HIS send it."""
    data = {"mdtrt_cert_type": "02", "mdtrt_cert_no": row["certno"], "card_sn": "",
            "begntime": "", "psn_cert_type": "1", "certno": row["certno"],
            "psn_name": row["psn_name"]}  # fmt: skip
    out = output(*send(his.envelope("1101", {"data": data})))
    base = out["baseinfo"]
    main = next(i for i in out["insuinfo"] if i["insutype"] == row["insutype"])
    return Person(base["psn_no"], main["insutype"], main["insuplc_admdvs"], base["psn_name"],
                  base["certno"], base, out["insuinfo"])  # fmt: skip


def visit(his: His, send: Send, p: Person, rng: random.Random, *, settle: bool = True) -> Visit:
    """2201 → 2203 → 2204 → 2206 (→ 2207): one outpatient visit."""
    v = Visit()
    region = p.insuplc_admdvs
    cert = {"mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno}
    reg = {"psn_no": p.psn_no, "insutype": p.insutype, "begntime": flows.now_text(), **cert,
           "ipt_otp_no": f"MZ{rng.randrange(10**10):010d}", "atddr_no": "D001",
           "dr_name": "王医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03"}  # fmt: skip
    v.mdtrt_id = output(*send(his.envelope("2201", {"data": reg}, region)))["data"]["mdtrt_id"]
    info = {"mdtrt_id": v.mdtrt_id, "psn_no": p.psn_no, "med_type": "11",
            "begntime": flows.now_text(), "dise_codg": "J06.900", "dise_name": "急性上呼吸道感染"}  # fmt: skip
    dise = [{"diag_type": "1", "diag_srt_no": "1", "diag_code": "J06.900",
             "diag_name": "急性上呼吸道感染", "diag_dept": "内科", "dise_dor_no": "D001",
             "dise_dor_name": "王医生", "diag_time": flows.now_text(), "vali_flag": "1"}]  # fmt: skip
    output(*send(his.envelope("2203", {"mdtrtinfo": info, "diseinfo": dise}, region)))
    v.chrg_bchno = f"{rng.randrange(10**8):08d}"
    fees = flows.pick_lines(rng, his.row[3], 3)
    for f in fees:
        f.update(mdtrt_id=v.mdtrt_id, psn_no=p.psn_no, chrg_bchno=v.chrg_bchno,
                 fee_ocur_time=flows.now_text())  # fmt: skip
    result = output(*send(his.envelope("2204", flows.plain({"feedetail": fees}), region)))
    totals = flows.split_totals(result["result"])
    v.data = {"psn_no": p.psn_no, **cert, "med_type": "11", "psn_setlway": "01",
              "mdtrt_id": v.mdtrt_id, "chrg_bchno": v.chrg_bchno, "insutype": p.insutype,
              "acct_used_flag": "1" if p.insutype == "310" else "0",
              "medfee_sumamt": str(totals["medfee_sumamt"])}  # fmt: skip
    pre = output(*send(his.envelope("2206", {"data": v.data}, region)))["setlinfo"]
    assert Decimal(str(pre["medfee_sumamt"])) == totals["medfee_sumamt"]
    v.data.update(flows.plain(totals), invono=f"FP{rng.randrange(10**8):08d}")
    if settle:
        env = his.envelope("2207", {"data": v.data}, region)
        v.setlinfo = output(*send(env))["setlinfo"]
        v.settle_msgid = env["msgid"]
    return v

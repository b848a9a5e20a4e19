"""Hand-made persons and bills for tests whose expected amounts are derived by hand.

The HIS simulator (:mod:`yibao.hissim.flows`) picks random catalogue lines, so its tests can only
compare the platform with itself. Here every fee line is named (catalogue code, price, count) so
a test can write the split and each payer's share out in its own arithmetic. The calls are the
national interface's, over :class:`yibao.client.NhsaClient`: nothing here imports the checkout or
the gateway.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from yibao.client import NhsaClient, NhsaResponse
from yibao.hissim import flows
from yibao.registry import accounts
from yibao.registry import service as registry
from yibao.registry.certs import compose_id18
from yibao.registry.model import Enrolment

ACCOUNT_CREDIT = 300_000  # fen: what each hand-made employee finds in the personal account
_seq = itertools.count(501)


@dataclass(frozen=True, slots=True)
class Insured:
    psn_no: str
    certno: str
    psn_name: str
    insutype: str
    region: str


def register(
    conn: sa.Connection,
    region: str,
    *,
    insutype: str = "310",
    psn_type: str = "11",
    cvlserv: bool = False,
    born: date = date(1980, 5, 1),
    since: date = date(2015, 1, 1),
    name: str = "手算参保人",
    credit: int = ACCOUNT_CREDIT,
) -> Insured:
    """Register and enrol one person through the registry's service; employees get ``credit``
    fen in the personal account (个人账户划入)."""
    certno = compose_id18(region, born, next(_seq) * 2 + 1)
    psn_no = registry.register_person(
        conn, psn_cert_type="01", certno=certno, psn_name=name, gend="1", brdy=born, admdvs=region
    )
    registry.enrol(
        conn,
        psn_no,
        Enrolment(
            insutype=insutype,
            psn_insu_stas="1",
            psn_insu_date=since,
            psn_type=psn_type,
            insuplc_admdvs=region,
            emp_name="测试单位" if insutype == "310" else "",
            cvlserv_flag=cvlserv,
        ),
    )
    if insutype == "310" and credit:
        accounts.post(conn, psn_no, credit, ref=f"hand-credit-{psn_no}", memo="测试个人账户划入")
    return Insured(psn_no, certno, name, insutype, region)


def fen(value: object) -> int:
    """A 2-decimal amount of an answer (yuan) as integer fen."""
    d = Decimal(str(value)) * 100
    assert d == d.to_integral_value(), value
    return int(d)


def line(sn: str, code: str, pric: str, cnt: int) -> dict[str, Any]:
    """One fee line: ``pric`` yuan × ``cnt`` (the HIS's own product, to the fen)."""
    p = Decimal(pric)
    return {
        "feedetl_sn": sn,
        "med_list_codg": code,
        "medins_list_codg": f"HIS-{code[-6:]}",
        "det_item_fee_sumamt": str((p * cnt).quantize(Decimal("0.01"))),
        "cnt": str(cnt),
        "pric": pric,
        "rx_circ_flag": "0",
        "hosp_appr_flag": "1",
        "bilg_dept_codg": "A01",
        "bilg_dept_name": "内科",
        "bilg_dr_codg": "D001",
        "bilg_dr_name": "王医生",
    }


@dataclass
class Stay:
    """The answers of one hand-made visit."""

    mdtrt_id: str = ""
    setl_id: str = ""
    settle_msgid: str = ""
    setlinfo: dict[str, Any] = field(default_factory=dict)
    setldetail: list[dict[str, Any]] = field(default_factory=list)
    calls: list[NhsaResponse] = field(default_factory=list)

    def funds(self) -> dict[str, int]:
        """``setldetail`` as {fund_pay_type: fen}, zero lines left out."""
        out = {str(d["fund_pay_type"]): fen(d["fund_payamt"]) for d in self.setldetail}
        return {k: v for k, v in out.items() if v}


def ok(r: NhsaResponse, stay: Stay | None = None) -> dict[str, Any]:
    if stay is not None:
        stay.calls.append(r)
    out = flows.ok(r)
    return out


def _now() -> str:
    return flows.now_text()


def _midnight() -> str:
    """The start of today (China time): a stay admitted then is in this year's accumulators."""
    return f"{flows.his_now():%Y-%m-%d} 00:00:00"


def patient(c: NhsaClient, who: Insured) -> flows.Patient:
    """1101 by ID number (mdtrt_cert_type 02)."""
    p = flows.lookup(c, who.certno)
    assert p.psn_no == who.psn_no and p.insuplc_admdvs == who.region
    return p


def pharmacy(c: NhsaClient, p: flows.Patient, drugs: list[dict[str, Any]]) -> Stay:
    """2101 预结算 → 2102 结算 of ``drugs`` (account used for employees)."""
    s = Stay()
    total = sum((Decimal(d["det_item_fee_sumamt"]) for d in drugs), Decimal("0.00"))
    info = {
        "psn_no": p.psn_no, "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no, "psn_cert_type": "01", "certno": p.certno,
        "psn_type": "", "psn_name": p.psn_name, "begntime": _now(), "medfee_sumamt": str(total),
        "insutype": p.insutype, "acct_used_flag": "1" if p.insutype == "310" else "0",
        "med_type": "41",
    }  # fmt: skip
    rows = [dict(d, fee_ocur_time=_now()) for d in drugs]
    region = p.insuplc_admdvs
    ok(c.call("2101", {"druginfo": info, "drugdetail": rows}, insuplc_admdvs=region), s)
    r = c.call(
        "2102", {"druginfo": {**info, "invono": "YD1"}, "drugdetail": rows}, insuplc_admdvs=region
    )
    out = ok(r, s)
    s.setlinfo, s.setldetail = out["setlinfo"], out["setldetail"]
    s.setl_id, s.mdtrt_id, s.settle_msgid = (
        out["setlinfo"]["setl_id"],
        out["setlinfo"]["mdtrt_id"],
        r.msgid,
    )
    return s


def open_outpatient(c: NhsaClient, p: flows.Patient, fees: list[dict[str, Any]]) -> Stay:
    """2201 → 2203 → 2204 (one batch ``B1``); returns the visit, not yet settled."""
    s = Stay()
    region = p.insuplc_admdvs
    reg = {
        "psn_no": p.psn_no, "insutype": p.insutype, "begntime": _now(),
        "mdtrt_cert_type": p.mdtrt_cert_type, "mdtrt_cert_no": p.mdtrt_cert_no,
        "ipt_otp_no": f"MZ{next(_seq):08d}", "atddr_no": "D001", "dr_name": "王医生",
        "dept_code": "A01", "dept_name": "内科", "caty": "A03",
    }  # fmt: skip
    s.mdtrt_id = ok(c.call("2201", {"data": reg}, insuplc_admdvs=region), s)["data"]["mdtrt_id"]
    info = {
        "mdtrt_id": s.mdtrt_id, "psn_no": p.psn_no, "med_type": "11", "begntime": _now(),
        "main_cond_dscr": "咳嗽三天", "dise_codg": "J06.900", "dise_name": "急性上呼吸道感染",
    }  # fmt: skip
    ok(c.call("2203", {"mdtrtinfo": info, "diseinfo": []}, insuplc_admdvs=region), s)
    rows = [
        dict(f, mdtrt_id=s.mdtrt_id, psn_no=p.psn_no, chrg_bchno="B1", fee_ocur_time=_now())
        for f in fees
    ]
    ok(c.call("2204", {"feedetail": rows}, insuplc_admdvs=region), s)
    return s


def outpatient_data(p: flows.Patient, s: Stay, split: dict[str, int]) -> dict[str, Any]:
    """The 2206/2207 ``data`` of a visit opened by :func:`open_outpatient`."""
    return {
        "psn_no": p.psn_no, "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no, "med_type": "11", "psn_setlway": "01",
        "mdtrt_id": s.mdtrt_id, "chrg_bchno": "B1", "insutype": p.insutype,
        "acct_used_flag": "1" if p.insutype == "310" else "0",
        **{k: str(Decimal(v) / 100) for k, v in split.items()},
    }  # fmt: skip


def settle_outpatient(c: NhsaClient, p: flows.Patient, s: Stay, split: dict[str, int]) -> Stay:
    """2206 → 2207 with the HIS's amounts ``split`` (fen, the five 2207 amounts)."""
    data = outpatient_data(p, s, split)
    pre = {k: v for k, v in data.items() if k in _PRE_KEYS}
    ok(c.call("2206", {"data": pre}, insuplc_admdvs=p.insuplc_admdvs), s)
    r = c.call("2207", {"data": {**data, "invono": "FP1"}}, insuplc_admdvs=p.insuplc_admdvs)
    out = ok(r, s)
    s.setlinfo, s.setldetail = out["setlinfo"], out["setldetail"]
    s.setl_id, s.settle_msgid = out["setlinfo"]["setl_id"], r.msgid
    return s


_PRE_KEYS = (
    "psn_no", "mdtrt_cert_type", "mdtrt_cert_no", "med_type", "medfee_sumamt", "psn_setlway",
    "mdtrt_id", "chrg_bchno", "insutype", "acct_used_flag",
)  # fmt: skip


def admit(c: NhsaClient, p: flows.Patient) -> Stay:
    """2401 入院 at the start of today."""
    s = Stay()
    at = _midnight()
    info = {
        "psn_no": p.psn_no, "insutype": p.insutype, "begntime": at,
        "mdtrt_cert_type": p.mdtrt_cert_type, "mdtrt_cert_no": p.mdtrt_cert_no, "med_type": "21",
        "ipt_no": f"ZY{next(_seq):08d}", "atddr_no": "D002", "chfpdr_name": "李主任",
        "adm_diag_dscr": "急性阑尾炎", "adm_dept_codg": "A02", "adm_dept_name": "普外科",
        "adm_bed": "12", "dscg_maindiag_code": "K35.800", "dscg_maindiag_name": "急性阑尾炎",
        "exp_content": json.dumps({"IPT_TYPE": "1"}),
    }  # fmt: skip
    r = c.call("2401", {"mdtrtinfo": info, "diseinfo": []}, insuplc_admdvs=p.insuplc_admdvs)
    s.mdtrt_id = ok(r, s)["result"]["mdtrt_id"]
    return s


def upload_stay_fees(c: NhsaClient, p: flows.Patient, s: Stay, fees: list[dict[str, Any]]) -> None:
    rows = [
        dict(f, mdtrt_id=s.mdtrt_id, psn_no=p.psn_no, med_type="21", fee_ocur_time=_midnight())
        for f in fees
    ]
    ok(c.call("2301", {"feedetail": rows}, insuplc_admdvs=p.insuplc_admdvs), s)


def discharge(c: NhsaClient, p: flows.Patient, s: Stay) -> None:
    info = {
        "mdtrt_id": s.mdtrt_id, "psn_no": p.psn_no, "insutype": p.insutype, "endtime": _now(),
        "dise_codg": "K35.800", "dise_name": "急性阑尾炎", "dscg_dept_codg": "A02",
        "dscg_dept_name": "普外科", "dscg_way": "1",
    }  # fmt: skip
    ok(c.call("2402", {"dscginfo": info, "diseinfo": []}, insuplc_admdvs=p.insuplc_admdvs), s)


def stay_data(p: flows.Patient, s: Stay, split: dict[str, int]) -> dict[str, Any]:
    """The 2303/2304 ``data`` of an inpatient stay."""
    return {
        "psn_no": p.psn_no, "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no, "psn_cert_type": "01", "certno": p.certno,
        "psn_type": "", "psn_name": p.psn_name, "psn_setlway": "01", "mdtrt_id": s.mdtrt_id,
        "acct_used_flag": "1" if p.insutype == "310" else "0", "insutype": p.insutype,
        "mid_setl_flag": "0", **{k: str(Decimal(v) / 100) for k, v in split.items()},
    }  # fmt: skip


def settle_stay(c: NhsaClient, p: flows.Patient, s: Stay, split: dict[str, int]) -> Stay:
    """2303 → 2304 with the HIS's amounts ``split`` (fen)."""
    data = stay_data(p, s, split)
    ok(c.call("2303", {"data": data}, insuplc_admdvs=p.insuplc_admdvs), s)
    r = c.call("2304", {"data": {**data, "invono": "ZY1"}}, insuplc_admdvs=p.insuplc_admdvs)
    out = ok(r, s)
    s.setlinfo, s.setldetail = out["setlinfo"], out["setldetail"]
    s.setl_id, s.settle_msgid = out["setlinfo"]["setl_id"], r.msgid
    return s


def cancel(c: NhsaClient, p: flows.Patient, s: Stay, infno: str) -> dict[str, Any]:
    """2208 / 2305 / 2103 of the stay's settlement; the answer's ``setlinfo``."""
    data = {"setl_id": s.setl_id, "mdtrt_id": s.mdtrt_id, "psn_no": p.psn_no}
    return ok(c.call(infno, {"data": data}, insuplc_admdvs=p.insuplc_admdvs))["setlinfo"]


def query_5203(c: NhsaClient, psn_no: str, s: Stay) -> dict[str, Any]:
    """5203 结算信息查询: the stored settlement read back."""
    data = {"psn_no": psn_no, "setl_id": s.setl_id, "mdtrt_id": s.mdtrt_id}
    out: dict[str, Any] = ok(c.call("5203", {"data": data}))["setlinfo"]
    return out


def cumulative(c: NhsaClient, psn_no: str) -> dict[str, int]:
    """5206 人员累计信息查询 of this year as {cum_type_code: fen (or count)}, zeros left out."""
    ym = f"{flows.his_now():%Y%m}"
    rows = ok(c.call("5206", {"data": {"psn_no": psn_no, "cum_ym": ym}}))["cuminfo"]
    out: dict[str, int] = {}
    for row in rows:
        key = str(row["cum_type_code"])
        value = int(row["cum"]) if key == "admissions" else fen(row["cum"])
        if value:
            out[key] = value
    return out


#: ``as_of`` for ledger balances: every posting so far
FAR_FUTURE = date(2999, 12, 31)

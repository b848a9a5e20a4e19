"""What a HIS / pharmacy POS does at the counter (医院/药店收费流程), over :class:`NhsaClient`.

- outpatient: 1101 → 2201 → 2203 → 2204 → 2206 → 2207 (amounts copied from 2204's split);
- pharmacy: 1101 → 2101 → 2102;
- inpatient: 1101 → 2401 → 2301 (several days) → 2402 → 2303 → 2304.

The item list comes from the shipped demo catalogue (``catalogs/``), read as a HIS reads its own
price list (HIS目录对照). Amounts are parsed as ``Decimal`` (never float).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yibao.client import NhsaClient, NhsaError, NhsaResponse

CHINA = ZoneInfo("Asia/Shanghai")
CATALOG_DIR = Path(__file__).resolve().parents[3] / "catalogs"
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One price-list entry of the HIS (national code, name, list type, price in yuan)."""

    med_list_codg: str
    name: str
    list_type: str
    pric: Decimal


@cache
def province_items(admdvs: str) -> tuple[CatalogItem, ...]:
    """Items of the province catalogue of ``admdvs`` (demo catalogue files)."""
    prefix = admdvs[:2] + "0000"
    folder = next((p for p in CATALOG_DIR.glob(f"{prefix}-*") if p.is_dir()), None)
    if folder is None:
        return ()
    out = []
    with open(folder / "items.csv", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in rows:
            if (r.get("action") or "") not in ("", "add") or not r.get("pric"):
                continue
            out.append(
                CatalogItem(r["med_list_codg"], r["name"], r["list_type"], Decimal(r["pric"]))
            )
    return tuple(out)


@dataclass(slots=True)
class Patient:
    """The HIS's view of an insured person after 1101."""

    psn_no: str
    insutype: str
    insuplc_admdvs: str
    psn_name: str
    certno: str
    mdtrt_cert_type: str = "02"
    mdtrt_cert_no: str = ""


@dataclass(slots=True)
class Visit:
    """What one encounter produced: every call made, and the settlement (if any)."""

    kind: str
    calls: list[NhsaResponse] = field(default_factory=list)
    mdtrt_id: str = ""
    setl_id: str = ""
    settle_msgid: str = ""
    setlinfo: dict[str, Any] = field(default_factory=dict)


def parse(r: NhsaResponse) -> dict[str, Any]:
    """The response envelope with exact decimals."""
    data = json.loads(r.body, parse_float=Decimal)
    return data if isinstance(data, dict) else {}


def ok(r: NhsaResponse) -> dict[str, Any]:
    """The ``output`` of a successful answer; raises :class:`NhsaError` otherwise."""
    data = parse(r)
    if r.status_code != 200 or str(data.get("infcode")) != "0":
        raise NhsaError(r.infno, str(data.get("err_msg") or data.get("message") or r.status_code))
    out = data.get("output") or {}
    return out if isinstance(out, dict) else {}


def plain(value: Any) -> Any:
    """Decimals as strings (the interface accepts amounts as numeric strings)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _call(
    client: NhsaClient, infno: str, input: dict[str, Any], *, insuplc_admdvs: str = ""
) -> NhsaResponse:
    return client.call(infno, plain(input), insuplc_admdvs=insuplc_admdvs)


#: The HIS's wall clock (None: real time); the demo seeder sets it per thread to play past days.
his_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("his_clock", default=None)


def his_now() -> datetime:
    """The HIS's current time in China time (:data:`his_clock`, else the real clock)."""
    clock = his_clock.get()
    return (clock() if clock is not None else datetime.now(UTC)).astimezone(CHINA)


def now_text(at: datetime | None = None) -> str:
    return f"{(at or his_now()):%Y-%m-%d %H:%M:%S}"


def lookup(client: NhsaClient, certno: str, *, cert_type: str = "02", token: str = "") -> Patient:
    """1101 by ID number (02) or by e-voucher ecToken (01); picks the main insurance row."""
    r = _call(
        client,
        "1101",
        {
            "data": {
                "mdtrt_cert_type": cert_type,
                "mdtrt_cert_no": token if cert_type == "01" else certno,
                "card_sn": "",
                "begntime": "",
                "psn_cert_type": "01",
                "certno": certno,
                "psn_name": "",
            }
        },
    )
    out = ok(r)
    base = out["baseinfo"]
    rows = [i for i in out["insuinfo"] if i["insutype"] in ("310", "390")] or out["insuinfo"]
    main = rows[0]
    return Patient(
        psn_no=base["psn_no"],
        insutype=main["insutype"],
        insuplc_admdvs=main["insuplc_admdvs"],
        psn_name=base["psn_name"],
        certno=base["certno"],
        mdtrt_cert_type=cert_type,
        mdtrt_cert_no=token if cert_type == "01" else base["certno"],
    )


def pick_lines(
    rng: random.Random,
    admdvs: str,
    n: int,
    *,
    list_types: Sequence[str] = (),
    max_pric: Decimal | None = Decimal(300),
) -> list[dict[str, Any]]:
    """``n`` fee lines from the demo catalogue (price × quantity, amounts to the fen); items
    dearer than ``max_pric`` are left out (outpatient/pharmacy), dear items come once."""
    pool = [
        i
        for i in province_items(admdvs)
        if (not list_types or i.list_type in list_types)
        and (max_pric is None or i.pric <= max_pric)
    ]
    lines = []
    for k, item in enumerate(rng.sample(pool, min(n, len(pool)))):
        cnt = Decimal(rng.choice((1, 1, 2, 3, 6, 10, 20)) if item.pric < 20 else 1)
        amt = (item.pric * cnt).quantize(CENT, rounding=ROUND_HALF_UP)
        if amt <= 0:
            cnt, amt = Decimal(100), (item.pric * 100).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(
            {
                "feedetl_sn": f"{k + 1:04d}",
                "med_list_codg": item.med_list_codg,
                "medins_list_codg": f"HIS{k + 1:04d}",
                "det_item_fee_sumamt": amt,
                "cnt": cnt,
                "pric": item.pric,
                "rx_circ_flag": "0",
                "hosp_appr_flag": "1",
                "bilg_dept_codg": "A01",
                "bilg_dept_name": "内科",
                "bilg_dr_codg": "D001",
                "bilg_dr_name": "王医生",
            }
        )
    return lines


def _sum(rows: Sequence[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(str(r[key])) for r in rows), Decimal("0.00"))


def split_totals(result: Sequence[dict[str, Any]]) -> dict[str, Decimal]:
    """The four amounts of 2207/2304 as sums of the 2204/2301 split (§2.6)."""
    return {
        "medfee_sumamt": _sum(result, "det_item_fee_sumamt"),
        "fulamt_ownpay_amt": _sum(result, "fulamt_ownpay_amt"),
        "overlmt_selfpay": _sum(result, "overlmt_amt"),
        "preselfpay_amt": _sum(result, "preselfpay_amt"),
        "inscp_scp_amt": _sum(result, "inscp_scp_amt"),
    }


def outpatient(
    client: NhsaClient,
    p: Patient,
    rng: random.Random,
    *,
    lines: int = 4,
    med_type: str = "11",
    settle: bool = True,
) -> Visit:
    """A whole outpatient visit (门诊): 2201 → 2203 → 2204 → 2206 → 2207."""
    v = Visit("outpatient")
    region = p.insuplc_admdvs
    r = _call(
        client,
        "2201",
        {
            "data": {
                "psn_no": p.psn_no,
                "insutype": p.insutype,
                "begntime": now_text(),
                "mdtrt_cert_type": p.mdtrt_cert_type,
                "mdtrt_cert_no": p.mdtrt_cert_no,
                "ipt_otp_no": f"MZ{rng.randrange(10**10):010d}",
                "atddr_no": "D001",
                "dr_name": "王医生",
                "dept_code": "A01",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
        insuplc_admdvs=region,
    )
    v.calls.append(r)
    v.mdtrt_id = ok(r)["data"]["mdtrt_id"]
    r = _call(
        client,
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": v.mdtrt_id,
                "psn_no": p.psn_no,
                "med_type": med_type,
                "begntime": now_text(),
                "main_cond_dscr": "咳嗽三天",
                "dise_codg": "J06.900",
                "dise_name": "急性上呼吸道感染",
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": "1",
                    "diag_code": "J06.900",
                    "diag_name": "急性上呼吸道感染",
                    "diag_dept": "内科",
                    "dise_dor_no": "D001",
                    "dise_dor_name": "王医生",
                    "diag_time": now_text(),
                    "vali_flag": "1",
                }
            ],
        },
        insuplc_admdvs=region,
    )
    v.calls.append(r)
    ok(r)
    chrg = f"{rng.randrange(10**8):08d}"
    fees = pick_lines(rng, client.mdtrtarea_admvs, lines)
    for f in fees:
        f.update(mdtrt_id=v.mdtrt_id, psn_no=p.psn_no, chrg_bchno=chrg, fee_ocur_time=now_text())
    r = _call(client, "2204", {"feedetail": fees}, insuplc_admdvs=region)
    v.calls.append(r)
    totals = split_totals(ok(r)["result"])
    base = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no,
        "med_type": med_type,
        "medfee_sumamt": totals["medfee_sumamt"],
        "psn_setlway": "01",
        "mdtrt_id": v.mdtrt_id,
        "chrg_bchno": chrg,
        "insutype": p.insutype,
        "acct_used_flag": "1" if p.insutype == "310" else "0",
    }
    r = _call(client, "2206", {"data": base}, insuplc_admdvs=region)
    v.calls.append(r)
    ok(r)
    if not settle:
        return v
    r = _call(
        client,
        "2207",
        {"data": {**base, **totals, "invono": f"FP{rng.randrange(10**8):08d}"}},
        insuplc_admdvs=region,
    )
    v.calls.append(r)
    out = ok(r)
    v.setlinfo = out["setlinfo"]
    v.setl_id = str(v.setlinfo["setl_id"])
    v.settle_msgid = r.msgid
    return v


def pharmacy(client: NhsaClient, p: Patient, rng: random.Random, *, lines: int = 3) -> Visit:
    """A retail pharmacy purchase (药店购药): 2101 预结算 → 2102 结算."""
    v = Visit("pharmacy")
    drugs = pick_lines(rng, client.mdtrtarea_admvs, lines, list_types=("101", "102"))
    for d in drugs:
        d["fee_ocur_time"] = now_text()
    total = _sum(drugs, "det_item_fee_sumamt")
    info = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no,
        "psn_cert_type": "01",
        "certno": p.certno,
        "psn_type": "",
        "psn_name": p.psn_name,
        "begntime": now_text(),
        "medfee_sumamt": total,
        "insutype": p.insutype,
        "acct_used_flag": "1" if p.insutype == "310" else "0",
        "med_type": "41",
    }
    r = _call(
        client, "2101", {"druginfo": info, "drugdetail": drugs}, insuplc_admdvs=p.insuplc_admdvs
    )
    v.calls.append(r)
    ok(r)
    r = _call(
        client,
        "2102",
        {"druginfo": {**info, "invono": f"YD{rng.randrange(10**8):08d}"}, "drugdetail": drugs},
        insuplc_admdvs=p.insuplc_admdvs,
    )
    v.calls.append(r)
    out = ok(r)
    v.setlinfo = out["setlinfo"]
    v.setl_id = str(v.setlinfo["setl_id"])
    v.mdtrt_id = str(v.setlinfo["mdtrt_id"])
    v.settle_msgid = r.msgid
    return v


def inpatient(
    client: NhsaClient,
    p: Patient,
    rng: random.Random,
    *,
    days: int = 3,
    settle: bool = True,
    emergency: bool = False,
) -> Visit:
    """An inpatient stay (住院): 2401 → 2301 per day → 2402 → 2303 → 2304.

    ``emergency`` admits as 急诊或抢救住院 (``exp_content`` ``IPT_TYPE`` 2), deemed filed when the
    patient is insured in another region.
    """
    v = Visit("inpatient")
    region = p.insuplc_admdvs
    admitted = his_now() - timedelta(days=days)
    r = _call(
        client,
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": p.psn_no,
                "insutype": p.insutype,
                "begntime": now_text(admitted),
                "mdtrt_cert_type": p.mdtrt_cert_type,
                "mdtrt_cert_no": p.mdtrt_cert_no,
                "med_type": "21",
                "ipt_no": f"ZY{rng.randrange(10**8):08d}",
                "atddr_no": "D002",
                "chfpdr_name": "李主任",
                "adm_diag_dscr": "社区获得性肺炎",
                "adm_dept_codg": "A02",
                "adm_dept_name": "呼吸内科",
                "adm_bed": f"{rng.randrange(1, 60)}",
                "dscg_maindiag_code": "J18.900",
                "dscg_maindiag_name": "肺炎",
                "exp_content": json.dumps({"IPT_TYPE": "2" if emergency else "1"}),
            },
            "diseinfo": [
                {
                    "psn_no": p.psn_no,
                    "diag_type": "1",
                    "maindiag_flag": "1",
                    "diag_srt_no": "1",
                    "diag_code": "J18.900",
                    "diag_name": "肺炎",
                    "diag_dept": "呼吸内科",
                    "dise_dor_no": "D002",
                    "dise_dor_name": "李主任",
                    "diag_time": now_text(admitted),
                }
            ],
        },
        insuplc_admdvs=region,
    )
    v.calls.append(r)
    v.mdtrt_id = ok(r)["result"]["mdtrt_id"]
    split: list[dict[str, Any]] = []
    for day in range(days):
        fees = pick_lines(rng, client.mdtrtarea_admvs, 5, max_pric=None)
        for f in fees:
            f.update(
                feedetl_sn=f"{day + 1:02d}{f['feedetl_sn']}",
                mdtrt_id=v.mdtrt_id,
                psn_no=p.psn_no,
                med_type="21",
                fee_ocur_time=now_text(admitted + timedelta(days=day)),
            )
        r = _call(client, "2301", {"feedetail": fees}, insuplc_admdvs=region)
        v.calls.append(r)
        split.extend(ok(r)["result"])
    r = _call(
        client,
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": v.mdtrt_id,
                "psn_no": p.psn_no,
                "insutype": p.insutype,
                "endtime": now_text(),
                "dise_codg": "J18.900",
                "dise_name": "肺炎",
                "dscg_dept_codg": "A02",
                "dscg_dept_name": "呼吸内科",
                "dscg_way": "1",
            },
            "diseinfo": [],
        },
        insuplc_admdvs=region,
    )
    v.calls.append(r)
    ok(r)
    totals = split_totals(split)
    data = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": p.mdtrt_cert_type,
        "mdtrt_cert_no": p.mdtrt_cert_no,
        "psn_cert_type": "01",
        "certno": p.certno,
        "psn_type": "",
        "psn_name": p.psn_name,
        "psn_setlway": "01",
        "mdtrt_id": v.mdtrt_id,
        "acct_used_flag": "1" if p.insutype == "310" else "0",
        "insutype": p.insutype,
        "mid_setl_flag": "0",
        **totals,
    }
    r = _call(client, "2303", {"data": data}, insuplc_admdvs=region)
    v.calls.append(r)
    ok(r)
    if not settle:
        return v
    r = _call(
        client,
        "2304",
        {"data": {**data, "invono": f"ZY{rng.randrange(10**8):08d}"}},
        insuplc_admdvs=region,
    )
    v.calls.append(r)
    out = ok(r)
    v.setlinfo = out["setlinfo"]
    v.setl_id = str(v.setlinfo["setl_id"])
    v.settle_msgid = r.msgid
    return v

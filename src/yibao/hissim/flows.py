"""What a HIS / pharmacy POS does at the counter (医院/药店收费流程), over :class:`NhsaClient`.

- outpatient: 1101 → 2201 → 2203 → 2204 → 2206 → 2207 (amounts copied from 2204's split);
- pharmacy: 1101 → 2101 → 2102;
- inpatient: 1101 → 2401 → 2301 (several days) → 2402 → 2303 → 2304.

The item list comes from the shipped demo catalogue (``catalogs/``), read as a HIS reads its own
price list (HIS目录对照). Amounts are parsed as ``Decimal`` (never float). The shared pieces live
in :mod:`yibao.hissim.counter`; their names are re-exported here.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

from yibao.client import NhsaClient
from yibao.clock import CHINA
from yibao.hissim.counter import (
    CATALOG_DIR,
    CENT,
    CatalogItem,
    Patient,
    Visit,
    call,
    column_sum,
    his_clock,
    his_now,
    lookup,
    now_text,
    ok,
    parse,
    pick_lines,
    plain,
    province_items,
    split_totals,
)

__all__ = [
    "CATALOG_DIR",
    "CENT",
    "CHINA",
    "CatalogItem",
    "Patient",
    "Visit",
    "call",
    "column_sum",
    "his_clock",
    "his_now",
    "inpatient",
    "lookup",
    "now_text",
    "ok",
    "outpatient",
    "parse",
    "pharmacy",
    "pick_lines",
    "plain",
    "province_items",
    "split_totals",
]


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
    r = call(
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
    r = call(
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
    r = call(client, "2204", {"feedetail": fees}, insuplc_admdvs=region)
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
    r = call(client, "2206", {"data": base}, insuplc_admdvs=region)
    v.calls.append(r)
    ok(r)
    if not settle:
        return v
    r = call(
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
    total = column_sum(drugs, "det_item_fee_sumamt")
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
    r = call(
        client, "2101", {"druginfo": info, "drugdetail": drugs}, insuplc_admdvs=p.insuplc_admdvs
    )
    v.calls.append(r)
    ok(r)
    r = call(
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
    r = call(
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
        r = call(client, "2301", {"feedetail": fees}, insuplc_admdvs=region)
        v.calls.append(r)
        split.extend(ok(r)["result"])
    r = call(
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
    r = call(client, "2303", {"data": data}, insuplc_admdvs=region)
    v.calls.append(r)
    ok(r)
    if not settle:
        return v
    r = call(
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

"""E-prescriptions (医保电子处方中心) over real HTTP: from the hospital (7101 → 7102 → 7103) to the
pharmacy (7201 → 7204 → 7205 → 7206 → 2102 → 7207 → 7209/7210), filled once; a second fill, an
expired prescription and a tampered one are refused."""

from __future__ import annotations

import base64
import random
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from tests.e2e.online.conftest import HOSPITAL, PHARMACY, Patient, patient, token_for
from tests.e2e.online.test_mobile_payment import ledger_sum
from tests.e2e.settlement.conftest import make
from yibao.client import NhsaClient
from yibao.hissim import flows
from yibao.online.client import OnlineClient, OnlineRefused
from yibao.online.envelope import CHINA, compact

PDF = b"%PDF-1.4\n% Yibao demo prescription\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def text(t: datetime) -> str:
    return t.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def register(c: NhsaClient, p: Patient) -> str:
    out = flows.ok(c.call("2201", flows.plain({"data": {
        "psn_no": p.ident["psnNo"], "insutype": p.row["insutype"], "begntime": flows.now_text(),
        "mdtrt_cert_type": "02", "mdtrt_cert_no": p.row["certno"], "ipt_otp_no": f"MZ{secrets.randbelow(10**8)}",
        "atddr_no": "D001", "dr_name": "王医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03"}}),
        insuplc_admdvs=p.row["insuplc_admdvs"]))  # fmt: skip
    return str(out["data"]["mdtrt_id"])


def prescribe(his: OnlineClient, p: Patient, mdtrt_id: str, drugs: list[dict[str, Any]], *,
              prsc: datetime, days: int = 3) -> dict[str, Any]:  # fmt: skip
    """7101 → 7102 → 7103; returns the signed set, the file and the answers."""
    pre = his.call("epc", "7101", {
        "mdtrtCertType": "02", "mdtrtCertNo": p.row["certno"], "bizTypeCode": "01", "rxExraAttrCode": "02",
        "ecToken": "", "authNo": "", "hospRxno": f"CF{secrets.token_hex(5)}", "rxTypeCode": "1",
        "prscTime": text(prsc), "rxDrugCnt": len(drugs), "valiDays": days,
        "valiEndTime": text(prsc + timedelta(days=days)), "rxCotnFlag": "0",
        "rxdrugdetail": [{"medListCodg": d["med_list_codg"], "rxItemTypeCode": "11", "drugGenname": f"药品{i}",
                          "drugDosform": "片剂", "drugSpec": "0.25g*24片", "medcWayCodg": "1", "medcWayDscr": "口服",
                          "medcBegntime": text(prsc), "medcEndtime": text(prsc + timedelta(days=days)),
                          "medcDays": days, "sinDosunt": "片", "sinDoscnt": 1, "usedFrquCodg": "tid",
                          "usedFrquName": "一日三次", "drugDosunt": "盒", "drugCnt": d["cnt"],
                          "hospApprFlag": "1"} for i, d in enumerate(drugs)],
        "mdtrtinfo": {"fixmedinsName": "深圳市人民医院", "fixmedinsCode": HOSPITAL, "mdtrtId": mdtrt_id,
                      "medType": "11", "iptOtpNo": "MZ1", "psnNo": p.ident["psnNo"],
                      "patnName": p.row["psn_name"], "psnCertType": "01", "certno": p.row["certno"],
                      "patnAge": 40, "gend": "1", "prscDeptName": "内科", "prscDeptCode": "A01",
                      "drCode": "D440300000001", "prscDrName": "王医生", "drProfttlCodg": "2",
                      "drProfttlName": "主治医师", "drDeptCode": "A01", "drDeptName": "内科",
                      "mdtrtTime": text(prsc), "spDiseFlag": "0", "maindiagCode": "J06.900",
                      "maindiagName": "急性上呼吸道感染"},
        "diseinfo": [{"diagType": "1", "maindiagFlag": "1", "diagSrtNo": "1", "diagCode": "J06.900",
                      "diagName": "急性上呼吸道感染", "diagDept": "内科", "diagDrNo": "D001",
                      "diagDrName": "王医生", "diagTime": text(prsc)}],
    })  # fmt: skip
    fields = {"rxTraceCode": pre["rxTraceCode"], "hiRxno": pre["hiRxno"], "mdtrtId": mdtrt_id,
              "patnName": p.row["psn_name"], "psnCertType": "01", "certno": p.row["certno"],
              "fixmedinsName": "深圳市人民医院", "fixmedinsCode": HOSPITAL, "drCode": "D440300000001",
              "prscDrName": "王医生", "pharDeptName": "药剂科", "pharDeptCode": "Y01",
              "pharCode": "HY440300000001", "pharName": "李药师", "pharChkTime": text(prsc)}  # fmt: skip
    signed = his.call("epc", "7102", {
        "fixmedinsCode": HOSPITAL, "originalValue": base64.b64encode(compact(fields).encode()).decode(),
        "originalRxFile": base64.b64encode(PDF).decode()})  # fmt: skip
    assert signed["signCertSn"] and "CN=" in signed["signCertDn"]
    return {"fields": fields, "file": signed["rxFile"], "sign": signed["signDigest"], **pre}


def upload(his: OnlineClient, rx: dict[str, Any]) -> dict[str, Any]:
    return his.call("epc", "7103", {**rx["fields"], "rxFile": rx["file"], "signDigest": rx["sign"]})


def druginfo(p: Patient, token: str, total: Decimal) -> dict[str, Any]:
    return {"psn_no": p.ident["psnNo"], "mdtrt_cert_type": "01", "mdtrt_cert_no": token, "psn_cert_type": "01",
            "certno": p.row["certno"], "psn_type": "", "psn_name": p.row["psn_name"], "begntime": flows.now_text(),
            "medfee_sumamt": total, "insutype": p.row["insutype"], "med_type": "41",
            "acct_used_flag": "1" if p.row["insutype"] == "310" else "0"}  # fmt: skip


def fill(
    shop: NhsaClient, p: Patient, token: str, hi_rxno: str, drugs: list[dict[str, Any]]
) -> Any:
    rows = [{"feedetl_sn": f"{i + 1:04d}", "rx_circ_flag": "1", "rxno": hi_rxno, "fee_ocur_time": flows.now_text(),
             "med_list_codg": d["med_list_codg"], "medins_list_codg": f"YD{i}", "det_item_fee_sumamt": d["det_item_fee_sumamt"],
             "cnt": d["cnt"], "pric": d["pric"]} for i, d in enumerate(drugs)]  # fmt: skip
    total = sum((Decimal(str(d["det_item_fee_sumamt"])) for d in drugs), Decimal("0.00"))
    return shop.call("2102", flows.plain({"druginfo": druginfo(p, token, total), "drugdetail": rows}),
                     insuplc_admdvs=p.row["insuplc_admdvs"])  # fmt: skip


def test_prescription_from_hospital_to_pharmacy_filled_once(
    online_server: str, clients: dict[str, OnlineClient], world: Engine
) -> None:
    base, his, shop_online = online_server, clients[HOSPITAL], clients[PHARMACY]
    p = patient(base, 3, HOSPITAL)
    hospital, shop = make(base, HOSPITAL), make(base, PHARMACY)
    drugs = flows.pick_lines(random.Random(5), "440300", 2, list_types=("101",))
    now = datetime.now(CHINA)
    rx = prescribe(his, p, register(hospital, p), drugs, prsc=now)

    # a tampered prescription is refused at signature verification (7103)
    bad = {**rx, "fields": {**rx["fields"], "certno": p.row["certno"][:-1] + "0"}}
    try:
        upload(his, bad)
        raise AssertionError("a tampered prescription was accepted")
    except OnlineRefused as e:
        assert "签名验证失败" in e.message
    forged = {**rx, "file": base64.b64encode(PDF.replace(b"demo", b"fake")).decode()}
    try:
        upload(his, forged)
        raise AssertionError("a forged file was accepted")
    except OnlineRefused as e:
        assert "签名验证失败" in e.message
    assert upload(his, rx)["rxStasName"] == "有效"

    # the pharmacy: the insured shows the 医保码 (下载外购处方), 7201 → 7204 → 7205 → 7206
    ident = token_for(base, p.chnl, p.user, PHARMACY, "02122")
    auth = shop_online.call("epc", "7201", {
        "fixmedinsCode": PHARMACY, "psnName": p.row["psn_name"], "psnCertType": "01", "certno": p.row["certno"],
        "ecToken": ident["ecToken"], "ipInfo": "127.0.0.1", "opter": "0001", "opterName": "收费员",
        "optinsNo": PHARMACY})  # fmt: skip
    mine = next(r for r in auth["rxList"] if r["hiRxno"] == rx["hiRxno"])
    got = shop_online.call("epc", "7204", {"epcToken": auth["epcToken"], "authRxno": mine["authRxno"],
                                          "fixmedinsCode": PHARMACY})  # fmt: skip
    assert got["rxFile"] == rx["file"] and len(got["rxDetlList"]) == 2
    check = {"hiRxno": rx["hiRxno"], "fixmedinsCode": PHARMACY, "rxTraceCode": rx["rxTraceCode"],
             "epcToken": auth["epcToken"]}  # fmt: skip
    try:  # the file changed on the way: refused
        shop_online.call("epc", "7205", {**check, "rxFile": base64.b64encode(PDF + b" ").decode()})
        raise AssertionError("a changed file passed 7205")
    except OnlineRefused as e:
        assert "篡改" in e.message
    verified = shop_online.call("epc", "7205", {**check, "rxFile": got["rxFile"]})
    assert verified["flag"] == "1"
    try:  # not reviewed yet: 2102 refused
        r = fill(shop, p, ident["ecToken"], rx["hiRxno"], drugs)
        assert r.infcode == -1 and "审方" in r.err_msg
    finally:
        pass
    reviewed = shop_online.call("epc", "7206", {
        "hiRxno": rx["hiRxno"], "epcToken": auth["epcToken"], "ecToken": "pharmacist-token",
        "fixmedinsCode": PHARMACY, "fixmedinsName": "深圳市福田区康民药房", "pharCertType": "01",
        "pharCertno": "440300199001010000", "pharName": "赵药师", "pharCode": "HY440300000009",
        "rxChkOpnn": "用法用量适宜", "rxChkStasCodg": "1", "rxChkTime": flows.now_text(),
        "rxSignVerifySn": verified["rxSignVerifySn"]})  # fmt: skip

    # settlement at the pharmacy, linked to the prescription: filled once
    first = fill(shop, p, ident["ecToken"], rx["hiRxno"], drugs)
    assert first.infcode == 0, first.err_msg
    setl = flows.ok(first)["setlinfo"]
    second = fill(shop, p, ident["ecToken"], rx["hiRxno"], drugs)
    assert second.infcode == -1 and "已使用" in second.err_msg

    sale = shop_online.call("epc", "7207", {
        "hiRxno": rx["hiRxno"], "fixmedinsCode": PHARMACY, "fixmedinsName": "深圳市福田区康民药房",
        "rxChkBizSn": reviewed["rxChkBizSn"], "hiFeesetlFlag": "1",
        "rxSaleDrugDetl": [{"rtalDocno": setl["setl_id"], "stooutTime": flows.now_text(),
                            "medListCodg": d["med_list_codg"], "medinsListCodg": f"YD{i}", "drugGenname": f"药品{i}",
                            "drugSpec": "0.25g*24片", "drugTotlcnt": d["cnt"], "drugTotlcntEmp": "盒",
                            "drugTraceCodg": f"8{secrets.randbelow(10**19):019d}"} for i, d in enumerate(drugs)]})  # fmt: skip
    assert sale["flag"] == "1" and sale["selStooutSn"]
    for stas in ("1", "2"):
        shop_online.call("epc", "7209", {"hiRxno": rx["hiRxno"], "delvNo": "SF001", "delvAddr": "深圳市福田区",
                                        "delvEntpName": "顺丰", "delvStasCodg": stas, "delvStasName": "",
                                        "delvStasTime": flows.now_text(), "delvConner": "收货人",
                                        "fixmedinsCode": PHARMACY, "fixmedinsName": "康民药房"})  # fmt: skip
    shop_online.call("epc", "7210", {"hiRxno": rx["hiRxno"], "fixmedinsCode": PHARMACY, "delverCertType": "01",
                                    "delverCertno": "440300199002020000", "delverName": "配送员",
                                    "delvStasTime": flows.now_text(), "chkWayCodg": "2"})  # fmt: skip

    # the hospital sees it: used, settled, the drugs with their trace codes; 7108/7109 called back
    q = {"fixmedinsCode": HOSPITAL, "hiRxno": rx["hiRxno"], "mdtrtId": rx["fields"]["mdtrtId"],
         "psnName": p.row["psn_name"], "psnCertType": "01", "certno": p.row["certno"]}  # fmt: skip
    info = his.call("epc", "7105", q)
    assert info["rxUsedStasName"] == "已使用" and info["rxStasName"] == "有效"
    assert his.call("epc", "7106", q)["rxChkStasName"] == "审核通过"
    assert len(his.call("epc", "7107", q)["seltdelts"]) == 2
    try:
        his.call("epc", "7104", {"hiRxno": rx["hiRxno"], "fixmedinsCode": HOSPITAL, "drCode": "D1",
                                 "undoDrName": "王医生", "undoDrCertType": "01", "undoDrCertno": "1",
                                 "undoRea": "开错", "undoTime": flows.now_text()})  # fmt: skip
        raise AssertionError("a used prescription was cancelled")
    except OnlineRefused as e:
        assert "已使用" in e.message
    with world.connect() as conn:
        kinds = conn.execute(sa.text(
            "SELECT body->>'transType' FROM online_callback_inbox WHERE pay_ord_id = :r ORDER BY id"),
            {"r": rx["hiRxno"]}).scalars().all()  # fmt: skip
    assert set(kinds) >= {"7108"}  # 7109 follows the sale (delivered in the background)
    assert ledger_sum(world) == 0

    # an expired prescription (written two days ago, valid one day) is refused at the pharmacy
    old = prescribe(his, p, register(hospital, p), drugs, prsc=now - timedelta(days=2), days=1)
    assert upload(his, old)["rxStasName"] == "有效"  # the state read later is 已失效
    assert his.call("epc", "7105", {**q, "hiRxno": old["hiRxno"], "mdtrtId": old["fields"]["mdtrtId"]})[
        "rxStasName"] == "已失效"  # fmt: skip
    late = fill(shop, p, ident["ecToken"], old["hiRxno"], drugs)
    assert late.infcode == -1 and "已失效" in late.err_msg
    hospital.close()
    shop.close()

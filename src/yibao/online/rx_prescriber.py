"""E-prescriptions, the prescribing institution's side (医保电子处方中心, 定点医疗机构):
7101 预核验 → 7102 医保电子签名 → 7103 上传 (→ 7104 撤销); 7105/7106/7107 查询.

The signature (7102) is the institution's, made by the centre with the institution's SM2 key that
the centre holds for it (the reference: "the institution's 国密 certificate issued by the national
platform, picked by fixmedinsCode"). What is signed is the *signed set* — 7103 fields 1–20 as
compact JSON with sorted keys — and the SM3 digest of the prescription file::

    message = compact(fields 1–20) + "&rxFileSm3=" + hex(SM3(rxFile))

so a change to any of those fields or to one byte of the file fails verification (7103 on upload,
7205 at the pharmacy). Certificates are a serial number, a DN and the SM2 public key (not X.509;
docs/api/e-prescription.md says what is assumed).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from yibao.clock import CHINA
from yibao.encounter import service as encounters
from yibao.encounter.model import EncounterError
from yibao.institutions.sealing import seal, unseal
from yibao.online import core, store
from yibao.online.apps import App
from yibao.online.core import text
from yibao.online.envelope import DEFAULT_UID as UID
from yibao.online.envelope import compact, keypair_from_seed, sm2_sign, sm2_verify, sm3
from yibao.online.model import RX_STAS, RX_USED_STAS, OnlineError, rx_status, vali_end
from yibao.platform_secret import secret_key

W = "data"
SIGNED_FIELDS = (
    "rxTraceCode", "hiRxno", "mdtrtId", "patnName", "psnCertType", "certno", "fixmedinsName",
    "fixmedinsCode", "drCode", "prscDrName", "pharDeptName", "pharDeptCode", "pharProfttlCodg",
    "pharProfttlName", "pharCode", "pharCertType", "pharCertno", "pharName", "pharPracCertNo",
    "pharChkTime",
)  # fmt: skip
REQUIRED_SIGNED = frozenset({"rxTraceCode", "hiRxno", "mdtrtId", "patnName", "psnCertType", "certno",
                             "fixmedinsName", "fixmedinsCode", "drCode", "prscDrName", "pharDeptName",
                             "pharDeptCode", "pharCode", "pharName", "pharChkTime"})  # fmt: skip


def b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise OnlineError(field, "须为 Base64") from None


def signed_message(fields: dict[str, Any], rx_file: bytes) -> bytes:
    return f"{compact(fields)}&rxFileSm3={sm3(rx_file).hex()}".encode()


def signed_set(d: dict[str, Any], where: str) -> dict[str, str]:
    out = {}
    for name in SIGNED_FIELDS:
        value = text(d, name, where, required=name in REQUIRED_SIGNED, max_len=200)
        if value:
            out[name] = value
    return out


# ---- the institutions' signing keys ------------------------------------------------------------------


def cert_of(conn: sa.Connection, fixmedins_code: str, *, create: bool = False) -> dict[str, Any]:
    c = store.cert
    row = conn.execute(sa.select(c).where(c.c.fixmedins_code == fixmedins_code)).mappings().first()
    if row is None and create:
        name = core.caller_of(conn, fixmedins_code).fixmedins_name
        sk, pk = keypair_from_seed(secrets.token_bytes(32))
        conn.execute(pg.insert(c).values(
            fixmedins_code=fixmedins_code, cert_sn=secrets.token_hex(16).upper(),
            cert_dn=f"CN={name},OU={fixmedins_code},O=医保电子处方中心,C=CN", pk=pk.hex(),
            sk=seal(sk.hex(), secret_key())).on_conflict_do_nothing())  # fmt: skip
        row = (
            conn.execute(sa.select(c).where(c.c.fixmedins_code == fixmedins_code))
            .mappings()
            .first()
        )
    if row is None:
        raise OnlineError("fixmedinsCode", "该机构尚无医保电子签名证书（请先调用【7102】）")
    return dict(row)


def verify(conn: sa.Connection, fixmedins_code: str, fields: dict[str, Any], rx_file: bytes,
           signature: str) -> dict[str, Any]:  # fmt: skip
    """The institution's certificate, if ``signature`` is its signature of the signed set and
    file; else :class:`OnlineError` (处方被篡改或签名无效)."""
    cert = cert_of(conn, fixmedins_code)
    if not sm2_verify(
        bytes.fromhex(cert["pk"]), signed_message(fields, rx_file), signature, (UID,)
    ):
        raise OnlineError(
            "signDigest", "医保电子签名验证失败：处方内容或处方文件与签名不符（疑似被篡改）"
        )
    return cert


# ---- 7101–7104 ---------------------------------------------------------------------------------------------


def precheck(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7101 电子处方上传预核验: the visit is this institution's, the drugs and validity complete."""
    info = d.get("mdtrtinfo")
    if not isinstance(info, dict):
        raise OnlineError(f"{W}.mdtrtinfo", "必填")
    wi = f"{W}.mdtrtinfo"
    if text(info, "fixmedinsCode", wi, required=True) != app.fixmedins_code:
        raise OnlineError(f"{wi}.fixmedinsCode", "须为本应用所属的定点医疗机构")
    mdtrt_id = text(info, "mdtrtId", wi, required=True, max_len=30)
    psn_no = text(info, "psnNo", wi, required=True, max_len=30)
    try:
        encounters.load(conn, mdtrt_id, fixmedins_code=app.fixmedins_code, psn_no=psn_no)
    except EncounterError as exc:
        raise OnlineError(f"{wi}.mdtrtId", exc.err_msg) from exc
    for name in ("patnName", "psnCertType", "certno", "prscDeptName", "drCode", "prscDrName",
                 "maindiagCode", "maindiagName"):  # fmt: skip
        text(info, name, wi, required=True, max_len=100)
    hosp_rxno = text(d, "hospRxno", W, required=True)
    prsc = core.moment(d, "prscTime", W)
    assert prsc is not None
    days = int(core.number(d, "valiDays", W, 0))
    end = vali_end(prsc, days)
    given = core.moment(d, "valiEndTime", W, required=False)
    if given is not None and given != end:
        raise OnlineError(
            f"{W}.valiEndTime", f"须为开方时间+处方有效天数（{end:%Y-%m-%d %H:%M:%S}）"
        )
    drugs = d.get("rxdrugdetail")
    if not isinstance(drugs, list) or not drugs:
        raise OnlineError(f"{W}.rxdrugdetail", "必填，至少一种药品")
    for i, row in enumerate(drugs):
        w = f"{W}.rxdrugdetail[{i}]"
        for name in ("medListCodg", "drugGenname", "drugDosform", "drugSpec", "drugDosunt"):
            text(row if isinstance(row, dict) else {}, name, w, required=True, max_len=100)
        core.number(row, "drugCnt", w, 4)
    hi_rxno = f"{app.fixmedins_code[1:7]}RX{now:%Y%m%d}{secrets.randbelow(10**12):012d}"
    trace = f"{secrets.randbelow(10**20):020d}"
    conn.execute(store.rx.insert().values(
        hi_rxno=hi_rxno, rx_trace_code=trace, fixmedins_code=app.fixmedins_code, hosp_rxno=hosp_rxno,
        mdtrt_id=mdtrt_id, psn_no=psn_no, prsc_time=prsc, vali_end_time=end, phase="checked",
        precheck={k: v for k, v in core.jsonable(d).items() if k != "ecToken"}))  # fmt: skip
    conn.execute(store.event.insert().values(ref=hi_rxno, kind="precheck", state="1"))
    return {"hiRxno": hi_rxno, "rxTraceCode": trace}


def sign(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7102 电子处方医保电子签名: the institution's signature of the signed set and the file."""
    if text(d, "fixmedinsCode", W, required=True) != app.fixmedins_code:
        raise OnlineError(f"{W}.fixmedinsCode", "须为本应用所属的定点医疗机构（证书与之一致）")
    original = b64(text(d, "originalValue", W, required=True, max_len=8000), f"{W}.originalValue")
    rx_file = b64(
        text(d, "originalRxFile", W, required=True, max_len=4_000_000), f"{W}.originalRxFile"
    )
    try:
        fields = core.loads(original)
    except ValueError:
        raise OnlineError(f"{W}.originalValue", "须为【7103】字段1–20的 JSON 的 Base64") from None
    fields = signed_set(fields if isinstance(fields, dict) else {}, f"{W}.originalValue")
    rx = store.get_rx(conn, fields["hiRxno"])
    if (
        rx is None
        or rx["fixmedins_code"] != app.fixmedins_code
        or rx["rx_trace_code"] != fields["rxTraceCode"]
    ):
        raise OnlineError(
            f"{W}.originalValue.hiRxno", "处方不存在或追溯码不符（须先通过【7101】预核验）"
        )
    cert = cert_of(conn, app.fixmedins_code, create=True)
    sk = bytes.fromhex(unseal(cert["sk"], secret_key()))
    signature = sm2_sign(sk, signed_message(fields, rx_file))
    conn.execute(store.event.insert().values(ref=fields["hiRxno"], kind="sign", state="1",
                                             detail={"signCertSn": cert["cert_sn"]}))  # fmt: skip
    return {"rxFile": base64.b64encode(rx_file).decode(), "signDigest": signature,
            "signCertSn": cert["cert_sn"], "signCertDn": cert["cert_dn"]}  # fmt: skip


def upload(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7103 电子处方上传: the signature verified against the signed set and file; valid."""
    fields = signed_set(d, W)
    rx = store.get_rx(conn, fields["hiRxno"], lock=True)
    if rx is None or rx["fixmedins_code"] != app.fixmedins_code:
        raise OnlineError(f"{W}.hiRxno", "处方不存在（须先通过【7101】预核验）")
    if rx["rx_trace_code"] != fields["rxTraceCode"] or rx["mdtrt_id"] != fields["mdtrtId"]:
        raise OnlineError(f"{W}.rxTraceCode", "与预核验返回的处方追溯码或就诊ID不符")
    if rx["phase"] != "checked":
        raise OnlineError(f"{W}.hiRxno", "处方已上传（每张处方只能上传一次）")
    rx_file = b64(text(d, "rxFile", W, required=True, max_len=4_000_000), f"{W}.rxFile")
    signature = text(d, "signDigest", W, required=True, max_len=4000)
    cert = verify(conn, app.fixmedins_code, fields, rx_file, signature)
    w = store.rx_update(rx["hi_rxno"], rx["version"], phase="uploaded", signed={
        "fields": fields, "rxFile": base64.b64encode(rx_file).decode(), "fileSuffix": "pdf",
        "signDigest": signature, "signCertSn": cert["cert_sn"]})  # fmt: skip
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="rx-upload", state="1"))
    return state_answer(rx["hi_rxno"], "1")


def state_answer(hi_rxno: str, stas: str) -> dict[str, Any]:
    return {"hiRxno": hi_rxno, "rxStasCodg": stas, "rxStasName": RX_STAS[stas]}


def undo(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7104 电子处方撤销: only an unused (未结算) prescription."""
    rx = _own(conn, app, d, lock=True)
    for name in ("drCode", "undoDrName", "undoDrCertType", "undoDrCertno", "undoRea", "undoTime"):
        text(d, name, W, required=True, max_len=200)
    if rx["used_stas"] == "2":
        raise OnlineError(f"{W}.hiRxno", "处方已使用（已结算），不能撤销")
    if rx["rx_stas"] == "3":
        return state_answer(rx["hi_rxno"], "3")
    w = store.rx_update(rx["hi_rxno"], rx["version"], rx_stas="3")
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="rx-undo", state="3",
                                             detail={"undoRea": d.get("undoRea")}))  # fmt: skip
    return state_answer(rx["hi_rxno"], "3")


def _own(conn: sa.Connection, app: App, d: dict[str, Any], *, lock: bool = False) -> dict[str, Any]:
    if text(d, "fixmedinsCode", W, required=True) != app.fixmedins_code:
        raise OnlineError(f"{W}.fixmedinsCode", "须为本应用所属的定点医疗机构")
    rx = store.get_rx(conn, text(d, "hiRxno", W, required=True), lock=lock)
    if rx is None or rx["fixmedins_code"] != app.fixmedins_code:
        raise OnlineError(f"{W}.hiRxno", "处方不存在")
    return rx


def _local(t: datetime | None) -> str:
    return t.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if t else ""


def query(
    conn: sa.Connection, app: App, d: dict[str, Any], now: datetime, which: str
) -> dict[str, Any]:
    """7105 信息查询 / 7106 审核结果查询 / 7107 取药结果查询."""
    rx = _own(conn, app, d)
    for name in ("mdtrtId", "psnName", "psnCertType", "certno"):
        text(d, name, W, required=True, max_len=50)
    if text(d, "mdtrtId", W) != rx["mdtrt_id"]:
        raise OnlineError(f"{W}.mdtrtId", "与处方的就诊ID不符")
    stas = rx_status(rx["rx_stas"], rx["vali_end_time"], now)
    head = {"hiRxno": rx["hi_rxno"], "rxStasCodg": stas, "rxStasName": RX_STAS[stas],
            "rxUsedStasCodg": rx["used_stas"], "rxUsedStasName": RX_USED_STAS[rx["used_stas"]]}  # fmt: skip
    disp = rx["dispense"] or {}
    if which == "7106":
        review = disp.get("review") or {}
        return {**head, "pharName": review.get("pharName", ""), "pharCode": review.get("pharCode", ""),
                "rxChkStasCodg": rx["chk_stas"], "rxChkOpnn": review.get("rxChkOpnn", ""),
                "rxChkTime": review.get("rxChkTime", ""),
                "rxChkStasName": {"0": "审核不通过", "1": "审核通过"}.get(rx["chk_stas"], "未审核")}  # fmt: skip
    if which == "7107":
        sale = disp.get("sale") or {}
        return {**head, "setlTime": disp.get("setlTime", ""), "seltdelts": sale.get("rows", [])}
    pre = rx["precheck"]
    return {**head, "prscTime": _local(rx["prsc_time"]), "valiEndTime": _local(rx["vali_end_time"]),
            "rxTypeCode": pre.get("rxTypeCode", ""), "bizTypeCode": pre.get("bizTypeCode", ""),
            "rxDetlList": pre.get("rxdrugdetail", []), "rxOtpinfo": pre.get("mdtrtinfo", {}),
            "rxDiseList": pre.get("diseinfo", [])}  # fmt: skip

"""E-prescriptions, the dispensing side (取药机构: a 定点零售药店 or another 定点医疗机构):
7201/7202 授权 → 7204 下载 → 7205 信息核验 (signature) → 7206 药师审方 → 2102 药店结算 (linked:
:mod:`yibao.online.rx_link`) → 7207 销售出库 (drug trace codes) → 7209 配送 / 7210 签收.

A prescription can be filled once: it must be valid (有效, before ``valiEndTime``), unused, and
authorised by the insured for this pharmacy; downloading one of the person's prescriptions
voids the other authorisations of the same ``epcToken``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from yibao.clock import CHINA
from yibao.online import core, store
from yibao.online.apps import App
from yibao.online.core import text
from yibao.online.model import DELV_STAS, OnlineError, require_fillable
from yibao.online.rx_prescriber import b64, verify
from yibao.voucher import presence

W = "data"
EPC_TTL = timedelta(hours=2)


def _local(t: datetime) -> str:
    return t.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _issue(conn: sa.Connection, app: App, psn_no: str, rxs: list[dict[str, Any]], way: str,
           now: datetime, circ: str = "") -> dict[str, Any]:  # fmt: skip
    epc = secrets.token_hex(24)
    out = []
    for rx in rxs:
        auth_rxno = f"AR{now:%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}"
        conn.execute(store.rx_auth.insert().values(
            auth_rxno=auth_rxno, epc_token=f"{epc}:{auth_rxno}", hi_rxno=rx["hi_rxno"],
            fixmedins_code=app.fixmedins_code, psn_no=psn_no, way=way, circ_biz_sn=circ,
            expires_at=now + EPC_TTL))  # fmt: skip
        conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="rx-auth", state="1",
                                                 detail={"way": way, "fixmedinsCode": app.fixmedins_code}))  # fmt: skip
        pre = rx["precheck"].get("mdtrtinfo", {})
        out.append({"authRxno": auth_rxno, "hiRxno": rx["hi_rxno"], "fixmedinsCode": rx["fixmedins_code"],
                    "fixmedinsName": pre.get("fixmedinsName", ""), "prscTime": _local(rx["prsc_time"]),
                    "deptName": pre.get("prscDeptName", ""), "diseCodg": pre.get("maindiagCode", ""),
                    "diseName": pre.get("maindiagName", ""), "valiEndTime": _local(rx["vali_end_time"]),
                    "rxExraAttrCode": rx["precheck"].get("rxExraAttrCode", "")})  # fmt: skip
    return {"epcToken": epc, "expiresIn": _local(now + EPC_TTL), "rxList": out}


def _fillable(conn: sa.Connection, psn_no: str, now: datetime) -> list[dict[str, Any]]:
    x = store.rx
    rows = conn.execute(sa.select(x).where(
        x.c.psn_no == psn_no, x.c.phase == "uploaded", x.c.rx_stas == "1", x.c.used_stas == "1",
        x.c.vali_end_time > now).order_by(x.c.prsc_time.desc())).mappings()  # fmt: skip
    return [dict(r) for r in rows]


def authorise_offline(
    conn: sa.Connection, app: App, d: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """7201 线下流转授权: the insured shows their 医保码 at the pharmacy (``ecToken`` issued to it)."""
    if text(d, "fixmedinsCode", W, required=True) != app.fixmedins_code:
        raise OnlineError(f"{W}.fixmedinsCode", "须为本应用所属的取药机构")
    for name in ("psnName", "psnCertType", "certno", "ipInfo", "opter", "opterName", "optinsNo"):
        text(d, name, W, required=True, max_len=64)
    token = text(d, "ecToken", W, required=True, max_len=64)
    psn_no = conn.execute(sa.text(
        "SELECT psn_no FROM ec_token WHERE ec_token = :t AND org_id = :o AND expires_at > :n"),
        {"t": token, "o": app.fixmedins_code, "n": now}).scalar()  # fmt: skip
    if psn_no is None:
        raise OnlineError(f"{W}.ecToken", "医保电子凭证令牌无效、已过期或非本机构申领")
    try:  # 就诊凭证核验: the token, the name and the ID number name this person
        presence.verify(conn, presence.Presented("01", token, psn_name=text(d, "psnName", W),
                                                 certno=text(d, "certno", W)),
                        psn_no=str(psn_no), fixmedins_code=app.fixmedins_code, now=now, where=W)  # fmt: skip
    except presence.PresenceRefused as exc:
        raise OnlineError(exc.field, exc.rule) from exc
    rxs = _fillable(conn, str(psn_no), now)
    if not rxs:
        raise OnlineError(f"{W}.ecToken", "该参保人没有可取药的有效电子处方")
    return _issue(conn, app, str(psn_no), rxs, "ecToken", now)


def authorise_channel(conn: sa.Connection, psn_no: str, hi_rxno: str, fixmedins_code: str,
                      now: datetime) -> str:  # fmt: skip
    """The insured authorises one prescription for one pharmacy in the channel app (线上流转):
    the ``authCircBizSn`` the pharmacy then presents in 7202."""
    rx = store.get_rx(conn, hi_rxno)
    if rx is None or rx["psn_no"] != psn_no:
        raise OnlineError("hiRxno", "处方不存在或不属于本人")
    require_fillable(rx["rx_stas"], rx["used_stas"], rx["vali_end_time"], now)
    sn = f"CIRC{now:%Y%m%d%H%M%S}{secrets.token_hex(6).upper()}"
    conn.execute(store.event.insert().values(ref=hi_rxno, kind="rx-auth", state="1",
                                             detail={"way": "channel", "for": fixmedins_code, "sn": sn}))  # fmt: skip
    return sn


def authorise_online(
    conn: sa.Connection, app: App, d: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """7202 线上流转查询: the authorisation the insured gave in the channel app."""
    hi_rxno = text(d, "hiRxno", W, required=True)
    sn = text(d, "authCircBizSn", W, required=True)
    text(d, "epcChnlId", W, required=True)
    e = store.event
    ok = conn.execute(sa.select(e.c.id).where(
        e.c.ref == hi_rxno, e.c.kind == "rx-auth", e.c.detail["sn"].astext == sn,
        e.c.detail["for"].astext == app.fixmedins_code)).first()  # fmt: skip
    rx = store.get_rx(conn, hi_rxno)
    if ok is None or rx is None:
        raise OnlineError(f"{W}.authCircBizSn", "无此授权（须参保人在渠道内授权本机构取药）")
    require_fillable(rx["rx_stas"], rx["used_stas"], rx["vali_end_time"], now)
    answer = _issue(conn, app, rx["psn_no"], [rx], "channel", now, sn)
    return {**answer["rxList"][0], "epcToken": answer["epcToken"], "expiresIn": answer["expiresIn"]}


def _auth(
    conn: sa.Connection, app: App, d: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    epc = text(d, "epcToken", W, required=True, max_len=100)
    auth_rxno = text(d, "authRxno", W, max_len=30)
    a = store.rx_auth
    stmt = sa.select(a).where(
        a.c.epc_token.like(f"{epc}:%"), a.c.fixmedins_code == app.fixmedins_code
    )
    if auth_rxno:
        stmt = stmt.where(a.c.auth_rxno == auth_rxno)
    hi_rxno = text(d, "hiRxno", W, max_len=30)
    if hi_rxno:
        stmt = stmt.where(a.c.hi_rxno == hi_rxno)
    got = conn.execute(stmt).mappings().first()
    if got is None or now >= got["expires_at"]:
        raise OnlineError(f"{W}.epcToken", "授权不存在、已失效或已过期")
    rx = store.get_rx(conn, got["hi_rxno"], lock=True)
    assert rx is not None
    return dict(got), rx


def download(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7204 电子处方下载: the one authorised prescription, with its file; other authorisations
    of the same token lapse."""
    text(d, "fixmedinsCode", W, required=True)
    auth, rx = _auth(conn, app, d, now)
    require_fillable(rx["rx_stas"], rx["used_stas"], rx["vali_end_time"], now)
    epc = auth["epc_token"].split(":")[0]
    a = store.rx_auth
    conn.execute(a.update().where(a.c.epc_token.like(f"{epc}:%"), a.c.auth_rxno != auth["auth_rxno"])
                 .values(expires_at=now))  # fmt: skip
    conn.execute(a.update().where(a.c.auth_rxno == auth["auth_rxno"]).values(downloaded_at=now))
    disp = {
        **(rx["dispense"] or {}),
        "fixmedinsCode": app.fixmedins_code,
        "authRxno": auth["auth_rxno"],
    }
    w = store.rx_update(rx["hi_rxno"], rx["version"], dispense=disp)
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="download", state="1",
                                             detail={"fixmedinsCode": app.fixmedins_code}))  # fmt: skip
    pre, signed = rx["precheck"], rx["signed"]
    return {"hiRxno": rx["hi_rxno"], "rxTraceCode": rx["rx_trace_code"],
            "fixmedinsCode": rx["fixmedins_code"], "fixmedinsName": pre["mdtrtinfo"].get("fixmedinsName", ""),
            "prscTime": _local(rx["prsc_time"]), "prscDeptName": pre["mdtrtinfo"].get("prscDeptName", ""),
            "valiEndTime": _local(rx["vali_end_time"]), "rxTypeCode": pre.get("rxTypeCode", ""),
            "longRxFlag": pre.get("longRxFlag", "0"), "rxFile": signed["rxFile"],
            "fileSuffix": signed.get("fileSuffix", "pdf"), "signedFields": signed["fields"],
            "rxDetlList": pre.get("rxdrugdetail", []), "rxOtpinfo": pre.get("mdtrtinfo", {}),
            "rxDiseList": pre.get("diseinfo", [])}  # fmt: skip


def check_signature(
    conn: sa.Connection, app: App, d: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """7205 电子处方信息核验: the file as the pharmacy holds it, against the prescriber's signature
    of the signed set. A changed file or field is refused (and the refusal is on the record)."""
    text(d, "fixmedinsCode", W, required=True)
    auth, rx = _auth(conn, app, d, now)
    if text(d, "rxTraceCode", W, required=True) != rx["rx_trace_code"]:
        raise OnlineError(f"{W}.rxTraceCode", "与处方追溯码不符")
    rx_file = b64(text(d, "rxFile", W, required=True, max_len=4_000_000), f"{W}.rxFile")
    signed = rx["signed"]
    given = d.get("signedFields")
    fields: dict[str, Any] = given if isinstance(given, dict) else signed["fields"]
    try:
        cert = verify(conn, rx["fixmedins_code"], fields, rx_file, signed["signDigest"])
    except OnlineError:
        with conn.engine.begin() as other:  # kept although the call is refused
            other.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="verify-failed", state="1",
                                                      detail={"fixmedinsCode": app.fixmedins_code}))  # fmt: skip
        raise
    sn = f"SV{now:%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"
    disp = {**(rx["dispense"] or {}), "rxSignVerifySn": sn}
    w = store.rx_update(rx["hi_rxno"], rx["version"], dispense=disp)
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="verify", state="1"))
    del auth
    return {
        "flag": "1",
        "rxSignVerifySn": sn,
        "signCertSn": cert["cert_sn"],
        "signCertDn": cert["cert_dn"],
    }


def review(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7206 审核信息上传: the pharmacy's pharmacist reviews (审方) after the signature check."""
    rx = _auth(conn, app, d, now)[1]
    for name in ("ecToken", "fixmedinsName", "pharCertType", "pharCertno", "pharName", "pharCode",
                 "rxChkOpnn", "rxChkTime"):  # fmt: skip
        text(d, name, W, required=True, max_len=2000)
    stas = core.code(d, "rxChkStasCodg", W, ("0", "1"))
    disp = rx["dispense"] or {}
    if text(d, "rxSignVerifySn", W, required=True) != disp.get("rxSignVerifySn"):
        raise OnlineError(f"{W}.rxSignVerifySn", "须为【7205】核验通过返回的流水号")
    require_fillable(rx["rx_stas"], rx["used_stas"], rx["vali_end_time"], now)
    sn = f"CK{now:%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}"
    rev = {k: str(d.get(k, "")) for k in ("pharName", "pharCode", "rxChkOpnn", "rxChkTime")}
    w = store.rx_update(rx["hi_rxno"], rx["version"], chk_stas=stas,
                        dispense={**disp, "review": rev, "rxChkBizSn": sn})  # fmt: skip
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(
        store.event.insert().values(ref=rx["hi_rxno"], kind="review", state=stas, detail=rev)
    )
    return {"flag": "1", "rxChkBizSn": sn, "hiRxno": rx["hi_rxno"], "_callback": "7108"}


def sale(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7207 药品销售出库明细上传, each row with its drug trace code (药品追溯码, required here)."""
    rx = _dispensed(conn, app, d)
    disp = rx["dispense"] or {}
    if text(d, "rxChkBizSn", W, required=True) != disp.get("rxChkBizSn"):
        raise OnlineError(f"{W}.rxChkBizSn", "须为【7206】审方返回的流水号")
    flag = core.code(d, "hiFeesetlFlag", W, ("0", "1"), default="1")
    if flag == "1" and rx["used_stas"] != "2":
        raise OnlineError(f"{W}.hiFeesetlFlag", "医保结算的处方须先完成【2102】药店结算")
    if flag == "0":
        require_fillable(rx["rx_stas"], rx["used_stas"], rx["vali_end_time"], now)
        core.amount(d, "psnCashPay", W)
    rows = d.get("rxSaleDrugDetl")
    if not isinstance(rows, list) or not rows:
        raise OnlineError(f"{W}.rxSaleDrugDetl", "必填，至少一条出库明细")
    kept = []
    for i, row in enumerate(rows):
        w = f"{W}.rxSaleDrugDetl[{i}]"
        for name in ("rtalDocno", "stooutTime", "medListCodg", "medinsListCodg", "drugGenname",
                     "drugSpec", "drugTotlcntEmp"):  # fmt: skip
            text(row, name, w, required=True, max_len=500)
        core.number(row, "drugTotlcnt", w, 2)
        text(row, "drugTraceCodg", w, required=True, max_len=30)  # 广东: 追溯码必传 (local rule)
        kept.append(core.jsonable(row))
    sn = f"SO{now:%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}"
    values: dict[str, Any] = {
        "dispense": {**disp, "sale": {"selStooutSn": sn, "rows": kept, "withdrawn": False}}
    }
    if flag == "0":
        values["used_stas"] = "2"
    upd = store.rx_update(rx["hi_rxno"], rx["version"], **values)
    conn.exec_driver_sql(upd.sql, dict(upd.params))
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="sale", state="2",
                                             detail={"selStooutSn": sn, "rows": len(kept)}))  # fmt: skip
    return {"flag": "1", "selStooutSn": sn, "hiRxno": rx["hi_rxno"], "_callback": "7109"}


def _dispensed(conn: sa.Connection, app: App, d: dict[str, Any]) -> dict[str, Any]:
    if text(d, "fixmedinsCode", W, required=True) != app.fixmedins_code:
        raise OnlineError(f"{W}.fixmedinsCode", "须为本应用所属的取药机构")
    rx = store.get_rx(conn, text(d, "hiRxno", W, required=True), lock=True)
    if rx is None or (rx["dispense"] or {}).get("fixmedinsCode") != app.fixmedins_code:
        raise OnlineError(f"{W}.hiRxno", "处方不存在或未由本机构下载")
    return rx


def withdraw_sale(
    conn: sa.Connection, app: App, d: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """7208 药品销售出库明细撤销."""
    rx = _dispensed(conn, app, d)
    disp = rx["dispense"] or {}
    got = disp.get("sale")
    if not got or got.get("withdrawn"):
        raise OnlineError(f"{W}.selStooutSn", "没有可撤销的出库明细")
    w = store.rx_update(
        rx["hi_rxno"], rx["version"], dispense={**disp, "sale": {**got, "withdrawn": True}}
    )
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(
        store.event.insert().values(ref=rx["hi_rxno"], kind="sale-undo", state=rx["used_stas"])
    )
    return {"flag": "1"}


def delivery(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7209 配送信息同步 (delvStasCodg: 0 待配送 … 2 配送完成)."""
    rx = _dispensed(conn, app, d)
    stas = core.code(d, "delvStasCodg", W, DELV_STAS)
    for name in ("delvNo", "delvAddr", "delvEntpName", "delvStasTime", "delvConner"):
        text(d, name, W, required=True, max_len=200)
    disp = rx["dispense"] or {}
    track = [*disp.get("delivery", []), {"delvStasCodg": stas, "delvStasName": DELV_STAS[stas],
                                         "delvStasTime": d["delvStasTime"], "delvNo": d["delvNo"]}]  # fmt: skip
    w = store.rx_update(rx["hi_rxno"], rx["version"], dispense={**disp, "delivery": track})
    conn.exec_driver_sql(w.sql, dict(w.params))
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="delivery", state=stas,
                                             detail={"delvStasName": DELV_STAS[stas]}))  # fmt: skip
    return {"flag": "1"}


def received(conn: sa.Connection, app: App, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """7210 签收确认 (chkWayCodg 1 人脸识别 / 2 电子凭证二维码 / 3 其他)."""
    rx = _dispensed(conn, app, d)
    for name in ("delverCertType", "delverCertno", "delverName", "delvStasTime"):
        text(d, name, W, required=True, max_len=50)
    core.code(d, "chkWayCodg", W, ("1", "2", "3"), required=False)
    conn.execute(store.event.insert().values(ref=rx["hi_rxno"], kind="received", state="2"))
    return {"flag": "1"}

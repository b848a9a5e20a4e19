"""自费病人费用明细 4261 上传 / 4262 对账 / 4263 零报金额不符查询 ([HN127], funds-and-services.md §4.3).

Hunan's own transactions ("自建", receiver 地方医保局). Hunan sends them without the public
envelope; Yibao takes their body as the envelope's ``input`` (the nodes ``fmiOwnpayPatnMdtrtDDTO``,
``fmiOwnpayPatnDiseListDDTOS``, ``fmiOwnpayPatnFeeListDDTO``; a ``data`` wrapper is tolerated), so
the same gateway signatures and exactly-once ``msgid`` apply. ``fixmedinsCode`` must be the
signed-in institution. The 4263 row (``data2``) is not specified in [HN127]; Yibao answers the
fields in ``docs/claims.md``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.claims import selfpay
from yibao.clock import CHINA
from yibao.money import fen_to_yuan

VISIT, DISE, FEE = (
    "fmiOwnpayPatnMdtrtDDTO",
    "fmiOwnpayPatnDiseListDDTOS",
    "fmiOwnpayPatnFeeListDDTO",
)


def _body(ctx: Context) -> dict[str, Any]:
    data = ctx.input.get("data")
    return data if isinstance(data, dict) and (VISIT in data or "mdtrtId" in data) else ctx.input


def _own(ctx: Context, row: dict[str, Any], where: str) -> str:
    code = fields.text(
        row, "fixmedinsCode", where, required=True, max_len=30, label="定点医药机构编号"
    )
    if code != ctx.institution.fixmedins_code:
        raise InputError(
            f"{where}.fixmedinsCode", f"须为本机构编号 {ctx.institution.fixmedins_code}"
        )
    return code


@transaction("4261", "自费病人费用明细信息上传")
def upload(ctx: Context) -> dict[str, Any]:
    body = _body(ctx)
    up = fields.text(body, "upType", "input", required=True, max_len=2, label="上传类型")
    if up not in ("0", "1"):
        raise InputError("input.upType", "应为 0 全量 或 1 更新")
    v = fields.node(body, VISIT)
    w = f"input.{VISIT}"
    _own(ctx, v, w)
    visit: dict[str, Any] = {k: fields.text(v, k, w, required=True, max_len=n) for k, n in (
        ("mdtrtId", 30), ("fixmedinsName", 255), ("psnCertType", 6), ("certno", 50),
        ("psnName", 30), ("medType", 6), ("inhospStas", 3))}  # fmt: skip
    begn = fields.moment(v, "begntime", w, required=True)
    assert begn is not None
    visit["begntime"] = begn.replace(tzinfo=CHINA)
    visit["valiFlag"] = fields.text(v, "valiFlag", w, max_len=3) or "1"
    diseases = []
    for i, d in enumerate(fields.rows(body, DISE, required=False)):
        wd = f"input.{DISE}[{i}]"
        _own(ctx, d, wd)
        diseases.append({k: fields.text(d, k, wd, required=True, max_len=n) for k, n in (
            ("diagSrtNo", 2), ("mdtrtId", 30), ("inoutDiagType", 6), ("diagType", 3),
            ("maindiagFlag", 3), ("diagCode", 20), ("diagName", 255))})  # fmt: skip
    fees = []
    for i, f in enumerate(fields.rows(body, FEE)):
        wf = f"input.{FEE}[{i}]"
        _own(ctx, f, wf)
        row: dict[str, Any] = {k: fields.text(f, k, wf, max_len=n) for k, n in (
            ("medListCodg", 50), ("medinsListCodg", 150), ("medinsListName", 200), ("medChrgitmType", 6))}  # fmt: skip
        row["bkkpSn"] = fields.text(f, "bkkpSn", wf, required=True, max_len=30, label="记账流水号")
        row["feeOcurTime"] = fields.text(f, "feeOcurTime", wf, required=True, max_len=19)
        row["cnt"] = str(fields.number(f, "cnt", wf, places=4, required=True))
        row["pric"] = str(fields.number(f, "pric", wf, places=6, required=True))
        row["fee_fen"] = fields.amount(f, "detItemFeeSumamt", wf, required=True)
        row["valiFlag"] = fields.text(f, "valiFlag", wf, required=True, max_len=3)
        fees.append(row)
    selfpay.upload(ctx.conn, ctx.institution.fixmedins_code, full=up == "0", visit=visit,
                   diseases=diseases, fees=fees, msgid=ctx.msgid, now=ctx.now)  # fmt: skip
    return {}


@transaction("4262", "已上传费用对账")
def reconcile(ctx: Context) -> dict[str, Any]:
    body = _body(ctx)
    _own(ctx, body, "input")
    mdtrt_id = fields.text(body, "mdtrtId", "input", required=True, max_len=30, label="就诊事件ID")
    total = fields.amount(body, "totalFeeSumamt", "input", required=True)
    try:
        balanced, remark = selfpay.reconcile(
            ctx.conn, ctx.institution.fixmedins_code, mdtrt_id, total
        )
    except selfpay.SelfpayRefused as exc:
        raise BusinessError(str(exc)) from None
    return {"data": {"stmtResult": "1" if balanced else "0", "stmtRema": remark}}


@transaction("4263", "自费病人零报金额不符查询")
def mismatches(ctx: Context) -> dict[str, Any]:
    body = _body(ctx)
    _own(ctx, body, "input")
    page = int(fields.number(body, "pageNum", "input", places=0, required=True, minimum=Decimal(1)))
    size = int(
        fields.number(body, "pageSize", "input", places=0, required=True, minimum=Decimal(1))
    )
    if size > 100:
        raise InputError("input.pageSize", "每页最多100条")
    total, rows = selfpay.mismatches(
        ctx.conn, ctx.institution.fixmedins_code, page=page, size=size,
        mdtrt_id=fields.text(body, "mdtrtId", "input", max_len=30),
        certno=fields.text(body, "certno", "input", max_len=50))  # fmt: skip
    pages = (total + size - 1) // size
    start = (page - 1) * size
    return {
        "pageNum": page, "pageSize": size, "size": len(rows), "startRow": start + 1 if rows else 0,
        "endRow": start + len(rows), "pages": pages, "recordCounts": total,
        "prePage": page - 1 if page > 1 else 0, "nextPage": page + 1 if page < pages else 0,
        "data": [{
            "mdtrtId": r["mdtrt_id"], "zeroClaimNo": r["claim_no"],
            "invoiceSumamt": str(fen_to_yuan(int(r["fee_total"]))),
            "uploadSumamt": str(fen_to_yuan(int(r["selfpay_check"]["uploaded_total"]))),
            "diffAmt": str(fen_to_yuan(int(r["fee_total"]) - int(r["selfpay_check"]["uploaded_total"]))),
            "appyTime": r["submitted_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        } for r in rows],
    }  # fmt: skip

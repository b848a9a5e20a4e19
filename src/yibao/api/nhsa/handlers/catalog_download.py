"""1301–1306 目录下载 (reference §2.14, §2.13): the treatment place's catalogue as a file.

Input ``data{ver(Y) — 本地最大版本号}`` → ``{file_qury_no, filename, dld_endtime}`` (no node);
the HIS then fetches the ZIP with 9102 ("通过此交易下载【1301-1319】目录信息下载…生成的文件").
``ver`` "" or "0" asks for the whole catalogue; a catalogue version number asks only for codes
changed after that version (codes withdrawn since then come with ``vali_flag`` 0). Every row
carries the current catalogue version in its last column: the HIS keeps the largest as its
本地最大版本号.

Which number serves which list (目录类别): 1301 西药中成药 101, 1302 中药饮片 102, 1303 自制剂 103,
1305 医疗服务项目 201, 1306 医用耗材 301 — the national interface list's titles for 1301–1306
(the reference names only the range 1301–1319; the per-number titles are **[not in the
reference]**). 1304 民族药 and 1307–1319 (diseases, operations, matching queries…) are not
served: Yibao ships no such catalogue.

TXT columns (TAB separated, no header, ``null`` for empty): med_list_codg, name, list_type,
chrgitm_lv, med_chrgitm_type, selfpay_prop, pric_uplmt_amt (yuan), prcunt, drug_dosform,
drug_spec, prodentp_name, lmt_used_flag, lmt_usescp, hi_nego_drug_flag, begndate, enddate,
vali_flag, ver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import Context, transaction
from yibao.api.nhsa.fields import InputError
from yibao.catalog import service as catalog
from yibao.catalog import store as catalog_store
from yibao.gateway import files
from yibao.gateway.tabzip import make_tab_zip
from yibao.institutions.service import business_day
from yibao.money import fen_str

CATALOG_DOWNLOADS: dict[str, tuple[str, str]] = {
    "1301": ("101", "西药中成药目录下载"),
    "1302": ("102", "中药饮片目录下载"),
    "1303": ("103", "医疗机构制剂目录下载"),
    "1305": ("201", "医疗服务项目目录下载"),
    "1306": ("301", "医用耗材目录下载"),
}

COLUMNS = (
    "med_list_codg", "name", "list_type", "chrgitm_lv", "med_chrgitm_type", "selfpay_prop",
    "pric_uplmt_amt", "prcunt", "drug_dosform", "drug_spec", "prodentp_name", "lmt_used_flag",
    "lmt_usescp", "hi_nego_drug_flag", "begndate", "enddate", "vali_flag", "ver",
)  # fmt: skip


def _since(conn: Connection, ver_text: str) -> datetime | None:
    if ver_text in ("", "0"):
        return None
    if not ver_text.isdigit():
        raise InputError("input.data.ver", f"版本号须为数字 (0 表示全量)，收到 {ver_text!r}")
    row = conn.execute(
        catalog_store.catalog_version.select().where(
            catalog_store.catalog_version.c.ver == int(ver_text)
        )
    ).first()
    if row is None:
        raise InputError("input.data.ver", f"目录版本{ver_text}不存在 (0 表示全量下载)")
    loaded_at: datetime = row._mapping["loaded_at"]
    return loaded_at


def catalogue_rows(
    conn: Connection, admdvs: str, list_type: str, on: datetime, since: datetime | None
) -> list[list[object]]:
    """The TXT rows of one list type of the region's catalogue in force on ``on``."""
    ver = str(catalog_store.latest_version(conn))
    rows: list[list[object]] = []
    page = 1
    while True:
        p = catalog.list_entries(
            conn, admdvs, on.date(), list_type=list_type, updated_since=since, page=page, size=500
        )
        for e in p.entries:
            rows.append(
                [
                    e.med_list_codg, e.name, e.list_type, e.chrgitm_lv, e.med_chrgitm_type,
                    f"{e.selfpay_prop:.4f}",
                    fen_str(e.pric_uplmt_amt) if e.pric_uplmt_amt is not None else None,
                    e.prcunt, e.drug_dosform, e.drug_spec, e.prodentp_name, e.lmt_used_flag,
                    e.lmt_usescp, e.hi_nego_drug_flag, e.begndate.isoformat(),
                    e.enddate.isoformat() if e.enddate else None, "1", ver,
                ]
            )  # fmt: skip
        if page == 1:
            rows.extend([code, *([None] * (len(COLUMNS) - 3)), "0", ver] for code in p.removed)
        if page * p.size >= p.total:
            return rows
        page += 1


def _download(ctx: Context) -> dict[str, Any]:
    list_type, title = CATALOG_DOWNLOADS[ctx.envelope.infno]
    data = ctx.node("data")
    ver_text = fields.text(data, "ver", "input.data", max_len=20, label="版本号")
    since = _since(ctx.conn, ver_text)
    local = business_day(ctx.now)
    rows = catalogue_rows(ctx.conn, ctx.institution.admdvs, list_type, local, since)
    name = f"{ctx.envelope.infno}_{ctx.institution.admdvs}_{local:%Y%m%d%H%M%S}"
    f = files.save(
        ctx.conn,
        fixmedins_code=ctx.institution.fixmedins_code,
        admdvs=ctx.institution.admdvs,
        filename=f"{name}.zip",
        content=make_tab_zip({f"{name}.txt": rows}),
        kind=f"catalog:{ctx.envelope.infno}",
        now=ctx.now,
    )
    if not rows:
        ctx.warn(f"{title}: 版本{ver_text}之后没有变化")
    return {
        "file_qury_no": f.file_qury_no,
        "filename": f.filename,
        "dld_endtime": files.china_time(f.dld_endtime),
    }


for _infno, (_lt, _title) in CATALOG_DOWNLOADS.items():
    transaction(_infno, _title)(_download)

"""9101 文件上传 / 9102 文件下载 (reference §2.13).

- 9101: the file travels as the multipart part ``file`` (or ``in``) next to the ``jsonStr``
  envelope, or base64 in ``fsUploadIn.in``; it must be a ZIP of TAB-separated UTF-8 TXT files.
  Output ``{file_qury_no, filename, fixmedins_code, dld_endtime}``.
- 9102 ``fsDownloadIn{file_qury_no, filename, fixmedins_code}``: the raw ZIP
  (``application/octet-stream``) on success, an envelope with infcode -1 otherwise. Only the
  institution that owns a file may download it, until its ``dld_endtime``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from yibao.api.nhsa import fields
from yibao.api.nhsa.dispatcher import BusinessError, Context, FileOutput, transaction
from yibao.api.nhsa.fields import InputError
from yibao.gateway import files
from yibao.gateway.tabzip import TabZipError, read_tab_zip


def _inline_file(data: dict[str, Any], where: str) -> bytes | None:
    value = data.get("in")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"{where}.in", "文件内容须为base64编码") from exc
    if isinstance(value, list) and all(isinstance(b, int) and -128 <= b <= 255 for b in value):
        return bytes(b & 0xFF for b in value)
    raise InputError(f"{where}.in", "文件内容须为base64字符串或字节数组")


@transaction("9101", "文件上传")
def upload(ctx: Context) -> dict[str, Any]:
    data = ctx.node("fsUploadIn")
    where = "input.fsUploadIn"
    filename = fields.text(data, "filename", where, required=True, max_len=200, label="文件名")
    owner = fields.text(data, "fixmedins_code", where, max_len=30)
    if owner and owner != ctx.institution.fixmedins_code:
        raise InputError(f"{where}.fixmedins_code", "须为本机构的定点医药机构编号")
    content = ctx.upload if ctx.upload is not None else _inline_file(data, where)
    if content is None:
        raise InputError(f"{where}.in", "未收到文件 (multipart 的 file 部分或 base64 的 in)")
    try:
        read_tab_zip(content)
    except TabZipError as exc:
        raise InputError(f"{where}.in", str(exc)) from exc
    f = files.save(
        ctx.conn,
        fixmedins_code=ctx.institution.fixmedins_code,
        admdvs=ctx.institution.admdvs,
        filename=filename,
        content=content,
        kind="upload",
        now=ctx.now,
    )
    return {
        "file_qury_no": f.file_qury_no,
        "filename": f.filename,
        "fixmedins_code": f.fixmedins_code,
        "dld_endtime": files.china_time(f.dld_endtime),
    }


@transaction("9102", "文件下载")
def download(ctx: Context) -> FileOutput:
    data = ctx.node("fsDownloadIn")
    where = "input.fsDownloadIn"
    qury_no = fields.text(
        data, "file_qury_no", where, required=True, max_len=30, label="文件查询号"
    )
    fields.text(data, "filename", where, required=True, max_len=200, label="文件名")
    fields.text(data, "fixmedins_code", where, required=True, max_len=30, label="定点医药机构编号")
    f = files.fetch(ctx.conn, qury_no)
    if f is None or f.fixmedins_code != ctx.institution.fixmedins_code:
        raise BusinessError(f"file_qury_no: 文件查询号{qury_no}不存在")
    if f.dld_endtime < ctx.now:
        raise BusinessError(f"file_qury_no: 文件已过下载截止时间{files.china_time(f.dld_endtime)}")
    name = f.filename if f.filename.lower().endswith(".zip") else f"{f.filename}.zip"
    return FileOutput(f.content, name)

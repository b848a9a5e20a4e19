"""ZIP of TAB-separated UTF-8 TXT files (9101/9102, 3202, 1301–1319 files). Pure.

Reference §2.13 / §2.11: "输入文件为 TXT 文件的 ZIP 压缩包，TXT 文件各数据项以“TAB”制表符隔开…每行数据
占据一行"; "TXT 文件使用字符集为 UTF-8"; "TXT 文件中空值使用“null”".
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence

MAX_UNCOMPRESSED = 64 * 1024 * 1024  # refuse zip bombs
NULL = "null"


class TabZipError(ValueError):
    """The file is not a ZIP of TAB-separated UTF-8 TXT files (文件格式错误)."""


def _cell(value: object) -> str:
    if value is None or value == "":
        return NULL
    text = str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return text


def make_tab_zip(files: dict[str, Iterable[Sequence[object]]]) -> bytes:
    """Build a ZIP with one TXT per entry; each row TAB-joined, empty cells written ``null``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, rows in files.items():
            text = "".join("\t".join(_cell(c) for c in row) + "\n" for row in rows)
            zf.writestr(name, text.encode("utf-8"))
    return buf.getvalue()


def read_tab_zip(content: bytes) -> dict[str, list[list[str]]]:
    """Parse and validate a ZIP of TXT files into rows of cells (``null`` kept as text)."""
    if not content:
        raise TabZipError("文件为空")
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise TabZipError("文件不是ZIP压缩包") from exc
    out: dict[str, list[list[str]]] = {}
    total = 0
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise TabZipError("ZIP压缩包中没有文件")
        for info in infos:
            if not info.filename.lower().endswith(".txt"):
                raise TabZipError(f"{info.filename}: 压缩包内须为TXT文件")
            total += info.file_size
            if total > MAX_UNCOMPRESSED:
                raise TabZipError("解压后超过64MB")
            try:
                raw = zf.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                raise TabZipError(f"{info.filename}: 无法解压 ({exc})") from exc
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise TabZipError(
                    f"{info.filename}: 须为UTF-8编码 (第{exc.start}字节无效)"
                ) from exc
            out[info.filename] = [line.split("\t") for line in text.splitlines() if line.strip()]
    return out

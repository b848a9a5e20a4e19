"""ZIP of TAB-separated TXT: round trip and refusals."""

from __future__ import annotations

import io
import zipfile

import pytest

from yibao.gateway.tabzip import TabZipError, make_tab_zip, read_tab_zip


def test_round_trip_with_nulls() -> None:
    data = make_tab_zip({"a.txt": [["1", None, "甲\t类"], ["2", "", "x"]]})
    assert read_tab_zip(data) == {"a.txt": [["1", "null", "甲 类"], ["2", "null", "x"]]}


def _zip(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, content)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"", "文件为空"),
        (b"not a zip", "不是ZIP"),
        (_zip("a.csv", b"x"), "TXT"),
        (_zip("a.txt", "甲".encode("gbk")), "UTF-8"),
    ],
)
def test_refusals(content: bytes, rule: str) -> None:
    with pytest.raises(TabZipError, match=rule):
        read_tab_zip(content)

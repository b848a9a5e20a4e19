"""Files exchanged through 9101/9102 (文件上传下载), kept in PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from yibao.clock import CHINA
from yibao.gateway import store
from yibao.gateway.store import StoredFile

DOWNLOAD_DAYS = 7  # 下载截止时间: files stay downloadable for a week


def file_qury_no(admdvs: str, at: datetime, seq: int) -> str:
    """文件查询号 (30): admdvs(6) + yyyyMMddHHmmss(14) + sequence(10)."""
    return f"{admdvs}{at.astimezone(CHINA):%Y%m%d%H%M%S}{seq % 10**10:010d}"


def save(
    conn: sa.Connection,
    *,
    fixmedins_code: str,
    admdvs: str,
    filename: str,
    content: bytes,
    kind: str,
    now: datetime,
) -> StoredFile:
    """Store a file (uploaded, or generated for download) and return its record."""
    f = StoredFile(
        file_qury_no=file_qury_no(admdvs, now, store.next_file_seq(conn)),
        fixmedins_code=fixmedins_code,
        filename=filename,
        kind=kind,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        dld_endtime=now + timedelta(days=DOWNLOAD_DAYS),
    )
    store.insert_file(conn, f)
    return f


def fetch(conn: sa.Connection, file_qury_no: str) -> StoredFile | None:
    return store.get_file(conn, file_qury_no)


def china_time(at: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in China time."""
    return f"{at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}"

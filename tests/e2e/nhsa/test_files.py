"""9101 upload / 9102 download: ZIP of TAB-separated TXT stored in PostgreSQL."""

from __future__ import annotations

import base64

from tests.e2e.nhsa.conftest import PHARMACY, ClientFactory
from yibao.gateway.tabzip import make_tab_zip, read_tab_zip


def test_upload_then_download_same_bytes(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    content = make_tab_zip({"stmt.txt": [["S1", "M1", "P1", "100.00", "80.00", "0.00", "0"]]})
    up = c.upload_file(content, "stmt.zip")
    assert up.infcode == 0, up.body
    out = up.output
    assert len(out["file_qury_no"]) == 30 and out["filename"] == "stmt.zip"
    down = c.download_file(out["file_qury_no"], "stmt.zip")
    assert down.status_code == 200 and down.content_type == "application/octet-stream"
    assert down.body == content
    assert read_tab_zip(down.body)["stmt.txt"][0][3] == "100.00"


def test_inline_base64_upload(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    content = make_tab_zip({"a.txt": [["1", "2"]]})
    r = c.call(
        "9101", {"fsUploadIn": {"filename": "a.zip", "in": base64.b64encode(content).decode()}}
    )
    assert r.infcode == 0


def test_bad_files_and_foreign_downloads(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    r = c.upload_file(b"not a zip", "x.zip")
    assert r.infcode == -1 and r.err_msg.startswith("input.fsUploadIn.in:")
    ok = c.upload_file(make_tab_zip({"a.txt": [["1"]]}), "a.zip")
    p = make_client(PHARMACY)
    p.sign_in()
    r = p.download_file(ok.output["file_qury_no"], "a.zip")
    assert r.infcode == -1 and "不存在" in r.err_msg


def test_upload_retry_is_identical_and_other_file_conflicts(make_client: ClientFactory) -> None:
    c = make_client()
    c.sign_in()
    e = c.envelope(
        "9101", {"fsUploadIn": {"filename": "r.zip", "fixmedins_code": c.fixmedins_code}}
    )
    first_zip = make_tab_zip({"r.txt": [["1"]]})
    first = c.post("9101", e, files={"file": ("r.zip", first_zip, "application/zip")})
    again = c.post("9101", e, files={"file": ("r.zip", first_zip, "application/zip")})
    assert first.infcode == 0 and again.body == first.body
    other = make_tab_zip({"r.txt": [["2"]]})
    clash = c.post("9101", e, files={"file": ("r.zip", other, "application/zip")})
    assert clash.infcode == -1 and clash.err_msg.startswith("msgid:")

"""1301–1306 catalogue download then 9102, full and incremental, over HTTP."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.e2e.nhsa.conftest import ClientFactory
from yibao.catalog import service as catalog
from yibao.catalog import store as catalog_store
from yibao.gateway.tabzip import read_tab_zip


def test_full_then_incremental_download(make_client: ClientFactory, seeded: Engine) -> None:
    catalog.seed_demo(seeded)
    with seeded.connect() as conn:
        ver = catalog_store.latest_version(conn)
    assert ver >= 1
    c = make_client()
    c.sign_in()
    r = c.call("1301", {"data": {"ver": "0"}})
    assert r.infcode == 0, r.body
    assert set(r.output) == {"file_qury_no", "filename", "dld_endtime"}
    z = c.download_file(r.output["file_qury_no"], "plc")
    assert z.ok and z.content_type == "application/octet-stream"
    (rows,) = read_tab_zip(z.body).values()
    assert rows, "the demo catalogue has 西药中成药 items"
    assert all(len(row) == 18 and row[2] == "101" and row[-1] == str(ver) for row in rows)
    assert all(row[3] in {"01", "02", "03"} for row in rows)
    services = c.call("1305", {"data": {"ver": ""}})
    (srows,) = read_tab_zip(c.download_file(services.output["file_qury_no"], "plc").body).values()
    assert srows and all(row[2] == "201" for row in srows)
    newer = c.call("1301", {"data": {"ver": str(ver)}})
    assert newer.infcode == 0 and newer.json["warn_msg"]
    (nrows,) = read_tab_zip(c.download_file(newer.output["file_qury_no"], "plc").body).values()
    assert nrows == []
    bad = c.call("1301", {"data": {"ver": "999999"}})
    assert bad.infcode == -1 and bad.err_msg.startswith("input.data.ver:")

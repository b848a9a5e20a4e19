"""Catalogue HTTP API over real HTTP: /api/catalog/{admdvs}[/{code}]."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import Engine

from yibao.catalog import service

SHIPPED = Path(__file__).resolve().parents[2] / "catalogs"


def test_catalog_api(live_server: str, engine: Engine) -> None:
    service.load_catalog(engine, SHIPPED, actor="test")
    with httpx.Client(base_url=live_server, timeout=10) as http:
        r = http.get("/api/catalog/440300", params={"q": "床位费", "date": "2025-07-01"})
        assert r.status_code == 200
        data = r.json()["data"]
        assert data["total"] == 5 and data["ver"] == 1
        single = next(i for i in data["items"] if i["med_list_codg"] == "001109000030000")
        assert (
            single["pric_uplmt_amt"] == "80.00" and single["sources"]["pric_uplmt_amt"] == "440300"
        )

        r = http.get("/api/catalog/440100", params={"list_type": "301", "size": 500})
        items = r.json()["data"]["items"]
        assert items and all(i["list_type"] == "301" for i in items)

        pacer = next(i for i in items if i["name"] == "双腔心脏起搏器")
        one = http.get(
            f"/api/catalog/440100/{pacer['med_list_codg']}", params={"date": "2025-07-01"}
        )
        body = one.json()["data"]
        assert body["selfpay_prop"] == "0.2000" and body["chain"] == ["440000", "440100"]

        gone = http.get("/api/catalog/440300/001102000040000", params={"date": "2025-07-01"})
        assert gone.status_code == 404 and "不在医保目录内" in gone.json()["message"]

        bad = http.get("/api/catalog/4403", params={"date": "2025-13-01"})
        assert bad.status_code == 422 and bad.json()["field"] == "admdvs"
        bad = http.get("/api/catalog/440300", params={"date": "2025-13-01"})
        assert bad.status_code == 422 and bad.json()["field"] == "date"
        assert http.get("/api/catalog/440300", params={"since_ver": 1}).json()["data"]["total"] == 0

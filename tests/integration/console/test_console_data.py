"""Console pages over real registry, institution and settlement data: scope, masking, breakdown."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.console.conftest import login
from tests.integration.console.data import Seeded, seed_console_data


@pytest.fixture
def data(seeded: Engine) -> Seeded:
    return seed_console_data(seeded)


def test_person_search_masks_ids_and_stays_in_region(client: TestClient, data: Seeded) -> None:
    login(client, "gz_admin")
    page = client.get("/console/persons").text
    assert "陈志强" in page and "林晓燕" not in page  # 深圳 person invisible to 广州
    assert re.search(r"440106\*{8}\d{3}[\dX]", page)
    assert not re.search(r"440106\d{12}", page)  # no full ID number anywhere
    # searching by the other city's person's name finds nothing
    assert "没有找到参保人" in client.get("/console/persons", params={"q": "林晓燕"}).text


def test_city_admin_cannot_open_other_city_person_by_url(
    client: TestClient, data: Seeded, seeded: Engine
) -> None:
    login(client, "gz_admin")
    r = client.get(f"/console/persons/{data.sz_psn}")
    assert r.status_code == 404 and "不在您的管辖范围内" in r.text and "林晓燕" not in r.text
    ok = client.get(f"/console/persons/{data.gz_psn}")
    assert ok.status_code == 200 and "职工基本医疗保险（310）" in ok.text
    with seeded.connect() as conn:
        views = (
            conn.execute(
                sa.text("SELECT subject FROM audit_log WHERE action = 'console.view_person'")
            )
            .scalars()
            .all()
        )
    assert views == [data.gz_psn]  # the refused view is not recorded as a view


def test_settlement_scope_includes_both_ends_of_cross_region(
    client: TestClient, data: Seeded
) -> None:
    login(client, "sz_admin")
    assert client.get(f"/console/settlements/{data.gz_setl}").status_code == 404
    own = client.get(f"/console/settlements/{data.sz_setl}")
    assert own.status_code == 200
    cross = client.get(f"/console/settlements/{data.cross_setl}")  # 广州 insured, treated in 深圳
    assert cross.status_code == 200 and "异地就医" in cross.text
    listing = client.get("/console/settlements").text
    assert data.sz_setl in listing and data.cross_setl in listing and data.gz_setl not in listing


def test_settlement_detail_shows_breakdown_and_trace(client: TestClient, data: Seeded) -> None:
    login(client, "admin")
    page = client.get(f"/console/settlements/{data.gz_setl}").text
    for text in ("医疗费总额", "基金支付总额", "个人现金支出", "计算过程", "依据", "丙类", "起付"):
        assert text in page, text
    assert "职工基本医疗保险统筹基金" in page or "统筹基金" in page


def test_institution_operator_sees_only_own_institution(
    client: TestClient, data: Seeded, seeded: Engine
) -> None:
    from yibao.console import demo

    assert any(u[0] == "gz_his" for u in demo.DEMO_USERS)
    login(client, "gz_his")
    listing = client.get("/console/settlements").text
    assert data.gz_setl in listing and data.cross_setl not in listing
    assert client.get(f"/console/settlements/{data.cross_setl}").status_code == 404
    inst = client.get("/console/institutions").text
    assert "H44010000001" in inst and "H44010000002" not in inst
    assert client.get("/console/institutions/H44030000001").status_code == 404
    assert client.get("/console/persons").status_code == 403


def test_overview_counts_only_the_users_region(client: TestClient, data: Seeded) -> None:
    login(client, "gz_admin")
    page = client.get("/console/").text
    # 广州: one insured person; settlements touching 广州: its own and nothing of 深圳's
    kpis = re.findall(r'<div class="kpi-value">([^<]+)<span class="unit">([^<]*)</span>', page)
    assert ("1", "人") in kpis
    assert ("2", "笔") in kpis  # the 广州 visit and the 广州 person's visit in 深圳
    assert 'data-chart="settle_by_region"' in page


def test_analyst_sees_aggregates_but_no_person(client: TestClient, data: Seeded) -> None:
    login(client, "analyst")
    page = client.get("/console/").text
    assert ("3", "笔") in re.findall(
        r'<div class="kpi-value">([^<]+)<span class="unit">([^<]*)</span>', page
    )
    assert "陈志强" not in page
    assert client.get(f"/console/settlements/{data.gz_setl}").status_code == 403


def test_policy_page_shows_parameters_with_references(client: TestClient) -> None:
    login(client, "gz_admin")
    page = client.get("/console/policy", params={"admdvs": "440100", "on": "2026-01-01"}).text
    assert "执行的政策参数" in page and "依据" in page
    other = client.get("/console/policy", params={"admdvs": "440300"}).text
    assert "不在您的管辖范围内" in other
    bad = client.get("/console/policy", params={"admdvs": "4401"}).text
    assert "医保区划必须是 6 位数字" in bad


def test_reconciliation_totals_are_per_treatment_region(client: TestClient, data: Seeded) -> None:
    login(client, "gz_admin")
    page = client.get("/console/reconciliation").text
    assert "中心结算汇总" in page and "广州市第一人民医院" in page
    assert "深圳市南山区仁心大药房" not in page  # treated in 深圳: 深圳's to reconcile
    login(client, "sz_admin")
    page = client.get("/console/reconciliation").text
    assert "深圳市南山区仁心大药房" in page and "广州市第一人民医院" not in page

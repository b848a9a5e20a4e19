"""Catalogue on PostgreSQL: load the shipped demo files, idempotency, refusal, classify, lookups."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.catalog import service
from yibao.catalog.files import CatalogFileError
from yibao.catalog.model import ClassifiedLine, FeeLine, LineRefusal, split_line
from yibao.money import line_amount

SHIPPED = Path(__file__).resolve().parents[2] / "catalogs"
D = date(2025, 7, 1)


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    report = service.load_catalog(engine, SHIPPED, actor="test")
    assert report.changed and report.inserted >= 700  # two province lists of 357 + city rows
    return engine


def _code(engine: Engine, name: str, admdvs: str = "440000") -> str:
    with engine.connect() as conn:
        hits = service.search(conn, admdvs, name, D)
    exact = [e for e in hits if e.name == name]
    assert exact, name
    return exact[0].med_list_codg


def _fee(code: str, pric: str, cnt: str, sn: str = "1", appr: str = "0") -> FeeLine:
    return FeeLine(sn, code, Decimal(pric), Decimal(cnt), line_amount(pric, cnt), "HIS-" + sn, appr)


def test_shipped_catalogue_loads_and_reload_changes_nothing(loaded: Engine) -> None:
    rows = _count(loaded, "SELECT count(*) FROM catalog_item")
    times = _count(loaded, "SELECT count(DISTINCT updt_time) FROM catalog_item")
    again = service.load_catalog(loaded, SHIPPED, actor="test")
    assert not again.changed and again.inserted == again.updated == again.invalidated == 0
    assert again.unchanged == rows
    assert _count(loaded, "SELECT count(*) FROM catalog_version") == 1
    assert _count(loaded, "SELECT count(DISTINCT updt_time) FROM catalog_item") == times
    with loaded.connect() as conn:
        page = service.list_entries(conn, "440000", D, list_type="101", size=500)
    assert page.total >= 140
    assert all(e.list_type == "101" for e in page.entries)


def test_changed_and_removed_rows_bump_version_and_invalidate(
    loaded: Engine, tmp_path: Path
) -> None:
    shutil.copytree(SHIPPED, tmp_path / "catalogs", ignore=shutil.ignore_patterns("tools"))
    sz = tmp_path / "catalogs" / "440300-shenzhen" / "items.csv"
    lines = sz.read_text(encoding="utf-8").splitlines()
    removed = next(ln for ln in lines if "社康中心家庭医生签约服务费" in ln)
    changed = next(ln for ln in lines if ln.startswith("change,") and "80.00" in ln)
    text = "\n".join(
        ln.replace("80.00", "85.00") if ln == changed else ln for ln in lines if ln != removed
    )
    sz.write_text(text + "\n", encoding="utf-8")
    with loaded.connect() as conn:
        before = conn.execute(sa.text("SELECT now()")).scalar_one()
    report = service.load_catalog(loaded, tmp_path / "catalogs", actor="test")
    assert report.changed and (report.updated, report.invalidated, report.inserted) == (1, 1, 0)
    assert report.ver == 2
    with loaded.connect() as conn:
        inc = service.list_entries(conn, "440300", D, updated_since=before)
        assert [e.name for e in inc.entries] == ["普通病房床位费(单人间)"]
        assert inc.entries[0].pric_uplmt_amt == 8500
        assert inc.removed == ["001105000024403"]
        assert service.get_entry(conn, "440300", "001105000024403", D) is None
    assert _count(loaded, "SELECT count(*) FROM catalog_item WHERE vali_flag = '0'") == 1


def _bad_dir(tmp_path: Path) -> Path:
    root = tmp_path / "bad"
    (root / "990000-test").mkdir(parents=True)
    (root / "990000-test" / "region.yaml").write_text(
        'admdvs: "990000"\nname: 测试省\nbegndate: 2024-01-01\n'
        'selfpay_defaults:\n  - begndate: 2024-01-01\n    selfpay_prop: "0.1"\n'
        "    assumed: true\n    reason: 测试\n",
        encoding="utf-8",
    )
    (root / "990000-test" / "items.csv").write_text(
        "# 测试\n"
        "med_list_codg,name,list_type,chrgitm_lv,med_chrgitm_type,pric,selfpay_prop\n"
        "OK1,好药,101,02,09,1.00,\n"
        "BAD1,坏药,101,04,09,1.00,\n"
        "BAD2,坏药2,101,01,09,1.005,0.1\n"
        "BAD3,错类,301,02,09,1.00,\n",
        encoding="utf-8",
    )
    return root


def test_bad_files_are_refused_with_row_and_field_and_nothing_written(
    engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(CatalogFileError) as err:
        service.load_catalog(engine, _bad_dir(tmp_path))
    got = {(p.line, p.field) for p in err.value.problems}
    assert {(4, "chrgitm_lv"), (5, "pric"), (5, "selfpay_prop"), (6, "med_chrgitm_type")} <= got
    assert "items.csv:4 [chrgitm_lv]" in str(err.value)
    assert _count(engine, "SELECT count(*) FROM catalog_item") == 0
    assert _count(engine, "SELECT count(*) FROM catalog_region") == 0


def test_override_of_unknown_code_refused_against_database(loaded: Engine, tmp_path: Path) -> None:
    root = tmp_path / "city"
    (root / "440500-shantou").mkdir(parents=True)
    (root / "440500-shantou" / "region.yaml").write_text(
        'admdvs: "440500"\nname: 汕头市\nparent: "440000"\nbegndate: 2024-01-01\n',
        encoding="utf-8",
    )
    (root / "440500-shantou" / "items.csv").write_text(
        "action,med_list_codg,chrgitm_lv\nchange,NOSUCHCODE,01\n", encoding="utf-8"
    )
    with pytest.raises(CatalogFileError, match="上级目录中没有编码 NOSUCHCODE"):
        service.load_catalog(loaded, root)
    assert _count(loaded, "SELECT count(*) FROM catalog_region WHERE admdvs = '440500'") == 0


def test_classify_by_treatment_place(loaded: Engine) -> None:
    amox = _code(loaded, "阿莫西林胶囊")  # 甲类
    clop = _code(loaded, "硫酸氢氯吡格雷片")  # 乙类, 集采
    room = _code(loaded, "普通病房床位费(单人间)")  # 支付标准 60 (深圳 80)
    lines = [
        _fee(amox, "0.16", "24", "1"),
        _fee(clop, "0.50", "28", "2"),
        _fee(room, "150", "3", "3"),
        _fee("XNOTINCATALOG0000000000", "5", "2", "4"),
    ]
    with loaded.connect() as conn:
        sz = service.classify_or_raise(conn, "440300", D, lines)
        gz = service.classify_or_raise(conn, "440100", D, lines)
    assert [c.item.chrgitm_lv for c in sz] == ["01", "02", "01", "03"]
    assert sz[1].item.selfpay_prop == Decimal("0.01") and gz[1].item.selfpay_prop == Decimal("0.10")
    assert sz[1].item.vol_procurement_flag == "1"
    assert split_line(sz[1].item).preselfpay_amt == 14  # 14.00 × 1%
    assert split_line(gz[1].item).preselfpay_amt == 140
    assert split_line(sz[2].item).overlmt_amt == 45000 - 24000  # 150×3 − 80×3
    assert split_line(gz[2].item).overlmt_amt == 45000 - 18000  # province standard 60
    assert not sz[3].item.in_catalog and "不在" in sz[3].memo


def test_classify_limited_use_and_refusals(loaded: Engine) -> None:
    mont = _code(loaded, "蒙脱石散")  # 限儿童急性腹泻 in the province; Shenzhen lifts the limit
    with loaded.connect() as conn:
        gz = service.classify(conn, "440100", D, [_fee(mont, "0.80", "6", "1", appr="0")])
        ok = service.classify(conn, "440100", D, [_fee(mont, "0.80", "6", "1", appr="1")])
        sz = service.classify(conn, "440300", D, [_fee(mont, "0.80", "6", "1", appr="0")])
        bad = service.classify(
            conn,
            "440300",
            D,
            [
                FeeLine("A1", mont, Decimal("0.80"), Decimal("6"), 500),
                _fee(mont, "0.80", "6", "A2"),
                _fee(mont, "0.80", "6", "A2"),
            ],
        )
    assert isinstance(gz[0], ClassifiedLine) and gz[0].item.chrgitm_lv == "03"
    assert isinstance(ok[0], ClassifiedLine) and ok[0].item.chrgitm_lv == "02"
    assert isinstance(sz[0], ClassifiedLine) and sz[0].item.chrgitm_lv == "02"
    assert isinstance(bad[0], LineRefusal) and "A1" in bad[0].message
    assert bad[0].field == "det_item_fee_sumamt"
    assert isinstance(bad[1], ClassifiedLine)
    assert isinstance(bad[2], LineRefusal) and bad[2].field == "feedetl_sn"
    with loaded.connect() as conn, pytest.raises(service.ClassificationRefused, match="A1"):
        service.classify_or_raise(
            conn, "440300", D, [FeeLine("A1", mont, Decimal("1"), Decimal("1"), 5)]
        )


def test_validity_dates_and_region_fallback(loaded: Engine) -> None:
    ator = _code(loaded, "阿托伐他汀钙片")
    with loaded.connect() as conn:
        e24 = service.get_entry(conn, "440000", ator, date(2024, 12, 31))
        e25 = service.get_entry(conn, "440000", ator, date(2025, 1, 1))
        assert e24 is not None and e25 is not None
        assert (e24.pric_uplmt_amt, e25.pric_uplmt_amt) == (18, 14)
        # 强力枇杷露 left the (demo) list on 2024-12-31
        hits = service.search(conn, "440000", "强力枇杷露", date(2024, 6, 1))
        assert [h.name for h in hits] == ["强力枇杷露"]
        assert service.search(conn, "440000", "强力枇杷露", D) == []
        # 汕头 440500 has no layer of its own: the province list applies; Beijing has none
        assert service.chain_for(conn, "440500") == ["440000"]
        assert service.get_entry(conn, "440500", ator, D) is not None
        assert service.get_entry(conn, "110000", ator, D) is None
        # 珠海: 运动疗法 becomes 甲类 from 2025-01-01 only
        pt = _code(loaded, "运动疗法")
        assert service.get_entry(conn, "440400", pt, date(2024, 12, 31)).chrgitm_lv == "02"  # type: ignore[union-attr]
        assert service.get_entry(conn, "440400", pt, D).chrgitm_lv == "01"  # type: ignore[union-attr]


def test_demo_seeder_loads_once(engine: Engine) -> None:
    service.seed_demo(engine)
    service.seed_demo(engine)
    assert _count(engine, "SELECT count(*) FROM catalog_version") == 1


def test_incremental_by_version_and_region_default_change(loaded: Engine, tmp_path: Path) -> None:
    root = tmp_path / "catalogs"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("tools"))
    hz = root / "441300-huizhou"
    (hz / "items.csv").write_text(
        "\n".join(ln for ln in (hz / "items.csv").read_text(encoding="utf-8").splitlines()
                  if "惠州纳入乙类" not in ln and "004500000010000" not in ln)
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    # drop one 101 override (glucosamine, back to 丙类) and the 201 override (针刺 limit)
    zh_yaml = root / "440400-zhuhai" / "region.yaml"
    zh_yaml.write_text(
        zh_yaml.read_text(encoding="utf-8").replace('selfpay_prop: "0.10"', 'selfpay_prop: "0.05"'),
        encoding="utf-8",
    )
    report = service.load_catalog(loaded, root)
    assert report.ver == 2 and report.regions_changed == 1
    with loaded.connect() as conn:
        # Huizhou, since version 1: only the two codes whose override changed
        hz_all = service.list_entries(conn, "441300", D, since_ver=1, size=500)
        assert sorted(e.name for e in hz_all.entries) == ["普通针刺", "硫酸氨基葡萄糖胶囊"]
        assert all(e.ver == 2 and e.updt_time is not None for e in hz_all.entries)
        assert hz_all.ver == 2 and hz_all.removed == []
        drugs = service.list_entries(conn, "441300", D, since_ver=1, list_type="101")
        assert [e.name for e in drugs.entries] == ["硫酸氨基葡萄糖胶囊"]
        assert drugs.entries[0].chrgitm_lv == "03"  # the province class again
        assert service.list_entries(conn, "441300", D, since_ver=2).total == 0
        # Zhuhai changed its 乙类 default: every code counts as changed, with the new ratio
        zh = service.list_entries(conn, "440400", D, since_ver=1, size=500)
        assert zh.total >= 300
        clop = next(e for e in zh.entries if e.name == "硫酸氢氯吡格雷片")
        assert clop.selfpay_prop == Decimal("0.05") and clop.ver == 2
        # Shenzhen untouched
        assert service.list_entries(conn, "440300", D, since_ver=1).total == 0
        e = service.get_entry(conn, "440300", clop.med_list_codg, D)
        assert e is not None and e.ver == 1 and e.selfpay_prop == Decimal("0.01")

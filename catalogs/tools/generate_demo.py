"""Generate the demo catalogue (演示数据) under ``catalogs/`` — deterministic.

    python catalogs/tools/generate_demo.py        # rewrite the files
    python catalogs/tools/generate_demo.py --check  # exit 1 if the files are out of date

Codes follow the *structure* of national codes (drugs ``X``/``Z`` + class + numbers, 23 chars;
TCM pieces ``T`` + 9 digits; services ``00`` + 9-digit item number + ``0000``, 15 chars;
materials ``C`` + 26 digits) but are generated here: they are not official codes. Prices are
illustrative. Only the 乙类 first-pay ratio of Shenzhen has a public source; the others are
marked ``assumed: true`` with the reason.
"""

from __future__ import annotations

import csv
import io
import sys
import zlib
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_items as d

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "action",
    "med_list_codg",
    "name",
    "list_type",
    "chrgitm_lv",
    "med_chrgitm_type",
    "selfpay_prop",
    "pric",
    "pric_uplmt_amt",
    "prcunt",
    "drug_dosform",
    "drug_spec",
    "prodentp_name",
    "lmt_used_flag",
    "lmt_usescp",
    "hi_nego_drug_flag",
    "vol_procurement_flag",
    "begndate",
    "enddate",
    "memo",
]
DEMO_NOTICE = (
    "演示数据（DEMO DATA）：本目录仅用于 Yibao 演示与测试，不是官方医保目录。"
    "编码按国家医保编码的结构生成，并非官方编码；项目名称、规格、生产企业仅为示意；价格与支付标准均为示意值，"
    "不得用于实际结算或对外公布。"
)
DOSFORM = {
    "片剂": "A001",
    "胶囊剂": "A002",
    "颗粒剂": "A003",
    "注射剂": "A004",
    "散剂": "A005",
    "口服溶液剂": "A006",
    "口服液": "A006",
    "气雾剂": "A007",
    "吸入剂": "A007",
    "丸剂": "A008",
    "滴丸剂": "A008",
    "酊剂": "A009",
    "糖浆剂": "A010",
    "煎膏剂": "A011",
    "软膏剂": "A012",
    "胶剂": "A013",
}
SZ_DEFAULT = {
    "begndate": "2023-10-01",
    "selfpay_prop": "0.01",
    "reference": "《深圳市医疗保障办法》(深圳市人民政府令第358号) 第二十九条：乙类药品及诊疗项目个人先行自付1%；"
    "www.sz.gov.cn/hdjlpt/detail?pid=2772555 (policy-rules.md §1.2 Step 2, [A])",
}


def assumed_default(place: str) -> dict[str, object]:
    return {
        "begndate": "2024-01-01",
        "selfpay_prop": "0.10",
        "assumed": True,
        "reason": f"{place}乙类先行自付比例未找到公开来源 (policy-rules.md §1.2 Step 2: NOT FOUND)；"
        "取 10%，为参考资料示例中常见的比例 (policy-rules.md EX1 乙类先行自付 10%)。待取得当地文件后替换。",
    }


def h(text: str, mod: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % mod


def tags(s: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, s.split("|")):
        k, _, v = part.partition(":")
        out[k] = v
    return out


def row(**kw: object) -> dict[str, str]:
    r = {c: "" for c in COLUMNS}
    for k, v in kw.items():
        r[k] = "" if v is None else str(v)
    return r


def drug_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    gen_no: dict[str, int] = {}
    for kind, items, chrg in (("X", d.WESTERN, "09"), ("Z", d.CHINESE_PATENT, "11")):
        for name, cls, form, spec, unit, maker, price, lv, tag in items:
            t = tags(tag)
            gen_no[cls] = gen_no.get(cls, 0) + 1
            code = (
                f"{kind}{cls}A{gen_no[cls] * 7 + h(name, 5):03d}{DOSFORM[form]}"
                f"{h(spec, 10000):04d}{h(maker, 100000):05d}"
            )
            assert len(code) == 23, code
            base = row(
                med_list_codg=code,
                name=name,
                list_type="101",
                chrgitm_lv=lv,
                med_chrgitm_type=chrg,
                pric=price,
                pric_uplmt_amt=t.get("up", ""),
                prcunt=unit,
                drug_dosform=form,
                drug_spec=spec,
                prodentp_name=maker,
                lmt_used_flag="1" if "lmt" in t else "0",
                lmt_usescp=t.get("lmt", ""),
                hi_nego_drug_flag="1" if "nego" in t else "0",
                vol_procurement_flag="1" if "vbp" in t else "0",
                selfpay_prop=t.get("sp", ""),
                enddate=t.get("end", ""),
                memo="演示：2024年底调出目录" if "end" in t else "",
            )
            if "nego" in t:
                base["pric_uplmt_amt"] = base["pric_uplmt_amt"] or price  # 国谈: 支付标准 = 谈判价
            out.append(base)
    return out


def tcm_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i, (name, spec, price) in enumerate(d.TCM_PIECES + d.TCM_PIECES_C, start=1):
        lv = d.C if (name, spec, price) in d.TCM_PIECES_C else d.B
        out.append(
            row(
                med_list_codg=f"T{1000 + i:04d}{h(name, 100000):05d}",
                name=name,
                list_type="102",
                chrgitm_lv=lv,
                med_chrgitm_type="10",
                pric=price,
                prcunt="g",
                drug_spec=spec,
                prodentp_name=d.TCM_MAKERS[h(name, len(d.TCM_MAKERS))],
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
            )
        )
    for i, (name, spec, price) in enumerate(d.TCM_GRANULES, start=1):
        out.append(
            row(
                med_list_codg=f"T9{i:03d}{h(name, 100000):05d}",
                name=name,
                list_type="106",
                chrgitm_lv=d.B,
                med_chrgitm_type="10",
                pric=price,
                prcunt="袋",
                drug_dosform="颗粒剂",
                drug_spec=spec,
                prodentp_name="广东一方制药有限公司",
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
            )
        )
    return out


def service_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for num, name, unit, price, lv, chrg, tag in d.SERVICES:
        t = tags(tag)
        out.append(
            row(
                med_list_codg=f"00{num}0000",
                name=name,
                list_type="201",
                chrgitm_lv=lv,
                med_chrgitm_type=chrg,
                pric=price,
                pric_uplmt_amt=t.get("up", ""),
                prcunt=unit,
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
            )
        )
    return out


def material_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i, (name, spec, unit, maker, price, lv, tag) in enumerate(d.MATERIALS, start=1):
        t = tags(tag)
        code = f"C{i:02d}{h(name, 10**8):08d}{h(spec, 10**6):06d}{h(maker, 10**10):010d}"
        assert len(code) == 27, code
        out.append(
            row(
                med_list_codg=code,
                name=name,
                list_type="301",
                chrgitm_lv=lv,
                med_chrgitm_type="08",
                pric=price,
                pric_uplmt_amt=t.get("up", ""),
                prcunt=unit,
                drug_spec=spec,
                prodentp_name=maker,
                selfpay_prop=t.get("sp", ""),
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="1" if "vbp" in t else "0",
            )
        )
    return out


def province_rows() -> list[dict[str, str]]:
    rows = drug_rows() + tcm_rows() + service_rows() + material_rows()
    # dated changes: a 集采 renewal lowers a payment standard; a 国谈 renewal lowers a price
    extra: list[dict[str, str]] = []
    for r in rows:
        if r["name"] in ("阿托伐他汀钙片", "信迪利单抗注射液"):
            new = dict(r)
            r["enddate"] = "2024-12-31"
            new["begndate"] = "2025-01-01"
            old = Decimal(r["pric"])
            new["pric"] = str((old * Decimal("0.8")).quantize(Decimal("0.01")))
            r["pric_uplmt_amt"] = r["pric_uplmt_amt"] or r["pric"]
            new["pric_uplmt_amt"] = new["pric"]
            new["memo"] = "演示：2025-01-01起续约，支付标准下调"
            extra.append(new)
    return rows + extra


def code_of(rows: list[dict[str, str]], name: str) -> str:
    for r in rows:
        if r["name"] == name:
            return r["med_list_codg"]
    raise KeyError(name)


def hubei_rows(gd: list[dict[str, str]]) -> list[dict[str, str]]:
    """Hubei's province list: same national codes, its own service prices (demo: ×0.9)."""
    out = []
    for r in gd:
        r = dict(r)
        if r["list_type"] == "201":
            for k in ("pric", "pric_uplmt_amt"):
                if r[k]:
                    r[k] = str((Decimal(r[k]) * Decimal("0.9")).quantize(Decimal("0.01")))
        if r["name"] == "蒙脱石散":
            r["lmt_used_flag"], r["lmt_usescp"] = "0", ""
        out.append(r)
    return out


def write_csv(header_lines: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    for line in header_lines:
        buf.write(f"# {line}\n")
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def yaml_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def region_yaml(
    admdvs: str, name: str, parent: str | None, defaults: list[dict[str, object]], note: str
) -> str:
    lines = [
        "# 演示数据（DEMO DATA）— 由 catalogs/tools/generate_demo.py 生成，请修改生成脚本后重新生成。",
        f'admdvs: "{admdvs}"',
        f"name: {name}",
    ]
    if parent:
        lines.append(f'parent: "{parent}"')
    lines += [
        "begndate: 2024-01-01  # 本文件中未写 begndate 的行从此日起生效",
        "demo: true",
        f"notice: {yaml_quote(DEMO_NOTICE)}",
        f"reference: {yaml_quote(note)}",
        "selfpay_defaults:  # 乙类先行自付比例（本统筹区默认值）",
    ]
    for dd in defaults:
        lines.append(f"  - begndate: {dd['begndate']}")
        lines.append(f'    selfpay_prop: "{dd["selfpay_prop"]}"')
        if dd.get("assumed"):
            lines.append("    assumed: true")
            lines.append(f"    reason: {yaml_quote(str(dd['reason']))}")
        if dd.get("reference"):
            lines.append(f"    reference: {yaml_quote(str(dd['reference']))}")
    return "\n".join(lines) + "\n"


def city_override_rows(gd: list[dict[str, str]], admdvs: str) -> list[dict[str, str]]:
    c = lambda n: code_of(gd, n)  # noqa: E731
    if admdvs == "440300":  # 深圳
        return [
            row(
                action="change",
                med_list_codg=c("普通病房床位费(单人间)"),
                pric_uplmt_amt="80.00",
                memo="演示：深圳单人间床位费支付标准",
            ),
            row(
                action="change",
                med_list_codg=c("蒙脱石散"),
                lmt_used_flag="0",
                memo="演示：深圳取消限儿童使用",
            ),
            row(
                action="change",
                med_list_codg=c("推拿治疗"),
                chrgitm_lv="01",
                memo="演示：深圳列为甲类",
            ),
            row(action="remove", med_list_codg=c("知名专家诊查费"), memo="演示：深圳不设此项"),
            row(
                action="add",
                med_list_codg="001105000024403",
                name="社康中心家庭医生签约服务费",
                list_type="201",
                chrgitm_lv="01",
                med_chrgitm_type="12",
                pric="12.00",
                prcunt="次",
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
                memo="演示：深圳本地项目",
            ),
            row(
                action="add",
                med_list_codg="ZZ440300A001A0030001",
                name="清热解毒合剂(院内制剂)",
                list_type="103",
                chrgitm_lv="02",
                med_chrgitm_type="11",
                pric="15.00",
                prcunt="瓶",
                drug_dosform="合剂",
                drug_spec="100ml",
                prodentp_name="（演示）深圳市某中医院",
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
                memo="演示：医院制剂为乙类 (policy-rules.md §1.2 Step 1)",
            ),
        ]
    if admdvs == "440100":  # 广州
        return [
            row(
                action="change",
                med_list_codg=c("双腔心脏起搏器"),
                selfpay_prop="0.20",
                memo="演示：广州本项目先行自付比例",
            ),
            row(action="change", med_list_codg=c("普通病房床位费(双人间)"), pric_uplmt_amt="70.00"),
            row(
                action="change",
                med_list_codg=c("主任医师诊查费"),
                pric_uplmt_amt="none",
                memo="演示：广州不设支付标准",
            ),
            row(
                action="add",
                med_list_codg="ZZ440100A001A0030001",
                name="健脾消食合剂(院内制剂)",
                list_type="103",
                chrgitm_lv="02",
                med_chrgitm_type="11",
                pric="18.00",
                prcunt="瓶",
                drug_dosform="合剂",
                drug_spec="150ml",
                prodentp_name="（演示）广州市某中医医院",
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
            ),
        ]
    if admdvs == "440400":  # 珠海
        return [
            row(action="change", med_list_codg=c("普通病房床位费(三人间)"), pric_uplmt_amt="50.00"),
            row(action="remove", med_list_codg=c("层流洁净病房床位费")),
            row(
                action="change",
                med_list_codg=c("运动疗法"),
                chrgitm_lv="01",
                begndate="2025-01-01",
                memo="演示：2025年起珠海列为甲类",
            ),
        ]
    if admdvs == "441300":  # 惠州
        return [
            row(action="change", med_list_codg=c("普通针刺"), pric_uplmt_amt="25.00"),
            row(
                action="change",
                med_list_codg=c("硫酸氨基葡萄糖胶囊"),
                chrgitm_lv="02",
                memo="演示：惠州纳入乙类",
            ),
        ]
    if admdvs == "441481":  # 兴宁
        return [
            row(
                action="change",
                med_list_codg=c("一般诊疗费"),
                pric_uplmt_amt="8.00",
                memo="演示：基层一般诊疗费支付标准",
            ),
            row(action="change", med_list_codg=c("普通病房床位费(三人间)"), pric_uplmt_amt="30.00"),
        ]
    if admdvs == "421381":  # 广水
        return [
            row(action="change", med_list_codg=c("一般诊疗费"), pric_uplmt_amt="9.00"),
            row(
                action="add",
                med_list_codg="001105000034213",
                name="乡镇卫生院一般诊疗费",
                list_type="201",
                chrgitm_lv="01",
                med_chrgitm_type="12",
                pric="9.00",
                prcunt="次",
                lmt_used_flag="0",
                hi_nego_drug_flag="0",
                vol_procurement_flag="0",
                memo="演示：广水医共体基层项目",
            ),
        ]
    raise KeyError(admdvs)


CITIES = [
    ("440100", "guangzhou", "广州市", "440000"),
    ("440300", "shenzhen", "深圳市", "440000"),
    ("440400", "zhuhai", "珠海市", "440000"),
    ("441300", "huizhou", "惠州市", "440000"),
    ("441481", "xingning", "兴宁市", "440000"),
    ("421381", "guangshui", "广水市", "420000"),
]


def ratio_line(d: dict[str, object]) -> str:
    """The 乙类 default ratio as one header line of items.csv (the full text is in region.yaml)."""
    pct = f"{Decimal(str(d['selfpay_prop'])) * 100:.0f}%"
    if d.get("assumed"):
        return f"乙类先行自付比例（默认）{pct}：假设值 assumed: true — 未找到公开来源，理由见 region.yaml"
    return f"乙类先行自付比例（默认）{pct}：{d['reference']}"


def build() -> dict[Path, str]:
    gd = province_rows()
    hb = hubei_rows(gd)
    files: dict[Path, str] = {}
    head = [
        DEMO_NOTICE,
        "列说明、城市覆盖规则见 docs/catalog.md；由 catalogs/tools/generate_demo.py 生成。",
    ]
    files[ROOT / "440000-guangdong" / "region.yaml"] = region_yaml(
        "440000",
        "广东省",
        None,
        [assumed_default("广东省级")],
        "广东省医保目录（演示），项目分类参照 policy-rules.md §1.2 Step 1",
    )
    files[ROOT / "440000-guangdong" / "items.csv"] = write_csv(
        ["广东省医保目录（演示）440000", ratio_line(assumed_default("广东省级")), *head], gd
    )
    files[ROOT / "420000-hubei" / "region.yaml"] = region_yaml(
        "420000",
        "湖北省",
        None,
        [assumed_default("湖北省级")],
        "湖北省医保目录（演示）；湖北参数参考资料未找到 (policy-rules.md §7)",
    )
    files[ROOT / "420000-hubei" / "items.csv"] = write_csv(
        ["湖北省医保目录（演示）420000", ratio_line(assumed_default("湖北省级")), *head], hb
    )
    for adm, slug, name, parent in CITIES:
        base = gd if parent == "440000" else hb
        default = SZ_DEFAULT if adm == "440300" else assumed_default(name)
        files[ROOT / f"{adm}-{slug}" / "region.yaml"] = region_yaml(
            adm, name, parent, [default], f"{name}医保目录调整（演示），在 {parent} 目录基础上覆盖"
        )
        files[ROOT / f"{adm}-{slug}" / "items.csv"] = write_csv(
            [
                f"{name}目录调整（演示）{adm}：action=change 覆盖上级字段，add 新增，remove 移除",
                ratio_line(default),
                *head,
            ],
            city_override_rows(base, adm),
        )
    codes = [r["med_list_codg"] + r["begndate"] for r in gd]
    assert len(codes) == len(set(codes)), "duplicate codes"
    return files


def main() -> int:
    files = build()
    if "--check" in sys.argv:
        stale = [
            p
            for p, text in files.items()
            if not p.is_file() or p.read_text(encoding="utf-8") != text
        ]
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT.parent)}")
        return 1 if stale else 0
    for p, text in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    n = (
        sum(
            1
            for line in files[ROOT / "440000-guangdong" / "items.csv"].splitlines()
            if line and not line.startswith("#")
        )
        - 1
    )
    print(f"wrote {len(files)} files; 440000 has {n} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

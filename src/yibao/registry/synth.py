"""Deterministic synthetic insured (合成参保人员) for the demo and the import benchmark. Pure.

Every generated ID number passes the GB 11643 check digit; a seed gives the same rows every time.
psn_type codes follow [JX] (nhsa-interface.md §3.4): 11 在职, 21 退休, 41 学龄前儿童,
42 中小学生, 43 大学生, 50 成年居民, 60 老年居民.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from yibao.registry.certs import compose_id18


@dataclass(frozen=True, slots=True)
class Region:
    admdvs: str  # pooling region (统筹区)
    name: str
    districts: tuple[str, ...]  # GB/T 2260 county codes used as ID prefixes
    towns: tuple[str, ...]
    employers: tuple[tuple[str, str], ...]  # (emp_no, emp_name)


REGIONS: tuple[Region, ...] = (
    Region(
        "440100",
        "广州市",
        ("440103", "440104", "440106", "440111"),
        ("天河区石牌街道", "越秀区北京街道", "荔湾区沙面街道", "白云区京溪街道"),
        (
            ("44010000001", "广州示范电子有限公司"),
            ("44010000002", "广州市第一人民医院"),
            ("44010000003", "广州市天河区人民政府"),
        ),
    ),
    Region(
        "440300",
        "深圳市",
        ("440303", "440304", "440305", "440306"),
        ("福田区华富街道", "南山区粤海街道", "罗湖区东门街道", "宝安区新安街道"),
        (
            ("44030000001", "深圳示范科技有限公司"),
            ("44030000002", "深圳市南山区教育局"),
            ("44030000003", "深圳示范物流有限公司"),
        ),
    ),
    Region(
        "440400",
        "珠海市",
        ("440402", "440403", "440404"),
        ("香洲区拱北街道", "斗门区井岸镇", "金湾区三灶镇"),
        (("44040000001", "珠海示范制造有限公司"), ("44040000002", "珠海市香洲区人民政府")),
    ),
    Region(
        "441300",
        "惠州市",
        ("441302", "441303", "441322"),
        ("惠城区江北街道", "惠阳区淡水街道", "博罗县罗阳街道"),
        (("44130000001", "惠州示范石化有限公司"), ("44130000002", "惠州市惠城区卫生健康局")),
    ),
    Region(
        "441481",
        "兴宁市",
        ("441481",),
        ("兴田街道", "宁新街道", "叶塘镇", "水口镇"),
        (("44148100001", "兴宁示范纺织厂"), ("44148100002", "兴宁市人民政府办公室")),
    ),
    Region(
        "421381",
        "广水市",
        ("421381",),
        ("应山街道", "十里街道", "广水街道", "马坪镇"),
        (("42138100001", "广水示范机械有限公司"), ("42138100002", "广水市人民政府办公室")),
    ),
)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志红玉兰梅鹏辉晓东文斌宇浩"


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def person_rows(
    count: int, *, seed: int = 2026, on: date = date(2026, 1, 1)
) -> Iterator[dict[str, str]]:
    """``count`` import rows (one per person; employees also get a 330 row when ``count`` allows).

    Deterministic for ``seed``; ID numbers are unique (district, birth date and sequence differ).
    """
    rng = random.Random(seed)
    used: set[str] = set()
    produced = 0
    while produced < count:
        region = REGIONS[rng.randrange(len(REGIONS))]
        age = rng.choice(
            (rng.randint(0, 17), rng.randint(18, 59), rng.randint(18, 59), rng.randint(60, 90))
        )
        born = on - timedelta(days=age * 365 + rng.randint(0, 364))
        seq = rng.randint(0, 999)
        certno = compose_id18(rng.choice(region.districts), born, seq)
        if certno in used:
            continue
        used.add(certno)
        gend = "1" if seq % 2 else "2"
        emp_no, emp_name = rng.choice(region.employers)
        employee = age >= 18 and rng.random() < 0.55
        flexible = employee and rng.random() < 0.1
        civil = (
            employee
            and not flexible
            and emp_name.endswith(("政府", "教育局", "卫生健康局", "办公室"))
            and rng.random() < 0.6
        )
        if employee:
            insutype, psn_type = "310", ("21" if age >= 60 else "11")
        else:
            insutype = "390"
            psn_type = (
                "41"
                if age < 6
                else "42"
                if age < 18
                else "43"
                if age < 22 and rng.random() < 0.5
                else "50"
                if age < 60
                else "60"
            )
        start = max(born, on - timedelta(days=rng.randint(30, 365 * 15)))
        row = {
            "psn_cert_type": "01",
            "certno": certno,
            "psn_name": _name(rng),
            "gend": gend,
            "naty": "1" if rng.random() < 0.95 else str(rng.randint(2, 56)),
            "brdy": born.isoformat(),
            "tel": f"13{rng.randint(0, 999999999):09d}" if age >= 16 else "",
            "town": rng.choice(region.towns),
            "insutype": insutype,
            "psn_insu_stas": "1",
            "psn_insu_date": start.isoformat(),
            "paus_insu_date": "",
            "psn_type": psn_type,
            "insuplc_admdvs": region.admdvs,
            "emp_no": "" if insutype == "390" or flexible else emp_no,
            "emp_name": "" if insutype == "390" or flexible else emp_name,
            "flxempe_flag": "1" if flexible else "0",
            "cvlserv_flag": "1" if civil else "0",
        }
        yield row
        produced += 1

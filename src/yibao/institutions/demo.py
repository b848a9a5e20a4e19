"""Demo designated institutions (演示定点医药机构) across six pooling regions, with credentials.

Hospitals of each level (三级/二级/一级, 社区健康服务中心 社康) and retail pharmacies in 广州 440100,
深圳 440300, 珠海 440400, 惠州 441300, 兴宁 441481 (梅州) and 广水 421381 (随州, 湖北).
Codes follow the observed pattern ``H``/``P`` + admdvs(6) + 5 digits; names are illustrative.
Credentials are deterministic and PUBLIC (demo only): app_key ``demo-<code>``, app_secret
:func:`demo_secret`. Idempotent: re-running updates nothing that is already there.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine

from yibao.institutions import service, store
from yibao.institutions.model import (
    FIXMEDINS_TYPE_HOSPITAL,
    FIXMEDINS_TYPE_PHARMACY,
    Institution,
    Operator,
)

H, P = FIXMEDINS_TYPE_HOSPITAL, FIXMEDINS_TYPE_PHARMACY

# (code, name, type, admdvs, hosp_lv) — hosp_lv: 2 三级甲等, 5 二级甲等, 6 二级乙等, 8 一级甲等, 14 一级无等
DEMO_INSTITUTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("H44010000001", "广州市第一人民医院", H, "440100", "2"),
    ("H44010000002", "广州市番禺区中心医院", H, "440100", "2"),
    ("H44010000003", "广州市越秀区儿童医院", H, "440100", "5"),
    ("H44010000004", "广州市天河区石牌街社区卫生服务中心", H, "440100", "8"),
    ("P44010000001", "广州市健民大药房天河店", P, "440100", ""),
    ("H44030000001", "深圳市人民医院", H, "440300", "2"),
    ("H44030000002", "深圳市宝安区人民医院", H, "440300", "2"),
    ("H44030000003", "深圳市龙华区中心医院", H, "440300", "5"),
    ("H44030000004", "深圳市南山区蛇口社区健康服务中心", H, "440300", "14"),
    ("P44030000001", "深圳市福田区康民药房", P, "440300", ""),
    ("P44030000002", "深圳市南山区仁心大药房", P, "440300", ""),
    ("H44040000001", "珠海市人民医院", H, "440400", "2"),
    ("H44040000002", "珠海市斗门区侨立中医院", H, "440400", "5"),
    ("P44040000001", "珠海市香洲区百姓药房", P, "440400", ""),
    ("H44130000001", "惠州市中心人民医院", H, "441300", "2"),
    ("H44130000002", "惠州市惠城区江北社区卫生服务中心", H, "441300", "8"),
    ("P44130000001", "惠州市惠城区安康药店", P, "441300", ""),
    ("H44148100001", "兴宁市人民医院", H, "441481", "5"),
    ("H44148100002", "兴宁市宁新街道卫生院", H, "441481", "8"),
    ("P44148100001", "兴宁市兴田大药房", P, "441481", ""),
    ("H42138100001", "广水市第一人民医院", H, "421381", "5"),
    ("H42138100002", "广水市中医医院", H, "421381", "6"),
    ("P42138100001", "广水市应山药店", P, "421381", ""),
)

DEMO_OPERATORS: tuple[tuple[str, str, str], ...] = (
    ("0001", "收费员张敏", "1"),
    ("0002", "收费员李伟", "1"),
    ("ZZ01", "门诊自助机1号", "2"),
)


def demo_app_key(code: str) -> str:
    return f"demo-{code}"


def demo_secret(code: str) -> str:
    """The demo secret of an institution (public; never use demo data in production)."""
    return hashlib.sha256(f"yibao-demo-secret:{code}".encode()).hexdigest()[:32]


def seed(engine: Engine) -> None:
    """Create the demo institutions, their operators and credentials (idempotent)."""
    with engine.begin() as conn:
        for code, name, kind, admdvs, hosp_lv in DEMO_INSTITUTIONS:
            if store.get_institution(conn, code) is not None:
                continue
            service.register(
                conn,
                Institution(
                    fixmedins_code=code,
                    fixmedins_name=name,
                    fixmedins_type=kind,
                    admdvs=admdvs,
                    hosp_lv=hosp_lv,
                    uscc=f"12{admdvs}{code[-5:]}MB000",  # 18 characters
                ),
            )
            service.issue_credential(conn, code, demo_app_key(code), demo_secret(code))
            for opter_no, opter_name, opter_type in DEMO_OPERATORS:
                if kind == P and opter_type == "2":
                    continue
                store.upsert_operator(conn, Operator(code, opter_no, opter_name, opter_type))

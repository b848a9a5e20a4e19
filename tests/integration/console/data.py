"""Console test data made through the capabilities' own public functions.

Persons through ``yibao.registry.service``; settlements computed by the real engine
(``yibao.settlement.case`` → ``settle``) and stored by ``yibao.encounter.service`` exactly as the
gateway stores them (setlinfo in fen, ``setldetail``, the engine's trace).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Engine

CHINA = timezone(timedelta(hours=8))
_msg = itertools.count(1)


@dataclass(frozen=True)
class Seeded:
    gz_psn: str  # 广州 employee (职工, 440100)
    sz_psn: str  # 深圳 resident (居民, 440300)
    gz_setl: str  # 广州 person, inpatient at a 广州 hospital
    sz_setl: str  # 深圳 person, outpatient at a 深圳 hospital
    cross_setl: str  # 广州 person at a 深圳 pharmacy (异地)


# Items with codes and names from the shipped demo catalogue (catalogs/440000-guangdong/items.csv)
PHARMACY_ITEMS: list[dict[str, object]] = [
    {
        "sn": "1",
        "code": "XJ01CAA007A002558977458",
        "name": "阿莫西林胶囊",
        "class": "01",
        "pric": 0.16,
        "cnt": 24,
    },
    {
        "sn": "2",
        "code": "XC08CAA007A001917059358",
        "name": "硝苯地平控释片",
        "class": "02",
        "pric": 2.90,
        "cnt": 30,
    },
]
INPATIENT_ITEMS: list[dict[str, object]] = [
    {
        "sn": "1",
        "code": "001109000050000",
        "name": "层流洁净病房床位费",
        "class": "02",
        "pric": 260.0,
        "cnt": 7,
    },
    {
        "sn": "2",
        "code": "XJ01DDA016A004468286437",
        "name": "注射用头孢曲松钠",
        "class": "01",
        "pric": 2.80,
        "cnt": 42,
    },
    {
        "sn": "3",
        "code": "C03025860364762062810299818",
        "name": "静脉留置针",
        "class": "02",
        "pric": 12.0,
        "cnt": 6,
    },
    {
        "sn": "4",
        "code": "002300000010000",
        "name": "正电子发射计算机断层显像(PET-CT)",
        "class": "03",
        "amount": 7500,
    },
    {
        "sn": "5",
        "code": "002504040010000",
        "name": "降钙素原检测(PCT)",
        "class": "02",
        "pric": 120.0,
        "cnt": 3,
    },
]
OUTPATIENT_ITEMS: list[dict[str, object]] = [
    {"sn": "1", "code": "001102000020000", "name": "副主任医师诊查费", "class": "01", "amount": 25},
    {
        "sn": "2",
        "code": "XJ01MAA010A001857022364",
        "name": "左氧氟沙星片",
        "class": "01",
        "pric": 0.85,
        "cnt": 12,
    },
    {
        "sn": "3",
        "code": "XJ01DCA010A001558923161",
        "name": "头孢呋辛酯片",
        "class": "02",
        "pric": 0.55,
        "cnt": 24,
    },
]


def _person(engine: Engine, seq: int, name: str, gend: str, brdy: date, admdvs: str,
            insutype: str, psn_type: str) -> str:  # fmt: skip
    from yibao.registry import service as reg
    from yibao.registry.certs import compose_id18

    certno = compose_id18(admdvs[:4] + "06", brdy, seq)
    from yibao.registry.model import AssistanceIdentity, Enrolment

    with engine.begin() as conn:
        psn_no = reg.register_person(
            conn,
            psn_cert_type="01",
            certno=certno,
            psn_name=name,
            gend=gend,
            brdy=brdy,
            admdvs=admdvs,
            tel="13812345678",
            town="示范街道",
        )
        reg.enrol(
            conn,
            psn_no,
            Enrolment(
                insutype=insutype,
                psn_insu_stas="1",
                psn_insu_date=date(2015, 1, 1),
                psn_type=psn_type,
                insuplc_admdvs=admdvs,
                emp_name="示范单位" if insutype == "310" else "",
            ),
        )
        if insutype == "390":
            reg.add_identity(
                conn, psn_no, AssistanceIdentity("06", date(2024, 1, 1), None, memo="民政认定")
            )
    return psn_no


def _settle(engine: Engine, psn_no: str, insutype: str, psn_type: str, insuplc: str,
            code: str, area: str, when: datetime, med_type: str = "41", hosp_lv: str = "11",
            items: list[dict[str, object]] | None = None) -> str:  # fmt: skip
    from yibao.encounter import service as enc
    from yibao.encounter.fees import FeeLine, LineSplit
    from yibao.settlement import trace as settlement_trace
    from yibao.settlement.case import parse_case
    from yibao.settlement.model import SETLINFO_AMOUNTS

    chosen = items or PHARMACY_ITEMS
    codes = {str(i["sn"]): str(i["code"]) for i in chosen}
    case = parse_case(
        {
            "region": insuplc,
            "person": {"psn_no": psn_no, "insutype": insutype, "psn_type": psn_type, "age": 40},
            "encounter": {
                "med_type": med_type,
                "hosp_lv": hosp_lv,
                "mdtrtarea_admvs": area,
                "begntime": when.date(),
                "filing": "long_term",
                "items": [{k: v for k, v in i.items() if k != "code"} for i in chosen],
            },
        }
    )
    result = case.run()
    lines = [
        FeeLine(
            feedetl_sn=i.feedetl_sn,
            med_list_codg=codes[i.feedetl_sn],
            medins_list_codg=f"H-{i.feedetl_sn}",
            det_item_fee_sumamt=i.det_item_fee_sumamt,
            cnt=Decimal(i.cnt),
            pric=Decimal(i.pric),
        )
        for i in result.items
    ]
    splits = [
        LineSplit(
            feedetl_sn=i.feedetl_sn,
            chrgitm_lv=i.chrgitm_lv,
            med_chrgitm_type=i.med_chrgitm_type,
            fulamt_ownpay_amt=i.fulamt_ownpay_amt,
            overlmt_amt=i.overlmt_amt,
            preselfpay_amt=i.preselfpay_amt,
            inscp_scp_amt=i.inscp_scp_amt,
            selfpay_prop=i.selfpay_prop,
        )
        for i in result.items
    ]
    setlinfo: dict[str, object] = {n: getattr(result.setlinfo, n) for n in SETLINFO_AMOUNTS}
    setldetail = [
        {
            "fund_pay_type": d.fund_pay_type,
            "fund_pay_type_name": d.fund_pay_type_name,
            "inscp_scp_amt": d.inscp_scp_amt,
            "crt_payb_lmt_amt": d.crt_payb_lmt_amt,
            "fund_payamt": d.fund_payamt,
            "setl_proc_info": d.setl_proc_info,
        }
        for d in result.setldetail
    ]
    msgid = f"TEST{next(_msg):026d}"
    with engine.begin() as conn:
        visit = enc.open_pharmacy_sale(
            conn,
            psn_no=psn_no,
            insutype=insutype,
            med_type=med_type,
            fixmedins_code=code,
            insuplc_admdvs=insuplc,
            mdtrtarea_admvs=area,
            begntime=when,
            lines=lines,
            splits=splits,
            msgid=msgid,
        )
        rec = enc.record_settlement(
            conn,
            visit,
            msgid=msgid,
            setlinfo=setlinfo,
            setldetail=setldetail,
            trace=settlement_trace.to_json(result),
            accumulator_deltas={},
            acc_year=when.year,
            setl_time=when,
            # 清算类别 follows the visit: 21 住院, 41 药店购药, 11 门诊 (code table clr_type §3.10)
            clr_type="21" if med_type.startswith("2") else "41" if med_type == "41" else "11",
        )
    return rec.setl_id


def seed_console_data(engine: Engine, today: date | None = None) -> Seeded:
    """Two persons and three settlements today (one of them cross-region)."""
    from yibao.institutions import demo as institutions_demo

    institutions_demo.seed(engine)
    day = today or datetime.now(CHINA).date()
    when = datetime.combine(day, time(9, 30), tzinfo=CHINA)
    gz = _person(engine, 123, "陈志强", "1", date(1980, 1, 1), "440100", "310", "11")
    sz = _person(engine, 432, "林晓燕", "2", date(1992, 3, 15), "440300", "390", "50")
    return Seeded(
        gz_psn=gz,
        sz_psn=sz,
        gz_setl=_settle(
            engine,
            gz,
            "310",
            "11",
            "440100",
            "H44010000001",
            "440100",
            when,
            med_type="21",
            hosp_lv="2",
            items=INPATIENT_ITEMS,
        ),
        sz_setl=_settle(
            engine,
            sz,
            "390",
            "50",
            "440300",
            "H44030000003",
            "440300",
            when,
            med_type="11",
            hosp_lv="5",
            items=OUTPATIENT_ITEMS,
        ),
        cross_setl=_settle(
            engine, gz, "310", "11", "440100", "P44030000002", "440300", when + timedelta(hours=1)
        ),
    )

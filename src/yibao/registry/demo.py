"""Registry demo data (参保登记演示数据): a few thousand insured across the shipped regions.

Deterministic and idempotent: one transaction, skipped when the named personas already exist (and
persons are upserted by certificate), so a second run changes nothing. Personas for the docs:

- 张医保 ``440106198505201230`` — Guangzhou employee (310 + 330), account 1,000.00 元;
- 张小宝 ``440106201806060229`` — his child, resident (390), same household;
- 李低保 ``441481195003030033`` — Xingning resident (390) with 低保 (239903) for 2026.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from yibao.registry import accounts, bulk, rows, service, store, synth
from yibao.registry.certs import compose_id18
from yibao.registry.model import AssistanceIdentity, Enrolment

DEMO_PERSONS = 3000
YEAR_START = date(2026, 1, 1)
ASSISTANCE_CYCLE = ("239901", "239902", "239903", "239904", "239905", "239906", "2306")

ZHANG = compose_id18("440106", date(1985, 5, 20), 123)
ZHANG_CHILD = compose_id18("440106", date(2018, 6, 6), 22)
LI_DIBAO = compose_id18("441481", date(1950, 3, 3), 3)


def _well_known(conn: sa.Connection) -> None:
    zhang = service.register_person(
        conn, psn_cert_type="01", certno=ZHANG, psn_name="张医保", gend="1",
        brdy=date(1985, 5, 20), admdvs="440100", naty="1", tel="13800138000", town="天河区石牌街道",
    )  # fmt: skip
    child = service.register_person(
        conn, psn_cert_type="01", certno=ZHANG_CHILD, psn_name="张小宝", gend="2",
        brdy=date(2018, 6, 6), admdvs="440100", naty="1", town="天河区石牌街道",
    )  # fmt: skip
    li = service.register_person(
        conn, psn_cert_type="01", certno=LI_DIBAO, psn_name="李低保", gend="1",
        brdy=date(1950, 3, 3), admdvs="441481", naty="1", tel="13900139000", town="叶塘镇",
    )  # fmt: skip
    service.enrol(conn, zhang, Enrolment("310", "1", date(2008, 7, 1), "11", "440100", emp_no="44010000001", emp_name="广州示范电子有限公司"))  # fmt: skip
    service.enrol(conn, zhang, Enrolment("330", "1", date(2008, 7, 1), "11", "440100", emp_no="44010000001", emp_name="广州示范电子有限公司"))  # fmt: skip
    service.enrol(conn, child, Enrolment("390", "1", date(2019, 1, 1), "41", "440100"))
    service.enrol(conn, li, Enrolment("390", "1", date(2004, 1, 1), "60", "441481"))
    service.add_identity(
        conn, li, AssistanceIdentity("239903", YEAR_START, date(2026, 12, 31), memo="民政推送")
    )
    service.create_household(conn, "HH440100000001", "440100", zhang)
    service.add_household_member(conn, "HH440100000001", child, "子女", gongji=False)
    accounts.post(conn, zhang, 100_000, ref="demo-alloc-2026", memo="2026年度个人账户划入")


def seed(engine: Engine) -> None:
    """Seed the registry demo; one transaction, skipped when the well-known persons exist."""
    with engine.begin() as conn:
        if store.psn_no_by_cert(conn, "01", ZHANG) is not None:
            return
        data = list(synth.person_rows(DEMO_PERSONS, seed=2026))
        checked = rows.check_rows(enumerate(data, start=2))
        bulk.import_checked(conn, checked, skip_bad=True, actor="demo", source="demo")
        _well_known(conn)
        by_cert = dict(
            (r.certno, r.psn_no)
            for r in conn.execute(sa.select(store.person.c.certno, store.person.c.psn_no))
        )
        demo = [(r, by_cert[r.certno]) for r in checked.good]
        employees = [psn for r, psn in demo if r.insutype == "310"]
        for insutype, extra in (("330", ""), ("320", "AND cvlserv_flag")):
            conn.execute(
                sa.text(
                    f"""INSERT INTO enrolment (psn_no, insutype, psn_insu_stas, psn_insu_date,
                        psn_type, insuplc_admdvs, emp_no, emp_name, flxempe_flag, cvlserv_flag)
                    SELECT psn_no, '{insutype}', psn_insu_stas, psn_insu_date, psn_type,
                        insuplc_admdvs, emp_no, emp_name, flxempe_flag, cvlserv_flag
                    FROM enrolment WHERE insutype = '310' AND psn_no = ANY(:p) {extra}
                    ON CONFLICT DO NOTHING"""
                ),
                {"p": employees},
            )
        # 个人账户: a deterministic yearly allocation (retirees more)
        alloc = [
            {
                "psn_no": psn,
                "balc": 30_000 + (i % 17) * 12_500 + (60_000 if r.psn_type == "21" else 0),
            }
            for i, (r, psn) in enumerate(demo)
            if r.insutype == "310"
        ]
        if alloc:
            conn.execute(sa.insert(store.personal_account), alloc)
            conn.execute(
                sa.insert(store.personal_account_posting),
                [
                    {
                        "psn_no": a["psn_no"],
                        "ref": "demo-alloc-2026",
                        "amount": a["balc"],
                        "balc_after": a["balc"],
                        "memo": "2026年度个人账户划入",
                    }
                    for a in alloc
                ],
            )
        identities = [
            {
                "psn_no": psn,
                "psn_idet_type": ASSISTANCE_CYCLE[(i // 25) % len(ASSISTANCE_CYCLE)],
                "begntime": YEAR_START,
                "endtime": date(2026, 12, 31),
                "psn_type_lv": "",
                "memo": "演示数据",
            }
            for i, (_, psn) in enumerate(demo)
            if i % 25 == 7
        ]
        conn.execute(sa.insert(store.person_identity), identities)
        # households: runs of up to 3 consecutive persons of the same region
        heads: list[dict[str, object]] = []
        members: list[dict[str, object]] = []
        size, hh_no, hh_region = 0, "", ""
        for i, (r, psn) in enumerate(demo):
            if i % 10 >= 6:
                size = 0
                continue
            if size == 0 or size == 3 or hh_region != r.insuplc_admdvs:
                hh_no, hh_region, size = f"HH{r.insuplc_admdvs}{i:06d}", r.insuplc_admdvs, 0
                heads.append({"hh_no": hh_no, "admdvs": hh_region, "head_psn_no": psn})
            members.append(
                {
                    "psn_no": psn,
                    "hh_no": hh_no,
                    "relation": "本人" if size == 0 else "家庭成员",
                    "gongji_flag": r.insutype == "310",
                }
            )
            size += 1
        conn.execute(sa.insert(store.household), heads)
        conn.execute(sa.insert(store.household_member), members)

"""Registry store (参保登记存储): queries and writes over the registry's tables
(:mod:`yibao.registry.tables`, re-exported here)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from yibao.db import hot
from yibao.db.flow import Q
from yibao.registry.model import (
    AssistanceIdentity,
    BenefitBlock,
    Enrolment,
    GongjiMember,
    Person,
)
from yibao.registry.tables import (
    benefit_block as benefit_block,
)
from yibao.registry.tables import (
    employment as employment,
)
from yibao.registry.tables import (
    enrolment as enrolment,
)
from yibao.registry.tables import (
    household as household,
)
from yibao.registry.tables import (
    household_member as household_member,
)
from yibao.registry.tables import (  # the tables, re-exported for callers of the store
    metadata as metadata,
)
from yibao.registry.tables import (
    person as person,
)
from yibao.registry.tables import (
    person_identity as person_identity,
)
from yibao.registry.tables import (
    personal_account as personal_account,
)
from yibao.registry.tables import (
    personal_account_posting as personal_account_posting,
)
from yibao.registry.tables import (
    social_security_card as social_security_card,
)
from yibao.registry.tables import (
    unit as unit,
)


def _blocks(raw: object) -> tuple[BenefitBlock, ...]:
    """Benefit blocks from the JSON array ``[[begin, end, reason, detail], …]``."""
    rows = raw if isinstance(raw, list) else []
    return tuple(
        BenefitBlock(date.fromisoformat(b[0]), _day(b[1]), str(b[2]), str(b[3] or "")) for b in rows
    )


# The blocks of one enrolment as a JSON array (read with the enrolment, in the same statement).
_BLOCKS_OF_E = """(SELECT COALESCE(json_agg(json_build_array(b.begin_date, b.end_date, b.reason,
          b.detail) ORDER BY b.begin_date), '[]'::json)
     FROM benefit_block b WHERE b.psn_no = e.psn_no AND b.insutype = e.insutype)"""


def _person(row: sa.Row[tuple[object, ...]]) -> Person:
    m = row._mapping
    return Person(
        psn_no=m["psn_no"],
        psn_cert_type=m["psn_cert_type"],
        certno=m["certno"],
        psn_name=m["psn_name"],
        gend=m["gend"],
        brdy=m["brdy"],
        naty=m["naty"],
        tel=m["tel"],
        town=m["town"],
    )


def get_person(conn: sa.Connection, psn_no: str) -> Person | None:
    row = conn.execute(sa.select(person).where(person.c.psn_no == psn_no)).first()
    return _person(row) if row else None


def psn_no_by_cert(conn: sa.Connection, cert_type: str, certno: str) -> str | None:
    return conn.execute(
        sa.select(person.c.psn_no).where(
            person.c.psn_cert_type == cert_type, person.c.certno == certno
        )
    ).scalar()


def card_holder(conn: sa.Connection, card_no: str) -> str | None:
    """``psn_no`` of the holder of a valid social security card (社会保障卡), or None."""
    t = social_security_card
    return conn.execute(
        sa.select(t.c.psn_no).where(t.c.card_no == card_no, t.c.valid.is_(True))
    ).scalar()


def card_owner(conn: sa.Connection, card_no: str) -> str | None:
    """``psn_no`` a card number is registered to (valid or not), or None."""
    t = social_security_card
    return conn.execute(sa.select(t.c.psn_no).where(t.c.card_no == card_no)).scalar()


def upsert_card(conn: sa.Connection, card_no: str, psn_no: str, card_sn: str) -> None:
    from sqlalchemy.dialects.postgresql import insert

    t = social_security_card
    conn.execute(
        insert(t)
        .values(card_no=card_no, psn_no=psn_no, card_sn=card_sn, valid=True)
        .on_conflict_do_update(index_elements=["card_no"], set_={"card_sn": card_sn, "valid": True})
    )


def psn_nos_by_certno(conn: sa.Connection, certno: str) -> list[str]:
    return list(conn.execute(sa.select(person.c.psn_no).where(person.c.certno == certno)).scalars())


def insert_person(conn: sa.Connection, p: Person, psn_no_prefix: str) -> str:
    """Insert with a new ``psn_no`` = region prefix + 10-digit sequence; return it."""
    psn_no = conn.execute(
        sa.text("SELECT :p || lpad(nextval('psn_no_seq')::text, 10, '0')"), {"p": psn_no_prefix}
    ).scalar_one()
    conn.execute(
        person.insert().values(
            psn_no=psn_no,
            psn_cert_type=p.psn_cert_type,
            certno=p.certno,
            psn_name=p.psn_name,
            gend=p.gend,
            naty=p.naty,
            brdy=p.brdy,
            tel=p.tel,
            town=p.town,
        )
    )
    return str(psn_no)


def update_person(conn: sa.Connection, p: Person) -> None:
    conn.execute(
        person.update()
        .where(person.c.psn_no == p.psn_no)
        .values(
            psn_name=p.psn_name,
            gend=p.gend,
            naty=p.naty,
            brdy=p.brdy,
            tel=p.tel,
            town=p.town,
            updated_at=sa.func.now(),
        )
    )


def enrolments(conn: sa.Connection, psn_no: str) -> list[Enrolment]:
    rows = hot.rows_dict(
        conn,
        f"SELECT e.*, {_BLOCKS_OF_E} AS blocks FROM enrolment e WHERE e.psn_no = %(p)s",
        {"p": psn_no},
    )
    return [
        Enrolment(
            insutype=r["insutype"],
            psn_insu_stas=r["psn_insu_stas"],
            psn_insu_date=r["psn_insu_date"],
            paus_insu_date=r["paus_insu_date"],
            psn_type=r["psn_type"],
            insuplc_admdvs=r["insuplc_admdvs"],
            emp_no=r["emp_no"],
            emp_name=r["emp_name"],
            flxempe_flag=r["flxempe_flag"],
            cvlserv_flag=r["cvlserv_flag"],
            pool_only=r["pool_only"],
            benefit_blocks=_blocks(r["blocks"]),
        )
        for r in rows
    ]


def upsert_enrolment(conn: sa.Connection, psn_no: str, e: Enrolment) -> None:
    from sqlalchemy.dialects.postgresql import insert

    values = {
        "psn_insu_stas": e.psn_insu_stas,
        "psn_insu_date": e.psn_insu_date,
        "paus_insu_date": e.paus_insu_date,
        "psn_type": e.psn_type,
        "insuplc_admdvs": e.insuplc_admdvs,
        "emp_no": e.emp_no,
        "emp_name": e.emp_name,
        "flxempe_flag": e.flxempe_flag,
        "cvlserv_flag": e.cvlserv_flag,
        "pool_only": e.pool_only,
    }
    stmt = insert(enrolment).values(psn_no=psn_no, insutype=e.insutype, **values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["psn_no", "insutype"], set_={**values, "updated_at": sa.func.now()}
        )
    )


def identities(conn: sa.Connection, psn_no: str) -> list[AssistanceIdentity]:
    rows = conn.execute(
        sa.select(person_identity).where(person_identity.c.psn_no == psn_no)
    ).mappings()
    return [
        AssistanceIdentity(
            psn_idet_type=r["psn_idet_type"],
            begntime=r["begntime"],
            endtime=r["endtime"],
            psn_type_lv=r["psn_type_lv"],
            memo=r["memo"],
        )
        for r in rows
    ]


def upsert_identity(conn: sa.Connection, psn_no: str, i: AssistanceIdentity) -> None:
    from sqlalchemy.dialects.postgresql import insert

    values = {"endtime": i.endtime, "psn_type_lv": i.psn_type_lv, "memo": i.memo}
    stmt = insert(person_identity).values(
        psn_no=psn_no, psn_idet_type=i.psn_idet_type, begntime=i.begntime, **values
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["psn_no", "psn_idet_type", "begntime"], set_=values
        )
    )


def balance(conn: sa.Connection, psn_no: str) -> int:
    v = conn.execute(
        sa.select(personal_account.c.balc).where(personal_account.c.psn_no == psn_no)
    ).scalar()
    return int(v or 0)


def household_of(conn: sa.Connection, psn_no: str) -> str | None:
    return conn.execute(
        sa.select(household_member.c.hh_no).where(household_member.c.psn_no == psn_no)
    ).scalar()


def gongji_members(conn: sa.Connection, hh_no: str, exclude: str) -> list[GongjiMember]:
    """Members of the household who allow their account for 共济, with their balance."""
    rows = conn.execute(
        sa.select(
            household_member.c.psn_no,
            household_member.c.relation,
            sa.func.coalesce(personal_account.c.balc, 0).label("balc"),
        )
        .select_from(
            household_member.outerjoin(
                personal_account, personal_account.c.psn_no == household_member.c.psn_no
            )
        )
        .where(
            household_member.c.hh_no == hh_no,
            household_member.c.gongji_flag.is_(True),
            household_member.c.psn_no != exclude,
        )
        .order_by(household_member.c.psn_no)
    ).mappings()
    return [GongjiMember(r["psn_no"], r["relation"], int(r["balc"])) for r in rows]


def household_members(conn: sa.Connection, hh_no: str) -> list[dict[str, object]]:
    rows = conn.execute(
        sa.select(
            household_member.c.psn_no,
            household_member.c.relation,
            household_member.c.gongji_flag,
            person.c.psn_name,
        )
        .select_from(household_member.join(person, person.c.psn_no == household_member.c.psn_no))
        .where(household_member.c.hh_no == hh_no)
        .order_by(household_member.c.psn_no)
    ).mappings()
    return [dict(r) for r in rows]


def persons_page(
    conn: sa.Connection, *, admdvs: str | None, on: date, limit: int, offset: int
) -> list[dict[str, object]]:
    q = sa.select(person).order_by(person.c.psn_no).limit(limit).offset(offset)
    if admdvs:
        q = q.where(
            sa.exists().where(
                enrolment.c.psn_no == person.c.psn_no, enrolment.c.insuplc_admdvs == admdvs
            )
        )
    del on
    return [dict(r) for r in conn.execute(q).mappings()]


_SETTLEMENT_FACTS = f"""
SELECT p.psn_no, p.psn_cert_type, p.certno, p.psn_name, p.gend, p.brdy, p.naty, p.tel, p.town,
  (SELECT COALESCE(json_agg(json_build_array(e.insutype, e.psn_insu_stas, e.psn_insu_date,
          e.psn_type, e.insuplc_admdvs, e.paus_insu_date, e.emp_no, e.emp_name, e.flxempe_flag,
          e.cvlserv_flag, e.pool_only, {_BLOCKS_OF_E})), '[]'::json)
     FROM enrolment e WHERE e.psn_no = p.psn_no),
  (SELECT COALESCE(json_agg(json_build_array(i.psn_idet_type, i.begntime, i.endtime,
          i.psn_type_lv, i.memo)), '[]'::json)
     FROM person_identity i WHERE i.psn_no = p.psn_no),
  (SELECT a.balc FROM personal_account a WHERE a.psn_no = p.psn_no)
  FROM person p WHERE p.psn_no = %(psn_no)s
"""


def _day(value: object) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


SettlementFacts = tuple[Person, list[Enrolment], list[AssistanceIdentity], int]


_SETTLEMENT_FACTS_JSON = (
    "SELECT json_build_array(" + _SETTLEMENT_FACTS.strip()[len("SELECT ") :].replace(
        "\n  FROM person p", ")\n  FROM person p"
    )
)


def settlement_facts_q(psn_no: str) -> Q:
    """The read of :func:`settlement_facts` as one JSON value (:mod:`yibao.db.flow`; decode
    with :func:`facts_of_json`)."""
    return Q(_SETTLEMENT_FACTS_JSON, {"psn_no": psn_no})


def facts_of_json(value: list[Any] | None) -> SettlementFacts | None:
    """Decode :func:`settlement_facts_q` (None: no such person)."""
    if value is None:
        return None
    row = list(value)
    row[5] = date.fromisoformat(row[5])  # brdy
    return facts_of_row(tuple(row))


def facts_of_row(row: tuple[Any, ...] | None) -> SettlementFacts | None:
    """Decode the row of :data:`_SETTLEMENT_FACTS` (None: no such person)."""
    if row is None:
        return None
    person_row, enrolled, idents, balc = row[:9], row[9], row[10], row[11]
    enrolments_ = [
        Enrolment(
            insutype=e[0],
            psn_insu_stas=e[1],
            psn_insu_date=date.fromisoformat(e[2]),
            psn_type=e[3],
            insuplc_admdvs=e[4],
            paus_insu_date=_day(e[5]),
            emp_no=e[6],
            emp_name=e[7],
            flxempe_flag=e[8],
            cvlserv_flag=e[9],
            pool_only=bool(e[10]),
            benefit_blocks=_blocks(e[11]),
        )
        for e in enrolled
    ]
    identities_ = [
        AssistanceIdentity(
            psn_idet_type=i[0],
            begntime=date.fromisoformat(i[1]),
            endtime=_day(i[2]),
            psn_type_lv=i[3],
            memo=i[4],
        )
        for i in idents
    ]
    return Person(*person_row), enrolments_, identities_, int(balc or 0)


def settlement_facts(conn: sa.Connection, psn_no: str) -> SettlementFacts | None:
    """The person, enrolments, identities and account balance (fen) in one round trip, or None.

    What a settlement reads of the registry (结算快照); plain SQL (:mod:`yibao.db.hot`).
    """
    return facts_of_row(hot.one(conn, _SETTLEMENT_FACTS, {"psn_no": psn_no}))

"""Registry use cases (参保登记服务). Functions take a ``Connection`` and run in its transaction.

Public API (stable for other capabilities):

- :func:`snapshot_for_settlement` — settlement read model (:class:`RegistrySnapshot`);
- :func:`person_info_1101` — 1101 output (baseinfo, insuinfo[], idetinfo[]), audited;
- :func:`find_psn_no_by_cert` — certificate → ``psn_no``;
- :mod:`yibao.registry.accounts` — personal-account lock/post.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert

from yibao import codes
from yibao.db.tables import audit
from yibao.registry import certs, store
from yibao.registry.model import (
    AssistanceIdentity,
    Enrolment,
    NotEnrolled,
    Person,
    RegistrySnapshot,
    build_1101,
    build_snapshot,
)

log = structlog.get_logger(__name__)

__all__ = [
    "NotEnrolled",
    "PersonNotFound",
    "RegistryError",
    "account_view",
    "add_household_member",
    "add_identity",
    "create_household",
    "enrol",
    "find_psn_no_by_cert",
    "household_region",
    "person_info_1101",
    "person_info_1101_by_cert",
    "person_regions",
    "person_view",
    "record",
    "register_person",
    "reveal_certno",
    "snapshot_for_settlement",
]


class RegistryError(ValueError):
    """Refused input: ``code`` stable, ``field`` named, message in Chinese."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class PersonNotFound(RegistryError, LookupError):
    def __init__(self, what: str) -> None:
        super().__init__("PSN_NOT_FOUND", f"未找到参保人员：{what}", "psn_no")


def _require_code(table: str, value: str, field: str) -> None:
    if not codes.is_valid(table, value):
        raise RegistryError("CODE_INVALID", f"{field}={value}不在字典{table}中", field)


def register_person(
    conn: sa.Connection,
    *,
    psn_cert_type: str,
    certno: str,
    psn_name: str,
    gend: str,
    brdy: date,
    admdvs: str,
    naty: str = "",
    tel: str = "",
    town: str = "",
) -> str:
    """Register (or update) a person keyed by certificate; return the ``psn_no``.

    ``admdvs`` (6 digits) prefixes a new ``psn_no``. Idempotent: the same data again changes nothing.
    """
    _require_code("psn_cert_type", psn_cert_type, "psn_cert_type")
    try:
        certno = certs.validate(psn_cert_type, certno)
    except certs.CertError as e:
        raise RegistryError("CERT_INVALID", str(e), "certno") from None
    _require_code("gend", gend, "gend")
    if naty:
        _require_code("naty", naty, "naty")
    if not (len(admdvs) == 6 and admdvs.isdigit()):
        raise RegistryError("ADMDVS_INVALID", "医保区划应为6位数字", "admdvs")
    if not psn_name or len(psn_name) > 50:
        raise RegistryError("NAME_INVALID", "姓名不能为空且不超过50个字符", "psn_name")
    if psn_cert_type in (certs.ID_CARD, certs.HMT_RESIDENCE):
        if certs.id18_birth_date(certno) != brdy:
            raise RegistryError("BRDY_MISMATCH", "出生日期与身份证号码不一致", "brdy")
        if gend in ("1", "2") and gend != certs.id18_gender(certno):
            raise RegistryError("GEND_MISMATCH", "性别与身份证号码不一致", "gend")
    p = Person("", psn_cert_type, certno, psn_name, gend, brdy, naty, tel, town)
    existing = store.psn_no_by_cert(conn, psn_cert_type, certno)
    if existing is None:
        return store.insert_person(conn, p, admdvs)
    current = store.get_person(conn, existing)
    if current != replace(p, psn_no=existing):
        store.update_person(conn, replace(p, psn_no=existing))
    return existing


def _person(conn: sa.Connection, psn_no: str) -> Person:
    p = store.get_person(conn, psn_no)
    if p is None:
        raise PersonNotFound(psn_no)
    return p


def person_regions(conn: sa.Connection, psn_no: str) -> list[str]:
    """The regions a person belongs to: their enrolments' 参保地, else the region prefixing
    ``psn_no`` (registered, not yet enrolled); :class:`PersonNotFound` if there is no such person."""
    _person(conn, psn_no)
    regions = [e.insuplc_admdvs for e in store.enrolments(conn, psn_no)]
    return regions or [psn_no[:6]]


def household_region(conn: sa.Connection, hh_no: str) -> str | None:
    """The region (医保区划) a household was created in, ``None`` if there is no such household."""
    h = store.household
    got = conn.execute(sa.select(h.c.admdvs).where(h.c.hh_no == hh_no)).scalar()
    return None if got is None else str(got)


def record(
    conn: sa.Connection, actor: str, action: str, subject: str = "", **detail: object
) -> None:
    """Audit one staff action on the registry (审计) in the caller's transaction."""
    audit(conn, actor, action, subject, **detail)


def enrol(conn: sa.Connection, psn_no: str, e: Enrolment) -> None:
    """Add or update one insurance type (参保险种) of a person."""
    _person(conn, psn_no)
    _require_code("psn_insu_stas", e.psn_insu_stas, "psn_insu_stas")
    if not (len(e.insuplc_admdvs) == 6 and e.insuplc_admdvs.isdigit()):
        raise RegistryError("ADMDVS_INVALID", "参保地医保区划应为6位数字", "insuplc_admdvs")
    if e.paus_insu_date and e.paus_insu_date < e.psn_insu_date:
        raise RegistryError("DATE_ORDER", "暂停参保日期早于参保日期", "paus_insu_date")
    store.upsert_enrolment(conn, psn_no, e)


def add_identity(conn: sa.Connection, psn_no: str, i: AssistanceIdentity) -> None:
    """Record a person identity (人员身份, e.g. 低保) with its valid period."""
    _person(conn, psn_no)
    _require_code("psn_idet_type", i.psn_idet_type, "psn_idet_type")
    if i.endtime and i.endtime < i.begntime:
        raise RegistryError("DATE_ORDER", "身份有效期结束日期早于开始日期", "endtime")
    store.upsert_identity(conn, psn_no, i)


def create_household(conn: sa.Connection, hh_no: str, admdvs: str, head_psn_no: str) -> None:
    """Create a household (家庭/户) with its head; idempotent on ``hh_no``."""
    _person(conn, head_psn_no)
    conn.execute(
        insert(store.household)
        .values(hh_no=hh_no, admdvs=admdvs, head_psn_no=head_psn_no)
        .on_conflict_do_nothing()
    )
    add_household_member(conn, hh_no, head_psn_no, "本人", gongji=True)


def add_household_member(
    conn: sa.Connection, hh_no: str, psn_no: str, relation: str, *, gongji: bool
) -> None:
    """Put a person in a household; ``gongji`` allows their account to pay for members (共济)."""
    _person(conn, psn_no)
    if (
        conn.execute(
            sa.select(store.household.c.hh_no).where(store.household.c.hh_no == hh_no)
        ).first()
        is None
    ):
        raise RegistryError("HH_NOT_FOUND", f"未找到家庭{hh_no}", "hh_no")
    values = {"hh_no": hh_no, "relation": relation, "gongji_flag": gongji}
    conn.execute(
        insert(store.household_member)
        .values(psn_no=psn_no, **values)
        .on_conflict_do_update(index_elements=["psn_no"], set_=values)
    )


def find_psn_no_by_cert(conn: sa.Connection, psn_cert_type: str, certno: str) -> str | None:
    """``psn_no`` of the person with this certificate (type ``""`` = any type), or None."""
    n = certs.normalize(psn_cert_type, certno)
    if psn_cert_type:
        return store.psn_no_by_cert(conn, psn_cert_type, n)
    found = store.psn_nos_by_certno(conn, n)
    return found[0] if len(found) == 1 else None


def find_psn_no_by_card(conn: sa.Connection, card_no: str) -> str | None:
    """``psn_no`` of the holder of a valid social security card (社会保障卡号), or None."""
    return store.card_holder(conn, "".join(card_no.split()).upper())


def issue_card(conn: sa.Connection, psn_no: str, card_no: str, card_sn: str = "") -> None:
    """Register a person's social security card (社会保障卡): ``card_no`` 卡号 (the
    ``mdtrt_cert_no`` of ``mdtrt_cert_type`` 03) and ``card_sn`` 卡识别码. A card already
    registered to another person is refused."""
    _person(conn, psn_no)
    card_no = "".join(card_no.split()).upper()
    if not re.fullmatch(r"[0-9A-Z]{6,20}", card_no):
        raise RegistryError("CARD_INVALID", "社会保障卡号应为6至20位字母或数字", "card_no")
    if card_sn and not re.fullmatch(r"[0-9A-Fa-f]{8,64}", card_sn):
        raise RegistryError("CARD_SN_INVALID", "卡识别码应为8至64位十六进制字符", "card_sn")
    holder = store.card_owner(conn, card_no)
    if holder is not None and holder != psn_no:
        raise RegistryError("CARD_TAKEN", "该社会保障卡号已登记给其他人员", "card_no")
    store.upsert_card(conn, card_no, psn_no, card_sn.upper())


def snapshot_for_settlement(
    conn: sa.Connection, psn_no: str, insutype: str, on_date: date
) -> RegistrySnapshot:
    """What the engine needs about the insured on ``on_date`` (see :class:`RegistrySnapshot`).

    Raises :class:`PersonNotFound` or :class:`NotEnrolled`. The account balance is read without a
    lock; settlement re-reads it with :func:`yibao.registry.accounts.lock_balance`.
    """
    p = _person(conn, psn_no)
    hh = store.household_of(conn, psn_no)
    members = tuple(store.gongji_members(conn, hh, psn_no)) if hh else ()
    return build_snapshot(
        p,
        store.enrolments(conn, psn_no),
        store.identities(conn, psn_no),
        store.balance(conn, psn_no),
        insutype,
        on_date,
        household_no=hh,
        gongji_members=members,
    )


def person_info_1101(
    conn: sa.Connection, psn_no: str, on_date: date, *, actor: str, purpose: str = "1101"
) -> dict[str, object]:
    """The 1101 output for ``psn_no``; the disclosure of the full ``certno`` is audited."""
    p = _person(conn, psn_no)
    audit(conn, actor, "registry.certno.disclose", psn_no, purpose=purpose)
    return build_1101(
        p,
        store.enrolments(conn, psn_no),
        store.identities(conn, psn_no),
        store.balance(conn, psn_no),
        on_date,
    )


def person_info_1101_by_cert(
    conn: sa.Connection, psn_cert_type: str, certno: str, on_date: date, *, actor: str
) -> dict[str, object]:
    """The 1101 output for a certificate (mdtrt_cert_type 02: ID card number)."""
    psn_no = find_psn_no_by_cert(conn, psn_cert_type, certno)
    if psn_no is None:
        raise PersonNotFound("证件号码" + certs.mask(certs.normalize(psn_cert_type, certno)))
    return person_info_1101(conn, psn_no, on_date, actor=actor)


def reveal_certno(conn: sa.Connection, psn_no: str, *, actor: str, reason: str) -> str:
    """The full certificate number for a role that needs it; every call is audited (审计)."""
    if not actor or not reason:
        raise RegistryError("REVEAL_DENIED", "查看完整证件号码须提供操作员和事由", "actor")
    p = _person(conn, psn_no)
    audit(conn, actor, "registry.certno.reveal", psn_no, reason=reason)
    log.info("certno_revealed", psn_no=psn_no, actor=actor)
    return p.certno


def account_view(conn: sa.Connection, psn_no: str, limit: int = 50) -> dict[str, object]:
    """The personal account (个人账户): balance and the latest postings, amounts in fen."""
    _person(conn, psn_no)
    t = store.personal_account_posting
    rows = conn.execute(
        sa.select(t.c.ref, t.c.amount, t.c.balc_after, t.c.memo, t.c.at)
        .where(t.c.psn_no == psn_no)
        .order_by(t.c.id.desc())
        .limit(limit)
    ).mappings()
    return {
        "psn_no": psn_no,
        "balc": store.balance(conn, psn_no),
        "postings": [{**r, "at": r["at"].isoformat()} for r in rows],
    }


def person_view(conn: sa.Connection, psn_no: str) -> dict[str, object]:
    """A person with enrolments, identities, household and balance; ``certno`` masked."""
    p = _person(conn, psn_no)
    hh = store.household_of(conn, psn_no)
    return {
        "psn_no": p.psn_no,
        "psn_cert_type": p.psn_cert_type,
        "certno": certs.mask(p.certno),
        "psn_name": p.psn_name,
        "gend": p.gend,
        "naty": p.naty,
        "brdy": p.brdy.isoformat(),
        "tel": p.tel[:3] + "****" + p.tel[-4:] if len(p.tel) == 11 else p.tel,
        "town": p.town,
        "insuinfo": [
            {
                "insutype": e.insutype,
                "psn_insu_stas": e.psn_insu_stas,
                "psn_insu_date": e.psn_insu_date.isoformat(),
                "paus_insu_date": e.paus_insu_date.isoformat() if e.paus_insu_date else None,
                "psn_type": e.psn_type,
                "insuplc_admdvs": e.insuplc_admdvs,
                "emp_no": e.emp_no,
                "emp_name": e.emp_name,
                "flxempe_flag": "1" if e.flxempe_flag else "0",
                "cvlserv_flag": "1" if e.cvlserv_flag else "0",
            }
            for e in sorted(store.enrolments(conn, psn_no), key=lambda e: e.insutype)
        ],
        "idetinfo": [
            {
                "psn_idet_type": i.psn_idet_type,
                "name": codes.label("psn_idet_type", i.psn_idet_type),
                "begntime": i.begntime.isoformat(),
                "endtime": i.endtime.isoformat() if i.endtime else None,
            }
            for i in store.identities(conn, psn_no)
        ],
        "household": {"hh_no": hh, "members": store.household_members(conn, hh)} if hh else None,
        "acct_balc": store.balance(conn, psn_no),
    }

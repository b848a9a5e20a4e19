"""Proof of the patient's presence (就诊凭证核验): a personal number is not an authorisation.

Every visit-opening and settling national-interface transaction (2201, 2401, 2101, 2102, 2206,
2207, 2303, 2304) names the person by ``psn_no`` *and* presents a credential
(``mdtrt_cert_type`` + ``mdtrt_cert_no``, nhsa-interface.md §3.3). It is checked against the
person before anything else is read or written:

- ``01`` 医保电子凭证: ``mdtrt_cert_no`` is a live ecToken that the e-voucher exchange issued to
  *this* institution (``orgId``) for *this* person, whose e-voucher is active;
- ``02`` 居民身份证: ``mdtrt_cert_no`` is the person's ID number (a person registered with a
  居民身份证, ``psn_cert_type`` 01);
- ``03`` 社会保障卡: ``mdtrt_cert_no`` is a valid card of the person in the card register
  (``social_security_card``), and a given ``card_sn`` (卡识别码) is that card's;
- a given ``psn_name`` must be the registered name.

A refusal names the field (``…mdtrt_cert_no``, ``…psn_name``) and reads the same whether the
``psn_no`` exists or not, so guessing numbers learns nothing. :func:`check` is the pure rule;
:func:`verify` reads the facts in one statement (:func:`yibao.voucher.store.presence_facts`) and
applies it. :func:`may_query` is the 5xxx queries' rule: an institution learns about a person
only with a visit there or a live proof of presence (ecToken, or a 1101 recorded by
:func:`record`). Cross-province visits are checked by the insured side through the hub
(:mod:`yibao.hub.gateway_relay`); :func:`check_relayed` compares what that side confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from yibao.db.flow import Q
from yibao.voucher import store

EC_TOKEN, ID_CARD, SOCIAL_SECURITY_CARD = "01", "02", "03"
ID_CARD_PSN_CERT_TYPE = "01"  # psn_cert_type 居民身份证


class PresenceRefused(Exception):
    """The credential does not prove the person's presence: ``field`` and a Chinese ``rule``."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Presented:
    """What the HIS sent: the credential, and the optional name, card chip id and certno."""

    mdtrt_cert_type: str
    mdtrt_cert_no: str
    psn_name: str = ""
    card_sn: str = ""
    certno: str = ""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the platform knows, read in one statement (``None``: no such row)."""

    psn_no: str | None = None  # the person named by psn_no, if registered
    psn_cert_type: str = ""
    certno: str = ""
    psn_name: str = ""
    token_psn_no: str | None = None  # 01: the ecToken's person, institution, expiry, voucher
    token_org_id: str = ""
    token_expires_at: datetime | None = None
    voucher_active: bool = False
    card_psn_no: str | None = None  # 03: the card's holder, chip id, validity
    card_sn: str = ""
    card_valid: bool = False


def _norm(value: str) -> str:
    return "".join(value.split()).upper()


def _credential_rule(p: Presented, f: Facts, psn_no: str, org: str, now: datetime) -> str | None:
    """Why the credential does not name ``psn_no`` at ``org`` (``None``: it does)."""
    if not p.mdtrt_cert_no:
        return "就诊凭证编号必填"
    mismatch = f"就诊凭证与人员编号 {psn_no} 不符"
    if p.mdtrt_cert_type == EC_TOKEN:
        if f.token_psn_no is None:
            return "医保电子凭证令牌(ecToken)无效，请重新扫码"
        if f.token_expires_at is None or now >= f.token_expires_at:
            return "医保电子凭证令牌(ecToken)已过期，请重新扫码"
        if f.token_org_id != org:
            return "医保电子凭证令牌(ecToken)非本机构申领，请在本机构重新扫码"
        if f.token_psn_no != psn_no or f.psn_no is None:
            return mismatch
        if not f.voucher_active:
            return "该医保电子凭证未激活或已注销"
        return None
    if p.mdtrt_cert_type == ID_CARD:
        if (
            f.psn_no is None
            or f.psn_cert_type != ID_CARD_PSN_CERT_TYPE
            or _norm(p.mdtrt_cert_no) != _norm(f.certno)
        ):
            return mismatch
        return None
    if p.mdtrt_cert_type == SOCIAL_SECURITY_CARD:
        if f.psn_no is None or f.card_psn_no != psn_no or not f.card_valid:
            return mismatch
        return None
    return f"就诊凭证类型 {p.mdtrt_cert_type} 不能用于核验本人（须为01、02或03）"


def check(
    presented: Presented,
    facts: Facts,
    *,
    psn_no: str,
    fixmedins_code: str,
    now: datetime,
    where: str,
) -> None:
    """Raise :class:`PresenceRefused` unless ``presented`` proves ``psn_no`` is at the counter."""
    rule = _credential_rule(presented, facts, psn_no, fixmedins_code, now)
    if rule is not None:
        raise PresenceRefused(f"{where}.mdtrt_cert_no", rule)
    if (
        presented.mdtrt_cert_type == SOCIAL_SECURITY_CARD
        and presented.card_sn
        and facts.card_sn
        and _norm(presented.card_sn) != _norm(facts.card_sn)
    ):
        raise PresenceRefused(f"{where}.card_sn", "卡识别码与社会保障卡登记不符")
    if presented.certno and _norm(presented.certno) != _norm(facts.certno):
        raise PresenceRefused(f"{where}.certno", "证件号码与参保登记不符")
    if presented.psn_name and presented.psn_name.strip() != facts.psn_name:
        raise PresenceRefused(f"{where}.psn_name", "人员姓名与参保登记不符")


def check_relayed(presented: Presented, person: Mapping[str, str], *, where: str) -> None:
    """A cross-province visit: what the insured side confirmed through the hub (its person's
    ``certno``, ``psn_cert_type``, ``psn_name``) against the credential. The ecToken (01) and the
    card register (03) are the insured side's and are checked there."""
    if not presented.mdtrt_cert_no:
        raise PresenceRefused(f"{where}.mdtrt_cert_no", "就诊凭证编号必填")
    certno = _norm(str(person.get("certno") or ""))
    if presented.mdtrt_cert_type == ID_CARD and _norm(presented.mdtrt_cert_no) != certno:
        raise PresenceRefused(f"{where}.mdtrt_cert_no", "就诊凭证与参保地确认的人员不符")
    if presented.certno and certno and _norm(presented.certno) != certno:
        raise PresenceRefused(f"{where}.certno", "证件号码与参保地确认的人员不符")
    name = str(person.get("psn_name") or "")
    if presented.psn_name and name and presented.psn_name.strip() != name:
        raise PresenceRefused(f"{where}.psn_name", "人员姓名与参保地登记不符")


def verify(
    conn: sa.Connection,
    presented: Presented,
    *,
    psn_no: str,
    fixmedins_code: str,
    now: datetime,
    where: str,
) -> None:
    """:func:`check` over the facts read in one statement (inside the caller's transaction)."""
    row = store.presence_facts(conn, psn_no, presented.mdtrt_cert_type, presented.mdtrt_cert_no)
    facts = Facts(
        psn_no=row["psn_no"],
        psn_cert_type=row["psn_cert_type"] or "",
        certno=row["certno"] or "",
        psn_name=row["psn_name"] or "",
        token_psn_no=row["token_psn_no"],
        token_org_id=row["token_org_id"] or "",
        token_expires_at=row["token_expires_at"],
        voucher_active=bool(row["voucher_active"]),
        card_psn_no=row["card_psn_no"],
        card_sn=row["card_sn"] or "",
        card_valid=bool(row["card_valid"]),
    )
    check(presented, facts, psn_no=psn_no, fixmedins_code=fixmedins_code, now=now, where=where)


_FACTS_JSON = """
SELECT json_build_array(p.psn_no, p.psn_cert_type, p.certno, p.psn_name, t.psn_no, t.org_id,
       t.expires_at, coalesce(v.status = 'active', false), c.psn_no, c.card_sn,
       coalesce(c.valid, false))
FROM (SELECT 1) AS one
LEFT JOIN person p ON p.psn_no = %(psn_no)s
LEFT JOIN ec_token t ON %(cert_type)s = '01' AND t.ec_token = %(cert_no)s
LEFT JOIN ec_voucher v ON v.psn_no = t.psn_no
LEFT JOIN social_security_card c ON %(cert_type)s = '03' AND c.card_no = %(cert_no)s
"""


def facts_q(psn_no: str, presented: Presented) -> Q:
    """What :func:`check` needs, as one value of a flow's read (:mod:`yibao.db.flow`)."""
    params = {
        "psn_no": psn_no,
        "cert_type": presented.mdtrt_cert_type,
        "cert_no": presented.mdtrt_cert_no,
    }
    return Q(_FACTS_JSON, params)


def facts_of_json(v: list[Any]) -> Facts:
    """Decode :func:`facts_q`."""
    return Facts(
        psn_no=v[0],
        psn_cert_type=v[1] or "",
        certno=v[2] or "",
        psn_name=v[3] or "",
        token_psn_no=v[4],
        token_org_id=v[5] or "",
        token_expires_at=None if v[6] is None else datetime.fromisoformat(v[6]),
        voucher_active=bool(v[7]),
        card_psn_no=v[8],
        card_sn=v[9] or "",
        card_valid=bool(v[10]),
    )


def record(
    conn: sa.Connection,
    *,
    fixmedins_code: str,
    psn_no: str,
    mdtrt_cert_type: str,
    now: datetime,
    ttl: timedelta,
) -> None:
    """Remember that ``psn_no`` proved their presence at ``fixmedins_code`` (a 1101)."""
    t = store.ec_presence
    values = {"mdtrt_cert_type": mdtrt_cert_type, "seen_at": now, "expires_at": now + ttl}
    conn.execute(
        insert(t)
        .values(fixmedins_code=fixmedins_code, psn_no=psn_no, **values)
        .on_conflict_do_update(index_elements=["fixmedins_code", "psn_no"], set_=values)
    )


def may_query(conn: sa.Connection, *, psn_no: str, fixmedins_code: str, now: datetime) -> bool:
    """Whether ``fixmedins_code`` may learn about ``psn_no`` (5201–5206): a visit there, a live
    ecToken issued to it for the person, or a recorded proof of presence that has not expired."""
    return store.has_presence(conn, psn_no, fixmedins_code, now)

"""E-voucher store (电子凭证存储): SQLAlchemy Core tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

ec_channel = sa.Table(
    "ec_channel",
    metadata,
    sa.Column("chnl_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("kind", sa.Text),
    sa.Column("secret", sa.Text),
    sa.Column("active", sa.Boolean),
    sa.Column("created_at", TS),
)

ec_signing_key = sa.Table(
    "ec_signing_key",
    metadata,
    sa.Column("kid", sa.Text, primary_key=True),
    sa.Column("secret", sa.LargeBinary),
    sa.Column("created_at", TS),
)

ec_voucher = sa.Table(
    "ec_voucher",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("ec_index_no", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("activated_at", TS),
    sa.Column("activated_chnl", sa.Text),
    sa.Column("revoked_at", TS),
    sa.Column("revoked_by", sa.Text),
    sa.Column("revoke_reason", sa.Text),
)

ec_authorization = sa.Table(
    "ec_authorization",
    metadata,
    sa.Column("chnl_id", sa.Text, primary_key=True),
    sa.Column("chnl_user_id", sa.Text, primary_key=True),
    sa.Column("psn_no", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("authorized_at", TS),
    sa.Column("revoked_at", TS),
)

ec_activation_event = sa.Table(
    "ec_activation_event",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("psn_no", sa.Text),
    sa.Column("chnl_id", sa.Text),
    sa.Column("kind", sa.Text),
    sa.Column("at", TS),
    sa.Column("admdvs", sa.Text),
    sa.Column("town", sa.Text),
    sa.Column("emp_no", sa.Text),
    sa.Column("emp_name", sa.Text),
    sa.Column("category", sa.Text),
    sa.Column("insutype", sa.Text),
    sa.Column("actor", sa.Text),
)

ec_code = sa.Table(
    "ec_code",
    metadata,
    sa.Column("jti", sa.Text, primary_key=True),
    sa.Column("psn_no", sa.Text),
    sa.Column("holder_psn_no", sa.Text),
    sa.Column("chnl_id", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("issued_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("used_at", TS),
    sa.Column("used_by_org", sa.Text),
    sa.Column("out_biz_no", sa.Text),
    sa.Column("ec_token", sa.Text),
)

ec_token = sa.Table(
    "ec_token",
    metadata,
    sa.Column("ec_token", sa.Text, primary_key=True),
    sa.Column("psn_no", sa.Text),
    sa.Column("org_id", sa.Text),
    sa.Column("business_type", sa.Text),
    sa.Column("jti", sa.Text),
    sa.Column("auth_no", sa.Text),
    sa.Column("operator_id", sa.Text),
    sa.Column("issued_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("pwd_verified_at", TS),
    sa.Column("prompt", JSONB),  # voucher_0004: the amounts to confirm on the phone (fen)
    sa.Column("prompted_at", TS),
    sa.Column("settled_at", TS),  # the counter settled: the prompt is closed
)

ec_presence = sa.Table(  # voucher_0003: who proved their presence to which institution, until
    "ec_presence",
    metadata,
    sa.Column("fixmedins_code", sa.Text, primary_key=True),
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("mdtrt_cert_type", sa.Text),
    sa.Column("seen_at", TS),
    sa.Column("expires_at", TS),
)

ec_password = sa.Table(
    "ec_password",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("hash", sa.Text),
    sa.Column("failed", sa.Integer),
    sa.Column("locked_until", TS),
    sa.Column("updated_at", TS),
)

ec_family = sa.Table(
    "ec_family",
    metadata,
    sa.Column("holder_psn_no", sa.Text, primary_key=True),
    sa.Column("dependent_psn_no", sa.Text, primary_key=True),
    sa.Column("relation", sa.Text),
    sa.Column("consent_by", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("bound_at", TS),
    sa.Column("revoked_at", TS),
)

ec_channel_nonce = sa.Table(
    "ec_channel_nonce",
    metadata,
    sa.Column("chnl_id", sa.Text, primary_key=True),
    sa.Column("nonce", sa.Text, primary_key=True),
    sa.Column("at", TS),
)

# Activation rate per dimension. Numerator: distinct persons with an activation event (by the
# event's own region/town/unit/category/channel, recorded at activation); denominator: persons
# with a normal main enrolment (310/390) grouped by the same dimension today.
_DIM_SQL = {
    "region": ("e.insuplc_admdvs", "admdvs"),
    "town": ("p.town", "town"),
    "unit": ("e.emp_no", "emp_no"),
    "category": ("e.psn_type", "category"),
}

ACTIVATION_KINDS = ("activate",)


def activation_rate_sql(dim: str) -> str:
    """SQL for the activation rate by ``dim`` (region/town/unit/category/channel); ``:admdvs``
    is a region or a region prefix (a province's two digits), NULL for every region."""
    if dim == "channel":
        return """
WITH insured AS (
  SELECT count(DISTINCT e.psn_no) AS n FROM enrolment e
  WHERE e.psn_insu_stas = '1' AND e.insutype IN ('310', '390')
    AND (CAST(:admdvs AS text) IS NULL OR starts_with(e.insuplc_admdvs, :admdvs)))
SELECT v.chnl_id AS key, c.name AS label, (SELECT n FROM insured) AS insured,
       count(DISTINCT v.psn_no) AS activated
FROM ec_activation_event v LEFT JOIN ec_channel c ON c.chnl_id = v.chnl_id
WHERE v.kind IN ('activate', 'authorize') AND v.at < :until
  AND (CAST(:admdvs AS text) IS NULL OR starts_with(v.admdvs, :admdvs))
GROUP BY v.chnl_id, c.name ORDER BY v.chnl_id
"""
    reg, ev = _DIM_SQL[dim]
    label = "max(e.emp_name)" if dim == "unit" else "NULL"
    return f"""
WITH insured AS (
  SELECT DISTINCT ON (e.psn_no) e.psn_no, {reg} AS key, e.emp_name
  FROM enrolment e JOIN person p ON p.psn_no = e.psn_no
  WHERE e.psn_insu_stas = '1' AND e.insutype IN ('310', '390')
    AND (CAST(:admdvs AS text) IS NULL OR starts_with(e.insuplc_admdvs, :admdvs))
  ORDER BY e.psn_no, e.insutype),
activated AS (
  SELECT {ev} AS key, count(DISTINCT psn_no) AS n FROM ec_activation_event
  WHERE kind = 'activate' AND at < :until
    AND (CAST(:admdvs AS text) IS NULL OR starts_with(admdvs, :admdvs))
  GROUP BY 1),
base AS (
  SELECT e.key, {label} AS label, count(*) AS insured FROM insured e GROUP BY e.key)
SELECT coalesce(b.key, a.key) AS key, b.label, coalesce(b.insured, 0) AS insured,
       coalesce(a.n, 0) AS activated
FROM base b FULL JOIN activated a ON a.key = b.key
ORDER BY 1
"""


# ---- presence (yibao.voucher.presence): one statement each ------------------------------------

_PRESENCE_FACTS = sa.text(
    """
SELECT p.psn_no, p.psn_cert_type, p.certno, p.psn_name,
       t.psn_no AS token_psn_no, t.org_id AS token_org_id, t.expires_at AS token_expires_at,
       coalesce(v.status = 'active', false) AS voucher_active,
       c.psn_no AS card_psn_no, c.card_sn, coalesce(c.valid, false) AS card_valid
FROM (SELECT 1) AS one
LEFT JOIN person p ON p.psn_no = :psn_no
LEFT JOIN ec_token t ON :cert_type = '01' AND t.ec_token = :cert_no
LEFT JOIN ec_voucher v ON v.psn_no = t.psn_no
LEFT JOIN social_security_card c ON :cert_type = '03' AND c.card_no = :cert_no
"""
)


def presence_facts(
    conn: sa.Connection, psn_no: str, cert_type: str, cert_no: str
) -> dict[str, Any]:
    """The person, and the presented ecToken (01) or card (03), in one row (nulls: none)."""
    params = {"psn_no": psn_no, "cert_type": cert_type, "cert_no": cert_no}
    return dict(conn.execute(_PRESENCE_FACTS, params).mappings().one())


_HAS_PRESENCE = sa.text(
    """
SELECT EXISTS (SELECT 1 FROM encounter
               WHERE psn_no = :psn_no AND fixmedins_code = :org)
    OR EXISTS (SELECT 1 FROM ec_token
               WHERE psn_no = :psn_no AND org_id = :org AND expires_at > :now)
    OR EXISTS (SELECT 1 FROM ec_presence
               WHERE psn_no = :psn_no AND fixmedins_code = :org AND expires_at > :now)
"""
)


def has_presence(conn: sa.Connection, psn_no: str, org: str, now: datetime) -> bool:
    """A visit of ``psn_no`` at ``org``, a live ecToken for it, or a live presence record."""
    return bool(conn.execute(_HAS_PRESENCE, {"psn_no": psn_no, "org": org, "now": now}).scalar())

"""The registry's tables (参保登记表): persons, cards, enrolments, identities, households,
personal accounts, units, employment and benefit blocks (SQLAlchemy Core)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

person = sa.Table(
    "person",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("psn_cert_type", sa.Text),
    sa.Column("certno", sa.Text),
    sa.Column("psn_name", sa.Text),
    sa.Column("gend", sa.Text),
    sa.Column("naty", sa.Text),
    sa.Column("brdy", sa.Date),
    sa.Column("tel", sa.Text),
    sa.Column("town", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

social_security_card = sa.Table(  # 社会保障卡 (registry_0004): mdtrt_cert_type 03
    "social_security_card",
    metadata,
    sa.Column("card_no", sa.Text, primary_key=True),
    sa.Column("psn_no", sa.Text),
    sa.Column("card_sn", sa.Text),
    sa.Column("valid", sa.Boolean),
    sa.Column("issued_at", sa.DateTime(timezone=True)),
)

enrolment = sa.Table(
    "enrolment",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("insutype", sa.Text, primary_key=True),
    sa.Column("psn_insu_stas", sa.Text),
    sa.Column("psn_insu_date", sa.Date),
    sa.Column("paus_insu_date", sa.Date),
    sa.Column("psn_type", sa.Text),
    sa.Column("insuplc_admdvs", sa.Text),
    sa.Column("emp_no", sa.Text),
    sa.Column("emp_name", sa.Text),
    sa.Column("flxempe_flag", sa.Boolean),
    sa.Column("cvlserv_flag", sa.Boolean),
    sa.Column("pool_only", sa.Boolean),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

person_identity = sa.Table(
    "person_identity",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("psn_idet_type", sa.Text, primary_key=True),
    sa.Column("begntime", sa.Date, primary_key=True),
    sa.Column("endtime", sa.Date),
    sa.Column("psn_type_lv", sa.Text),
    sa.Column("memo", sa.Text),
)

household = sa.Table(
    "household",
    metadata,
    sa.Column("hh_no", sa.Text, primary_key=True),
    sa.Column("admdvs", sa.Text),
    sa.Column("head_psn_no", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

household_member = sa.Table(
    "household_member",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("hh_no", sa.Text),
    sa.Column("relation", sa.Text),
    sa.Column("gongji_flag", sa.Boolean),
)

personal_account = sa.Table(
    "personal_account",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("balc", sa.BigInteger),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

personal_account_posting = sa.Table(
    "personal_account_posting",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("psn_no", sa.Text),
    sa.Column("ref", sa.Text),
    sa.Column("amount", sa.BigInteger),
    sa.Column("balc_after", sa.BigInteger),
    sa.Column("memo", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True)),
)


unit = sa.Table(
    "unit",
    metadata,
    sa.Column("emp_no", sa.Text, primary_key=True),
    sa.Column("uscc", sa.Text),
    sa.Column("emp_name", sa.Text),
    sa.Column("emp_type", sa.Text),
    sa.Column("admdvs", sa.Text),
    sa.Column("town", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

employment = sa.Table(
    "employment",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("begin_date", sa.Date, primary_key=True),
    sa.Column("end_date", sa.Date),
    sa.Column("emp_no", sa.Text),
    sa.Column("flexible", sa.Boolean),
    sa.Column("wage_base", sa.BigInteger),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

benefit_block = sa.Table(
    "benefit_block",
    metadata,
    sa.Column("psn_no", sa.Text, primary_key=True),
    sa.Column("insutype", sa.Text, primary_key=True),
    sa.Column("begin_date", sa.Date, primary_key=True),
    sa.Column("reason", sa.Text, primary_key=True),
    sa.Column("end_date", sa.Date),
    sa.Column("detail", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

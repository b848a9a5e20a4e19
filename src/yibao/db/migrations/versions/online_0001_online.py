"""online: the mobile-payment centre (移动支付中心, 6xxx) and the e-prescription centre (医保电子处方中心,
7xxx) — apps and keys, orders and their events, payment authorisations, refunds, stored replies,
the simulator payment provider's book, the HIS simulator's callback inbox, prescriptions, their
authorisations and the institutions' prescription-signing keys.

The table definitions are written out here (frozen at this revision); ``yibao.online.store``
describes the same tables for the code.

Revision ID: online_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "online_0001"
down_revision = None
branch_labels = ("online",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def _now(name: str = "created_at") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, TZ, nullable=False, server_default=sa.func.now())


def _text(name: str, default: bool = False) -> sa.Column:  # type: ignore[type-arg]
    if default:
        return sa.Column(name, sa.Text, nullable=False, server_default="")
    return sa.Column(name, sa.Text, nullable=False)


def upgrade() -> None:
    op.create_table(
        "online_app",
        sa.Column("app_id", sa.Text, primary_key=True),
        _text("fixmedins_code"),
        _text("app_secret"),
        _text("inst_pk"),
        _text("callback_url", True),
        _now(),
    )
    op.create_table(
        "online_order",
        sa.Column("pay_ord_id", sa.Text, primary_key=True),
        *[
            _text(n)
            for n in (
                "app_id",
                "fixmedins_code",
                "med_org_ord",
                "pay_token",
                "psn_no",
                "insutype",
                "med_type",
                "fee_type",
                "mdtrt_id",
                "chrg_bchno",
                "acct_used_flag",
                "psn_setlway",
            )
        ],
        sa.Column("registered", sa.Boolean, nullable=False),
        sa.Column("ord_stas", sa.SmallInteger, nullable=False),
        sa.Column("split", pg.JSONB, nullable=False),
        _text("settle_msgid"),
        _text("setl_id", True),
        _text("cancel_setl_id", True),
        sa.Column("cash_paid", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cash_refunded", sa.BigInteger, nullable=False, server_default="0"),
        _text("pay_auth_no", True),
        _text("org_biz_ser", True),
        sa.Column("timed_out_at", TZ),
        sa.Column("callback_at", TZ),
        sa.Column("traced_at", TZ),
        sa.Column("business_day", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        _now(),
        _now("updated_at"),
        sa.UniqueConstraint("fixmedins_code", "med_org_ord", name="uq_online_order_med_org_ord"),
    )
    op.create_index("ix_online_order_day", "online_order", ["business_day"])
    op.create_index("ix_online_order_stas", "online_order", ["ord_stas"])
    op.create_index("ix_online_order_settle_msgid", "online_order", ["settle_msgid"], unique=True)
    op.create_table(
        "online_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _text("ref"),
        _text("kind"),
        _text("state", True),
        sa.Column("detail", pg.JSONB, nullable=False, server_default="{}"),
        _now("at"),
    )
    op.create_index("ix_online_event_ref", "online_event", ["ref", "id"])
    op.create_table(
        "online_reply",
        sa.Column("app_id", sa.Text, primary_key=True),
        sa.Column("infno", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        _now(),
    )
    op.create_table(
        "online_pay_auth",
        sa.Column("pay_auth_no", sa.Text, primary_key=True),
        *[_text(n) for n in ("chnl_id", "chnl_user_id", "psn_no", "pay_ord_id")],
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
    )
    op.create_table(
        "online_refund",
        sa.Column("app_id", sa.Text, primary_key=True),
        sa.Column("app_refd_sn", sa.Text, primary_key=True),
        _text("pay_ord_id"),
        sa.Column("refd_sn", sa.Text, nullable=False, unique=True),
        _text("refd_type"),
        sa.Column("hi_amt", sa.BigInteger, nullable=False),
        sa.Column("cash_amt", sa.BigInteger, nullable=False),
        _text("cancel_setl_id", True),
        _text("ref_status"),
        sa.Column("business_day", sa.Date, nullable=False),
        _now(),
    )
    op.create_index("ix_online_refund_order", "online_refund", ["pay_ord_id"])
    op.create_table(
        "online_provider_txn",
        sa.Column("txn_id", sa.Text, primary_key=True),
        sa.Column("idem_key", sa.Text, nullable=False, unique=True),
        _text("pay_ord_id"),
        _text("kind"),
        sa.Column("amount", sa.BigInteger, nullable=False),
        _text("payer", True),
        sa.Column("business_day", sa.Date, nullable=False),
        _now("at"),
    )
    op.create_index("ix_online_provider_txn_day", "online_provider_txn", ["business_day"])
    op.create_table(
        "online_callback_inbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _text("fixmedins_code"),
        _text("pay_ord_id"),
        sa.Column("body", pg.JSONB, nullable=False),
        _now("received_at"),
    )
    op.create_table(
        "online_cert",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("cert_sn", sa.Text, nullable=False, unique=True),
        _text("cert_dn"),
        _text("pk"),
        _text("sk"),
        _now(),
    )
    op.create_table(
        "online_rx",
        sa.Column("hi_rxno", sa.Text, primary_key=True),
        sa.Column("rx_trace_code", sa.Text, nullable=False, unique=True),
        *[_text(n) for n in ("fixmedins_code", "hosp_rxno", "mdtrt_id", "psn_no")],
        sa.Column("prsc_time", TZ, nullable=False),
        sa.Column("vali_end_time", TZ, nullable=False),
        sa.Column("rx_stas", sa.Text, nullable=False, server_default="1"),
        sa.Column("used_stas", sa.Text, nullable=False, server_default="1"),
        _text("chk_stas", True),
        _text("phase"),
        sa.Column("precheck", pg.JSONB, nullable=False),
        sa.Column("signed", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("dispense", pg.JSONB, nullable=False, server_default="{}"),
        _text("setl_id", True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        _now(),
        _now("updated_at"),
        sa.UniqueConstraint("fixmedins_code", "hosp_rxno", name="uq_online_rx_hosp_rxno"),
    )
    op.create_table(
        "online_rx_auth",
        sa.Column("auth_rxno", sa.Text, primary_key=True),
        sa.Column("epc_token", sa.Text, nullable=False, unique=True),
        *[_text(n) for n in ("hi_rxno", "fixmedins_code", "psn_no", "way")],
        _text("circ_biz_sn", True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("downloaded_at", TZ),
        _now(),
    )


def downgrade() -> None:
    for name in ("online_rx_auth", "online_rx", "online_cert", "online_callback_inbox",
                 "online_provider_txn", "online_refund", "online_pay_auth", "online_reply",
                 "online_event", "online_order", "online_app"):  # fmt: skip
        op.drop_table(name)

"""catalog: 医保目录 per pooling region — regions, 乙类 default first-pay ratios, dated rows, versions.

Revision ID: catalog_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "catalog_0001"
down_revision = None
branch_labels = ("catalog",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("ver", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("invalidated", sa.Integer, nullable=False),
        sa.Column("regions_changed", sa.Integer, nullable=False),
    )
    op.create_table(
        "catalog_region",
        sa.Column("admdvs", sa.String(6), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent_admdvs", sa.String(6)),
        sa.Column("notice", sa.Text, nullable=False, server_default=""),
        sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reference", sa.Text, nullable=False, server_default=""),
        sa.Column("source_file", sa.Text, nullable=False, server_default=""),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("ver", sa.Integer, sa.ForeignKey("catalog_version.ver"), nullable=False),
        sa.Column("updt_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "catalog_selfpay_default",
        sa.Column(
            "admdvs",
            sa.String(6),
            sa.ForeignKey("catalog_region.admdvs", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("begndate", sa.Date, primary_key=True),
        sa.Column("enddate", sa.Date),
        sa.Column("selfpay_prop", sa.Numeric(5, 4), nullable=False),
        sa.Column("reference", sa.Text, nullable=False, server_default=""),
        sa.Column("assumed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("selfpay_prop >= 0 AND selfpay_prop <= 1", name="ck_selfpay_ratio"),
    )
    op.create_table(
        "catalog_item",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("admdvs", sa.String(6), sa.ForeignKey("catalog_region.admdvs"), nullable=False),
        sa.Column("med_list_codg", sa.String(50), nullable=False),
        sa.Column("begndate", sa.Date, nullable=False),
        sa.Column("enddate", sa.Date),
        sa.Column("action", sa.String(6), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("list_type", sa.String(3)),
        sa.Column("chrgitm_lv", sa.String(3)),
        sa.Column("med_chrgitm_type", sa.String(6)),
        sa.Column("selfpay_prop", sa.Numeric(5, 4)),
        sa.Column("pric", sa.BigInteger),
        sa.Column("pric_uplmt_amt", sa.BigInteger),
        sa.Column("clear_pric_uplmt", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("prcunt", sa.Text),
        sa.Column("drug_dosform", sa.Text),
        sa.Column("drug_spec", sa.Text),
        sa.Column("prodentp_name", sa.Text),
        sa.Column("lmt_used_flag", sa.String(1)),
        sa.Column("lmt_usescp", sa.Text),
        sa.Column("hi_nego_drug_flag", sa.String(1)),
        sa.Column("vol_procurement_flag", sa.String(1)),
        sa.Column("memo", sa.Text),
        sa.Column("source_file", sa.Text, nullable=False, server_default=""),
        sa.Column("row_digest", sa.Text, nullable=False),
        sa.Column("vali_flag", sa.String(1), nullable=False, server_default="1"),
        sa.Column("ver", sa.Integer, sa.ForeignKey("catalog_version.ver"), nullable=False),
        sa.Column("updt_time", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("admdvs", "med_list_codg", "begndate", name="uq_catalog_item_period"),
        sa.CheckConstraint("action IN ('add', 'change', 'remove')", name="ck_catalog_item_action"),
        sa.CheckConstraint("enddate IS NULL OR enddate >= begndate", name="ck_catalog_item_dates"),
        sa.CheckConstraint("vali_flag IN ('0', '1')", name="ck_catalog_item_vali"),
    )
    op.create_index("ix_catalog_item_code", "catalog_item", ["med_list_codg", "admdvs"])
    op.create_index("ix_catalog_item_updt", "catalog_item", ["admdvs", "updt_time"])
    op.create_index("ix_catalog_item_ver", "catalog_item", ["ver"])


def downgrade() -> None:
    op.drop_table("catalog_item")
    op.drop_table("catalog_selfpay_default")
    op.drop_table("catalog_region")
    op.drop_table("catalog_version")

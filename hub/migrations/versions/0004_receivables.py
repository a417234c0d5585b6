"""receivables per sales stage: pipeline versions, order stages, instalments, allocations,
alerts and their deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:44:26.078639
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_versions")),
        sa.UniqueConstraint("pipeline", "version", name=op.f("uq_pipeline_versions_pipeline_version")),
    )
    op.create_table(
        "receivable_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable_scans")),
    )
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_version_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("due_end_of_month", sa.Boolean(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("tolerance", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("trigger_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("overdue_from", sa.Date(), nullable=True),
        sa.Column("invoiced", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("paid", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("alert_level", sa.Integer(), nullable=False),
        sa.Column("alerted_level", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_instalments_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_instalments_pipeline_version_id_pipeline_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
    )
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instalments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instalments_pipeline_version_id"), ["pipeline_version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instalments_reference"), ["reference"], unique=False)
        batch_op.create_index("ix_instalments_status_level", ["status", "alert_level"], unique=False)

    op.create_table(
        "order_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_stages_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_stages")),
        sa.UniqueConstraint("order_id", "stage", name=op.f("uq_order_stages_order_id_stage")),
    )
    op.create_table(
        "receivable_orders",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_version_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=80), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("credit_hold", sa.Boolean(), nullable=False),
        sa.Column("plan_pinned", sa.Boolean(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"], ["opportunities.id"], name=op.f("fk_receivable_orders_opportunity_id_opportunities")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_receivable_orders_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_receivable_orders_pipeline_version_id_pipeline_versions"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_receivable_orders")),
    )
    with op.batch_alter_table("receivable_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receivable_orders_opportunity_id"), ["opportunity_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_receivable_orders_pipeline_version_id"), ["pipeline_version_id"], unique=False
        )

    op.create_table(
        "invoice_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("paid", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name=op.f("fk_invoice_allocations_instalment_id_instalments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_allocations_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_allocations")),
    )
    with op.batch_alter_table("invoice_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_allocations_instalment_id"), ["instalment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_allocations_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "invoice_targets",
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("paid", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("credit", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name=op.f("fk_invoice_targets_instalment_id_instalments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_targets_invoice_id_invoices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_invoice_targets_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice_targets")),
    )
    with op.batch_alter_table("invoice_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_targets_order_id"), ["order_id"], unique=False)

    op.create_table(
        "receivable_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("credit_hold", sa.Boolean(), nullable=False),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name=op.f("fk_receivable_alerts_instalment_id_instalments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["receivable_scans.id"], name=op.f("fk_receivable_alerts_scan_id_receivable_scans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable_alerts")),
        sa.UniqueConstraint("instalment_id", "level", name=op.f("uq_receivable_alerts_instalment_id_level")),
    )
    with op.batch_alter_table("receivable_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receivable_alerts_scan_id"), ["scan_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["receivable_alerts.id"],
            name=op.f("fk_alert_deliveries_alert_id_receivable_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "alert_id", "channel", "recipient", name=op.f("uq_alert_deliveries_alert_id_channel_recipient")
        ),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_alert_deliveries_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_status")

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("receivable_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receivable_alerts_scan_id"))

    op.drop_table("receivable_alerts")
    with op.batch_alter_table("invoice_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_targets_order_id"))

    op.drop_table("invoice_targets")
    with op.batch_alter_table("invoice_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_allocations_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_allocations_instalment_id"))

    op.drop_table("invoice_allocations")
    with op.batch_alter_table("receivable_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receivable_orders_pipeline_version_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_orders_opportunity_id"))

    op.drop_table("receivable_orders")
    op.drop_table("order_stages")
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_instalments_status_level")
        batch_op.drop_index(batch_op.f("ix_instalments_reference"))
        batch_op.drop_index(batch_op.f("ix_instalments_pipeline_version_id"))
        batch_op.drop_index(batch_op.f("ix_instalments_order_id"))

    op.drop_table("instalments")
    op.drop_table("receivable_scans")
    op.drop_table("pipeline_versions")

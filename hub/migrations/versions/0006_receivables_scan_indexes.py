"""receivables scan: dirty instalments, orders with stages to reach, partial indexes

The overdue scan reads only rows marked ``dirty`` by whoever changed them and rows whose
``overdue_from`` crossed a level since the last scan; existing rows start dirty, so the first
scan after this migration evaluates everything once. Stage detection reads only orders not
yet ``stages_complete`` (all start so; the first scan marks them).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 19:34:28.237124
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dirty", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index(
            "ix_instalments_dirty",
            ["pipeline_version_id"],
            unique=False,
            postgresql_where=sa.text("dirty"),
            sqlite_where=sa.text("dirty = 1"),
        )
        batch_op.create_index("ix_instalments_overdue_from", ["overdue_from"], unique=False)
        batch_op.create_index(
            "ix_instalments_unalerted",
            ["pipeline_version_id"],
            unique=False,
            postgresql_where=sa.text("alert_level > alerted_level"),
            sqlite_where=sa.text("alert_level > alerted_level"),
        )
        batch_op.create_index(
            "ix_instalments_undated",
            ["pipeline_version_id"],
            unique=False,
            postgresql_where=sa.text("due_date IS NULL"),
            sqlite_where=sa.text("due_date IS NULL"),
        )
        batch_op.create_index(
            "ix_instalments_untriggered",
            ["order_id"],
            unique=False,
            postgresql_where=sa.text("trigger_date IS NULL"),
            sqlite_where=sa.text("trigger_date IS NULL"),
        )

    with op.batch_alter_table("receivable_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stages_complete", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            "ix_receivable_orders_stages_open",
            ["pipeline_version_id"],
            unique=False,
            postgresql_where=sa.text("NOT stages_complete"),
            sqlite_where=sa.text("stages_complete = 0"),
        )

    with op.batch_alter_table("receivable_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_receivable_alerts_snoozed",
            ["instalment_id"],
            unique=False,
            postgresql_where=sa.text("status = 'snoozed'"),
            sqlite_where=sa.text("status = 'snoozed'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("receivable_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_receivable_alerts_snoozed")

    with op.batch_alter_table("receivable_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_receivable_orders_stages_open")
        batch_op.drop_column("stages_complete")

    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_instalments_untriggered")
        batch_op.drop_index("ix_instalments_undated")
        batch_op.drop_index("ix_instalments_unalerted")
        batch_op.drop_index("ix_instalments_overdue_from")
        batch_op.drop_index("ix_instalments_dirty")
        batch_op.drop_column("dirty")

"""one open dead letter per record; full runs marked; deliveries say how a write was checked

``dead_letters.seen_count`` / ``last_seen_at``: a sync that finds a record bad again updates
its open letter instead of adding another. Open letters already duplicated are folded into the
newest one (the older ones closed as ``superseded``, their count added to it).
``sync_runs.full``: the next full read is compared with the last one's length.
``outbox_deliveries.verified``: how a sent write was checked (read back, or why it could not be).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 04:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("seen_count", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_dead_letters_record", "dead_letters", ["connection_id", "stream", "external_id"], unique=False)
    # fold duplicated open letters into the newest of each record
    op.execute(
        "UPDATE dead_letters SET seen_count = (SELECT count(*) FROM dead_letters o "
        "WHERE o.status = 'open' AND o.connection_id = dead_letters.connection_id "
        "AND o.stream = dead_letters.stream AND o.external_id = dead_letters.external_id) "
        "WHERE status = 'open' AND external_id IS NOT NULL AND id = (SELECT max(o.id) FROM dead_letters o "
        "WHERE o.status = 'open' AND o.connection_id = dead_letters.connection_id "
        "AND o.stream = dead_letters.stream AND o.external_id = dead_letters.external_id)"
    )
    op.execute(
        "UPDATE dead_letters SET status = 'superseded', resolved_at = CURRENT_TIMESTAMP, "
        "error = 'superseded: a newer letter of the same record "
        "is open' WHERE status = 'open' AND external_id IS NOT NULL AND id < (SELECT max(o.id) FROM dead_letters o "
        "WHERE o.status = 'open' AND o.connection_id = dead_letters.connection_id "
        "AND o.stream = dead_letters.stream AND o.external_id = dead_letters.external_id)"
    )
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("full", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.add_column(sa.Column("verified", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_deliveries") as batch:
        batch.drop_column("verified")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("full")
    op.drop_index("ix_dead_letters_record", table_name="dead_letters")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("last_seen_at")
        batch.drop_column("seen_count")

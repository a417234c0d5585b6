"""receivables: orders a job set aside (overflowing figure, date out of range, corrupt data)

A scan, enrolment, allocation or report that meets a row it cannot process sets its order
aside here with the reason and finishes the rest; the next scan retries it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receivable_set_aside",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("first_set_aside_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable_set_aside")),
        sa.UniqueConstraint("record", "record_id", "step", name=op.f("uq_receivable_set_aside_record_record_id_step")),
    )
    with op.batch_alter_table("receivable_set_aside", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receivable_set_aside_scan_id"), ["scan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("receivable_set_aside", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receivable_set_aside_scan_id"))
    op.drop_table("receivable_set_aside")

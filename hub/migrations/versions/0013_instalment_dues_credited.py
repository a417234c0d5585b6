"""receivables: instalments follow the ERP's maturities; credit notes reduce what is due

An invoiced instalment takes its due dates from its invoice's maturities (the ERP's payment
terms): ``instalment_dues`` holds, per instalment, what each maturity of each invoice covers and
what of it is paid, plus the part not invoiced yet at the plan's date (``invoice_id`` NULL).
``instalments.credited`` is what credit notes took off the instalment.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instalments") as batch:
        batch.add_column(sa.Column("credited", sa.Numeric(precision=18, scale=4), server_default="0", nullable=False))
    op.create_table(
        "instalment_dues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("paid", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(["instalment_id"], ["instalments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_instalment_dues_instalment_id"), "instalment_dues", ["instalment_id"], unique=False)
    op.create_index(op.f("ix_instalment_dues_invoice_id"), "instalment_dues", ["invoice_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_instalment_dues_invoice_id"), table_name="instalment_dues")
    op.drop_index(op.f("ix_instalment_dues_instalment_id"), table_name="instalment_dues")
    op.drop_table("instalment_dues")
    with op.batch_alter_table("instalments") as batch:
        batch.drop_column("credited")

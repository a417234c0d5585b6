"""documents: untaxed totals beside the taxed ones; order lines that ship or not

An ERP shows an order's and an invoice's total with tax (Tryton's ``total_amount``) and
without (``untaxed_amount``): the hub keeps both, ``total`` taxed as the ERP shows it and
``untaxed_total`` beside it. A service line (no stock move) never ships, so
``order_lines.shippable`` tells the order status which lines to count for "fully shipped".

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("untaxed_total", sa.Numeric(precision=18, scale=4), nullable=True))
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("untaxed_total", sa.Numeric(precision=18, scale=4), nullable=True))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("shippable", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("shippable")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("untaxed_total")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("untaxed_total")

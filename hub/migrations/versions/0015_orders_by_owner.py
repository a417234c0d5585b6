"""orders by owner: a salesperson's landing page lists their recent and overdue orders

``ix_orders_owner``: the landing page (``hub.documents.worklist.my_orders``) reads a
salesperson's orders by ``owner``; without the index each sign-in scanned every order.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:10:00
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_owner", "orders", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_owner", table_name="orders")

"""documents: numbers looked up in any case (hub.documents.search)

"so00007" finds SO00007: each system's number of an order, delivery note or invoice is
compared lower-cased, through expression indexes so a search stays an index look-up.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_orders_number_lower", "orders", "lower(number)"),
    ("ix_orders_reference_lower", "orders", "lower(reference)"),
    ("ix_shipments_number_lower", "shipments", "lower(number)"),
    ("ix_invoices_number_lower", "invoices", "lower(number)"),
    ("ix_links_entity_number_lower", "links", "entity_type, lower(coalesce(external_ref, external_id))"),
)


def upgrade() -> None:
    for name, table, expression in _INDEXES:
        op.execute(sa.text(f"CREATE INDEX {name} ON {table} ({expression})"))


def downgrade() -> None:
    for name, _table, _expression in reversed(_INDEXES):
        op.execute(sa.text(f"DROP INDEX {name}"))

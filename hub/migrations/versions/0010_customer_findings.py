"""customer master: data-quality findings kept with each source record

A field that cannot be normalised (a tax id whose check digit fails, a phone that is no number,
a city typed into the postcode column) no longer refuses the record: it is a finding kept
here with the field, the raw value and the reason, replaced whenever the record arrives again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=80), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["customer_sources.id"],
            name=op.f("fk_customer_findings_source_id_customer_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_findings")),
    )
    op.create_index(op.f("ix_customer_findings_source_id"), "customer_findings", ["source_id"])
    op.create_index("ix_customer_findings_system_reason", "customer_findings", ["system", "reason"])


def downgrade() -> None:
    op.drop_index("ix_customer_findings_system_reason", table_name="customer_findings")
    op.drop_index(op.f("ix_customer_findings_source_id"), table_name="customer_findings")
    op.drop_table("customer_findings")

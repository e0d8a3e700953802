"""quotas: per product instance limits, and counters shared by every gateway process

Revision ID: 0009_quotas
Revises: 0006_journey_options
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_quotas"
down_revision = "0006_journey_options"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_limits",
        sa.Column("product_instance_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("span", sa.String(length=6), nullable=False),
        sa.Column("max_calls", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_instance_id"],
            ["product_instances.id"],
            name=op.f("fk_quota_limits_product_instance_id_product_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "product_instance_id", "kind", "span", name=op.f("pk_quota_limits")
        ),
    )
    op.create_table(
        "quota_counters",
        sa.Column("product_instance_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("span", sa.String(length=6), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "product_instance_id", "kind", "span", "window_start", name=op.f("pk_quota_counters")
        ),
    )


def downgrade() -> None:
    op.drop_table("quota_counters")
    op.drop_table("quota_limits")

"""journey options: per-request options and consent, per-instance bounds, rate-limit windows

Revision ID: 0006_journey_options
Revises: 0004_webhooks_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_journey_options"
down_revision = "0004_webhooks_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("journey_options", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("hint_enc", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("consent_valid_until", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_request_lifetime_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_consent_validity_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("default_flow", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("default_purpose", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("allowed_extensions", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("account_checks_per_minute", sa.Integer(), nullable=True))
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_windows")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_windows")
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_column("account_checks_per_minute")
        batch_op.drop_column("allowed_extensions")
        batch_op.drop_column("default_purpose")
        batch_op.drop_column("default_flow")
        batch_op.drop_column("max_consent_validity_seconds")
        batch_op.drop_column("max_request_lifetime_seconds")
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.drop_column("consent_valid_until")
        batch_op.drop_column("hint_enc")
        batch_op.drop_column("journey_options")

"""integrity: hmac opt-out, browser binding, sealed user details, re-consent

Revision ID: 0002_integrity
Revises: 0001

The plain user-detail columns are replaced by sealed ones. A migration holds no keys, so it
cannot seal what is there: authenticated requests are marked `details_pending` instead, and
the next status call reads the details from DigiLocker again with the request's own grant.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_integrity"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_missing_hmac", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "journey_browser_binding", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digilocker_id_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("email_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("phone_number_enc", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("details_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("reauth_required_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE digilocker_requests SET details_pending = TRUE WHERE status = 'authenticated'"
    )
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.drop_column("digilocker_id")
        batch_op.drop_column("email")
        batch_op.drop_column("phone_number")
    # Model defaults apply from here on; the server defaults only filled existing rows.
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.alter_column("allow_missing_hmac", server_default=None)
        batch_op.alter_column("journey_browser_binding", server_default=None)
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.alter_column("details_pending", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_number", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("digilocker_id", sa.String(length=64), nullable=True))
        batch_op.drop_column("reauth_required_at")
        batch_op.drop_column("details_pending")
        batch_op.drop_column("phone_number_enc")
        batch_op.drop_column("email_enc")
        batch_op.drop_column("digilocker_id_enc")
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_column("journey_browser_binding")
        batch_op.drop_column("allow_missing_hmac")

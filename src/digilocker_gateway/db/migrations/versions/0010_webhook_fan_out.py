"""webhook fan-out: an event is written alone and turned into deliveries by the delivery loop

Revision ID: 0010_webhook_fan_out
Revises: 0009_quotas
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_webhook_fan_out"
down_revision = "0009_quotas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events written before this revision already have their deliveries, and so do those that
    # processes of the previous version write during a rolling deploy (they fan out in the
    # emitting transaction and do not know the column): the server default says so. This
    # version always writes the column.
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fanned_out", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_index(
        op.f("ix_webhook_events_fanned_out_seq"),
        "webhook_events",
        ["fanned_out", "seq"],
        unique=False,
    )


def downgrade() -> None:
    # The previous version never fans out: events still waiting would be lost without a word.
    waiting = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM webhook_events WHERE fanned_out = :waiting"),
        {"waiting": False},
    )
    if waiting.scalar_one():
        raise RuntimeError(
            "webhook events are waiting to be fanned out: run the gateway until its delivery"
            " job has taken them (dlg_webhook_backlog_seconds at 0), then downgrade"
        )
    op.drop_index(op.f("ix_webhook_events_fanned_out_seq"), table_name="webhook_events")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_column("fanned_out")

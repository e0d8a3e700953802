"""document data: the expected identity, the number-mismatch setting, offline e-KYC files

Revision ID: 0003_document_data
Revises: 0002_integrity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_document_data"
down_revision = "0002_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected_enc", sa.Text(), nullable=True))
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "refuse_number_mismatch", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "offline_ekyc_files",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("product_instance_id", sa.String(length=36), nullable=False),
        sa.Column("blob_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_upto", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_instance_id"],
            ["product_instances.id"],
            name=op.f("fk_offline_ekyc_files_product_instance_id_product_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_ekyc_files")),
        sa.UniqueConstraint("blob_key", name=op.f("uq_offline_ekyc_files_blob_key")),
    )
    with op.batch_alter_table("offline_ekyc_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offline_ekyc_files_product_instance_id"),
            ["product_instance_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_offline_ekyc_files_valid_upto"), ["valid_upto"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("offline_ekyc_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offline_ekyc_files_valid_upto"))
        batch_op.drop_index(batch_op.f("ix_offline_ekyc_files_product_instance_id"))
    op.drop_table("offline_ekyc_files")
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_column("refuse_number_mismatch")
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.drop_column("expected_enc")

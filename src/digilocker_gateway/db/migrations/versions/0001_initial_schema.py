"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 03:51:36.268686
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_entries",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("org_name", sa.Text(), nullable=False),
        sa.Column("issuer_id", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("formats", sa.String(length=40), nullable=False),
        sa.Column("parameters_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "doc_type", name=op.f("pk_catalogue_entries")),
    )
    op.create_table(
        "catalogue_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("body_gzip", sa.LargeBinary(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_snapshots")),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_hash_key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "product_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digilocker_client_id", sa.String(length=200), nullable=False),
        sa.Column("digilocker_client_secret_enc", sa.Text(), nullable=False),
        sa.Column("redirect_allowed_hosts", sa.Text(), nullable=True),
        sa.Column("request_lifetime_seconds", sa.Integer(), nullable=False),
        sa.Column("aadhaar_allow_unverified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_product_instances_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_instances")),
    )
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_instances_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "digilocker_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("product_instance_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=False),
        sa.Column("doc_types", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_upto", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=True),
        sa.Column("pkce_verifier_enc", sa.Text(), nullable=True),
        sa.Column("journey_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("eaadhaar", sa.String(length=1), nullable=True),
        sa.Column("digilocker_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone_number", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_instance_id"],
            ["product_instances.id"],
            name=op.f("fk_digilocker_requests_product_instance_id_product_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digilocker_requests")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_digilocker_requests_state_hash")),
    )
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digilocker_requests_product_instance_id"),
            ["product_instance_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_digilocker_requests_valid_upto"), ["valid_upto"], unique=False
        )

    op.create_table(
        "stored_files",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("blob_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_upto", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["digilocker_requests.id"],
            name=op.f("fk_stored_files_request_id_digilocker_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("blob_key", name=op.f("uq_stored_files_blob_key")),
    )
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stored_files_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index("ix_stored_files_valid_upto", ["valid_upto"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.drop_index("ix_stored_files_valid_upto")
        batch_op.drop_index(batch_op.f("ix_stored_files_request_id"))

    op.drop_table("stored_files")
    with op.batch_alter_table("digilocker_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digilocker_requests_valid_upto"))
        batch_op.drop_index(batch_op.f("ix_digilocker_requests_product_instance_id"))

    op.drop_table("digilocker_requests")
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_instances_client_id"))

    op.drop_table("product_instances")
    op.drop_table("job_leases")
    op.drop_table("clients")
    op.drop_table("catalogue_snapshots")
    op.drop_table("catalogue_entries")

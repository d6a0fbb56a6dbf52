"""Tokens for apps that push nights (POST /api/v1/ingest/{source}): a hash, a name, a count.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-15 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_pushes", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_ingest_tokens_owner_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_ingest_tokens_token_hash"),
    )
    op.create_index("ix_ingest_tokens_owner_id", "ingest_tokens", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_ingest_tokens_owner_id", table_name="ingest_tokens")
    op.drop_table("ingest_tokens")

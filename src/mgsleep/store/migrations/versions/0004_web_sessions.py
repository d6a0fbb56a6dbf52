"""Server-side sessions, so that logging out (and a new password) really ends a session.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_web_sessions_owner_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("ix_web_sessions_owner_id", "web_sessions", ["owner_id"])
    # Each log-in attempt is counted by time: the window query reads this index.
    op.create_index(
        "ix_login_attempts_key_hash_attempted_at", "login_attempts", ["key_hash", "attempted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_login_attempts_key_hash_attempted_at", table_name="login_attempts")
    op.drop_index("ix_web_sessions_owner_id", table_name="web_sessions")
    op.drop_table("web_sessions")

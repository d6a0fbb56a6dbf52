"""Per night: tags for what confounds a trial, and a blinded trial's morning guess.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nights") as batch:
        batch.add_column(
            sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("blind_guess", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nights") as batch:
        batch.drop_column("blind_guess")
        batch.drop_column("tags")

"""Sleep stages on nights, for devices that measure them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = ("deep_min", "light_min", "rem_min")


def upgrade() -> None:
    with op.batch_alter_table("nights") as batch:
        for column in STAGES:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nights") as batch:
        for column in reversed(STAGES):
            batch.drop_column(column)

"""The questionnaire's progress beside the profile, no longer inside the person's answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Where the web questionnaire used to keep its progress, inside the profile's JSON.
OLD_KEY = "_steps_done"

profiles = sa.table(
    "profiles",
    sa.column("id", sa.Integer),
    sa.column("data", sa.JSON),
    sa.column("steps_done", sa.JSON),
)


def upgrade() -> None:
    op.add_column("profiles", sa.Column("steps_done", sa.JSON(), nullable=True))
    connection = op.get_bind()
    for row_id, data in connection.execute(sa.select(profiles.c.id, profiles.c.data)).all():
        if isinstance(data, dict) and OLD_KEY in data:
            answers = {key: value for key, value in data.items() if key != OLD_KEY}
            connection.execute(
                profiles.update()
                .where(profiles.c.id == row_id)
                .values(data=answers, steps_done=data[OLD_KEY])
            )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(profiles.c.id, profiles.c.data, profiles.c.steps_done))
    for row_id, data, steps in rows.all():
        if steps is not None:
            connection.execute(
                profiles.update()
                .where(profiles.c.id == row_id)
                .values(data={**(data or {}), OLD_KEY: steps})
            )
    op.drop_column("profiles", "steps_done")

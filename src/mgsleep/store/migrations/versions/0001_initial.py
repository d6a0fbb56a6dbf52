"""Initial schema: users, nights, questionnaire responses, trials, profiles.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Constraint names are spelled out rather than taken from the models' naming convention, so
# this revision creates the same schema whatever the models look like later.


def _primary_key(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _owner_foreign_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["owner_id"], ["users.id"], name=f"fk_{table}_owner_id_users", ondelete="CASCADE"
    )


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _owner_id() -> sa.Column[int]:
    return sa.Column("owner_id", sa.Integer(), nullable=False)


def _timestamp(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        _timestamp("created_at"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        _primary_key("users"),
    )
    op.create_table(
        "nights",
        _id(),
        _owner_id(),
        sa.Column("night_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(40), server_default="diary", nullable=False),
        sa.Column("in_bed", sa.Time(), nullable=False),
        sa.Column("lights_out", sa.Time(), nullable=False),
        sa.Column("sleep_latency_min", sa.Integer(), nullable=False),
        sa.Column("awakenings", sa.Integer(), nullable=False),
        sa.Column("waso_min", sa.Integer(), nullable=False),
        sa.Column("final_wake", sa.Time(), nullable=False),
        sa.Column("out_of_bed", sa.Time(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("magnesium_mg", sa.Float(), nullable=True),
        sa.Column("magnesium_form", sa.String(200), nullable=True),
        sa.Column("intake_time", sa.Time(), nullable=True),
        sa.Column("bath", sa.Boolean(), nullable=False),
        sa.Column("bath_time", sa.Time(), nullable=True),
        sa.Column("bath_temperature_c", sa.Float(), nullable=True),
        sa.Column("side_effects", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint(
            "owner_id", "night_date", "source", name="uq_nights_owner_id_night_date_source"
        ),
        _primary_key("nights"),
        _owner_foreign_key("nights"),
    )
    op.create_table(
        "questionnaire_responses",
        _id(),
        _owner_id(),
        sa.Column("instrument", sa.String(40), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint(
            "owner_id",
            "instrument",
            "taken_on",
            name="uq_questionnaire_responses_owner_id_instrument_taken_on",
        ),
        _primary_key("questionnaire_responses"),
        _owner_foreign_key("questionnaire_responses"),
    )
    op.create_table(
        "trials",
        _id(),
        _owner_id(),
        _timestamp("created_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("baseline_start", sa.Date(), nullable=False),
        sa.Column("magnesium_start", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("design", sa.String(40), nullable=False),
        sa.Column("washout_days", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(200), nullable=True),
        sa.Column("dose_mg", sa.Float(), nullable=True),
        sa.Column("intake_time", sa.Time(), nullable=True),
        sa.Column("primary_outcome", sa.String(40), nullable=False),
        _primary_key("trials"),
        _owner_foreign_key("trials"),
    )
    op.create_index(
        "uq_trials_one_active_per_owner",
        "trials",
        ["owner_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "profiles",
        _id(),
        _owner_id(),
        sa.Column("data", sa.JSON(), nullable=False),
        _timestamp("updated_at"),
        sa.UniqueConstraint("owner_id", name="uq_profiles_owner_id"),
        _primary_key("profiles"),
        _owner_foreign_key("profiles"),
    )


def downgrade() -> None:
    # Children first: their foreign keys point at users.
    op.drop_table("profiles")
    op.drop_index("uq_trials_one_active_per_owner", table_name="trials")
    op.drop_table("trials")
    op.drop_table("questionnaire_responses")
    op.drop_table("nights")
    op.drop_table("users")

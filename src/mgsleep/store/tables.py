"""The tables. Rows never leave `store`: repositories turn them into core models.

Every table holding personal data carries `owner_id`, so one database can serve many people
and deleting a user deletes everything of theirs. Types are the portable ones (JSON, Date,
Time) so the same schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mgsleep.diary.night import DIARY_SOURCE

# Named constraints let later migrations drop or alter them by name; on SQLite, whose
# table rebuilds need to find constraints again, that is the only way.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USERNAME_MAX_LEN = 150
SOURCE_MAX_LEN = 40
MAGNESIUM_FORM_MAX_LEN = 200
TIMEZONE_MAX_LEN = 64
INSTRUMENT_MAX_LEN = 40
ENUM_VALUE_MAX_LEN = 40


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _owner() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _updated_at() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LEN), unique=True)
    # Empty for the CLI's local user, who never logs in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = _created_at()


class Night(Base):
    """One diary night as entered: clock times and minutes, not derived metrics."""

    __tablename__ = "nights"
    __table_args__ = (UniqueConstraint("owner_id", "night_date", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = _owner()
    night_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LEN), server_default=DIARY_SOURCE)
    in_bed: Mapped[time] = mapped_column(Time)
    lights_out: Mapped[time] = mapped_column(Time)
    sleep_latency_min: Mapped[int] = mapped_column(Integer)
    awakenings: Mapped[int] = mapped_column(Integer)
    waso_min: Mapped[int] = mapped_column(Integer)
    final_wake: Mapped[time] = mapped_column(Time)
    out_of_bed: Mapped[time] = mapped_column(Time)
    quality: Mapped[int | None] = mapped_column(Integer)
    magnesium_mg: Mapped[float | None] = mapped_column(Float)
    magnesium_form: Mapped[str | None] = mapped_column(String(MAGNESIUM_FORM_MAX_LEN))
    intake_time: Mapped[time | None] = mapped_column(Time)
    bath: Mapped[bool] = mapped_column(Boolean)
    bath_time: Mapped[time | None] = mapped_column(Time)
    bath_temperature_c: Mapped[float | None] = mapped_column(Float)
    side_effects: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    blind_guess: Mapped[str | None] = mapped_column(String(ENUM_VALUE_MAX_LEN))
    deep_min: Mapped[int | None] = mapped_column(Integer)
    light_min: Mapped[int | None] = mapped_column(Integer)
    rem_min: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_MAX_LEN))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class QuestionnaireResponse(Base):
    __tablename__ = "questionnaire_responses"
    __table_args__ = (UniqueConstraint("owner_id", "instrument", "taken_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = _owner()
    instrument: Mapped[str] = mapped_column(String(INSTRUMENT_MAX_LEN))
    taken_on: Mapped[date] = mapped_column(Date)
    answers: Mapped[list[int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created_at()


class Trial(Base):
    """An N-of-1 protocol. Old trials are kept inactive, so a report can still be redone."""

    __tablename__ = "trials"
    __table_args__ = (
        # At most one running trial per person, guarded by the database itself.
        Index(
            "uq_trials_one_active_per_owner",
            "owner_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = _owner()
    created_at: Mapped[datetime] = _created_at()
    active: Mapped[bool] = mapped_column(Boolean)
    baseline_start: Mapped[date] = mapped_column(Date)
    magnesium_start: Mapped[date] = mapped_column(Date)
    # Not "end": a reserved word in SQL, and a trap for anyone writing a query by hand.
    end_date: Mapped[date | None] = mapped_column(Date)
    design: Mapped[str] = mapped_column(String(ENUM_VALUE_MAX_LEN))
    washout_days: Mapped[int] = mapped_column(Integer)
    form: Mapped[str | None] = mapped_column(String(MAGNESIUM_FORM_MAX_LEN))
    dose_mg: Mapped[float | None] = mapped_column(Float)
    intake_time: Mapped[time | None] = mapped_column(Time)
    primary_outcome: Mapped[str] = mapped_column(String(ENUM_VALUE_MAX_LEN))
    # Randomised design, blinding, the allocation's seed, the pre-registration (0007).
    design_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ProfileRecord(Base):
    """The profile as the person entered it, kept as JSON so new questions need no migration."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The web questionnaire's finished steps while it is being filled in; None once complete
    # (or for a profile stored whole, by the API).
    steps_done: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = _updated_at()


metadata = Base.metadata


class LoginAttempt(Base):
    """A failed log-in, kept to slow down password guessing. Holds a hash, never the name."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_hash_attempted_at", "key_hash", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class WebSession(Base):
    """A logged-in browser or API client. The cookie holds a random token; only its hash is
    stored, so a copy of the database cannot be used to log in. Deleting the row ends it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


INGEST_TOKEN_NAME_MAX_LEN = 80


class IngestToken(Base):
    """A token a phone app sends with the nights it pushes (POST /api/v1/ingest/...). Like a
    session, only its hash is stored. A revoked token stays, marked, so its app hears that it
    was revoked rather than that it is wrong. The pushes of the current hour are counted here,
    not in a server's memory: every app server sees the same count."""

    __tablename__ = "ingest_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(INGEST_TOKEN_NAME_MAX_LEN))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_pushes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

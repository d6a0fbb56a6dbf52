"""Repositories: typed functions over a Session that speak in core models, never rows.

Every query is scoped by `owner_id`: one person can never read or overwrite another's data.
The functions run inside the caller's transaction (see `db.session_scope`) and do not commit,
so a command that writes several things keeps all of them or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mgsleep.diary.night import BlindGuess, NightEntry, NightTag, SideEffect
from mgsleep.store.tables import (
    IngestToken,
    LoginAttempt,
    Night,
    ProfileRecord,
    QuestionnaireResponse,
    Trial,
    User,
    WebSession,
)
from mgsleep.trial.protocol import TrialProtocol

LOCAL_USERNAME = "local"


# The names end in what happened, not "Error": callers treat both as outcomes to report.
class DuplicateNight(Exception):  # noqa: N818
    """A night for this date and source is already stored, and differs from the new one."""

    def __init__(self, night_date: date, source: str) -> None:
        self.night_date = night_date
        self.source = source
        super().__init__(
            f"date: a night for {night_date.isoformat()} from {source!r} is already stored; "
            "replace it to overwrite"
        )


class DuplicateResponse(Exception):  # noqa: N818
    def __init__(self, instrument: str, taken_on: date) -> None:
        self.instrument = instrument
        self.taken_on = taken_on
        super().__init__(
            f"taken_on: a {instrument} response for {taken_on.isoformat()} is already "
            "stored; replace it to overwrite"
        )


# ---- users ---------------------------------------------------------------------------------


def local_user_id(session: Session) -> int:
    """The CLI's single user, created on first use (by whichever of two commands started at
    the same moment gets there first; the other finds it)."""
    user_id = session.scalar(select(User.id).where(User.username == LOCAL_USERNAME))
    if user_id is not None:
        return user_id
    try:
        with session.begin_nested():
            user = User(username=LOCAL_USERNAME)
            session.add(user)
            session.flush()
            return user.id
    except IntegrityError:
        found = session.scalar(select(User.id).where(User.username == LOCAL_USERNAME))
        if found is None:
            raise
        return found


# ---- nights --------------------------------------------------------------------------------

# NightEntry field -> column, where the names differ.
_NIGHT_COLUMN_FOR_FIELD = {"date": "night_date"}


def _night_columns(entry: NightEntry) -> dict[str, Any]:
    values = entry.model_dump(mode="python")
    values["side_effects"] = [str(effect) for effect in entry.side_effects]
    values["tags"] = [str(tag) for tag in entry.tags]
    values["blind_guess"] = None if entry.blind_guess is None else str(entry.blind_guess)
    return {_NIGHT_COLUMN_FOR_FIELD.get(name, name): value for name, value in values.items()}


def _night_entry(row: Night) -> NightEntry:
    values = {
        name: getattr(row, _NIGHT_COLUMN_FOR_FIELD.get(name, name))
        for name in NightEntry.model_fields
    }
    values["side_effects"] = tuple(SideEffect(effect) for effect in values["side_effects"] or ())
    values["tags"] = tuple(NightTag(tag) for tag in values["tags"] or ())
    guess = values["blind_guess"]
    values["blind_guess"] = None if guess is None else BlindGuess(guess)
    # Validated when it was stored: building it again without the checks saves most of the
    # cost of reading a diary (the night's placement on the time line is the dear part).
    return NightEntry.model_construct(**values)


def _stored_night(session: Session, owner_id: int, night_date: date, source: str) -> Night | None:
    return session.scalar(
        select(Night).where(
            Night.owner_id == owner_id, Night.night_date == night_date, Night.source == source
        )
    )


def _overwrite(row: Night, entry: NightEntry) -> None:
    for column, value in _night_columns(entry).items():
        setattr(row, column, value)


def add_night(session: Session, owner_id: int, entry: NightEntry, *, replace: bool = False) -> None:
    stored = _stored_night(session, owner_id, entry.date, entry.source)
    if stored is None:
        session.add(Night(owner_id=owner_id, **_night_columns(entry)))
    elif replace:
        _overwrite(stored, entry)
    else:
        raise DuplicateNight(entry.date, entry.source)


def get_nights(
    session: Session,
    owner_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    source: str | None = None,
) -> list[NightEntry]:
    """Nights by morning date, `start` and `end` both included."""
    query = select(Night).where(Night.owner_id == owner_id)
    if start is not None:
        query = query.where(Night.night_date >= start)
    if end is not None:
        query = query.where(Night.night_date <= end)
    if source is not None:
        query = query.where(Night.source == source)
    rows = session.scalars(query.order_by(Night.night_date, Night.source))
    return [_night_entry(row) for row in rows]


@dataclass
class ImportSummary:
    added: int = 0
    replaced: int = 0
    already_present: int = 0
    # Dates whose stored night differed from the file's (and was overwritten, with replace).
    conflicts: list[date] = field(default_factory=list)


def import_nights(
    session: Session, owner_id: int, entries: Iterable[NightEntry], *, replace: bool = False
) -> ImportSummary:
    """Store a file's nights; re-importing the same file adds nothing.

    Without `replace`, the first night that differs from the stored one raises
    DuplicateNight, and the caller's transaction rolls back the whole file. `entries` is
    consumed one at a time, so a long export need not fit in memory.
    """
    summary = ImportSummary()
    for entry in entries:
        stored = _stored_night(session, owner_id, entry.date, entry.source)
        if stored is None:
            session.add(Night(owner_id=owner_id, **_night_columns(entry)))
            summary.added += 1
        elif _night_entry(stored) == entry:
            summary.already_present += 1
        elif replace:
            _overwrite(stored, entry)
            summary.replaced += 1
            summary.conflicts.append(entry.date)
        else:
            raise DuplicateNight(entry.date, entry.source)
    return summary


# ---- questionnaires ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredResponse:
    instrument: str
    taken_on: date
    answers: tuple[int, ...]
    total: int


def add_response(
    session: Session,
    owner_id: int,
    instrument: str,
    taken_on: date,
    answers: Sequence[int],
    total: int,
    *,
    replace: bool = False,
) -> None:
    stored = session.scalar(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.owner_id == owner_id,
            QuestionnaireResponse.instrument == instrument,
            QuestionnaireResponse.taken_on == taken_on,
        )
    )
    if stored is None:
        session.add(
            QuestionnaireResponse(
                owner_id=owner_id,
                instrument=instrument,
                taken_on=taken_on,
                answers=list(answers),
                total=total,
            )
        )
    elif replace:
        stored.answers = list(answers)
        stored.total = total
    else:
        raise DuplicateResponse(instrument, taken_on)


def get_responses(session: Session, owner_id: int, instrument: str) -> list[StoredResponse]:
    rows = session.scalars(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.owner_id == owner_id,
            QuestionnaireResponse.instrument == instrument,
        )
        .order_by(QuestionnaireResponse.taken_on)
    )
    return [
        StoredResponse(row.instrument, row.taken_on, tuple(row.answers), row.total) for row in rows
    ]


# ---- trials --------------------------------------------------------------------------------


def end_trial(session: Session, owner_id: int) -> bool:
    """End the running trial; it stays, inactive, with its nights, for its report. False when
    no trial was running."""
    ended = session.execute(
        update(Trial).where(Trial.owner_id == owner_id, Trial.active).values(active=False)
    )
    return bool(getattr(ended, "rowcount", 0))


def start_trial(session: Session, owner_id: int, protocol: TrialProtocol) -> None:
    """Make `protocol` the running trial; earlier ones stay, inactive, for their reports."""
    # Deactivate first, in its own statement: the database allows one active trial per owner.
    session.execute(
        update(Trial).where(Trial.owner_id == owner_id, Trial.active).values(active=False)
    )
    session.add(
        Trial(
            owner_id=owner_id,
            active=True,
            baseline_start=protocol.baseline_start,
            magnesium_start=protocol.magnesium_start,
            end_date=protocol.end,
            design=protocol.design.value,
            washout_days=protocol.washout_days,
            form=protocol.form,
            dose_mg=protocol.dose_mg,
            intake_time=protocol.intake_time,
            primary_outcome=protocol.primary_outcome.value,
            design_details=_design_details(protocol),
        )
    )


# The protocol's fields kept in the trial's JSON column, the seed among them (stored, but
# handed out only as `_trial_protocol` allows).
_DETAIL_FIELDS = (
    "period_nights",
    "pairs",
    "blinded",
    "seed",
    "allocation_fingerprint",
    "registered_at",
    "smallest_change",
    "analysis_method",
)


def _design_details(protocol: TrialProtocol) -> dict[str, Any]:
    values = protocol.model_dump(mode="json", include=set(_DETAIL_FIELDS))
    values["seed"] = protocol.seed  # excluded from every dump, so named here
    return values


def active_trial(
    session: Session, owner_id: int, *, today: date | None = None
) -> TrialProtocol | None:
    """The running trial. A blinded one comes without its seed unless `today` is given and
    its allocation has opened: whoever reads a trial cannot learn the allocation early."""
    row = session.scalar(select(Trial).where(Trial.owner_id == owner_id, Trial.active))
    return None if row is None else _trial_protocol(row, today)


# ---- profile -------------------------------------------------------------------------------


def save_profile(
    session: Session,
    owner_id: int,
    data: dict[str, Any],
    *,
    steps_done: Iterable[int] | None = None,
) -> None:
    """Store the profile as entered; `data` must be JSON-ready (dates as ISO strings).
    `steps_done` is the questionnaire's progress while it is unfinished, else None."""
    steps = None if steps_done is None else sorted(set(steps_done))
    stored = session.scalar(select(ProfileRecord).where(ProfileRecord.owner_id == owner_id))
    if stored is None:
        session.add(ProfileRecord(owner_id=owner_id, data=dict(data), steps_done=steps))
    else:
        stored.data = dict(data)
        stored.steps_done = steps


def get_profile(session: Session, owner_id: int) -> dict[str, Any] | None:
    return session.scalar(select(ProfileRecord.data).where(ProfileRecord.owner_id == owner_id))


def get_profile_progress(session: Session, owner_id: int) -> list[int] | None:
    """The questionnaire's finished steps; None when nothing is stored or it is complete."""
    steps = session.scalar(
        select(ProfileRecord.steps_done).where(ProfileRecord.owner_id == owner_id)
    )
    return None if steps is None else [n for n in steps if isinstance(n, int)]


# ---- accounts (web) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password_hash: str | None


def _account(row: User) -> Account:
    return Account(id=row.id, username=row.username, password_hash=row.password_hash)


class UsernameTaken(Exception):  # noqa: N818 - an outcome to report, like DuplicateNight
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"username: {username!r} is taken")


def create_account(session: Session, username: str, password_hash: str) -> Account:
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UsernameTaken(username)
    row = User(username=username, password_hash=password_hash)
    session.add(row)
    session.flush()
    return _account(row)


def find_account(session: Session, username: str) -> Account | None:
    row = session.scalar(select(User).where(User.username == username))
    return None if row is None else _account(row)


def get_account(session: Session, owner_id: int) -> Account | None:
    row = session.get(User, owner_id)
    return None if row is None else _account(row)


def set_password_hash(session: Session, owner_id: int, password_hash: str) -> None:
    row = session.get(User, owner_id)
    if row is not None:
        row.password_hash = password_hash


def delete_account(session: Session, owner_id: int) -> None:
    """The user and, through ON DELETE CASCADE, every row they own."""
    # Explicit deletes as well as the cascade: SQLite enforces it only with foreign keys on.
    for table in (Night, QuestionnaireResponse, Trial, ProfileRecord, WebSession, IngestToken):
        session.execute(delete(table).where(table.owner_id == owner_id))
    session.execute(delete(User).where(User.id == owner_id))


def record_failed_login(session: Session, key_hash: str, at: datetime) -> None:
    session.add(LoginAttempt(key_hash=key_hash, attempted_at=at))


def forget_failed_logins_before(session: Session, before: datetime) -> None:
    """Attempts older than the window count for nothing; keep the table small."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < before))


def failed_logins_since(session: Session, key_hash: str, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key_hash == key_hash, LoginAttempt.attempted_at >= since)
    )
    return int(session.scalar(query) or 0)


def clear_failed_logins(session: Session, key_hash: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.key_hash == key_hash))


# ---- one night by date; every trial -------------------------------------------------------


def delete_night(session: Session, owner_id: int, night_date: date, source: str) -> bool:
    """Remove one night; False when this person has no such night (nothing else is touched)."""
    stored = _stored_night(session, owner_id, night_date, source)
    if stored is None:
        return False
    session.delete(stored)
    return True


def active_trial_for_helper(session: Session, owner_id: int) -> TrialProtocol | None:
    """The running trial with its seed, sealed or not: only for the helper's preparation
    sheet of a blinded trial, which the service hands out before the first period alone."""
    row = session.scalar(select(Trial).where(Trial.owner_id == owner_id, Trial.active))
    return None if row is None else _trial_protocol(row, date.max)


def get_trials(
    session: Session, owner_id: int, *, today: date | None = None
) -> list[tuple[TrialProtocol, bool]]:
    """Every trial this person started, oldest first, each with whether it is the running one
    (blinded ones sealed as `active_trial` says)."""
    rows = session.scalars(select(Trial).where(Trial.owner_id == owner_id).order_by(Trial.id))
    return [(_trial_protocol(row, today), row.active) for row in rows]


def _trial_protocol(row: Trial, today: date | None) -> TrialProtocol:
    protocol = TrialProtocol(
        baseline_start=row.baseline_start,
        magnesium_start=row.magnesium_start,
        end=row.end_date,
        design=row.design,
        washout_days=row.washout_days,
        form=row.form,
        dose_mg=row.dose_mg,
        intake_time=row.intake_time,
        primary_outcome=row.primary_outcome,
        **(row.design_details or {}),
    )
    opens_on = protocol.opens_on()
    if opens_on is not None and (today is None or today < opens_on):
        return protocol.sealed_copy()
    return protocol


# ---- web sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredSession:
    owner_id: int
    created_at: datetime
    last_seen_at: datetime


def create_web_session(session: Session, owner_id: int, token_hash: str, at: datetime) -> None:
    session.add(
        WebSession(token_hash=token_hash, owner_id=owner_id, created_at=at, last_seen_at=at)
    )


def find_web_session(session: Session, token_hash: str) -> StoredSession | None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash))
    if row is None:
        return None
    return StoredSession(
        owner_id=row.owner_id,
        created_at=_aware(row.created_at),
        last_seen_at=_aware(row.last_seen_at),
    )


def touch_web_session(session: Session, token_hash: str, at: datetime) -> None:
    session.execute(
        update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen_at=at)
    )


def end_web_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def end_web_sessions(session: Session, owner_id: int) -> None:
    """Every session of one account: after a new password, or on request."""
    session.execute(delete(WebSession).where(WebSession.owner_id == owner_id))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---- ingest tokens (apps that push nights) --------------------------------------------------


@dataclass(frozen=True)
class StoredIngestToken:
    id: int
    owner_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def _ingest_token(row: IngestToken) -> StoredIngestToken:
    return StoredIngestToken(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        created_at=_aware(row.created_at),
        last_used_at=None if row.last_used_at is None else _aware(row.last_used_at),
        revoked=row.revoked_at is not None,
    )


def create_ingest_token(
    session: Session, owner_id: int, name: str, token_hash: str, at: datetime
) -> StoredIngestToken:
    row = IngestToken(owner_id=owner_id, name=name, token_hash=token_hash, created_at=at)
    session.add(row)
    session.flush()
    return _ingest_token(row)


def get_ingest_tokens(session: Session, owner_id: int) -> list[StoredIngestToken]:
    """This person's tokens that still work, oldest first."""
    rows = session.scalars(
        select(IngestToken)
        .where(IngestToken.owner_id == owner_id, IngestToken.revoked_at.is_(None))
        .order_by(IngestToken.created_at, IngestToken.id)
    )
    return [_ingest_token(row) for row in rows]


def revoke_ingest_token(session: Session, owner_id: int, token_id: int, at: datetime) -> bool:
    """False when this person has no such working token (another's is never touched)."""
    done = session.execute(
        update(IngestToken)
        .where(
            IngestToken.id == token_id,
            IngestToken.owner_id == owner_id,
            IngestToken.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    return bool(getattr(done, "rowcount", 0))


def find_ingest_token(session: Session, token_hash: str) -> StoredIngestToken | None:
    row = session.scalar(select(IngestToken).where(IngestToken.token_hash == token_hash))
    return None if row is None else _ingest_token(row)


def count_ingest_push(
    session: Session, token_id: int, at: datetime, window_start: datetime
) -> tuple[int, datetime]:
    """Count one push against the token: the pushes of its window, this one included, and
    when the window began. One UPDATE, so two pushes at the same moment are both counted."""
    renewed = IngestToken.window_started_at.is_(None) | (
        IngestToken.window_started_at < window_start
    )
    session.execute(
        update(IngestToken)
        .where(IngestToken.id == token_id)
        .values(
            window_pushes=case((renewed, 1), else_=IngestToken.window_pushes + 1),
            window_started_at=case((renewed, at), else_=IngestToken.window_started_at),
            last_used_at=at,
        )
    )
    found = session.execute(
        select(IngestToken.window_pushes, IngestToken.window_started_at).where(
            IngestToken.id == token_id
        )
    ).one()
    return int(found.window_pushes), _aware(found.window_started_at or at)

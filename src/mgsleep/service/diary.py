"""The sleep diary: a night added, changed, removed, listed; the diary as CSV, out and in."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mgsleep.diary.csvio import to_csv
from mgsleep.diary.imports import ImportReport
from mgsleep.diary.night import DIARY_SOURCE, NightEntry
from mgsleep.errors import Conflict, InputError, NotFound
from mgsleep.service.imports import import_file
from mgsleep.store import repo

# The night before is the usual default; after a long gap the last night logged still is.
DEFAULTS_LOOKBACK_DAYS = 366


def nights(
    session: Session,
    owner_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    source: str | None = None,
) -> list[NightEntry]:
    """The diary in date order, `start` and `end` included."""
    return repo.get_nights(session, owner_id, start=start, end=end, source=source)


def night(
    session: Session, owner_id: int, night_date: date, source: str = DIARY_SOURCE
) -> NightEntry:
    found = repo.get_nights(session, owner_id, start=night_date, end=night_date, source=source)
    if not found:
        raise NotFound("date", "night_missing", date=night_date.isoformat())
    return found[0]


def add_night(
    session: Session, owner_id: int, entry: NightEntry, *, replace: bool = False
) -> NightEntry:
    """Add a night; a Conflict when the diary has one for that date and source, unless
    `replace`. Flushed at once, so a night stored at the same moment cannot slip through."""
    try:
        with session.begin_nested():
            repo.add_night(session, owner_id, entry, replace=replace)
            session.flush()
    except (repo.DuplicateNight, IntegrityError) as error:
        raise Conflict(
            "date", "night_exists", hint="add_replace", date=entry.date.isoformat()
        ) from error
    return entry


def change_night(
    session: Session, owner_id: int, night_date: date, entry: NightEntry
) -> NightEntry:
    """Change a stored night; the new one must keep its date."""
    if entry.date != night_date:
        raise InputError("date", "date_not_address", value=entry.date.isoformat())
    night(session, owner_id, night_date, entry.source)
    repo.add_night(session, owner_id, entry, replace=True)
    return entry


def remove_night(
    session: Session, owner_id: int, night_date: date, source: str = DIARY_SOURCE
) -> None:
    if not repo.delete_night(session, owner_id, night_date, source):
        raise NotFound("date", "night_missing", date=night_date.isoformat())


def night_before(session: Session, owner_id: int, night_date: date) -> NightEntry | None:
    """The last night logged before `night_date` (within a year): most nights look like it."""
    earlier = repo.get_nights(
        session,
        owner_id,
        start=night_date - timedelta(days=DEFAULTS_LOOKBACK_DAYS),
        end=night_date - timedelta(days=1),
    )
    return earlier[-1] if earlier else None


def export_csv(session: Session, owner_id: int) -> str:
    """Every night, every field: what is exported imports again as the same nights."""
    return to_csv(repo.get_nights(session, owner_id))


def import_csv(
    session: Session,
    owner_id: int,
    data: bytes,
    *,
    timezone: str,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """A diary CSV, as every other import: good rows in, bad rows reported, a bad header or
    a file that is not text refused whole."""
    return import_file(
        session,
        owner_id,
        "csv",
        io.BytesIO(data),
        timezone=timezone,
        replace=replace,
        dry_run=dry_run,
    )

"""Putting nights from a file into the diary: one transaction, a summary, nothing lost.

Every way in (a device export, the diary CSV, from the CLI, the API or a page) comes through
`import_items`, so all of them follow one rule: a file-level problem (wrong kind of file, cut
short) imports nothing; a bad record is reported and the rest comes in. Device nights sit
beside nights typed by hand (another `source`), so a hand entry is never overwritten; the
summary counts where both exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import BinaryIO

from sqlalchemy.orm import Session

from mgsleep.clock import known_zone
from mgsleep.diary.imports import ImportItem, ImportReport, Nap, Rejected, reader_for
from mgsleep.diary.night import DIARY_SOURCE, NightEntry
from mgsleep.diary.sources import SOURCES
from mgsleep.errors import Conflict, InputError
from mgsleep.store.repo import DuplicateNight, get_nights, import_nights

FILE_POSITION = "file"
# Enough for years of nightly rows; a larger upload is not a diary.
MAX_DIARY_CSV_BYTES = 5_000_000


def _sorted_items(items: Iterable[ImportItem], report: ImportReport) -> list[NightEntry]:
    nights = []
    for item in items:
        if isinstance(item, Rejected):
            if item.position == FILE_POSITION:
                where = item.field or FILE_POSITION
                raise InputError.of(replace(item.problem, field=where, hint="nothing_imported"))
            report.rejected.append(item)
        elif isinstance(item, Nap):
            report.naps += 1
        else:
            nights.append(item)
    report.nights_found = len(nights)
    return nights


def import_items(
    session: Session,
    owner_id: int,
    items: Iterable[ImportItem],
    *,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Read every item, then store the nights inside the caller's transaction. A dry run
    stores them in a savepoint and rolls it back, so its counts are the real ones. A night
    that differs from the stored one, without `replace`, is a Conflict and nothing is kept."""
    report = ImportReport(dry_run=dry_run)
    nights = _sorted_items(items, report)
    hand_dates = {n.date for n in get_nights(session, owner_id, source=DIARY_SOURCE)}
    report.beside_hand_entries = sum(
        1 for n in nights if n.source != DIARY_SOURCE and n.date in hand_dates
    )
    savepoint = session.begin_nested()
    try:
        summary = import_nights(session, owner_id, nights, replace=replace)
    except DuplicateNight as error:
        savepoint.rollback()
        raise Conflict(
            "file",
            "night_differs",
            hint="add_replace",
            date=error.night_date.isoformat(),
            source=error.source,
        ) from error
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    report.added, report.replaced = summary.added, summary.replaced
    report.already_present = summary.already_present
    report.replaced_dates = summary.conflicts
    return report


def import_file(
    session: Session,
    owner_id: int,
    source: str,
    stream: BinaryIO,
    *,
    timezone: str,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """An export of `source` (see SOURCES) into the diary; the nights are dated in `timezone`."""
    if source not in SOURCES:
        raise InputError(
            "source",
            "unknown_name",
            hint="valid_names",
            name=repr(source),
            valid=", ".join(SOURCES),
        )
    try:
        known_zone(timezone)
    except ValueError as error:
        raise InputError("timezone", "unknown_zone", value=timezone) from error
    items = reader_for(source)(stream, timezone)
    return import_items(session, owner_id, items, replace=replace, dry_run=dry_run)

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
from mgsleep.diary.imports import (
    ImportItem,
    ImportReport,
    Nap,
    NightInfo,
    Rejected,
    Skipped,
    reader_for,
)
from mgsleep.diary.night import DIARY_SOURCE, NightEntry
from mgsleep.diary.sources import SOURCES
from mgsleep.errors import Conflict, InputError
from mgsleep.lang import N_, Lang
from mgsleep.store.repo import DuplicateNight, get_nights, import_nights

FILE_POSITION = "file"
ZONE_RULES = {
    "default": N_("{zones} (your default; the file states no zone)"),
    "file": N_("{zones} (as the file states)"),
    "both": N_("{zones} (as the file states; {default} where it states none)"),
}
# Enough for years of nightly rows; a larger upload is not a diary.
MAX_DIARY_CSV_BYTES = 5_000_000


def _sorted_items(items: Iterable[ImportItem], report: ImportReport) -> list[NightEntry]:
    """The file's nights, every other item counted in the report. The reader is closed here,
    while the caller's file is still open, whatever happens: a reader abandoned halfway
    would otherwise be closed later by the garbage collector, on a closed file."""
    nights: list[NightEntry] = []
    try:
        for item in items:
            _count(item, report, nights)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    report.nights_found = len(nights)
    for night in nights:
        report.zones[night.timezone] = report.zones.get(night.timezone, 0) + 1
    return nights


def _count(item: ImportItem, report: ImportReport, nights: list[NightEntry]) -> None:
    if isinstance(item, Rejected):
        if item.position == FILE_POSITION:
            where = item.field or FILE_POSITION
            raise InputError.of(replace(item.problem, field=where, hint="nothing_imported"))
        report.rejected.append(item)
    elif isinstance(item, Nap):
        report.naps += 1
    elif isinstance(item, Skipped):
        report.placeholders += 1
    elif isinstance(item, NightInfo):
        report.merged += item.pieces > 1
        report.zone_from_file += item.zone_from_file
    else:
        nights.append(item)


def _refuse_a_file_without_nights(report: ImportReport) -> None:
    """A file from which nothing at all could be read is an error, not "0 nights": it is
    another kind of file, or every record of it is damaged."""
    if report.nights_found or report.naps or report.placeholders:
        return
    if report.rejected:
        first = report.rejected[0]
        raise InputError(
            FILE_POSITION,
            "no_night_readable",
            hint="nothing_imported",
            count=len(report.rejected),
            position=first.position,
            reason=first.reason,
        )
    raise InputError(FILE_POSITION, "no_sleep_records", hint="nothing_imported")


def import_items(
    session: Session,
    owner_id: int,
    items: Iterable[ImportItem],
    *,
    replace: bool = False,
    dry_run: bool = False,
    default_zone: str = "",
    require_nights: bool = True,
) -> ImportReport:
    """Read every item, then store the nights inside the caller's transaction. A dry run
    stores them in a savepoint and rolls it back, so its counts are the real ones. A night
    that differs from the stored one, without `replace`, is a Conflict and nothing is kept.
    `default_zone` is the zone the reader was given, for the summary. With `require_nights`,
    a file from which nothing could be read is an error (the diary CSV lists its bad rows
    instead, row by row)."""
    report = ImportReport(dry_run=dry_run, default_zone=default_zone)
    nights = _sorted_items(items, report)
    if require_nights:
        _refuse_a_file_without_nights(report)
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
    return import_items(
        session,
        owner_id,
        items,
        replace=replace,
        dry_run=dry_run,
        default_zone=timezone,
        require_nights=source != "csv",
    )


def zone_summary(report: ImportReport, lang: Lang) -> str:
    """Which zone the nights were dated in, and whether the file said so or the default did:
    the same words in the CLI, on the page and (in English) in the API."""
    from mgsleep.i18n import translations

    zones = ", ".join(sorted(report.zones)) or report.default_zone
    template = translations(lang).gettext(ZONE_RULES[report.zone_rule])
    return template.format(zones=zones, default=report.default_zone)

"""Putting an importer's nights into the diary: one transaction, a summary, nothing lost.

Device nights sit beside nights typed by hand (another `source`), so a hand entry is never
overwritten; the summary counts where both exist. A file-level problem (wrong kind of file,
cut short) imports nothing; a bad record is reported and the rest comes in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from mgsleep.diary.imports import ImportItem, Nap, Rejected
from mgsleep.diary.night import DIARY_SOURCE, NightEntry
from mgsleep.errors import InputError
from mgsleep.store.repo import get_nights, import_nights

FILE_POSITION = "file"


@dataclass
class ImportReport:
    nights_found: int = 0
    added: int = 0
    replaced: int = 0
    already_present: int = 0
    beside_hand_entries: int = 0
    naps: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    dry_run: bool = False


def _sorted_items(items: Iterable[ImportItem], report: ImportReport) -> list[NightEntry]:
    nights = []
    for item in items:
        if isinstance(item, Rejected):
            if item.position == FILE_POSITION:
                raise InputError("FILE", f"{item.reason}; nothing was imported")
            report.rejected.append(item)
        elif isinstance(item, Nap):
            report.naps += 1
        else:
            nights.append(item)
    report.nights_found = len(nights)
    return nights


def apply_import(
    session: Session,
    owner_id: int,
    items: Iterable[ImportItem],
    *,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Read every item, then store the nights inside the caller's transaction. A dry run
    stores them in a savepoint and rolls it back, so its counts are the real ones."""
    report = ImportReport(dry_run=dry_run)
    nights = _sorted_items(items, report)
    hand_dates = {n.date for n in get_nights(session, owner_id, source=DIARY_SOURCE)}
    report.beside_hand_entries = sum(
        1 for n in nights if n.source != DIARY_SOURCE and n.date in hand_dates
    )
    savepoint = session.begin_nested()
    summary = import_nights(session, owner_id, nights, replace=replace)
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    report.added, report.replaced = summary.added, summary.replaced
    report.already_present = summary.already_present
    return report

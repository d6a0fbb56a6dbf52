"""`mgsleep import SOURCE FILE`: bring nights from a wearable or app export into the diary."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mgsleep.cli_common import DbOption, JsonOption, LangOption, View, print_json
from mgsleep.clock import DEFAULT_TIMEZONE, known_zone
from mgsleep.diary.imports import SOURCES, ImportItem, Nap, Rejected, reader_for
from mgsleep.errors import InputError
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.importing import ImportReport, apply_import
from mgsleep.store.repo import DuplicateNight, local_user_id

MAX_REJECTED_SHOWN = 20


Source = StrEnum("Source", {name: name for name in SOURCES})  # type: ignore[misc]


class CountingReader:
    """A binary file that tells the progress bar how far it has read."""

    def __init__(self, handle: BinaryIO, progress: Progress, task: Any) -> None:
        self._handle = handle
        self._progress = progress
        self._task = task

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._progress.advance(self._task, len(chunk))
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _counted(items: Iterator[ImportItem], progress: Progress, task: Any) -> Iterator[ImportItem]:
    nights = naps = errors = 0
    for item in items:
        if isinstance(item, Rejected):
            errors += 1
        elif isinstance(item, Nap):
            naps += 1
        else:
            nights += 1
        progress.update(task, nights=nights, errors=errors)
        yield item


def import_command(
    source: Annotated[
        Source, typer.Argument(help="csv, sleep_as_android, fitbit, oura or garmin.")
    ],
    file: Annotated[
        Path, typer.Argument(help="The export file (or zip, where the app makes one).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the summary; write nothing.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite imported nights that changed.")
    ] = False,
    timezone: Annotated[
        str, typer.Option("--timezone", help="Nights belong to the date of waking here.")
    ] = DEFAULT_TIMEZONE,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Import nights from a wearable or app export: one transaction, with a summary."""
    view = View(lang)
    try:
        known_zone(timezone)
    except ValueError as error:
        raise InputError("--timezone", str(error)) from error
    if not file.is_file():
        raise InputError("FILE", "no such file", value=str(file))
    engine = open_store(db)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[nights]} nights, {task.fields[errors]} errors"),
        TimeElapsedColumn(),
    )
    try:
        with (
            Progress(*columns, console=view.console, disable=as_json, transient=True) as progress,
            file.open("rb") as handle,
            session_scope(engine) as session,
        ):
            task = progress.add_task(file.name, total=file.stat().st_size, nights=0, errors=0)
            stream = CountingReader(handle, progress, task)
            items = _counted(reader_for(str(source))(stream, timezone), progress, task)  # type: ignore[arg-type]
            report = apply_import(
                session, local_user_id(session), items, replace=replace, dry_run=dry_run
            )
    except DuplicateNight as error:
        raise InputError(
            "FILE",
            f"the night of {error.night_date.isoformat()} from {error.source} differs from the "
            "one already imported; nothing was imported",
            allowed="add --replace to overwrite changed nights",
        ) from error
    if as_json:
        print_json(_report_json(report))
        return
    _print_report(view, report)


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "nights_found": report.nights_found,
        "added": report.added,
        "replaced": report.replaced,
        "already_present": report.already_present,
        "beside_hand_entries": report.beside_hand_entries,
        "naps": report.naps,
        "rejected": [{"position": r.position, "reason": r.reason} for r in report.rejected],
    }


def _print_report(view: View, report: ImportReport) -> None:
    _ = view._
    table = Table(
        title=_("Import (dry run: nothing written)") if report.dry_run else _("Import"),
        show_header=False,
    )
    table.add_column()
    table.add_column(justify="right")
    for label, count in (
        (_("nights found"), report.nights_found),
        (_("added"), report.added),
        (_("replaced"), report.replaced),
        (_("already present"), report.already_present),
        (_("beside a night you typed (both kept)"), report.beside_hand_entries),
        (_("naps, kept apart"), report.naps),
        (_("records rejected"), len(report.rejected)),
    ):
        table.add_row(label, str(count))
    view.console.print(table)
    for rejected in report.rejected[:MAX_REJECTED_SHOWN]:
        view.console.print(f"[red]{rejected.position}[/]: {rejected.reason}", markup=True)

"""`mgsleep import SOURCE FILE`: bring nights from a wearable or app export into the diary."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer
from rich.markup import escape
from rich.table import Table

from mgsleep.cli.common import (
    DbOption,
    JsonOption,
    LangOption,
    View,
    local_store,
    print_json,
    zone_option,
)
from mgsleep.diary.sources import SOURCES
from mgsleep.errors import InputError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from mgsleep.diary.imports import ImportReport

MAX_REJECTED_SHOWN = 20
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone", help="Nights belong to the date of waking here (default: Europe/Amsterdam)."
    ),
]


Source = StrEnum("Source", {name: name for name in SOURCES})  # type: ignore[misc]


class CountingReader:
    """A binary file that tells the progress bar how far it has read."""

    def __init__(self, handle: BinaryIO, progress: Progress, task: TaskID) -> None:
        self._handle = handle
        self._progress = progress
        self._task = task

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._progress.advance(self._task, len(chunk))
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self._handle.readline(size)
        self._progress.advance(self._task, len(line))
        return line

    def __iter__(self) -> Iterator[bytes]:
        # The CSV readers take the file line by line.
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _counted(items: Iterator[Any], progress: Progress, task: TaskID) -> Iterator[Any]:
    from mgsleep.diary.imports import Rejected
    from mgsleep.diary.night import NightEntry

    nights = errors = 0
    for item in items:
        if isinstance(item, Rejected):
            errors += 1
        elif isinstance(item, NightEntry):
            nights += 1
        progress.update(task, nights=nights, errors=errors)
        yield item


def import_command(
    source: Annotated[Source, typer.Argument(help=", ".join(SOURCES) + ".")],
    file: Annotated[
        Path, typer.Argument(help="The export file (or zip, where the app makes one).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the summary; write nothing.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite imported nights that changed.")
    ] = False,
    timezone: TimezoneOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Import nights from a wearable or app export: one transaction, with a summary."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from mgsleep.diary.imports import reader_for
    from mgsleep.service.imports import import_items

    view = View(lang)
    zone = zone_option(timezone, "--timezone")
    if not file.is_file():
        raise InputError("FILE", "no_such_file", value=str(file))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[nights]} nights, {task.fields[errors]} errors"),
        TimeElapsedColumn(),
    )
    with (
        Progress(*columns, console=view.console, disable=as_json, transient=True) as progress,
        file.open("rb") as handle,
        local_store(db) as (session, owner),
    ):
        task = progress.add_task(file.name, total=file.stat().st_size, nights=0, errors=0)
        stream: Any = CountingReader(handle, progress, task)
        items = _counted(reader_for(str(source))(stream, zone), progress, task)
        report = import_items(
            session,
            owner,
            items,
            replace=replace,
            dry_run=dry_run,
            default_zone=zone,
            require_nights=str(source) != "csv",
        )
    if as_json:
        from mgsleep.public import import_result

        print_json(import_result(report))
        return
    print_report(view, report)


def print_report(view: View, report: ImportReport) -> None:
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
        (_("nights merged from several records"), report.merged),
        (_("placeholders skipped (no sleep measured)"), report.placeholders),
        (_("records rejected"), len(report.rejected)),
    ):
        table.add_row(label, str(count))
    from mgsleep.service.imports import zone_summary

    table.add_row(_("time zone"), escape(zone_summary(report, view.lang)))
    view.console.print(table)
    from mgsleep.errors import render

    for rejected in report.rejected[:MAX_REJECTED_SHOWN]:
        where = rejected.position + (f", {rejected.field}" if rejected.field else "")
        view.console.print(
            f"[red]{escape(where)}[/]: {escape(render(rejected.problem, view.lang))}"
        )

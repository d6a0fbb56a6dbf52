"""`mgsleep diary …`: one night a morning, from the keyboard, from flags or from a CSV file."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from mgsleep.cli.common import (
    DbOption,
    JsonOption,
    LangOption,
    View,
    date_option,
    local_store,
    print_json,
    read_bytes,
    zone_option,
)
from mgsleep.cli.imports import TimezoneOption, print_report
from mgsleep.errors import InputError

if TYPE_CHECKING:
    from mgsleep.diary.night import NightEntry

diary_app = typer.Typer(
    help="The sleep diary: add a night, list, import or export CSV.", no_args_is_help=True
)

# The questions of the Consensus Sleep Diary core, in the order a person answers them.
PROMPTS: tuple[tuple[str, str], ...] = (
    ("in_bed", "What time did you get into bed? (HH:MM)"),
    ("lights_out", "What time did you try to go to sleep? (HH:MM)"),
    ("sleep_latency_min", "How many minutes did it take you to fall asleep?"),
    ("awakenings", "How many times did you wake up, not counting the final awakening?"),
    ("waso_min", "In total, how many minutes did those awakenings last?"),
    ("final_wake", "What time was your final awakening? (HH:MM)"),
    ("out_of_bed", "What time did you get out of bed for the day? (HH:MM)"),
    ("quality", "How would you rate the quality of your sleep? (1 very poor – 5 very good)"),
    ("magnesium_mg", "Magnesium taken last evening, mg elemental (empty if none)"),
)
REQUIRED = ("in_bed", "lights_out", "sleep_latency_min", "final_wake", "out_of_bed")


def _previous(db: str | None, night: date) -> NightEntry | None:
    from mgsleep.service.diary import night_before

    with local_store(db, write=False) as (session, owner):
        return night_before(session, owner, night)


def _answer_defaults(previous: NightEntry | None) -> dict[str, str]:
    """Last night's answers as defaults: most nights look like the one before."""
    if previous is None:
        return {}
    values = previous.model_dump(mode="json")
    return {k: "" if values.get(k) is None else str(values[k])[:5] for k, _ in PROMPTS}


def _ask(view: View, given: dict[str, Any], previous: NightEntry | None) -> dict[str, Any]:
    missing = [k for k in REQUIRED if given.get(k) in (None, "")]
    if missing and not sys.stdin.isatty():
        raise InputError(
            "diary add", "missing_answers", hint="values_as_options", names=", ".join(missing)
        )
    if not missing:
        return given
    defaults = _answer_defaults(previous)
    answers = dict(given)
    for key, question in PROMPTS:
        if answers.get(key) in (None, ""):
            reply = typer.prompt(view._(question), default=defaults.get(key, ""), show_default=True)
            answers[key] = reply.strip() or None
    return answers


@diary_app.command("add")
def add_command(
    night: Annotated[
        str | None, typer.Option("--date", help="The morning the night ended (default: today).")
    ] = None,
    in_bed: Annotated[str | None, typer.Option("--in-bed", help="Into bed, HH:MM.")] = None,
    lights_out: Annotated[
        str | None, typer.Option("--lights-out", help="Tried to sleep, HH:MM.")
    ] = None,
    sleep_latency_min: Annotated[
        int | None, typer.Option("--sleep-latency-min", help="Minutes to fall asleep.")
    ] = None,
    awakenings: Annotated[int | None, typer.Option("--awakenings")] = None,
    waso_min: Annotated[
        int | None, typer.Option("--waso-min", help="Minutes awake after falling asleep.")
    ] = None,
    final_wake: Annotated[
        str | None, typer.Option("--final-wake", help="Final awakening, HH:MM.")
    ] = None,
    out_of_bed: Annotated[
        str | None, typer.Option("--out-of-bed", help="Out of bed, HH:MM.")
    ] = None,
    quality: Annotated[int | None, typer.Option("--quality", help="1 (very poor) to 5.")] = None,
    magnesium_mg: Annotated[
        float | None, typer.Option("--magnesium-mg", help="Elemental magnesium taken, mg.")
    ] = None,
    intake_time: Annotated[str | None, typer.Option("--intake-time", help="HH:MM.")] = None,
    bath: Annotated[bool, typer.Option("--bath/--no-bath", help="A warm bath or shower.")] = False,
    side_effect: Annotated[
        list[str] | None,
        typer.Option("--side-effect", help="loose_stools, nausea or other; repeat for more."),
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the night if it is already there.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Add last night; asks for what the options do not give (defaults: the night before)."""
    view = View(lang)
    night_date = date_option(night, "--date")
    given: dict[str, Any] = {
        "in_bed": in_bed,
        "lights_out": lights_out,
        "sleep_latency_min": sleep_latency_min,
        "awakenings": awakenings,
        "waso_min": waso_min,
        "final_wake": final_wake,
        "out_of_bed": out_of_bed,
        "quality": quality,
        "magnesium_mg": magnesium_mg,
    }
    answers = _ask(view, given, _previous(db, night_date))
    data = {k: v for k, v in answers.items() if v not in (None, "")}
    data |= {"date": night_date, "bath": bath, "side_effects": side_effect or []}
    if intake_time:
        data["intake_time"] = intake_time
    if notes:
        data["notes"] = notes
    from mgsleep.diary.night import metrics
    from mgsleep.service.diary import add_night

    entry = _validated(data)
    with local_store(db) as (session, owner):
        add_night(session, owner, entry, replace=replace)
    result = metrics(entry)
    if as_json:
        print_json(result)
        return
    view.console.print(
        view.fmt(
            "Saved {date}: {sleep:.0f} min asleep, sleep efficiency {efficiency:.0f}%.",
            date=night_date.isoformat(),
            sleep=result.total_sleep_min,
            efficiency=result.sleep_efficiency_pct,
        )
    )


def _validated(data: dict[str, Any]) -> NightEntry:
    from pydantic import ValidationError

    from mgsleep.diary.night import NightEntry

    try:
        return NightEntry.model_validate(data)
    except ValidationError as error:
        raise InputError.from_validation(error) from error


@diary_app.command("list")
def list_command(
    start: Annotated[str | None, typer.Option("--from", help="First date, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date, YYYY-MM-DD.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """The nights in the diary with their sleep-diary metrics."""
    from mgsleep.diary.night import metrics
    from mgsleep.public import night_public
    from mgsleep.service.diary import nights

    with local_store(db, write=False) as (session, owner):
        stored = nights(
            session,
            owner,
            start=date_option(start, "--from") if start else None,
            end=date_option(end, "--to") if end else None,
        )
    if as_json:
        print_json([night_public(n) for n in stored])
        return
    rows = [
        {**metrics(n).model_dump(mode="json"), "magnesium_mg": n.magnesium_mg, "source": n.source}
        for n in stored
    ]
    view = View(lang)
    _ = view._
    table = Table(title=_("Sleep diary"))
    for header in (
        _("date"),
        _("in bed"),
        _("asleep"),
        _("efficiency"),
        _("to fall asleep"),
        _("awake at night"),
        _("quality"),
        _("magnesium"),
    ):
        table.add_column(header)
    for row in rows:
        table.add_row(
            row["date"],
            view.fmt("{minutes:.0f} min", minutes=row["time_in_bed_min"]),
            view.fmt("{minutes:.0f} min", minutes=row["total_sleep_min"]),
            view.fmt("{pct:.0f}%", pct=row["sleep_efficiency_pct"]),
            view.fmt("{minutes:.0f} min", minutes=row["sleep_latency_min"]),
            view.fmt("{minutes:.0f} min", minutes=row["waso_min"]),
            "—" if row["quality"] is None else str(row["quality"]),
            view.mg(row["magnesium_mg"]),
        )
    view.console.print(table)


@diary_app.command("import-csv")
def import_csv_command(
    file: Annotated[Path, typer.Argument(help="A diary CSV (see examples/diary-template.csv).")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite nights that differ from the file.")
    ] = False,
    timezone: TimezoneOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the summary; write nothing.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Import a CSV diary, as `mgsleep import csv`: good rows in, bad rows reported."""
    from mgsleep.public import import_result
    from mgsleep.service.diary import import_csv

    data = read_bytes(file)
    zone = zone_option(timezone, "--timezone")  # rows without a zone of their own
    with local_store(db) as (session, owner):
        report = import_csv(session, owner, data, timezone=zone, replace=replace, dry_run=dry_run)
    if as_json:
        print_json(import_result(report))
        return
    print_report(View(lang), report)


@diary_app.command("export-csv")
def export_csv_command(
    file: Annotated[Path, typer.Argument(help="Where to write the CSV; '-' for the screen.")],
    db: DbOption = None,
) -> None:
    """Export the diary as CSV: every field of every night, ready to import again."""
    from mgsleep.service.diary import export_csv

    with local_store(db, write=False) as (session, owner):
        text = export_csv(session, owner)
    if str(file) == "-":
        sys.stdout.write(text)
    else:
        file.write_text(text, "utf-8")

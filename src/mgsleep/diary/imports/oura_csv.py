"""Oura's CSV export: the membership hub's trends file (`oura_<dates>_trends.csv`) and the
current app's data export (the `sleep` table with the API's column names).

Quirks, each handled here:

- The trends file has one row a day, named in words (`Bedtime Start`, `Total Sleep
  Duration`, …); the app's export names its columns as the API does (`bedtime_start`,
  `total_sleep_duration`, …) and may separate them with `;`. Both give durations in seconds
  and the bedtimes with their offset, which dates the night.
- A day the ring was not worn is a row with its date and nothing else (or steps only): a
  placeholder, skipped.
- `Awake Time` includes the minutes before falling asleep, as in the JSON.
- `type`, where there is one, is read as in the JSON: `long_sleep` the night, `late_nap` and
  `rest` naps, `sleep` left to the day's rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, assemble, zone_of_offsets
from mgsleep.diary.imports._json import Placeholder, RecordError, minutes
from mgsleep.diary.imports._table import Row, later, read_rows

SOURCE = "oura"
SHAPE = "an Oura CSV export (with the columns Bedtime Start and Bedtime End)"
COLUMNS = {
    "start": ("Bedtime Start", "bedtime_start"),
    "end": ("Bedtime End", "bedtime_end"),
    "total": ("Total Sleep Duration", "total_sleep_duration"),
    "awake": ("Awake Time", "awake_time"),
    "latency": ("Sleep Latency", "latency"),
    "deep": ("Deep Sleep Duration", "deep_sleep_duration"),
    "light": ("Light Sleep Duration", "light_sleep_duration"),
    "rem": ("REM Sleep Duration", "rem_sleep_duration"),
    "type": ("type",),
}
MAIN = {"long_sleep": True, "late_nap": False, "rest": False, "sleep": None, "": None}


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    rows = read_rows(stream, COLUMNS, ("start", "end"), SHAPE, _sleep, timezone)
    return assemble(rows, timezone)


def _sleep(row: Row, timezone: str) -> DeviceSleep:
    if not row.text("start") or not row.number("total"):
        raise Placeholder("no sleep measured (the ring was not worn that day)")
    start, end = row.time("start"), row.time("end")
    if start.tzinfo is None or end.tzinfo is None:
        raise RecordError("Bedtime Start, Bedtime End: an Oura time has an offset; this has none")
    kind = row.text("type")
    if kind not in MAIN:
        raise RecordError(f"type: not an Oura sleep type: {kind!r}")
    latency = minutes(row.number("latency")) or 0
    awake = minutes(row.number("awake")) or 0
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=later(start, latency),
        final_wake=end,
        waso_min=max(0.0, awake - latency),
        deep_min=minutes(row.number("deep")),
        light_min=minutes(row.number("light")),
        rem_min=minutes(row.number("rem")),
        main_sleep=MAIN[kind],
        zone=zone_of_offsets(start, end, timezone),
    )

"""Withings: `sleep.csv` from the Health Mate data download (Profile › Settings › Download
your data).

Quirks, each handled here:

- The column names are in the language of the account: `from`, `to`, `light (s)`,
  `deep (s)`, `rem (s)`, `awake (s)` in English, `von`, `bis`, `leicht (s)`, `tief (s)`,
  `wach (s)` in German, `de`, `a`, `ligero (s)`, `profundo (s)`, `despierto (s)` in Spanish;
  `Duration to sleep (s)` and `Duration to wake up (s)` stay English.
- `from` and `to` carry their offset (`2026-03-01T23:10:00+01:00`), which dates the night.
- The latency is `Duration to sleep`, the time from the final awakening to getting up is
  `Duration to wake up`; the time asleep is the sum of the stages, so the awake time is what
  is left between falling asleep and the final awakening.
- Withings Sleep also records naps in bed: the day's rule tells them from the night.
- A row whose stages are all 0 or empty was not tracked: a placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, assemble, awake_min, zone_of_offsets
from mgsleep.diary.imports._json import Placeholder, RecordError, minutes
from mgsleep.diary.imports._table import Row, read_rows

SOURCE = "withings"
SHAPE = "a Withings sleep.csv (with the columns from, to and the stages in seconds)"
COLUMNS = {
    "start": ("from", "von", "de"),
    "end": ("to", "bis", "a"),
    "light": ("light (s)", "leicht (s)", "ligero (s)"),
    "deep": ("deep (s)", "tief (s)", "profundo (s)"),
    "rem": ("rem (s)",),
    "latency": ("Duration to sleep (s)",),
    "to_get_up": ("Duration to wake up (s)",),
}


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    rows = read_rows(stream, COLUMNS, ("start", "end", "light", "deep"), SHAPE, _sleep, timezone)
    return assemble(rows, timezone)


def _sleep(row: Row, timezone: str) -> DeviceSleep:
    stages = [minutes(row.number(stage)) for stage in ("deep", "light", "rem")]
    asleep = sum(stage or 0 for stage in stages)
    if asleep == 0:
        raise Placeholder("no light, deep or REM sleep measured")
    start, end = row.time("start"), row.time("end")
    if start.tzinfo is None or end.tzinfo is None:
        raise RecordError("from, to: a Withings time has an offset; this has none")
    onset = start + timedelta(minutes=minutes(row.number("latency")) or 0)
    wake = end - timedelta(minutes=minutes(row.number("to_get_up")) or 0)
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=onset,
        final_wake=wake,
        waso_min=awake_min(onset, wake, asleep),
        deep_min=stages[0],
        light_min=stages[1],
        rem_min=stages[2],
        zone=zone_of_offsets(start, end, timezone),
    )

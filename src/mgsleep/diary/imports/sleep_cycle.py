"""Sleep Cycle: the app's `sleepdata.csv` (Settings › Database › Export).

Quirks, each handled here:

- The cells are separated by `;`. Times are local, `2024-01-15 23:05:41`, with no zone: the
  night is dated in the person's zone.
- Newer exports give `Time in bed (seconds)`, `Time asleep (seconds)` and `Time before
  sleep (seconds)` (the latency), and the stages as `Deep (seconds)`, `Light (seconds)`
  and `Dream (seconds)` (REM). Older ones give only `Time in bed` as `7:20` (H:MM): the
  time in bed is then all the file says, and the night has no latency or time awake.
- `Sleep Quality` is the app's score, not the person's rating: it is not read as quality.
- A row with a time asleep of 0 is a night the app did not track: a placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, assemble, awake_min
from mgsleep.diary.imports._json import Placeholder, minutes
from mgsleep.diary.imports._table import Row, later, read_rows

SOURCE = "sleep_cycle"
SHAPE = "a Sleep Cycle sleepdata.csv (with the columns Start and End)"
COLUMNS = {
    "start": ("Start",),
    "end": ("End",),
    "asleep": ("Time asleep (seconds)",),
    "latency": ("Time before sleep (seconds)",),
    "deep": ("Deep (seconds)",),
    "light": ("Light (seconds)",),
    "rem": ("Dream (seconds)",),
}
LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    rows = read_rows(stream, COLUMNS, ("start", "end"), SHAPE, _sleep, timezone)
    return assemble(rows, timezone)


def _sleep(row: Row, timezone: str) -> DeviceSleep:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    start = row.time("start", LOCAL_FORMATS).replace(tzinfo=zone)
    end = row.time("end", LOCAL_FORMATS).replace(tzinfo=zone)
    asleep = minutes(row.number("asleep"))
    if asleep == 0:
        raise Placeholder("Time asleep (seconds): 0 (the night was not tracked)")
    latency = minutes(row.number("latency")) or 0
    onset = later(start, latency)
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=onset,
        final_wake=end,
        # On the real time line: the night the clocks go forward is an hour shorter.
        waso_min=awake_min(onset, end, asleep),
        deep_min=minutes(row.number("deep")),
        light_min=minutes(row.number("light")),
        rem_min=minutes(row.number("rem")),
    )

"""Samsung Health: the sleep table of the personal data download
(`com.samsung.shealth.sleep.<date>.csv`).

Quirks, each handled here:

- The first line names the table (`com.samsung.shealth.sleep,6313007,28`), the header
  follows, and every row ends with a trailing comma.
- Some columns carry the table's prefix (`com.samsung.health.sleep.start_time`) and some
  do not (`sleep_duration`); older downloads drop the prefix: both are read.
- `start_time` and `end_time` are UTC (`2024-12-22 22:00:00.000`); `time_offset`
  (`UTC+0100`) is the phone's offset that night, which dates the night.
- `sleep_duration` is the time asleep in minutes; a value longer than the time in bed can
  only be seconds and is read so. Where it is missing, `efficiency` (%) gives the time asleep.
  The file gives no latency.
- A row without an end time is a session the watch did not finish: a placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, assemble, awake_min, zone_of_offsets
from mgsleep.diary.imports._json import Placeholder
from mgsleep.diary.imports._table import Row, read_rows

SOURCE = "samsung_health"
SHAPE = "a Samsung Health sleep CSV (com.samsung.shealth.sleep, with start_time and end_time)"
PREFIX = "com.samsung.health.sleep."
COLUMNS = {
    "start": (PREFIX + "start_time", "start_time"),
    "end": (PREFIX + "end_time", "end_time"),
    "offset": (PREFIX + "time_offset", "time_offset"),
    "asleep": ("sleep_duration",),
    "efficiency": ("efficiency",),
    "light": ("total_light_duration",),
    "rem": ("total_rem_duration",),
}
UTC_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    rows = read_rows(stream, COLUMNS, ("start", "end"), SHAPE, _sleep, timezone)
    return assemble(rows, timezone)


def _asleep_min(row: Row, in_bed_min: float) -> float | None:
    asleep = row.number("asleep")
    if asleep is not None:
        return asleep / 60 if asleep > in_bed_min else asleep
    efficiency = row.number("efficiency")
    return None if efficiency is None else in_bed_min * min(efficiency, 100) / 100


def _sleep(row: Row, timezone: str) -> DeviceSleep:
    if not row.text("end"):
        raise Placeholder("end_time: missing (a session the watch did not finish)")
    start = row.time("start", UTC_FORMATS).replace(tzinfo=UTC)
    end = row.time("end", UTC_FORMATS).replace(tzinfo=UTC)
    offset = row.offset("offset")
    if offset is not None:
        start, end = start.astimezone(offset), end.astimezone(offset)
    in_bed = (end - start).total_seconds() / 60
    asleep = _asleep_min(row, in_bed)
    if asleep == 0:
        raise Placeholder("sleep_duration: 0 (no sleep measured)")
    return DeviceSleep.over_window(
        SOURCE,
        start,
        end,
        waso_min=awake_min(start, end, asleep),
        light_min=row.number("light"),
        rem_min=row.number("rem"),
        zone=zone_of_offsets(start, end, timezone) if offset is not None else None,
    )

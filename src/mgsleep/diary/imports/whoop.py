"""WHOOP: the app's data export (`sleeps.csv`) and the API's sleep records (JSON).

Quirks, each handled here:

- `sleeps.csv` writes local times without an offset and the offset beside them in `Cycle
  timezone` (`UTC+01:00`): the night is dated there. `Sleep onset` is when the sleep window
  starts (WHOOP gives no latency) and `Wake onset` when it ends; `Awake duration (min)` is
  the time awake inside it.
- `Nap` (`true`/`false`) is WHOOP's own word on main sleep or nap.
- A cycle the strap did not score has an empty sleep onset: a placeholder, skipped.
- The API's records (`{"records": [...]}` or a bare array) give UTC times, the
  `timezone_offset`, `nap`, and the stage totals in milliseconds under
  `score.stage_summary`. A record whose `score_state` is not `SCORED` holds no sleep: a
  placeholder. `total_no_data_time_milli` is not sleep: it counts as awake.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import BinaryIO

from mgsleep.diary.imports import (
    DeviceSleep,
    ImportItem,
    Rejected,
    Skipped,
    assemble,
    awake_min,
    parse_offset,
    zone_of_offsets,
)
from mgsleep.diary.imports._json import (
    Placeholder,
    Record,
    RecordError,
    iso_time,
    mapping,
    number,
    read_records,
    records_under,
)
from mgsleep.diary.imports._table import Row, read_rows

SOURCE = "whoop"
CSV_SHAPE = "a WHOOP sleeps.csv (with the columns Sleep onset and Wake onset)"
JSON_SHAPE = 'WHOOP sleep records (an array, or {"records": [...]}, each with start and end)'
COLUMNS = {
    "onset": ("Sleep onset",),
    "wake": ("Wake onset",),
    "zone": ("Cycle timezone",),
    "asleep": ("Asleep duration (min)",),
    "in_bed": ("In bed duration (min)",),
    "awake": ("Awake duration (min)",),
    "light": ("Light sleep duration (min)",),
    "deep": ("Deep (SWS) duration (min)",),
    "rem": ("REM duration (min)",),
    "nap": ("Nap",),
}
LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
MS_PER_MIN = 60_000


def read(stream: BinaryIO, timezone_name: str) -> Iterator[ImportItem]:
    source = stream if stream.seekable() else io.BytesIO(stream.read())
    start = source.tell()
    head = source.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    source.seek(start)
    if head.startswith((b"[", b"{")):
        return read_records(source, timezone_name, _records_in, JSON_SHAPE, _api_sleep)
    return assemble(_csv_sleeps(source, timezone_name), timezone_name)


def _csv_sleeps(stream: BinaryIO, timezone_name: str) -> Iterator[DeviceSleep | Rejected | Skipped]:
    return read_rows(stream, COLUMNS, ("onset", "wake"), CSV_SHAPE, _csv_sleep, timezone_name)


def _csv_sleep(row: Row, timezone_name: str) -> DeviceSleep:
    if not row.text("onset") or not row.text("wake"):
        raise Placeholder("no sleep scored for this cycle")
    offset = row.offset("zone")
    start = row.time("onset", LOCAL_FORMATS)
    end = row.time("wake", LOCAL_FORMATS)
    if offset is not None:
        start, end = start.replace(tzinfo=offset), end.replace(tzinfo=offset)
    elif start.tzinfo is None or end.tzinfo is None:
        # One time with an offset and one without cannot be put on one time line.
        raise RecordError("Cycle timezone: missing, and the times have no offset")
    asleep = row.number("asleep")
    if asleep == 0:
        raise Placeholder("Asleep duration (min): 0 (no sleep measured)")
    awake = row.number("awake")
    nap = row.text("nap").lower()
    return DeviceSleep.over_window(
        SOURCE,
        start,
        end,
        waso_min=awake if awake is not None else awake_min(start, end, asleep),
        deep_min=row.number("deep"),
        light_min=row.number("light"),
        rem_min=row.number("rem"),
        main_sleep={"true": False, "false": True}.get(nap),
        zone=zone_of_offsets(start, end, timezone_name),
    )


def _records_in(document: object) -> list[object] | None:
    return records_under(document, ("records",), "start")


def _with_offset(record: Record, moment: datetime) -> datetime:
    text = record.get("timezone_offset")
    if not isinstance(text, str):
        return moment
    offset = parse_offset(text)
    if offset is None:
        raise RecordError(f"timezone_offset: not an offset from UTC: {text!r}")
    return moment.astimezone(timezone(offset))


def _api_sleep(record: Record, timezone_name: str) -> DeviceSleep:
    state = record.get("score_state")
    if state != "SCORED":
        raise Placeholder(f"score_state: {state} (no sleep measured)")
    start = iso_time(record, "start")
    end = iso_time(record, "end")
    if start.tzinfo is None or end.tzinfo is None:
        raise RecordError("start, end: WHOOP writes times in UTC with a Z; these have none")
    start, end = _with_offset(record, start), _with_offset(record, end)
    stages = mapping(mapping(record, "score"), "stage_summary")

    def minutes_of(key: str) -> float | None:
        value = number(stages, key)
        return None if value is None else value / MS_PER_MIN

    awake = (minutes_of("total_awake_time_milli") or 0) + (
        minutes_of("total_no_data_time_milli") or 0
    )
    nap = record.get("nap")
    return DeviceSleep.over_window(
        SOURCE,
        start,
        end,
        waso_min=awake,
        deep_min=minutes_of("total_slow_wave_sleep_time_milli"),
        light_min=minutes_of("total_light_sleep_time_milli"),
        rem_min=minutes_of("total_rem_sleep_time_milli"),
        main_sleep=None if not isinstance(nap, bool) else not nap,
        zone=zone_of_offsets(start, end, timezone_name),
    )

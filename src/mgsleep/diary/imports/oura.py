"""Oura sleep periods: the API v2 `sleep` model, and the legacy v1 `sleep` summaries.

v2 comes as `{"data": [...]}` (the API page) or a bare array; v1 as `{"sleep": [...]}` (the
v1 API and the old account export). Both give the bedtimes with their offset and every
duration in seconds; awake time includes the minutes before falling asleep.

Quirks, each handled here:

- The offsets on the bedtimes are the ring's zone that night, so the night is dated there.
- `type`: `long_sleep` is the night, `late_nap` and `rest` are naps, and `sleep` (a shorter
  period) is left to the day's rule: a short bad night is still the night.
- A period whose type and durations are all null (or whose total sleep is 0) is a
  placeholder the ring wrote without measuring: skipped, never a perfect night.
- The CSV export is another file (`oura_csv`); given here, it is named as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, zone_of_offsets
from mgsleep.diary.imports._json import (
    Placeholder,
    Record,
    RecordError,
    iso_time,
    minutes,
    number,
    read_records,
    records_under,
)

SOURCE = "oura"
SHAPE = (
    'an Oura sleep export (the API v2 sleep model as {"data": [...]} or an array, '
    'or v1 as {"sleep": [...]}, each period with bedtime_start and bedtime_end)'
)
WRAPPERS = ("data", "sleep")
# v2 period types: `long_sleep` is the night; `deleted` is one the person removed.
MAIN_TYPE = "long_sleep"
NAP_TYPES = frozenset({"late_nap", "rest"})
OPEN_TYPE = "sleep"
CSV_HINT = "this is the Oura CSV export; import it as oura_csv"
CSV_MARKER = b"bedtime"  # "Bedtime Start" in the trends CSV, bedtime_start in the newer one


@dataclass(frozen=True)
class _Fields:
    latency: str
    awake: str
    deep: str
    light: str
    rem: str


V2 = _Fields(
    "latency", "awake_time", "deep_sleep_duration", "light_sleep_duration", "rem_sleep_duration"
)
V1 = _Fields("onset_latency", "awake", "deep", "light", "rem")


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    return read_records(
        stream, timezone, _records_in, SHAPE, _sleep, csv_marker=CSV_MARKER, csv_hint=CSV_HINT
    )


def _records_in(document: object) -> list[object] | None:
    return records_under(document, WRAPPERS, "bedtime_start")


def _is_v1(record: Record) -> bool:
    return "summary_date" in record and "day" not in record


def _main_sleep(record: Record) -> bool | None:
    if _is_v1(record):
        longest = record.get("is_longest")  # 1 or 0
        return None if longest is None else bool(longest)
    kind = record.get("type")
    if kind is None or kind == OPEN_TYPE:
        return None
    if kind == MAIN_TYPE or kind in NAP_TYPES:
        return kind == MAIN_TYPE
    if kind == "deleted":
        raise RecordError("type: a sleep period deleted in the Oura app")
    raise RecordError(f"type: not an Oura sleep type: {kind!r}")


def _sleep(record: Record, timezone: str) -> DeviceSleep:
    fields = V1 if _is_v1(record) else V2
    total = "total" if _is_v1(record) else "total_sleep_duration"
    if not number(record, total):
        raise Placeholder(f"{total}: no sleep measured (the ring wrote an empty period)")
    main = _main_sleep(record)
    start = iso_time(record, "bedtime_start")
    end = iso_time(record, "bedtime_end")
    if start.tzinfo is None or end.tzinfo is None:
        raise RecordError("bedtime_start, bedtime_end: an Oura time has an offset; this has none")
    latency = number(record, fields.latency) or 0
    awake = number(record, fields.awake) or 0
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=start + timedelta(seconds=latency),
        final_wake=end,
        # Oura counts the time to fall asleep as awake time; the diary keeps them apart.
        waso_min=max(0.0, awake - latency) / 60,
        deep_min=minutes(number(record, fields.deep)),
        light_min=minutes(number(record, fields.light)),
        rem_min=minutes(number(record, fields.rem)),
        main_sleep=main,
        zone=zone_of_offsets(start, end, timezone),
    )

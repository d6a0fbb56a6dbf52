"""Oura sleep periods: the API v2 `sleep` model, and the legacy v1 `sleep` summaries.

v2 comes as `{"data": [...]}` (the API page) or a bare array; v1 as `{"sleep": [...]}` (the
v1 API and the old account export). Both give the bedtimes with their offset and every
duration in seconds; awake time includes the minutes before falling asleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem
from mgsleep.diary.imports._json import (
    Record,
    RecordError,
    any_holds,
    iso_time,
    minutes,
    number,
    read_records,
)

SOURCE = "oura"
SHAPE = (
    'an Oura sleep export (the API v2 sleep model as {"data": [...]} or an array, '
    'or v1 as {"sleep": [...]}, each period with bedtime_start and bedtime_end)'
)
WRAPPERS = ("data", "sleep")
# v2 period types: only `long_sleep` is the night; `deleted` is one the person removed.
MAIN_TYPE = "long_sleep"
OTHER_TYPES = frozenset({"sleep", "late_nap", "rest"})


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
    return read_records(stream, timezone, _records_in, SHAPE, _sleep)


def _records_in(document: object) -> list[object] | None:
    if isinstance(document, dict):
        wrapped = [document[key] for key in WRAPPERS if isinstance(document.get(key), list)]
        document = wrapped[0] if wrapped else None
    if isinstance(document, list) and any_holds(document, "bedtime_start"):
        return document
    return None


def _is_v1(record: Record) -> bool:
    return "summary_date" in record and "day" not in record


def _main_sleep(record: Record) -> bool | None:
    if _is_v1(record):
        longest = record.get("is_longest")  # 1 or 0
        return None if longest is None else bool(longest)
    kind = record.get("type")
    if kind is None:
        return None
    if kind == MAIN_TYPE or kind in OTHER_TYPES:
        return kind == MAIN_TYPE
    if kind == "deleted":
        raise RecordError("type: a sleep period deleted in the Oura app")
    raise RecordError(f"type: not an Oura sleep type: {kind!r}")


def _sleep(record: Record, timezone: str) -> DeviceSleep:
    fields = V1 if _is_v1(record) else V2
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
    )

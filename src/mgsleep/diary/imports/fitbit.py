"""Fitbit sleep logs from Google Takeout (`Fitbit/Global Export Data/sleep-YYYY-MM-DD.json`).

Each file is a JSON array of sleep logs. Times are local wall-clock times with no offset, so
they are read in the person's zone. A log is either `stages` (deep/light/rem/wake) or
`classic` (asleep/restless/awake, no stages).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from mgsleep.diary.imports import DeviceSleep, ImportItem
from mgsleep.diary.imports._json import (
    Record,
    RecordError,
    any_holds,
    iso_time,
    mapping,
    number,
    read_records,
)

SOURCE = "fitbit"
SHAPE = "a Fitbit sleep export (a JSON array of sleep logs with startTime and endTime)"
# "wake" in stages logs, "awake" in classic ones; "restless" is restless sleep, not waking.
WAKE_LEVELS = frozenset({"wake", "awake"})


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    return read_records(stream, timezone, _records_in, SHAPE, _sleep)


def _records_in(document: object) -> list[object] | None:
    if isinstance(document, list) and any_holds(document, "startTime"):
        return document
    return None


def _local(record: Record, key: str, zone: ZoneInfo) -> datetime:
    """The time on the real (UTC) line, so that adding minutes across a clock change is right.

    An hour repeated when the clocks go back is read as its first pass, as the diary's own
    clock times are; Fitbit gives nothing to tell the two apart.
    """
    moment = iso_time(record, key)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _stage(summary: Record, level: str) -> float | None:
    return number(mapping(summary, level), "minutes")


def _awakenings(levels: Record) -> int:
    """Wake periods in `levels.data` between the first and the last sleep; where a log has no
    data, the summary's wake count."""
    data = levels.get("data")
    if isinstance(data, list) and data:
        return _wakes_between_sleep([d.get("level") for d in data if isinstance(d, dict)])
    summary = mapping(levels, "summary")
    counts = (number(mapping(summary, level), "count") for level in WAKE_LEVELS)
    return round(sum(c for c in counts if c is not None))


def _wakes_between_sleep(levels: list[object]) -> int:
    # Awake before falling asleep is sleep latency, and after the final awakening it is the
    # morning: neither is an awakening in the night.
    asleep = [i for i, level in enumerate(levels) if level not in WAKE_LEVELS]
    if not asleep:
        return 0
    return sum(1 for level in levels[asleep[0] : asleep[-1]] if level in WAKE_LEVELS)


def _main_sleep(record: Record) -> bool | None:
    value = record.get("mainSleep")
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(f"mainSleep: expected true or false, got {value!r}")


def _sleep(record: Record, timezone: str) -> DeviceSleep:
    zone = ZoneInfo(timezone)
    start = _local(record, "startTime", zone)
    end = _local(record, "endTime", zone)
    to_sleep = number(record, "minutesToFallAsleep") or 0
    after_wake = number(record, "minutesAfterWakeup") or 0
    levels = mapping(record, "levels")
    summary = mapping(levels, "summary")
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=start + timedelta(minutes=to_sleep),
        final_wake=end - timedelta(minutes=after_wake),
        waso_min=number(record, "minutesAwake") or 0,
        awakenings=_awakenings(levels),
        deep_min=_stage(summary, "deep"),
        light_min=_stage(summary, "light"),
        rem_min=_stage(summary, "rem"),
        main_sleep=_main_sleep(record),
    )

"""Fitbit sleep logs: the account export and the Web API's answer.

The Google Takeout export (`Fitbit/Global Export Data/sleep-YYYY-MM-DD.json`) is a JSON array
of sleep logs; the Web API (`/1.2/user/-/sleep/date/...json`) answers `{"sleep": [...],
"summary": {...}}` with the same logs (`isMainSleep` where the export says `mainSleep`).

Quirks, each handled here:

- Times are local wall-clock times with no offset, read in the person's zone. The device
  writes both ends in the offset it had when the sleep began, so on the nights the clocks
  change `endTime` is an hour off; the log's own `duration` (milliseconds) is the real length,
  and the night ends at `startTime` + `duration`.
- `stages` logs (deep/light/rem/wake) always say `minutesToFallAsleep: 0` and count a leading
  `wake` segment as awake time: the latency is that leading wake, and the time awake after
  the final sleep segment is the morning, not the night.
- `level: "unknown"` segments are missing data, not sleep: they count as awake.
- `classic` logs (asleep/restless/awake): Fitbit counts restless minutes as awake in
  `minutesAwake`; the total sleep is `minutesAsleep`, and the awake time is what is left of
  `timeInBed`, so the two always agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from mgsleep.diary.imports import DeviceSleep, ImportItem, awake_min
from mgsleep.diary.imports._json import (
    Record,
    RecordError,
    iso_time,
    mapping,
    number,
    read_records,
    records_under,
)

SOURCE = "fitbit"
SHAPE = (
    "a Fitbit sleep export (a JSON array of sleep logs with startTime and endTime, or the "
    'Web API answer {"sleep": [...]})'
)
# "wake" in stages logs, "awake" in classic ones; "unknown" is missing data. None is sleep.
NOT_ASLEEP = frozenset({"wake", "awake", "unknown"})
# "restless" is not in minutesAsleep either, but it is not waking up: no awakening counts.
WAKE_LEVELS = frozenset({"wake", "awake"})
CLASSIC_NOT_ASLEEP = NOT_ASLEEP | {"restless"}


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    return read_records(stream, timezone, _records_in, SHAPE, _sleep)


def _records_in(document: object) -> list[object] | None:
    return records_under(document, ("sleep",), "startTime")


def _local(record: Record, key: str, zone: ZoneInfo) -> datetime:
    """The time on the real (UTC) line. An hour repeated when the clocks go back is read as
    its first pass, as the diary's own clock times are; Fitbit gives nothing to tell them apart.
    """
    moment = iso_time(record, key)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class _Segment:
    start: datetime
    seconds: float
    level: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)


def _segments(levels: Record, start: datetime) -> list[_Segment]:
    """The segments on the real time line. They follow each other without gaps, so each one
    starts where the ones before it end: their own clock times would carry the device's stale
    offset across a clock change."""
    data = levels.get("data")
    if not isinstance(data, list):
        return []
    found = []
    elapsed = 0.0
    for entry in data:
        if not isinstance(entry, dict):
            raise RecordError("levels.data: an entry is not an object")
        seconds = number(entry, "seconds")
        level = entry.get("level")
        if seconds is None or not isinstance(level, str):
            raise RecordError("levels.data: an entry without level or seconds")
        found.append(_Segment(start + timedelta(seconds=elapsed), seconds, level))
        elapsed += seconds
    return found


def _stage(summary: Record, level: str) -> float | None:
    return number(mapping(summary, level), "minutes")


def _main_sleep(record: Record) -> bool | None:
    for key in ("mainSleep", "isMainSleep"):
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, bool):
            return value
        raise RecordError(f"{key}: expected true or false, got {value!r}")
    return None


def _end(record: Record, start: datetime, zone: ZoneInfo) -> datetime:
    duration_ms = number(record, "duration")
    if duration_ms:
        return start + timedelta(milliseconds=duration_ms)
    return _local(record, "endTime", zone)


def _sleep(record: Record, timezone: str) -> DeviceSleep:
    zone = ZoneInfo(timezone)
    start = _local(record, "startTime", zone)
    end = _end(record, start, zone)
    levels = mapping(record, "levels")
    summary = mapping(levels, "summary")
    classic = record.get("type") == "classic"
    segments = _segments(levels, start)
    awake_levels = CLASSIC_NOT_ASLEEP if classic else NOT_ASLEEP
    asleep = [s for s in segments if s.level not in awake_levels]
    if asleep:
        onset, wake = asleep[0].start, min(asleep[-1].end, end)
        inner = [s for s in segments if onset <= s.start < wake]
        asleep_min = sum(s.seconds for s in inner if s.level not in awake_levels) / 60
        awakenings = _awakenings(inner)
    else:
        onset = start + timedelta(minutes=number(record, "minutesToFallAsleep") or 0)
        wake = end - timedelta(minutes=number(record, "minutesAfterWakeup") or 0)
        asleep_min = _asleep_min(record, summary, start, end)
        awakenings = _summary_wakes(summary)
    if classic and number(record, "minutesAsleep") is not None:
        asleep_min = number(record, "minutesAsleep") or 0.0
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=onset,
        final_wake=wake,
        waso_min=awake_min(onset, wake, asleep_min),
        awakenings=awakenings,
        deep_min=None if classic else _stage(summary, "deep"),
        light_min=None if classic else _stage(summary, "light"),
        rem_min=None if classic else _stage(summary, "rem"),
        main_sleep=_main_sleep(record),
    )


def _asleep_min(record: Record, summary: Record, start: datetime, end: datetime) -> float:
    asleep = number(record, "minutesAsleep")
    if asleep is not None:
        return asleep
    in_bed = (end - start).total_seconds() / 60
    return in_bed - (number(record, "minutesAwake") or 0)


def _awakenings(inner: list[_Segment]) -> int:
    """Wake periods between the first and the last sleep segment: a run of wake segments is
    one awakening, and a short `wake` inside sleep still counts (Fitbit's own rule)."""
    count, awake = 0, False
    for segment in inner:
        is_wake = segment.level in WAKE_LEVELS
        if is_wake and not awake:
            count += 1
        awake = is_wake
    return count


def _summary_wakes(summary: Record) -> int:
    counts = (number(mapping(summary, level), "count") for level in WAKE_LEVELS)
    return round(sum(c for c in counts if c is not None))

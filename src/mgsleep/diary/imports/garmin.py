"""Garmin sleep: the account data export and the Connect API's daily sleep data.

The export (`DI_CONNECT/DI-Connect-Wellness/*_sleepData.json`) is an array of sleeps with
UTC times written without a zone marker. The Connect API answer for one day
(`dailySleepData`) holds the sleep in `dailySleepDTO`, with times in epoch milliseconds.

Quirks, each handled here:

- Garmin gives no sleep latency, so the sleep starts at the start of the sleep window.
- `sleepWindowConfirmationType` `UNCONFIRMED` or `OFF_WRIST` (any case) is a window the
  watch guessed without measuring, as is one with no deep, light or REM seconds at all: a
  placeholder, skipped, never a night of eight hours at 100 %.
- `unmeasurableSeconds` are not sleep: they count as awake.
- The times are UTC; where the API gives the local timestamps too, their difference is the
  zone's offset that night, and the night is dated there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, zone_of_offsets
from mgsleep.diary.imports._json import (
    Placeholder,
    Record,
    RecordError,
    any_holds,
    iso_time,
    mapping,
    minutes,
    number,
    read_records,
)

SOURCE = "garmin"
SHAPE = (
    "a Garmin sleep export (a *_sleepData.json array, or a dailySleepData answer with a "
    "dailySleepDTO)"
)
START = "sleepStartTimestampGMT"
END = "sleepEndTimestampGMT"
LOCAL_START = "sleepStartTimestampLocal"
LOCAL_END = "sleepEndTimestampLocal"
DAILY = "dailySleepDTO"
UNMEASURED_WINDOWS = frozenset({"UNCONFIRMED", "OFF_WRIST"})
STAGES = ("deepSleepSeconds", "lightSleepSeconds", "remSleepSeconds")


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    return read_records(stream, timezone, _records_in, SHAPE, _sleep)


def _records_in(document: object) -> list[object] | None:
    if isinstance(document, dict) and DAILY in document:
        return [document]
    if isinstance(document, list) and (any_holds(document, START) or any_holds(document, DAILY)):
        return document
    return None


def _utc(record: Record, key: str) -> datetime:
    value = record.get(key)
    if value is None:
        # The Connect API answers a day without a recorded sleep with empty timestamps.
        raise RecordError(f"{key}: missing (no sleep recorded)")
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    moment = iso_time(record, key)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _placeholder(record: Record) -> str | None:
    window = record.get("sleepWindowConfirmationType")
    if isinstance(window, str) and window.upper() in UNMEASURED_WINDOWS:
        return f"sleepWindowConfirmationType: {window} (the watch measured no sleep)"
    if not any(number(record, key) for key in STAGES):
        return "no deep, light or REM sleep measured"
    return None


def _local_zone(record: Record, start: datetime, end: datetime, default: str) -> str | None:
    """The zone the local timestamps reveal (their offset from UTC), where the API gives them."""
    local = [record.get(LOCAL_START), record.get(LOCAL_END)]
    shifted = []
    for moment, local_ms in zip((start, end), local, strict=True):
        if not isinstance(local_ms, int) or isinstance(local_ms, bool):
            return None
        offset = timedelta(milliseconds=local_ms) - (moment - datetime(1970, 1, 1, tzinfo=UTC))
        rounded = timedelta(minutes=round(offset.total_seconds() / 60))
        if abs(rounded) > timedelta(hours=14):
            return None
        shifted.append(moment.astimezone(timezone(rounded)))
    return zone_of_offsets(shifted[0], shifted[1], default)


def _sleep(record: Record, timezone_name: str) -> DeviceSleep:
    if DAILY in record:
        record = mapping(record, DAILY)
    start = _utc(record, START)
    end = _utc(record, END)
    empty = _placeholder(record)
    if empty is not None:
        raise Placeholder(empty)
    awake = (minutes(number(record, "awakeSleepSeconds")) or 0) + (
        minutes(number(record, "unmeasurableSeconds")) or 0
    )
    return DeviceSleep.over_window(
        SOURCE,
        start,
        end,
        waso_min=awake,
        deep_min=minutes(number(record, "deepSleepSeconds")),
        light_min=minutes(number(record, "lightSleepSeconds")),
        rem_min=minutes(number(record, "remSleepSeconds")),
        zone=_local_zone(record, start, end, timezone_name),
    )

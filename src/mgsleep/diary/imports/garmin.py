"""Garmin sleep: the account data export and the Connect API's daily sleep data.

The export (`DI_CONNECT/DI-Connect-Wellness/*_sleepData.json`) is an array of sleeps with
UTC times written without a zone marker. The Connect API answer for one day
(`dailySleepData`) holds the sleep in `dailySleepDTO`, with times in epoch milliseconds.
Garmin gives no sleep latency, so the sleep starts at the start of the sleep window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem
from mgsleep.diary.imports._json import (
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
DAILY = "dailySleepDTO"


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


def _sleep(record: Record, timezone: str) -> DeviceSleep:
    if DAILY in record:
        record = mapping(record, DAILY)
    start = _utc(record, START)
    end = _utc(record, END)
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=start,
        final_wake=end,
        waso_min=minutes(number(record, "awakeSleepSeconds")) or 0,
        deep_min=minutes(number(record, "deepSleepSeconds")),
        light_min=minutes(number(record, "lightSleepSeconds")),
        rem_min=minutes(number(record, "remSleepSeconds")),
    )

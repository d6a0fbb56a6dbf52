"""What the JSON importers share: the file as a whole, then record by record.

A file that is not JSON, or not shaped like the source's export, is one rejection; inside it,
a record that cannot be read is rejected on its own and the rest still import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import BinaryIO

from mgsleep.diary.imports import DeviceSleep, ImportItem, Rejected, night_or_rejected

Record = Mapping[str, object]


class RecordError(ValueError):
    """A record missing a field, or holding a value of the wrong kind."""


def read_records(
    stream: BinaryIO,
    timezone: str,
    records_in: Callable[[object], list[object] | None],
    shape: str,
    to_sleep: Callable[[Record, str], DeviceSleep],
) -> Iterator[ImportItem]:
    """Each record `records_in` finds in the document, as a night, a nap or a rejection.

    `records_in` returns None when the document is not the source's shape, described by
    `shape` in the rejection; `to_sleep` raises `RecordError` for a record it cannot read.
    """
    try:
        document = json.load(stream)
    except ValueError as error:  # bad JSON and bad UTF-8 alike
        yield Rejected(position="file", reason=f"not a JSON file: {error}")
        return
    except RecursionError:
        yield Rejected(position="file", reason="not an export: the JSON is nested too deeply")
        return
    records = records_in(document)
    if records is None:
        yield Rejected(position="file", reason=f"not {shape}")
        return
    for number, record in enumerate(records, start=1):
        position = f"record {number}"
        if not isinstance(record, dict):
            yield Rejected(position=position, reason="not a JSON object")
            continue
        try:
            sleep = _in_order(to_sleep(record, timezone))
        except RecordError as error:
            yield Rejected(position=position, reason=str(error))
            continue
        yield night_or_rejected(sleep, timezone, position)


def _in_order(sleep: DeviceSleep) -> DeviceSleep:
    # A backwards interval is short, so it would pass as a nap rather than fail as a night.
    if sleep.in_bed_end <= sleep.in_bed_start:
        raise RecordError(
            f"ends ({sleep.in_bed_end.isoformat()}) before it starts "
            f"({sleep.in_bed_start.isoformat()})"
        )
    return sleep


def any_holds(records: list[object], key: str) -> bool:
    """Whether the list looks like the export at all: an empty one does, as a day of no sleep."""
    return not records or any(isinstance(r, dict) and key in r for r in records)


def required(record: Record, key: str) -> object:
    value = record.get(key)
    if value is None:
        raise RecordError(f"{key}: missing")
    return value


def text(record: Record, key: str) -> str:
    value = required(record, key)
    if not isinstance(value, str):
        raise RecordError(f"{key}: expected text, got {value!r}")
    return value


def number(record: Record, key: str) -> float | None:
    """A number, or None where the field is absent or null (a device that did not measure)."""
    value = record.get(key)
    if value is None:
        return None
    # bool is an int in Python, but true/false is never a duration.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{key}: expected a number, got {value!r}")
    if value < 0:
        raise RecordError(f"{key}: negative ({value})")
    return float(value)


def mapping(record: Record, key: str) -> Record:
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{key}: expected an object, got {value!r}")
    return value


def iso_time(record: Record, key: str) -> datetime:
    """An ISO 8601 time as written, with or without an offset."""
    value = text(record, key)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{key}: not an ISO 8601 time: {value!r}") from None


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60

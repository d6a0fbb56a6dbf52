"""What the JSON importers share: the file as a whole, then record by record.

A file that is not JSON, or not shaped like the source's export, is one rejection; inside it,
a record that cannot be read is rejected on its own and the rest still import, and a record in
which the device measured no sleep is a placeholder, skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import BinaryIO, TypeVar

from mgsleep.diary.imports import DeviceSleep, ImportItem, Rejected, Skipped, assemble

Record = Mapping[str, object]
Item = TypeVar("Item")
Found = TypeVar("Found")


class RecordError(ValueError):
    """A record missing a field, or holding a value of the wrong kind."""


class Placeholder(Exception):  # noqa: N818 - an outcome to report, like RecordError
    """A record in which the device measured no sleep; the message says how it shows."""


def read_records(
    stream: BinaryIO,
    timezone: str,
    records_in: Callable[[object], list[object] | None],
    shape: str,
    to_sleep: Callable[[Record, str], DeviceSleep],
    *,
    csv_marker: bytes = b"",
    csv_hint: str = "",
) -> Iterator[ImportItem]:
    """Each record `records_in` finds in the document, as a night, a nap or a rejection.

    `records_in` returns None when the document is not the source's shape, described by
    `shape` in the rejection; `to_sleep` raises `RecordError` for a record it cannot read and
    `Placeholder` for one without sleep. A file whose first line holds `csv_marker` (a column
    of the source's CSV export) is refused with `csv_hint`, which names what to use instead.
    """

    def sleep_of(record: Record, position: str) -> DeviceSleep:
        return replace(_in_order(to_sleep(record, timezone)), position=position)

    hint = (csv_marker, csv_hint)
    return assemble(_sleeps(stream, records_in, shape, sleep_of, hint), timezone)


def _sleeps(
    stream: BinaryIO,
    records_in: Callable[[object], list[object] | None],
    shape: str,
    sleep_of: Callable[[Record, str], DeviceSleep],
    csv_hint: tuple[bytes, str],
) -> Iterator[DeviceSleep | Rejected | Skipped]:
    head = stream.read(4096)
    marker, hint = csv_hint
    first_line = head.split(b"\n", 1)[0].lower()
    is_json = first_line.lstrip(b"\xef\xbb\xbf \t").startswith((b"[", b"{"))
    if marker and not is_json and marker.lower() in first_line:
        yield Rejected(position="file", reason=f"not a JSON file: {hint}")
        return
    records = found_in_json(head + stream.read(), records_in, shape)
    if isinstance(records, Rejected):
        yield records
        return
    yield from each_record(records, "record", sleep_of)


def found_in_json(
    data: bytes, find: Callable[[object], Found | None], shape: str
) -> Found | Rejected:
    """What `find` locates in the file's JSON document (the records, a metric), or the
    `Rejected` of the whole file: where it is no JSON (bad JSON and bad UTF-8 alike), is nested
    deeper than Python reads, or holds nothing `find` knows (not `shape`). Every JSON importer
    refuses a file in these words, whichever source it expected."""
    try:
        document = json.loads(data)
    except ValueError as error:
        return Rejected(position="file", reason=f"not a JSON file: {error}")
    except RecursionError:
        return Rejected(position="file", reason="not an export: the JSON is nested too deeply")
    found = find(document)
    if found is None:
        return Rejected(position="file", reason=f"not {shape}")
    return found


def each_record(
    records: list[object], label: str, read: Callable[[Record, str], Item]
) -> Iterator[Item | Rejected | Skipped]:
    """What `read` makes of each record of an export's array, given the record and its
    position (`label` and its number from 1), in file order. Every JSON importer holds to the
    same rule here: an entry that is no object, or that `read` refuses with `RecordError`,
    is rejected alone and the rest still import; one it finds a `Placeholder` is skipped."""
    for number, record in enumerate(records, start=1):
        position = f"{label} {number}"
        if not isinstance(record, dict):
            yield Rejected(position=position, reason="not a JSON object")
            continue
        try:
            yield read(record, position)
        except RecordError as error:
            yield Rejected(position=position, reason=str(error))
        except Placeholder as empty:
            yield Skipped(position=position, reason=str(empty))


def _in_order(sleep: DeviceSleep) -> DeviceSleep:
    # A backwards interval is short, so it would pass as a nap rather than fail as a night.
    if sleep.in_bed_end <= sleep.in_bed_start:
        raise RecordError(
            f"ends ({sleep.in_bed_end.isoformat()}) before it starts "
            f"({sleep.in_bed_start.isoformat()})"
        )
    return sleep


def records_under(document: object, wrappers: tuple[str, ...], key: str) -> list[object] | None:
    """The export's records: an array, bare (the account export) or in an object under the
    first of `wrappers` that holds one (the API's answer), that looks like the export (some
    record has `key`); None where the document is not so shaped. One rule for each source
    that writes its records both ways."""
    if isinstance(document, dict):
        wrapped = [document[name] for name in wrappers if isinstance(document.get(name), list)]
        document = wrapped[0] if wrapped else None
    if isinstance(document, list) and any_holds(document, key):
        return document
    return None


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
    """Seconds, as most exports write durations (JSON and CSV alike), in the diary's minutes."""
    return None if seconds is None else seconds / 60

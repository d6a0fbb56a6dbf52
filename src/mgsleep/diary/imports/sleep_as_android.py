"""Sleep as Android: the app's `sleep-export.csv`, alone or inside its export zip.

Every record is a header line of its own followed by its data line (and, when noise was
recorded, a third line of noise values that starts with empty cells). The interval comes
from `Id` (start, epoch milliseconds) and `Hours`: the `From`/`To` local clock strings cannot
tell the two 02:30s apart when the clocks go back. The format has no latency and no time
awake beyond `AWAKE_START`/`AWAKE_END` events, and no main-sleep flag, so the framework's
duration rule tells naps from nights.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import IO, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mgsleep.diary.imports import (
    DeviceSleep,
    ImportItem,
    Rejected,
    night_or_rejected,
    zip_member_refusal,
)

SOURCE = "sleep_as_android"
EXPORT_NAME = "sleep-export.csv"
ZIP_MAGIC = b"PK\x03\x04"
# Years of nights with actigraphy are tens of megabytes; more than this is not an export.
MAX_MEMBER_BYTES = 2 * 10**9
# Every record header starts so; a file whose first line does not is another format.
HEADER_PREFIX = "Id,Tz,"
EVENT_COLUMN = "Event"
AWAKE_START = "AWAKE_START"
AWAKE_END = "AWAKE_END"
MS_PER_MIN = 60_000
MIN_RATING = 1
MAX_RATING = 5
NOT_AN_EXPORT = (
    "not a Sleep as Android export: the first line is not its record header (Id,Tz,From,To,…)"
)


class _RecordError(Exception):
    """A record that cannot be read; the message is the reason shown to the person."""


@dataclass(frozen=True)
class _Record:
    number: int
    line: int  # where the data line starts (the header's, when the data line is missing)
    header: str | None
    data: str | None

    @property
    def position(self) -> str:
        return f"record {self.number} (line {self.line})"


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    """The nights and naps of a Sleep as Android export (CSV or zip), record by record."""
    # Telling a zip from a CSV means looking at the first bytes and going back; a zip is read
    # from its end. A stream that cannot seek is therefore held in memory.
    source = stream if stream.seekable() else io.BytesIO(stream.read())
    start = source.tell()
    magic = source.read(len(ZIP_MAGIC))
    source.seek(start)
    if magic == ZIP_MAGIC:
        yield from _read_zip(source, timezone)
    else:
        yield from _read_csv(source, timezone)


def _read_zip(stream: IO[bytes], timezone: str) -> Iterator[ImportItem]:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as error:
        yield Rejected(position="file", reason=f"not a readable zip archive: {error}")
        return
    with archive:
        name = _csv_member(archive)
        if name is None:
            yield Rejected(position="file", reason="the zip holds no .csv file")
            return
        refusal = zip_member_refusal(archive.getinfo(name), MAX_MEMBER_BYTES)
        if refusal is not None:
            yield Rejected(position="file", reason=refusal)
            return
        try:
            with archive.open(name) as member:
                yield from _read_csv(member, timezone)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # A damaged archive cannot be read past the damage; what came before stands.
            yield Rejected(position=name, reason=f"the zip archive is damaged: {error}")


def _csv_member(archive: zipfile.ZipFile) -> str | None:
    names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
    exact = [name for name in names if name.rsplit("/", 1)[-1] == EXPORT_NAME]
    return next(iter(exact + names), None)


def _read_csv(binary: IO[bytes], timezone: str) -> Iterator[ImportItem]:
    # The app writes UTF-8; a stray byte can only sit in free text this reader does not use.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
    try:
        lines = ((number, line) for number, line in enumerate(text, start=1) if line.strip())
        first = next(lines, None)
        if first is None or not first[1].startswith(HEADER_PREFIX):
            yield Rejected(position="file", reason=NOT_AN_EXPORT)
            return
        for record in _records(first, lines):
            yield _item(record, timezone)
    finally:
        text.detach()  # the stream belongs to the caller (or the zip), which closes it


def _records(first: tuple[int, str], lines: Iterator[tuple[int, str]]) -> Iterator[_Record]:
    """Pair each header line with the data line after it; skip the optional noise lines."""
    count = 0
    pending: tuple[int, str] | None = first
    for number, line in lines:
        if line.startswith(HEADER_PREFIX):
            if pending is not None:
                count += 1
                yield _Record(count, pending[0], pending[1], None)
            pending = (number, line)
        elif pending is not None:
            count += 1
            yield _Record(count, number, pending[1], line)
            pending = None
        elif not line.startswith(","):  # the noise line starts with empty cells
            count += 1
            yield _Record(count, number, None, line)
    if pending is not None:
        yield _Record(count + 1, pending[0], pending[1], None)


def _item(record: _Record, timezone: str) -> ImportItem:
    try:
        sleep = _sleep(_cells(record.header, "header"), _cells(record.data, "data"))
    except _RecordError as error:
        return Rejected(position=record.position, reason=str(error))
    return night_or_rejected(sleep, timezone, record.position)


def _cells(line: str | None, kind: str) -> list[str]:
    if line is None:
        raise _RecordError(f"the record has no {kind} line")
    try:
        # strict: a line cut off inside a quoted value is an error, not a shorter value
        return next(csv.reader([line], strict=True))
    except csv.Error as error:
        raise _RecordError(f"the {kind} line cannot be read: {error}") from error


def _sleep(header: list[str], data: list[str]) -> DeviceSleep:
    if len(data) < len(header):
        raise _RecordError(f"the data line is cut short: {len(data)} of {len(header)} values")
    zone = _zone(_field(header, data, "Tz"))
    start_ms = _start_ms(header, data)
    hours = _number(header, data, "Hours")
    if hours <= 0:
        raise _RecordError(f"Hours is not a duration: {hours}")
    end_ms = start_ms + round(hours * 60 * MS_PER_MIN)
    start, end = _moment(start_ms, zone), _moment(end_ms, zone)
    waso, awakenings = _awake(_events(header, data), start_ms, end_ms)
    asleep_min = (end_ms - start_ms) / MS_PER_MIN - waso
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=start,
        final_wake=end,
        waso_min=waso,
        awakenings=awakenings,
        deep_min=_deep(_number(header, data, "DeepSleep"), asleep_min),
        quality=_quality(_number(header, data, "Rating")),
    )


def _field(header: list[str], data: list[str], name: str) -> str:
    if name not in header:
        raise _RecordError(f"the header has no {name} column")
    return data[header.index(name)].strip()


def _number(header: list[str], data: list[str], name: str) -> float:
    text = _field(header, data, name)
    try:
        value = float(text)
    except ValueError:
        raise _RecordError(f"{name} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise _RecordError(f"{name} is not a number: {text!r}")
    return value


def _start_ms(header: list[str], data: list[str]) -> int:
    text = _field(header, data, "Id")
    if not text.isdigit():
        raise _RecordError(f"Id is not a time in milliseconds: {text!r}")
    return int(text)


def _zone(name: str) -> tzinfo:
    # The zone only labels the moments; Id and Hours fix them on the real time line, so an
    # unknown zone name must not cost the night.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _moment(epoch_ms: int, zone: tzinfo) -> datetime:
    try:
        return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).astimezone(zone)
    except (OverflowError, OSError, ValueError) as error:
        raise _RecordError(f"the time {epoch_ms} is out of range") from error


def _events(header: list[str], data: list[str]) -> list[tuple[str, int]]:
    """The awake events as (label, epoch ms); other events are not used."""
    found = []
    for column, cell in zip(header, data, strict=False):
        if column != EVENT_COLUMN:
            continue
        label, _, rest = cell.partition("-")
        if label not in (AWAKE_START, AWAKE_END):
            continue
        moment = rest.partition("-")[0]
        if not moment.isdigit():
            raise _RecordError(f"the event {cell!r} has no time")
        found.append((label, int(moment)))
    return found


def _awake(events: list[tuple[str, int]], start_ms: int, end_ms: int) -> tuple[float, int]:
    """Minutes awake and awakenings from start/end pairs, within the record."""
    total_ms, count = 0, 0
    opened: int | None = None
    for label, moment in sorted(events, key=lambda event: event[1]):
        if label == AWAKE_START and opened is None:
            opened = moment
        elif label == AWAKE_END and opened is not None:
            awake_ms = min(moment, end_ms) - max(opened, start_ms)
            if awake_ms > 0:
                total_ms, count = total_ms + awake_ms, count + 1
            opened = None
    return total_ms / MS_PER_MIN, count


def _deep(fraction: float, asleep_min: float) -> float | None:
    # -1 and -2 mean the hypnogram was not recorded; anything outside 0..1 is no fraction.
    if not 0 <= fraction <= 1 or asleep_min <= 0:
        return None
    return fraction * asleep_min


def _quality(rating: float) -> int | None:
    # 0 stars means not rated. The app rates in quarter stars, the diary in whole points:
    # halves round up, as a person reading the stars would.
    if rating <= 0:
        return None
    return min(max(math.floor(rating + 0.5), MIN_RATING), MAX_RATING)

"""Sleep as Android: the app's `sleep-export.csv`, alone or inside its export zip.

Every record is a header line of its own followed by its data line (and, when noise was
recorded, a third line of noise values that starts with empty cells).

Quirks, each handled here:

- The interval comes from `Id` (start, epoch milliseconds) and `Hours`: the `From`/`To`
  local clock strings cannot tell the two 02:30s apart when the clocks go back.
- `Tz` is the zone the phone was in: the night is dated there.
- A file re-saved by a spreadsheet (LibreOffice, Excel) has `Id` as `1.59287E+12` (its
  milliseconds lost), quotes stripped, `;` or a tab between the cells and a decimal comma.
  The cells are split on whatever the header line uses, and where `Id` is no longer whole,
  `From` (in `Tz`) gives the start; a record with neither is refused with that reason.
- No latency and no time awake beyond `AWAKE_START`/`AWAKE_END` events, and no main-sleep
  flag. The final awakening is the first alarm (`ALARM_STARTED`) or the user stopping the
  tracking, whichever comes first: the snoozes after the alarm are the morning, not wake
  after sleep onset.
- Tracking restarted in the night gives two records of one night: the framework merges them.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import IO, BinaryIO
from zoneinfo import ZoneInfo

from mgsleep.diary.imports import (
    DeviceSleep,
    ImportItem,
    Rejected,
    Skipped,
    assemble,
    zip_member_refusal,
    zone_name,
)

SOURCE = "sleep_as_android"
EXPORT_NAME = "sleep-export.csv"
ZIP_MAGIC = b"PK\x03\x04"
# Years of nights with actigraphy are tens of megabytes; more than this is not an export.
MAX_MEMBER_BYTES = 2 * 10**9
# Every record header starts so (the delimiter is the app's comma, or what a spreadsheet
# wrote); a file whose first line does not is another format.
HEADER = re.compile(r'^"?Id"?(?P<delimiter>[,;\t])"?Tz"?(?P=delimiter)')
EVENT_COLUMN = "Event"
AWAKE_START = "AWAKE_START"
AWAKE_END = "AWAKE_END"
# The morning: the alarm rang, or the person stopped the tracking.
FINAL_EVENTS = ("ALARM_STARTED", "TRACKING_STOPPED_BY_USER")
# `From` as the app writes it, and as spreadsheets re-save it.
CLOCK_FORMATS = (
    "%d. %m. %Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
)
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
    return assemble(_sleeps(stream), timezone)


def _sleeps(stream: BinaryIO) -> Iterator[DeviceSleep | Rejected | Skipped]:
    source = stream if stream.seekable() else io.BytesIO(stream.read())
    start = source.tell()
    magic = source.read(len(ZIP_MAGIC))
    source.seek(start)
    if magic == ZIP_MAGIC:
        yield from _read_zip(source)
    else:
        yield from _read_csv(source)


def _read_zip(stream: IO[bytes]) -> Iterator[DeviceSleep | Rejected]:
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
                yield from _read_csv(member)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # A damaged archive cannot be read past the damage; what came before stands.
            yield Rejected(position=name, reason=f"the zip archive is damaged: {error}")


def _csv_member(archive: zipfile.ZipFile) -> str | None:
    names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
    exact = [name for name in names if name.rsplit("/", 1)[-1] == EXPORT_NAME]
    return next(iter(exact + names), None)


def _read_csv(binary: IO[bytes]) -> Iterator[DeviceSleep | Rejected]:
    # Lines are read as bytes and decoded one by one: no text wrapper is left around the
    # caller's stream to be closed after it. The app writes UTF-8; a stray byte can only sit
    # in free text this reader does not use.
    lines = (
        (number, raw.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n"))
        for number, raw in enumerate(binary, start=1)
    )
    filled = ((number, line) for number, line in lines if line.strip())
    first = next(filled, None)
    header = None if first is None else HEADER.match(first[1])
    if first is None or header is None:
        yield Rejected(position="file", reason=NOT_AN_EXPORT)
        return
    delimiter = header.group("delimiter")
    for record in _records(first, filled, delimiter):
        yield _item(record, delimiter)


def _records(
    first: tuple[int, str], lines: Iterator[tuple[int, str]], delimiter: str
) -> Iterator[_Record]:
    """Pair each header line with the data line after it; skip the optional noise lines."""
    count = 0
    pending: tuple[int, str] | None = first
    for number, line in lines:
        if HEADER.match(line):
            if pending is not None:
                count += 1
                yield _Record(count, pending[0], pending[1], None)
            pending = (number, line)
        elif pending is not None:
            count += 1
            yield _Record(count, number, pending[1], line)
            pending = None
        elif not line.startswith(delimiter):  # the noise line starts with empty cells
            count += 1
            yield _Record(count, number, None, line)
    if pending is not None:
        yield _Record(count + 1, pending[0], pending[1], None)


def _item(record: _Record, delimiter: str) -> DeviceSleep | Rejected:
    try:
        header = _cells(record.header, "header", delimiter)
        data = _cells(record.data, "data", delimiter)
        sleep = _sleep(header, data, decimal_comma=delimiter != ",")
    except _RecordError as error:
        return Rejected(position=record.position, reason=str(error))
    return replace(sleep, position=record.position)


def _cells(line: str | None, kind: str, delimiter: str) -> list[str]:
    if line is None:
        raise _RecordError(f"the record has no {kind} line")
    try:
        # strict: a line cut off inside a quoted value is an error, not a shorter value
        return next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise _RecordError(f"the {kind} line cannot be read: {error}") from error


def _sleep(header: list[str], data: list[str], *, decimal_comma: bool) -> DeviceSleep:
    if len(data) < len(header):
        raise _RecordError(f"the data line is cut short: {len(data)} of {len(header)} values")
    stated = zone_name(_field(header, data, "Tz"))
    zone = ZoneInfo(stated) if stated else UTC
    start_ms = _start_ms(header, data, zone)
    hours = _number(header, data, "Hours", decimal_comma)
    if hours <= 0:
        raise _RecordError(f"Hours is not a duration: {hours}")
    end_ms = start_ms + round(hours * 60 * MS_PER_MIN)
    start, end = _moment(start_ms, zone), _moment(end_ms, zone)
    events = _events(header, data)
    wake_ms = _final_wake_ms(events, start_ms, end_ms)
    waso, awakenings = _awake(events, start_ms, wake_ms)
    asleep_min = (wake_ms - start_ms) / MS_PER_MIN - waso
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=start,
        final_wake=_moment(wake_ms, zone),
        waso_min=waso,
        awakenings=awakenings,
        deep_min=_deep(_number(header, data, "DeepSleep", decimal_comma), asleep_min),
        quality=_quality(_number(header, data, "Rating", decimal_comma)),
        # An unknown zone name only labels the moments; Id and Hours fix them, so the night
        # is dated in the person's zone rather than lost.
        zone=stated,
    )


def _field(header: list[str], data: list[str], name: str) -> str:
    if name not in header:
        raise _RecordError(f"the header has no {name} column")
    return data[header.index(name)].strip()


def _number(header: list[str], data: list[str], name: str, decimal_comma: bool) -> float:
    text = _field(header, data, name)
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise _RecordError(f"{name} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise _RecordError(f"{name} is not a number: {text!r}")
    return value


def _start_ms(header: list[str], data: list[str], zone: tzinfo) -> int:
    """`Id` where it is whole; where a spreadsheet rounded it (1.59287E+12), `From`."""
    text = _field(header, data, "Id")
    if text.isdigit():
        return int(text)
    written = _field(header, data, "From")
    for pattern in CLOCK_FORMATS:
        try:
            local = datetime.strptime(written, pattern)
        except ValueError:
            continue
        return round(local.replace(tzinfo=zone).timestamp() * 1000)
    raise _RecordError(
        f"Id is not a time in milliseconds ({text!r}; a spreadsheet re-saving the file "
        f"rounds it) and From is not a time either ({written!r})"
    )


def _moment(epoch_ms: int, zone: tzinfo) -> datetime:
    try:
        return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).astimezone(zone)
    except (OverflowError, OSError, ValueError) as error:
        raise _RecordError(f"the time {epoch_ms} is out of range") from error


def _events(header: list[str], data: list[str]) -> list[tuple[str, int]]:
    """The awake, alarm and stop events as (label, epoch ms); other events are not used."""
    found = []
    for column, cell in zip(header, data, strict=False):
        if column != EVENT_COLUMN:
            continue
        label, _, rest = cell.partition("-")
        if label not in (AWAKE_START, AWAKE_END, *FINAL_EVENTS):
            continue
        moment = rest.partition("-")[0]
        if not moment.isdigit():
            raise _RecordError(f"the event {cell!r} has no time")
        found.append((label, int(moment)))
    return found


def _final_wake_ms(events: list[tuple[str, int]], start_ms: int, end_ms: int) -> int:
    """The first alarm or stop inside the record, else its end."""
    inside = [m for label, m in events if label in FINAL_EVENTS and start_ms < m <= end_ms]
    return min(inside, default=end_ms)


def _awake(events: list[tuple[str, int]], start_ms: int, end_ms: int) -> tuple[float, int]:
    """Minutes awake and awakenings from start/end pairs, between falling asleep and `end_ms`
    (the final awakening)."""
    total_ms, count = 0, 0
    opened: int | None = None
    awake_events = [event for event in events if event[0] in (AWAKE_START, AWAKE_END)]
    for label, moment in sorted(awake_events, key=lambda event: event[1]):
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

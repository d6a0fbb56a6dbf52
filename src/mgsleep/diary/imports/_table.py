"""What the CSV importers share: a header found by its column names, rows read one by one.

Apps write their CSV with a comma, a semicolon or a tab, some with a line before the header
(Samsung Health) and some in the reader's language (Withings); spreadsheets re-save them
with another delimiter and a decimal comma. So the delimiter is taken from the header line,
columns are found by any of their known names, and a number may carry a decimal comma. A
file whose header names none of the source's columns is one rejection; a row that cannot be
read is rejected on its own and the rest still import.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import IO

from mgsleep.diary.imports import DeviceSleep, Rejected, Skipped, parse_offset
from mgsleep.diary.imports._json import Placeholder, RecordError

DELIMITERS = (",", ";", "\t")
# A header is within the first lines (Samsung Health writes one line before it).
MAX_PREAMBLE_LINES = 3


@dataclass(frozen=True)
class Row:
    """One data row: its cells by the source's own column names (the first known alias)."""

    line: int
    cells: Mapping[str, str]
    decimal_comma: bool

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def number(self, column: str) -> float | None:
        """A number, or None where the cell is empty; a decimal comma is read as a point."""
        cell = self.text(column).removesuffix("%").strip()
        if not cell:
            return None
        if self.decimal_comma or ("," in cell and "." not in cell):
            cell = cell.replace(",", ".")
        try:
            value = float(cell)
        except ValueError:
            raise RecordError(f"{column}: not a number: {cell!r}") from None
        if not math.isfinite(value) or value < 0:
            raise RecordError(f"{column}: not a duration: {cell!r}")
        return value

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise RecordError(f"{column}: missing")
        return value

    def time(self, column: str, formats: Sequence[str] = ()) -> datetime:
        """A time as ISO 8601 (with or without an offset) or in one of `formats`."""
        value = self.required(column)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
        for pattern in formats:
            try:
                return datetime.strptime(value, pattern)
            except ValueError:
                continue
        raise RecordError(f"{column}: not a time: {value!r}")

    def offset(self, column: str) -> timezone | None:
        value = self.text(column)
        if not value:
            return None
        found = parse_offset(value)
        if found is None:
            raise RecordError(f"{column}: not an offset from UTC: {value!r}")
        return timezone(found)


def _lines(binary: IO[bytes]) -> Iterator[str]:
    # Bytes are decoded line by line: nothing wraps the caller's stream, which stays theirs.
    for number, raw in enumerate(binary):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            # A spreadsheet on Windows re-saves in its own code page.
            line = raw.decode("cp1252", errors="replace")
        yield line.lstrip("\ufeff") if number == 0 else line


def read_rows(
    binary: IO[bytes],
    columns: Mapping[str, Iterable[str]],
    required: Iterable[str],
    shape: str,
    to_sleep: Callable[[Row, str], DeviceSleep],
    timezone_name: str,
) -> Iterator[DeviceSleep | Rejected | Skipped]:
    """Each data row as a sleep, a placeholder or a rejection.

    `columns` maps each name the reader uses to the names the app writes it under (any
    language, any version); the header must hold every name in `required`, else the file is
    not the source's (`shape` says what it should be). `to_sleep` is given each row and the
    person's zone (for a file that states offsets, not zones).
    """
    lines = _lines(binary)
    preamble: list[str] = []
    header: list[str] | None = None
    delimiter = ","
    for line in lines:
        delimiter = _delimiter(line)
        cells = next(csv.reader([line], delimiter=delimiter), [])
        found = _columns_found(cells, columns)
        if all(name in found for name in required):
            header = cells
            break
        preamble.append(line)
        if len(preamble) >= MAX_PREAMBLE_LINES:
            break
    if header is None:
        reason = "the file is empty" if not "".join(preamble).strip() else f"not {shape}"
        yield Rejected(position="file", reason=reason)
        return
    found = _columns_found(header, columns)
    rows = csv.reader(lines, delimiter=delimiter)
    for number, cells in enumerate(rows, start=len(preamble) + 2):
        if not any(cell.strip() for cell in cells):
            continue
        position = f"row {number}"
        named = {name: cells[index] for name, index in found.items() if index < len(cells)}
        row = Row(number, named, decimal_comma=delimiter != ",")
        try:
            sleep = to_sleep(row, timezone_name)
        except RecordError as error:
            yield Rejected(position=position, reason=str(error), row=number)
            continue
        except Placeholder as empty:
            yield Skipped(position=position, reason=str(empty))
            continue
        if sleep.in_bed_end <= sleep.in_bed_start:
            yield Rejected(position=position, reason="ends before it starts", row=number)
            continue
        yield replace(sleep, position=position)


def _delimiter(line: str) -> str:
    """The delimiter the header line uses most (a spreadsheet may have changed it)."""
    return max(DELIMITERS, key=line.count)


def _columns_found(cells: list[str], columns: Mapping[str, Iterable[str]]) -> dict[str, int]:
    folded = [cell.strip().strip('"').lower() for cell in cells]
    found = {}
    for name, aliases in columns.items():
        for alias in aliases:
            if alias.lower() in folded:
                found[name] = folded.index(alias.lower())
                break
    return found


def later(moment: datetime, minutes_after: float | None) -> datetime:
    return moment + timedelta(minutes=minutes_after or 0)

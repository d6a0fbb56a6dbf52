"""The generic diary CSV (one night a row): text in, nights or per-row errors out, and back.

The columns are a contract shared with the template in `examples/` and the importers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from pydantic import ValidationError

from mgsleep.diary.night import NightEntry, NightTag, SideEffect
from mgsleep.errors import InputError, Problem, problems_from

COLUMNS = (
    "date",
    "in_bed",
    "lights_out",
    "sleep_latency_min",
    "awakenings",
    "waso_min",
    "final_wake",
    "out_of_bed",
    "quality",
    "magnesium_mg",
    "intake_time",
    "bath",
    "side_effects",
    "notes",
    # Written since the CSV round-trips every field of a night; optional when read, so the
    # template and older files still import.
    "magnesium_form",
    "bath_time",
    "bath_temperature_c",
    "deep_min",
    "light_min",
    "rem_min",
    "source",
    "timezone",
    "tags",
    "blind_guess",
)
# Free text a spreadsheet could run as a formula ("=HYPERLINK(...)"): written with a leading
# apostrophe, which is taken off again when the file is read back.
TEXT_COLUMNS = ("notes", "magnesium_form", "source")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REQUIRED = ("date", "in_bed", "lights_out", "sleep_latency_min", "final_wake", "out_of_bed")
YES = {"yes", "ja", "y", "j", "true", "1"}
NO = {"no", "nee", "n", "false", "0", ""}
SEPARATOR = ";"
DECIMAL_COLUMNS = ("magnesium_mg", "bath_temperature_c")

Choice = TypeVar("Choice", bound=StrEnum)


@dataclass(frozen=True)
class RowError:
    """Why one data row is not a night: its line in the file (header = 1) and the problem."""

    row: int
    problem: Problem

    @property
    def field(self) -> str:
        return self.problem.field

    @property
    def reason(self) -> str:
        return self.problem.english()

    def located(self) -> Problem:
        """The problem with its line, as every shell reports it."""
        return replace(self.problem, line=self.row)


def parse_csv(text: str, *, timezone: str | None = None) -> Iterator[NightEntry | RowError]:
    """Every data row as a night, or as an error naming its row and field; never raises for a
    bad row. A bad header (unknown or missing columns) is an InputError: nothing can be read."""
    text = text.lstrip("\ufeff")
    header = text.split("\n", 1)[0]
    # A spreadsheet in a Dutch or German locale re-saves with ";" and a decimal comma.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        _check_header(reader.fieldnames)
        for row in reader:
            number = reader.line_num
            if not any((value or "").strip() for value in row.values()):
                continue
            yield _night(row, number, timezone, decimal_comma=delimiter == ";")
    except csv.Error as error:
        # A cell beyond the csv module's limit (128 kB) or a broken quote: the rest of the
        # file cannot be read reliably, so none of it is.
        raise InputError("file", "broken_csv", row=reader.line_num, reason=str(error)) from error


def _check_header(fieldnames: Iterable[str] | None) -> None:
    names = [name.strip() for name in fieldnames or []]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise InputError(
            "header",
            "unknown_columns",
            hint="valid_columns",
            names=", ".join(unknown),
            valid=", ".join(COLUMNS),
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputError("header", "missing_columns", names=", ".join(missing))


def _night(
    row: dict[str, str | None], number: int, timezone: str | None, *, decimal_comma: bool = False
) -> NightEntry | RowError:
    values = {key.strip(): (value or "").strip() for key, value in row.items() if key}
    if decimal_comma:
        for column in DECIMAL_COLUMNS:
            values[column] = values.get(column, "").replace(",", ".")
    for column in TEXT_COLUMNS:
        values[column] = _unguarded(values.get(column, ""))
    try:
        data: dict[str, object] = {k: v for k, v in values.items() if v != ""}
        data["bath"] = _yes_no(values.get("bath", ""))
        data["side_effects"] = _choices(
            values.get("side_effects", ""), SideEffect, "side_effects", "unknown_side_effect"
        )
        data["tags"] = _choices(values.get("tags", ""), NightTag, "tags", "unknown_tag")
        if timezone is not None and not values.get("timezone"):
            data["timezone"] = timezone
        return NightEntry.model_validate(data)
    except ValidationError as error:
        return RowError(row=number, problem=problems_from(error)[0])
    except InputError as error:
        return RowError(row=number, problem=error.problem)


def _yes_no(value: str) -> bool:
    folded = value.strip().lower()
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise InputError("bath", "yes_or_no", value=value)


def _choices(value: str, kind: type[Choice], column: str, code: str) -> list[Choice]:
    """The names in a list cell (side effects, tags), each one of `kind`'s values. One reading
    serves every list column, so each splits on the same separator and refuses an unknown
    name the same way, listing the names it may hold."""
    tokens = [t.strip() for t in value.split(SEPARATOR) if t.strip()]
    allowed = {choice.value for choice in kind}
    unknown = [t for t in tokens if t not in allowed]
    if unknown:
        raise InputError(
            column,
            code,
            name=", ".join(unknown),
            allowed=f"{', '.join(sorted(allowed))} (separated by '{SEPARATOR}')",
        )
    return [kind(t) for t in tokens]


def _clock(value: object) -> str:
    return "" if value is None else f"{value:%H:%M}"


def _guarded(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _unguarded(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _number(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


def to_csv(nights: Iterable[NightEntry]) -> str:
    """The nights as CSV, one row a night, in date order, every field of a night included:
    what is exported imports again as the same nights."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for night in sorted(nights, key=lambda n: (n.date, n.source)):
        writer.writerow(
            {
                "date": night.date.isoformat(),
                "in_bed": _clock(night.in_bed),
                "lights_out": _clock(night.lights_out),
                "sleep_latency_min": night.sleep_latency_min,
                "awakenings": night.awakenings,
                "waso_min": night.waso_min,
                "final_wake": _clock(night.final_wake),
                "out_of_bed": _clock(night.out_of_bed),
                "quality": _number(night.quality),
                "magnesium_mg": _number(night.magnesium_mg),
                "intake_time": _clock(night.intake_time),
                "bath": "yes" if night.bath else "no",
                "side_effects": SEPARATOR.join(e.value for e in night.side_effects),
                "notes": _guarded(night.notes or ""),
                "magnesium_form": _guarded(night.magnesium_form or ""),
                "bath_time": _clock(night.bath_time),
                "bath_temperature_c": _number(night.bath_temperature_c),
                "deep_min": _number(night.deep_min),
                "light_min": _number(night.light_min),
                "rem_min": _number(night.rem_min),
                "source": _guarded(night.source),
                "timezone": night.timezone,
                "tags": SEPARATOR.join(t.value for t in night.tags),
                "blind_guess": night.blind_guess.value if night.blind_guess else "",
            }
        )
    return buffer.getvalue()

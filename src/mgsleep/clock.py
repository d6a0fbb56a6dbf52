"""Clock times, time zones, dates and text as people send them: parsed and bounded in one place.

Every shell and every model reads these types, so a year-1 date, a 24:00 bedtime, an unknown
zone, a NUL character or a megabyte of "name" is refused the same way everywhere, as a field
error, before it can reach date arithmetic or a database.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

DEFAULT_TIMEZONE = "Europe/Amsterdam"
# Dates a person can mean; outside them a date is a typo (year 1, year 9999), and date
# arithmetic near the ends of the calendar would overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise PydanticCustomError(
            "unknown_zone", "unknown time zone {zone}, e.g. Europe/Amsterdam", {"zone": value[:64]}
        ) from error
    return value


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(known_zone)]


def now() -> datetime:
    """The moment, in UTC: the one place the program reads the clock (tests replace it)."""
    return datetime.now(UTC)


def today_in(zone: str | None, at: datetime | None = None) -> date:
    """The person's date: a night is named by its morning where they live, not on the server.
    Without a zone (the CLI on the person's own computer), the computer's own date."""
    moment = at or now()
    if zone is None:
        return moment.astimezone().date()
    return moment.astimezone(ZoneInfo(zone)).date()


def zone_or_default(value: object) -> str:
    """A stored zone that may be missing or stale (a half-filled profile): else the default."""
    if isinstance(value, str):
        try:
            return known_zone(value)
        except ValueError:
            pass
    return DEFAULT_TIMEZONE


def parse_clock(value: object) -> time:
    """'22:30' (or '22:30:00', as times are written back) -> time(22, 30); a clear error for
    anything else, 24:00 included."""
    if isinstance(value, time):
        return value
    text = str(value).strip()
    try:
        parts = [int(part) for part in text.split(":")]
        if len(parts) == 3 and parts[2] == 0:
            parts = parts[:2]
        hours, minutes = parts
        return time(hours, minutes)
    except ValueError as error:
        raise PydanticCustomError(
            "clock_format", "expected a clock time HH:MM, got {text}", {"text": repr(text[:20])}
        ) from error


CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:00)?$"


def _clock_text(value: time) -> str:
    return f"{value:%H:%M}"


# A clock time as the API and files carry it: "22:30" in and out (a trailing ":00" is taken).
# Parsing stays with each model's own validator, which also reads "" as "not given".
ClockTime = Annotated[
    time,
    PlainSerializer(_clock_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["22:30"]}),
]


def parse_clock_field(value: object) -> object:
    """For optional clock fields: empty means not given."""
    if value is None or value == "":
        return None
    return parse_clock(value)


def in_range(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD (or a date): "0" or 1700000000 must not pass as a Unix time."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        return value.strip()
    raise PydanticCustomError("date_format", "expected a date YYYY-MM-DD")


def _sane(day: date) -> date:
    if not in_range(day):
        raise PydanticCustomError(
            "date_range",
            "expected a date from {earliest} to {latest}",
            {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
    return day


SaneDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    AfterValidator(_sane),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": r"^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$",
        }
    ),
]


def printable(value: str) -> str:
    # PostgreSQL refuses NUL in text; other control characters are never meant in a name.
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise PydanticCustomError("control_character", "contains a control character")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(printable)]
Note = Annotated[str, Field(max_length=2000), AfterValidator(printable)]

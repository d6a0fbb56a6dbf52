"""Importers: one module per source, each turning its format into the diary's nights.

An importer reads a binary stream and yields, record by record, a `NightEntry`, a `Nap`
(kept apart from the main sleep) or a `Rejected` naming the position and the reason; one bad
record never stops the rest. `sleep_night` builds a night from a device's intervals the same
way for every source: the night belongs to the calendar date of waking in the person's zone.
"""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from mgsleep.diary.night import NightEntry
from mgsleep.diary.sources import SOURCES
from mgsleep.errors import Problem, problems_from

# Shorter than this, or starting and ending in daylight, a sleep is a nap, not the night.
NAP_MAX_MIN = 180


@dataclass(frozen=True)
class Nap:
    date: date
    start: datetime
    end: datetime
    source: str


@dataclass(frozen=True)
class Rejected:
    """A record (or the whole file, at position "file") the diary cannot take, and why: the
    English `reason`, and where a shell can say it in the reader's language, its code."""

    position: str
    reason: str
    code: str = "refused"
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    # The field of the record that is wrong, where one is ("sleep_latency_min").
    field: str = ""
    # The line in the file, where the source is a table (the diary CSV).
    row: int | None = None

    @property
    def problem(self) -> Problem:
        where = f"{self.position}, {self.field}" if self.field else self.position
        return Problem(where, self.code, self.params, detail=self.reason)

    @classmethod
    def of(cls, position: str, found: Problem, *, row: int | None = None) -> Rejected:
        field_name = f"{found.field}: " if found.field else ""
        reason = field_name + found.english()
        return cls(position, reason, found.code, dict(found.params), field=found.field, row=row)


ImportItem = NightEntry | Nap | Rejected


@dataclass
class ImportReport:
    nights_found: int = 0
    added: int = 0
    replaced: int = 0
    already_present: int = 0
    beside_hand_entries: int = 0
    naps: int = 0
    rejected: list[Rejected] = dataclass_field(default_factory=list)
    dry_run: bool = False
    # The dates whose stored night differed from the file's and was overwritten.
    replaced_dates: list[date] = dataclass_field(default_factory=list)


Reader = Callable[[BinaryIO, str], Iterator[ImportItem]]


# A real export compresses about 10 to 30 times; a zip bomb thousands of times.
MAX_ZIP_RATIO = 200


def zip_member_refusal(member: zipfile.ZipInfo, max_bytes: int) -> str | None:
    """Why a zip member is refused as a likely zip bomb, or None. The sizes are the declared
    ones; reading stops at the declared size, so a member cannot lie its way past them."""
    if member.file_size > max_bytes:
        return (
            f"refused: {member.filename} would unpack to {member.file_size} bytes, more than "
            f"the {max_bytes} an export can plausibly hold (a zip bomb?)"
        )
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > MAX_ZIP_RATIO:
        return (
            f"refused: {member.filename} unpacks {ratio:.0f} times its packed size, more than "
            f"the {MAX_ZIP_RATIO} a real export reaches (a zip bomb?)"
        )
    return None


def reader_for(source: str) -> Reader:
    """The reader of a source; imported on demand, so one source's parser loads only when used."""
    module = importlib.import_module(f"{__name__}.{SOURCES[source]}")
    read: Reader = module.read
    return read


@dataclass(frozen=True)
class DeviceSleep:
    """One sleep as a device reports it: in bed, asleep, awake, stages, in minutes."""

    source: str
    in_bed_start: datetime
    in_bed_end: datetime
    sleep_onset: datetime
    final_wake: datetime
    waso_min: float
    awakenings: int = 0
    deep_min: float | None = None
    light_min: float | None = None
    rem_min: float | None = None
    quality: int | None = None
    main_sleep: bool | None = None  # the device's own word, where it has one


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() / 60


def _rounded(value: float | None) -> int | None:
    return None if value is None else max(0, round(value))


def is_nap(sleep: DeviceSleep) -> bool:
    if sleep.main_sleep is not None:
        return not sleep.main_sleep
    return _minutes(sleep.in_bed_end, sleep.in_bed_start) < NAP_MAX_MIN


def _to_minute(moment: datetime, zone: ZoneInfo) -> datetime:
    """The diary holds whole minutes; round on the real time line, then show it locally."""
    utc = moment.astimezone(UTC)
    rounded = utc.replace(second=0, microsecond=0)
    if utc.second >= 30:
        rounded = rounded + timedelta(minutes=1)
    return rounded.astimezone(zone)


def sleep_night(sleep: DeviceSleep, timezone: str) -> NightEntry | Nap:
    """The diary night of a device's sleep, in the person's zone (or a nap, kept apart)."""
    if sleep.in_bed_end < sleep.in_bed_start:
        raise ValueError("the sleep ends before it starts")
    zone = ZoneInfo(timezone)
    start = _to_minute(sleep.in_bed_start, zone)
    end = _to_minute(sleep.in_bed_end, zone)
    if is_nap(sleep):
        return Nap(date=end.date(), start=start, end=end, source=sleep.source)
    onset = min(max(_to_minute(sleep.sleep_onset, zone), start), end)
    wake = min(max(_to_minute(sleep.final_wake, zone), onset), end)
    latency = round(_minutes(onset, start))
    # Minutes awake cannot exceed the time between falling asleep and the final awakening.
    waso = min(_rounded(sleep.waso_min) or 0, round(_minutes(wake, onset)))
    return NightEntry(
        date=end.date(),
        in_bed=start.time(),
        lights_out=start.time(),
        sleep_latency_min=latency,
        awakenings=sleep.awakenings,
        waso_min=waso,
        final_wake=wake.time(),
        out_of_bed=end.time(),
        quality=sleep.quality,
        deep_min=_rounded(sleep.deep_min),
        light_min=_rounded(sleep.light_min),
        rem_min=_rounded(sleep.rem_min),
        source=sleep.source,
        timezone=timezone,
    )


def night_or_rejected(sleep: DeviceSleep, timezone: str, position: str) -> ImportItem:
    """`sleep_night`, with a night the diary cannot hold reported instead of raised."""
    try:
        return sleep_night(sleep, timezone)
    except ValidationError as error:
        return Rejected.of(position, problems_from(error)[0])
    except ValueError as error:
        return Rejected(position=position, reason=str(error))

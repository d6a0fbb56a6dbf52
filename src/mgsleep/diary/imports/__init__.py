"""Importers: one module per source, each turning its format into the diary's nights.

An importer reads a binary stream and yields, record by record, a `NightEntry`, a `Nap`
(kept apart from the main sleep) or a `Rejected` naming the position and the reason; one bad
record never stops the rest. `sleep_night` builds a night from a device's intervals the same
way for every source: the night belongs to the calendar date of waking in the person's zone.
"""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from mgsleep.diary.night import NightEntry

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
    position: str
    reason: str


ImportItem = NightEntry | Nap | Rejected
Reader = Callable[[BinaryIO, str], Iterator[ImportItem]]

# Source name -> module under mgsleep.diary.imports (each has read(stream, timezone)).
SOURCES: dict[str, str] = {
    "csv": "diary_csv",
    "sleep_as_android": "sleep_as_android",
    "fitbit": "fitbit",
    "oura": "oura",
    "garmin": "garmin",
    "apple_health": "apple_health",
}


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
        reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        return Rejected(position=position, reason=reason)
    except ValueError as error:
        return Rejected(position=position, reason=str(error))

"""Importers: one module per source, each turning its format into the diary's nights.

An importer reads a binary stream and yields, record by record, a `DeviceSleep` (one sleep as
the device reports it), a `Skipped` placeholder (a record in which the device measured no
sleep) or a `Rejected` naming the position and the reason; one bad record never stops the
rest. `assemble` then turns the sleeps into the diary's nights the same way for every source:

- the night belongs to the calendar date of waking, in the zone the file states for it, or
  else in the person's zone;
- two records of one night (tracking restarted, a split log) are one night, the time between
  them awake: less than two hours apart, or both inside the same night (18:00 to 06:00);
- of the sleeps that end on one date, the main sleep is the one the device calls so, else the
  longest; the others, a sleep the device calls a nap, and a sleep the diary cannot hold as a
  night (in the daytime: starting after noon and ending the same day) are naps, kept apart.
  Duration alone never makes a nap: a short bad night is still the night.
"""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import ValidationError

from mgsleep.diary.night import EVENING_FROM, MAX_NIGHT, MORNING_UNTIL, NightEntry
from mgsleep.diary.sources import SOURCES
from mgsleep.errors import Problem, problems_from

# Records of one source this close together are one sleep, whatever the time of day.
MERGE_GAP = timedelta(hours=2)
# Records further apart still make one night when both lie between these clock times.
NIGHT_FROM = time(18, 0)
NIGHT_UNTIL = time(6, 0)


class NapReason:
    """Why a sleep is a nap: said in the summary, never "a night longer than 24 hours"."""

    DEVICE = "the device calls it a nap"
    DAYTIME = "a daytime sleep (after noon, ending the same day)"
    SHORTER = "a shorter sleep than the night that ends on the same date"


@dataclass(frozen=True)
class Nap:
    date: date
    start: datetime
    end: datetime
    source: str
    reason: str = NapReason.DAYTIME


@dataclass(frozen=True)
class Skipped:
    """A record in which the device measured no sleep (a placeholder): not a night, not an
    error, and counted in the summary."""

    position: str
    reason: str


@dataclass(frozen=True)
class NightInfo:
    """How a night was made, told just before it: from how many records, and whether the
    file stated its zone."""

    date: date
    source: str
    pieces: int
    zone: str
    zone_from_file: bool


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


ImportItem = NightEntry | Nap | Rejected | Skipped | NightInfo


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
    # Nights made of more than one record of the file (tracking restarted, a split log).
    merged: int = 0
    # Records in which the device measured no sleep, left out.
    placeholders: int = 0
    # The zone a night is dated in where the file states none (--timezone, the profile's).
    default_zone: str = ""
    # Zone -> how many nights were dated in it; and how many of those the file stated.
    zones: dict[str, int] = dataclass_field(default_factory=dict)
    zone_from_file: int = 0

    @property
    def zone_rule(self) -> str:
        """Whether the file stated the zone: of every night ("file"), of none ("default") or
        of some ("both")."""
        if self.zone_from_file == 0:
            return "default"
        return "file" if self.zone_from_file == sum(self.zones.values()) else "both"


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
    # The IANA zone the file states for this sleep; None: the file says nothing.
    zone: str | None = None
    position: str = ""
    pieces: int = 1  # how many records of the file this sleep was made from

    @classmethod
    def over_window(
        cls,
        source: str,
        start: datetime,
        end: datetime,
        *,
        waso_min: float,
        deep_min: float | None = None,
        light_min: float | None = None,
        rem_min: float | None = None,
        main_sleep: bool | None = None,
        zone: str | None = None,
    ) -> DeviceSleep:
        """A sleep the device reports only as its window (WHOOP, Garmin, Samsung Health give
        no latency and no time between the final awakening and getting up): in bed and asleep
        at its start, awake and up at its end. Stated once, so that every such source makes
        the same night of the same window."""
        return cls(
            source=source,
            in_bed_start=start,
            in_bed_end=end,
            sleep_onset=start,
            final_wake=end,
            waso_min=waso_min,
            deep_min=deep_min,
            light_min=light_min,
            rem_min=rem_min,
            main_sleep=main_sleep,
            zone=zone,
        )


def awake_min(onset: datetime, wake: datetime, asleep_min: float | None) -> float:
    """The minutes awake between falling asleep and the final awakening, for a device that
    gives the time asleep but not the time awake: what that window holds beyond the time
    asleep, on the real time line, never below 0; with no time asleep either, nothing tells
    of time awake: 0. One subtraction for every such source, so that they agree on a night.
    """
    if asleep_min is None:
        return 0.0
    return max(0.0, _minutes(wake, onset) - asleep_min)


# --- Zones --------------------------------------------------------------------------------


def zone_name(value: str) -> str | None:
    """An IANA zone name the file gives, if it is one this computer knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def zone_of_offsets(start: datetime, end: datetime, default: str) -> str | None:
    """The zone that explains the offsets a file wrote on a sleep's start and end: the
    person's own zone where it has those offsets at those moments (the usual case), else a
    fixed-offset zone (Etc/GMT-2 is UTC+2), else any zone that had both; None without offsets.
    """
    offsets = (start.utcoffset(), end.utcoffset())
    if offsets[0] is None or offsets[1] is None:
        return None
    if _has_offsets(default, start, end):
        return default
    return _zone_with_offsets(
        start.astimezone(UTC).replace(tzinfo=None),
        end.astimezone(UTC).replace(tzinfo=None),
        offsets[0],
        offsets[1],
    )


def _has_offsets(zone: str, start: datetime, end: datetime) -> bool:
    place = ZoneInfo(zone)
    return all(m.astimezone(place).utcoffset() == m.utcoffset() for m in (start, end))


@lru_cache(maxsize=256)
def _zone_with_offsets(
    start_utc: datetime, end_utc: datetime, start_offset: timedelta, end_offset: timedelta
) -> str | None:
    start = start_utc.replace(tzinfo=timezone(start_offset))
    end = end_utc.replace(tzinfo=timezone(end_offset))
    hours, rest = divmod(int(start_offset.total_seconds()), 3600)
    if start_offset == end_offset and rest == 0 and -14 <= hours <= 12:
        # POSIX signs: Etc/GMT-2 is two hours ahead of UTC.
        return "Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    for name in sorted(available_timezones()):
        real = "/" in name and not name.startswith(("posix/", "right/"))
        if real and _has_offsets(name, start, end):
            return name
    return None


def parse_offset(text: str) -> timedelta | None:
    """An offset written as `UTC+01:00`, `UTC+0100`, `+01:00`, `-5` or `Z`; None if it is none."""
    cleaned = text.strip().upper().removeprefix("UTC").removeprefix("GMT").strip()
    if cleaned in ("", "Z"):
        return timedelta(0) if text.strip() else None
    sign = -1 if cleaned[0] == "-" else 1
    digits = cleaned.lstrip("+-").replace(":", "")
    if not digits.isdigit() or len(digits) > 4:
        return None
    hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    if hours > 14 or minutes >= 60:
        return None
    return sign * timedelta(hours=hours, minutes=minutes)


# --- From sleeps to nights ----------------------------------------------------------------


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() / 60


def _rounded(value: float | None) -> int | None:
    return None if value is None else max(0, round(value))


def _to_minute(moment: datetime, zone: tzinfo) -> datetime:
    """The diary holds whole minutes; round on the real time line, then show it locally."""
    utc = moment.astimezone(UTC)
    rounded = utc.replace(second=0, microsecond=0)
    if utc.second >= 30:
        rounded = rounded + timedelta(minutes=1)
    return rounded.astimezone(zone)


def _zone(sleep: DeviceSleep, timezone_name: str) -> str:
    return sleep.zone or timezone_name


def holds_as_night(sleep: DeviceSleep, timezone_name: str) -> bool:
    """Whether the diary's clock rule places this sleep where it happened: in bed from noon
    on the evening before the date of waking (or that morning), up before 18:00."""
    zone = ZoneInfo(_zone(sleep, timezone_name))
    start = _to_minute(sleep.in_bed_start, zone)
    end = _to_minute(sleep.in_bed_end, zone)
    evening = start.time() >= EVENING_FROM
    start_day = end.date() - timedelta(days=1) if evening else end.date()
    return (
        start.date() == start_day
        and end.time() < MORNING_UNTIL
        and end.astimezone(UTC) - start.astimezone(UTC) <= MAX_NIGHT
    )


def nap_reason(sleep: DeviceSleep, timezone_name: str) -> str | None:
    """Why this sleep, taken alone, is a nap; None where it can be the night."""
    if sleep.main_sleep is False:
        return NapReason.DEVICE
    if not holds_as_night(sleep, timezone_name):
        return NapReason.DAYTIME
    return None


def is_nap(sleep: DeviceSleep, timezone_name: str) -> bool:
    return nap_reason(sleep, timezone_name) is not None


def sleep_night(sleep: DeviceSleep, timezone_name: str) -> NightEntry | Nap:
    """The diary night of one device sleep (or a nap, kept apart), in the zone the file states
    for it or else in the person's zone."""
    if sleep.in_bed_end < sleep.in_bed_start:
        raise ValueError("the sleep ends before it starts")
    name = _zone(sleep, timezone_name)
    zone = ZoneInfo(name)
    start = _to_minute(sleep.in_bed_start, zone)
    end = _to_minute(sleep.in_bed_end, zone)
    reason = nap_reason(sleep, timezone_name)
    if reason is not None:
        return Nap(date=end.date(), start=start, end=end, source=sleep.source, reason=reason)
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
        timezone=name,
    )


def night_or_rejected(sleep: DeviceSleep, timezone_name: str, position: str) -> ImportItem:
    """`sleep_night`, with a night the diary cannot hold reported instead of raised."""
    try:
        return sleep_night(sleep, timezone_name)
    except ValidationError as error:
        return Rejected.of(position, problems_from(error)[0])
    except ValueError as error:
        return Rejected(position=position, reason=str(error))


def assemble(
    items: Iterable[DeviceSleep | Rejected | Skipped], timezone_name: str
) -> Iterator[ImportItem]:
    """The nights and naps of a file's sleeps (see the module's rules), each night told by a
    `NightInfo` first; rejections and placeholders pass through as they come. A rejection of
    the whole file ends it: nothing after it is read."""
    sleeps: list[DeviceSleep] = []
    for item in items:
        if isinstance(item, DeviceSleep):
            sleeps.append(item)
            continue
        yield item
        if isinstance(item, Rejected) and item.position == "file":
            return
    merged = _merged_nights(sleeps, timezone_name)
    for sleep, reason in _main_or_nap(merged, timezone_name):
        yield from _items_of(sleep, reason, timezone_name)


def _items_of(sleep: DeviceSleep, reason: str | None, timezone_name: str) -> Iterator[ImportItem]:
    if reason is not None:
        zone = ZoneInfo(_zone(sleep, timezone_name))
        start = _to_minute(sleep.in_bed_start, zone)
        end = _to_minute(sleep.in_bed_end, zone)
        yield Nap(date=end.date(), start=start, end=end, source=sleep.source, reason=reason)
        return
    item = night_or_rejected(sleep, timezone_name, sleep.position or "record")
    if isinstance(item, NightEntry):
        yield NightInfo(
            date=item.date,
            source=item.source,
            pieces=sleep.pieces,
            zone=item.timezone,
            zone_from_file=sleep.zone is not None,
        )
    yield item


def _merged_nights(sleeps: list[DeviceSleep], timezone_name: str) -> list[DeviceSleep]:
    ordered = sorted(sleeps, key=lambda s: (s.source, s.in_bed_start.astimezone(UTC)))
    merged: list[DeviceSleep] = []
    for sleep in ordered:
        if merged and _one_night(merged[-1], sleep, timezone_name):
            merged[-1] = _joined(merged[-1], sleep)
        else:
            merged.append(sleep)
    return merged


def _one_night(earlier: DeviceSleep, later: DeviceSleep, timezone_name: str) -> bool:
    """Whether two records of one source are parts of one night."""
    if earlier.source != later.source or False in (earlier.main_sleep, later.main_sleep):
        return False
    if later.in_bed_end.astimezone(UTC) - earlier.in_bed_start.astimezone(UTC) > MAX_NIGHT:
        return False
    gap = later.in_bed_start.astimezone(UTC) - earlier.in_bed_end.astimezone(UTC)
    if gap < MERGE_GAP:
        return True
    zone = ZoneInfo(_zone(later, timezone_name))
    resumed = later.in_bed_start.astimezone(zone)
    if resumed.time() >= NIGHT_UNTIL:
        return False
    evening = datetime.combine(resumed.date() - timedelta(days=1), NIGHT_FROM, tzinfo=zone)
    return earlier.in_bed_end.astimezone(zone) >= evening


def _total(first: float | None, second: float | None) -> float | None:
    if first is None and second is None:
        return None
    return (first or 0) + (second or 0)


def _joined(earlier: DeviceSleep, later: DeviceSleep) -> DeviceSleep:
    """One night of two records: the time between them is wake time, and an awakening."""
    if later.in_bed_end <= earlier.in_bed_end:  # wholly inside: the same sleep twice
        return replace(earlier, pieces=earlier.pieces + later.pieces)
    between = max(0.0, _minutes(later.sleep_onset, earlier.final_wake))
    return replace(
        earlier,
        in_bed_end=later.in_bed_end,
        final_wake=later.final_wake,
        waso_min=earlier.waso_min + later.waso_min + between,
        awakenings=earlier.awakenings + later.awakenings + (1 if between >= 1 else 0),
        deep_min=_total(earlier.deep_min, later.deep_min),
        light_min=_total(earlier.light_min, later.light_min),
        rem_min=_total(earlier.rem_min, later.rem_min),
        quality=later.quality if later.quality is not None else earlier.quality,
        main_sleep=True if True in (earlier.main_sleep, later.main_sleep) else None,
        zone=later.zone or earlier.zone,
        position=f"{earlier.position} + {later.position}",
        pieces=earlier.pieces + later.pieces,
    )


def _main_or_nap(
    sleeps: list[DeviceSleep], timezone_name: str
) -> Iterator[tuple[DeviceSleep, str | None]]:
    """Each sleep with why it is a nap, or None for the one main sleep of its date."""
    decided: list[tuple[DeviceSleep, str | None]] = []
    by_day: dict[tuple[str, date], list[DeviceSleep]] = {}
    for sleep in sleeps:
        reason = nap_reason(sleep, timezone_name) if sleep.in_bed_end > sleep.in_bed_start else None
        if reason is not None:
            decided.append((sleep, reason))
            continue
        wake_day = sleep.in_bed_end.astimezone(ZoneInfo(_zone(sleep, timezone_name))).date()
        by_day.setdefault((sleep.source, wake_day), []).append(sleep)
    for candidates in by_day.values():
        main = max(
            candidates,
            key=lambda s: (s.main_sleep is True, _minutes(s.in_bed_end, s.in_bed_start)),
        )
        decided += [(s, None if s is main else NapReason.SHORTER) for s in candidates]
    # In the order they happened, so a summary and a progress bar follow the file's time line.
    decided.sort(key=lambda pair: pair[0].in_bed_start.astimezone(UTC))
    yield from decided

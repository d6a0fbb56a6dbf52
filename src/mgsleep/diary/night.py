"""One night of the sleep diary (Consensus Sleep Diary core) and the metrics derived from it.

A night is stored as entered — clock times and minutes — and its metrics are computed here.
Clock times are placed on the calendar by a fixed rule, then on the real time line in the
person's zone, so nights across midnight and the nights the clocks change come out right:

- `in_bed` and `lights_out` from 12:00 fall on the evening before `date`, earlier ones on
  `date` itself (after midnight);
- `final_wake` and `out_of_bed` before 18:00 fall on `date`, later ones on the evening before
  (which then fails validation: waking before lights out).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mgsleep.clock import (
    DEFAULT_TIMEZONE,
    ClockTime,
    Note,
    SaneDate,
    TimeZoneName,
    parse_clock,
)
from mgsleep.errors import several

EVENING_FROM = time(12, 0)
MORNING_UNTIL = time(18, 0)
MAX_NIGHT = timedelta(hours=24)
DIARY_SOURCE = "diary"


class SideEffect(StrEnum):
    loose_stools = "loose_stools"
    nausea = "nausea"
    other = "other"


class NightTag(StrEnum):
    """What else happened that evening: things that move sleep and so confound a trial."""

    caffeine_after_noon = "caffeine_after_noon"
    alcohol = "alcohol"
    illness = "illness"
    travel = "travel"
    stress = "stress"
    late_meal = "late_meal"


class BlindGuess(StrEnum):
    """In a blinded trial, the morning's guess of what was taken last night."""

    magnesium = "magnesium"
    placebo = "placebo"
    unsure = "unsure"


class NightEntry(BaseModel):
    """What a person writes down in the morning. `date` is the morning the night ended."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: SaneDate
    in_bed: ClockTime
    lights_out: ClockTime
    sleep_latency_min: int = Field(ge=0, le=1440)
    awakenings: int = Field(default=0, ge=0, le=100)
    waso_min: int = Field(default=0, ge=0, le=1440)
    final_wake: ClockTime
    out_of_bed: ClockTime
    quality: int | None = Field(default=None, ge=1, le=5)
    magnesium_mg: float | None = Field(default=None, ge=0, le=2000, description="elemental")
    magnesium_form: Note | None = Field(default=None, max_length=200)
    intake_time: ClockTime | None = None
    bath: bool = False
    bath_time: ClockTime | None = None
    bath_temperature_c: float | None = Field(default=None, ge=20, le=50)
    # A tuple, so a night is hashable: its placement and metrics are computed once (cached).
    side_effects: tuple[SideEffect, ...] = Field(default=(), max_length=len(SideEffect))
    notes: Note | None = None
    tags: tuple[NightTag, ...] = Field(default=(), max_length=len(NightTag))
    blind_guess: BlindGuess | None = None
    # Sleep stages, where a device measures them; a diary night leaves them empty.
    deep_min: int | None = Field(default=None, ge=0, le=1440)
    light_min: int | None = Field(default=None, ge=0, le=1440)
    rem_min: int | None = Field(default=None, ge=0, le=1440)
    source: Note = Field(default=DIARY_SOURCE, min_length=1, max_length=40)
    timezone: TimeZoneName = DEFAULT_TIMEZONE

    @field_validator(
        "in_bed",
        "lights_out",
        "final_wake",
        "out_of_bed",
        "intake_time",
        "bath_time",
        mode="before",
    )
    @classmethod
    def _clock(cls, value: object) -> object:
        if value is None or value == "":
            return None
        return parse_clock(value)

    @model_validator(mode="after")
    def _possible(self) -> NightEntry:
        timeline = place(self)
        problems = _impossibilities(self, timeline)
        if problems:
            raise several(problems)
        return self


class PlacedNight(BaseModel):
    """The entered clock times on the real time line (aware datetimes in the person's zone)."""

    model_config = ConfigDict(frozen=True)

    in_bed: datetime
    lights_out: datetime
    final_wake: datetime
    out_of_bed: datetime


def _on_calendar(day: date, clock: time, evening: bool, zone: ZoneInfo) -> datetime:
    calendar_day = day - timedelta(days=1) if evening else day
    naive = datetime.combine(calendar_day, clock).replace(tzinfo=zone)
    return naive.astimezone(UTC).astimezone(zone)


@functools.lru_cache(maxsize=8192)
def place(entry: NightEntry) -> PlacedNight:
    zone = ZoneInfo(entry.timezone)
    return PlacedNight(
        in_bed=_on_calendar(entry.date, entry.in_bed, entry.in_bed >= EVENING_FROM, zone),
        lights_out=_on_calendar(
            entry.date, entry.lights_out, entry.lights_out >= EVENING_FROM, zone
        ),
        final_wake=_on_calendar(
            entry.date, entry.final_wake, entry.final_wake >= MORNING_UNTIL, zone
        ),
        out_of_bed=_on_calendar(
            entry.date, entry.out_of_bed, entry.out_of_bed >= MORNING_UNTIL, zone
        ),
    )


def minutes_between(earlier: datetime, later: datetime) -> float:
    """Real elapsed minutes (UTC), whatever the wall clocks did in between."""
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() / 60


def _impossibilities(entry: NightEntry, at: PlacedNight) -> list[tuple[str, str, str]]:
    """(field, code, English detail) for each way the night cannot have happened."""
    problems = []
    if at.lights_out < at.in_bed:
        problems.append(
            (
                "lights_out",
                "lights_out_before_bed",
                f"lights out ({entry.lights_out:%H:%M}) before getting into bed "
                f"({entry.in_bed:%H:%M})",
            )
        )
    if at.final_wake <= at.lights_out:
        problems.append(
            (
                "final_wake",
                "wake_before_lights_out",
                f"waking ({entry.final_wake:%H:%M}) before lights out ({entry.lights_out:%H:%M})",
            )
        )
    if at.out_of_bed < at.final_wake:
        problems.append(
            (
                "out_of_bed",
                "out_of_bed_before_wake",
                f"out of bed ({entry.out_of_bed:%H:%M}) before the final awakening "
                f"({entry.final_wake:%H:%M})",
            )
        )
    if at.out_of_bed - at.in_bed > MAX_NIGHT:
        problems.append(("out_of_bed", "night_too_long", "a night longer than 24 hours"))
    trying = minutes_between(at.lights_out, at.final_wake)
    if not problems and entry.sleep_latency_min + entry.waso_min > trying:
        problems.append(
            (
                "sleep_latency_min",
                "awake_longer_than_night",
                f"{entry.sleep_latency_min} min to fall asleep plus {entry.waso_min} min awake "
                f"is longer than the {trying:.0f} min from lights out to the final awakening",
            )
        )
    return problems


class NightMetrics(BaseModel):
    """Consensus Sleep Diary metrics (Carney 2012), in minutes and percent."""

    model_config = ConfigDict(frozen=True)

    date: date
    time_in_bed_min: float
    time_trying_min: float
    total_sleep_min: float
    sleep_efficiency_pct: float
    sleep_latency_min: float
    waso_min: float
    awakenings: int
    terminal_wake_min: float
    quality: int | None


@functools.lru_cache(maxsize=8192)
def metrics(entry: NightEntry) -> NightMetrics:
    """TIB = out of bed − into bed; TST = (final awakening − lights out) − SOL − WASO;
    SE = TST / TIB × 100. Not TIB − SOL − WASO, which overstates sleep."""
    at = place(entry)
    time_in_bed = minutes_between(at.in_bed, at.out_of_bed)
    trying = minutes_between(at.lights_out, at.final_wake)
    total_sleep = trying - entry.sleep_latency_min - entry.waso_min
    return NightMetrics(
        date=entry.date,
        time_in_bed_min=time_in_bed,
        time_trying_min=trying,
        total_sleep_min=total_sleep,
        sleep_efficiency_pct=100 * total_sleep / time_in_bed if time_in_bed > 0 else 0.0,
        sleep_latency_min=entry.sleep_latency_min,
        waso_min=entry.waso_min,
        awakenings=entry.awakenings,
        terminal_wake_min=minutes_between(at.final_wake, at.out_of_bed),
        quality=entry.quality,
    )


def one_per_night(nights: list[NightEntry]) -> list[NightEntry]:
    """A night recorded twice (typed by hand and imported from a device) counts once: the hand
    entry wins, being what the person says; among devices, the first source by name."""
    chosen: dict[date, NightEntry] = {}
    for night in sorted(nights, key=lambda n: (n.date, n.source != DIARY_SOURCE, n.source)):
        chosen.setdefault(night.date, night)
    return [chosen[day] for day in sorted(chosen)]

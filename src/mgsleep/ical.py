"""The evenings as an iCalendar file (RFC 5545), day by day as the trial's protocol says.

Each step of the evening (bath, magnesium, glycine, a medicine, lights out) is one daily event
series over the calendar's evenings; the evenings the protocol leaves a step out (magnesium on
a night without it) are excluded dates (EXDATE), so a baseline evening carries no intake. The
morning diary prompt is a series of its own. Every event has a reminder (VALARM).

A UID names the person's calendar and the step, never a date or a time: exporting again after
a change gives the same UIDs with a higher SEQUENCE, so a calendar app replaces the old events;
a fixed step that is no longer in the calendar is sent as cancelled, so it disappears too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from mgsleep.i18n import Lang, both
from mgsleep.plan import Plan
from mgsleep.schedule import (
    CALENDAR_KINDS,
    TimelineEntry,
    evening,
    local_datetime,
    trial_evening,
)
from mgsleep.trial.protocol import TrialProtocol

# A calendar without a trial runs for the plan's trial length; without one (a stop plan),
# for this long.
DEFAULT_CALENDAR_WEEKS = 4
# The zone rules a calendar carries: from the year before its first evening, this many after.
CALENDAR_YEARS = 2
# The morning diary prompt: this long after lights out, as a short event.
MORNING_AFTER_BED = timedelta(hours=8, minutes=30)
DIARY_EVENT = timedelta(minutes=10)
# A step that is a moment (a medicine dose, lights out) is shown this long.
MOMENT_EVENT = timedelta(minutes=5)
# Evening reminders come a little before the step; the diary prompt at its time.
EVENING_REMINDER = timedelta(minutes=5)
# Steps that come once an evening: sent as cancelled when a new export no longer has them.
FIXED_STEPS = ("bath", "magnesium", "glycine", "bedtime", "diary")
# Steps there can be several of (one per medicine or companion) take numbered slots, so a
# medicine that is stopped leaves a slot that the next export cancels; this many slots of each
# kind, with this many series a slot (a medicine taken at several times), are kept in step.
NUMBERED_KINDS = ("medicine", "no_magnesium", "companion")
NUMBERED_SLOTS = 6
SERIES_PER_SLOT = 3
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class Series:
    """One step at one wall-clock time, on the evenings it occurs."""

    step: str
    entry: TimelineEntry
    first: date
    dates: list[date] = field(default_factory=list)


def calendar_weeks(plan: Plan) -> int:
    """How long a calendar without a trial runs: the plan's trial, else four weeks."""
    return plan.expectations.evaluate_after_weeks if plan.expectations else DEFAULT_CALENDAR_WEEKS


def calendar_evenings(plan: Plan, protocol: TrialProtocol | None, first: date) -> list[date]:
    """The evenings a calendar from `first` covers: to the trial's last night, else the plan's
    trial length (from its first evening with magnesium)."""
    if protocol is not None:
        last = _last_trial_evening(protocol)
        if last >= first:
            return _days(first, last)
    start = max(first, plan.start_date or first)
    return _days(start, start + timedelta(days=7 * calendar_weeks(plan) - 1))


def _last_trial_evening(protocol: TrialProtocol) -> date:
    end = protocol.scheduled_end()
    if end is not None:
        return end - timedelta(days=2)
    # Open-ended: up to the morning the verdict is due.
    return protocol.verdict_due() - timedelta(days=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def plan_calendar(
    plan: Plan,
    first: date,
    lang: Lang,
    *,
    protocol: TrialProtocol | None = None,
    key: str = "local",
    exported_at: datetime | None = None,
) -> bytes:
    """The calendar of a plan (and its running trial) from the evening of `first`. `key`
    names the person's calendar in the UIDs; `exported_at` orders exports (SEQUENCE)."""
    nights = calendar_evenings(plan, protocol, first)
    stamp = exported_at or datetime.combine(nights[0], time(0, 0), tzinfo=UTC)
    series = _series(plan, protocol, nights)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//mgsleep//evening schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "mgsleep")
    # In seconds: two exports a minute apart still order (it fits 32 bits until 2088).
    sequence = int((stamp - SEQUENCE_EPOCH).total_seconds())
    named = _with_uids(series, key)
    for uid, one in named:
        calendar.add_component(_event(one, uid, lang, stamp, sequence))
    for uid in _gone(key, {uid for uid, _one in named}):
        calendar.add_component(_cancelled(uid, nights[0], stamp, sequence))
    for tzid in sorted(calendar.get_missing_tzids()):
        calendar.subcomponents.insert(0, _vtimezone(tzid, nights[0].year))
    ical: bytes = calendar.to_ical()
    return ical


def _series(plan: Plan, protocol: TrialProtocol | None, nights: Sequence[date]) -> list[Series]:
    found: dict[tuple[str, timedelta, timedelta, str], Series] = {}
    for night in nights:
        timeline = evening(plan, night=night, trial=trial_evening(protocol, night))
        steps = [e for e in timeline.entries if e.kind in CALENDAR_KINDS]
        for entry in [*steps, _diary_entry(timeline.bedtime)]:
            step = _step(entry)
            # The wall-clock time from the evening's date: the same on both sides of a clock
            # change, which is how a daily series with a zone repeats.
            wall = entry.start.replace(tzinfo=None) - datetime.combine(night, time(0, 0))
            length = entry.end - entry.start
            group = (step, wall, length, entry.what.en)
            one = found.setdefault(group, Series(step=step, entry=entry, first=night))
            one.dates.append(night)
    return sorted(found.values(), key=lambda one: (one.step, one.first))


def _diary_entry(bedtime: datetime) -> TimelineEntry:
    """The morning after this evening's bedtime: fill in the diary. On the wall clock, so the
    prompt keeps its time on the morning the clocks change."""
    zone = bedtime.tzinfo
    assert isinstance(zone, ZoneInfo)  # noqa: S101 - every timeline is placed in a zone
    wall = bedtime.replace(tzinfo=None) + MORNING_AFTER_BED
    morning = local_datetime(wall.date(), wall.time(), zone)
    return TimelineEntry(
        start=morning,
        end=morning + DIARY_EVENT,
        kind="diary",
        what=both("Fill in your sleep diary for last night"),
    )


def _step(entry: TimelineEntry) -> str:
    if entry.kind in {"medicine", "no_magnesium", "companion"}:
        slug = re.sub(r"[^a-z0-9]+", "-", entry.what.en.casefold()).strip("-")[:40]
        return f"{entry.kind}-{slug}"
    return entry.kind


def _uid(key: str, step: str, index: int) -> str:
    return f"{step}-{index}@{key}.mgsleep"


def _with_uids(series: list[Series], key: str) -> list[tuple[str, Series]]:
    """A UID per series: the step (a numbered slot for a medicine or a companion, in the
    order of their names) and the series' number within it."""
    slots: dict[str, str] = {}
    for kind in NUMBERED_KINDS:
        names = sorted({one.step for one in series if one.entry.kind == kind})
        slots |= {name: f"{kind}-{number}" for number, name in enumerate(names)}
    counts: dict[str, int] = {}
    named = []
    for one in series:
        step = slots.get(one.step, one.step)
        index = counts.get(step, 0)
        counts[step] = index + 1
        named.append((_uid(key, step, index), one))
    return named


def _gone(key: str, present: set[str]) -> list[str]:
    """The UIDs an earlier export may have had that this one has not: sent as cancelled."""
    possible = [_uid(key, step, 0) for step in FIXED_STEPS]
    possible += [
        _uid(key, f"{kind}-{slot}", index)
        for kind in NUMBERED_KINDS
        for slot in range(NUMBERED_SLOTS)
        for index in range(SERIES_PER_SLOT)
    ]
    return [uid for uid in possible if uid not in present]


def _event(one: Series, uid: str, lang: Lang, stamp: datetime, sequence: int) -> icalendar.Event:
    entry = one.entry
    summary = entry.what.get(lang)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("dtstart", entry.start)
    event.add("dtend", entry.end if entry.end > entry.start else entry.start + MOMENT_EVENT)
    event.add("summary", summary)
    if entry.citations:
        event.add("description", "mgsleep: " + ", ".join(entry.citations))
    span = _days(one.first, one.dates[-1])
    event.add("rrule", {"freq": "daily", "count": len(span)})
    skipped = sorted(set(span) - set(one.dates))
    if skipped:
        shift = entry.start.replace(tzinfo=None) - datetime.combine(one.first, time(0, 0))
        zone = entry.start.tzinfo
        moments = [
            (datetime.combine(day, time(0, 0)) + shift).replace(tzinfo=zone) for day in skipped
        ]
        event.add("exdate", moments)
    event.add_component(_alarm(summary, one.step))
    return event


def _alarm(summary: str, step: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(0) if step == "diary" else -EVENING_REMINDER)
    return alarm


def _cancelled(uid: str, night: date, stamp: datetime, sequence: int) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("dtstart", night)
    event.add("summary", "mgsleep")
    event.add("status", "CANCELLED")
    return event


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str, year: int) -> icalendar.Timezone:
    """The zone's rules for the years a calendar covers; built once, since it is the slow part
    of writing a calendar (and the same for everyone in one zone)."""
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(year - 1, 1, 1), last_date=date(year + CALENDAR_YEARS, 1, 1)
    )

"""The evening on the clock: bath, magnesium and companions, medicines kept apart.

Times are worked out in UTC and shown in the person's zone, so "60 minutes before bed" is
60 real minutes on the nights the clocks change, and a bedtime after midnight falls on the
next calendar day.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import icalendar
from pydantic import BaseModel, ConfigDict, Field

from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.schema import Separation
from mgsleep.i18n import Lang, Text, both, lower_first
from mgsleep.plan import MagnesiumDose, Plan, Verdict, make_plan
from mgsleep.profile import MedicineEntry, Profile

EntryKind = Literal[
    "bath", "magnesium", "glycine", "companion", "medicine", "no_magnesium", "bedtime"
]
INTAKE_KINDS: frozenset[str] = frozenset({"magnesium", "glycine", "companion"})
# The calendar carries the medicine doses and the windows kept free of magnesium as well: the
# plan's timing relies on them.
CALENDAR_KINDS: frozenset[str] = frozenset(
    {"bath", "magnesium", "glycine", "companion", "bedtime", "medicine", "no_magnesium"}
)

# A bedtime before noon is taken as after midnight: the night's evening is the day before.
NOON = time(12, 0)
# Magnesium moves first within the evening, then anywhere in the waking day, to stay clear of a
# medicine: the medicine never moves for a sleep supplement.
EVENING_BEFORE_BED = timedelta(hours=4)
DAY_BEFORE_BED = timedelta(hours=16)
SEARCH_STEP = timedelta(minutes=5)
# Medicines shown on the evening's timeline: half a day either side of bedtime.
HORIZON = timedelta(hours=12)
# A calendar runs for the plan's trial; without one (a stop plan), for this long.
DEFAULT_CALENDAR_WEEKS = 4
# The zone rules a calendar carries: from the year before its first evening, this many after.
CALENDAR_YEARS = 2


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    kind: EntryKind
    what: Text
    citations: list[str] = Field(default_factory=list)


class Conflict(BaseModel):
    model_config = ConfigDict(frozen=True)

    medicine: str
    message: Text
    citations: list[str]


class Timeline(BaseModel):
    model_config = ConfigDict(frozen=True)

    night: date
    timezone: str
    bedtime: datetime
    entries: list[TimelineEntry]
    conflicts: list[Conflict]
    notes: list[Text]

    def has_intake(self) -> bool:
        return any(e.kind in INTAKE_KINDS for e in self.entries)


def local_datetime(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a day; a time the spring change skips moves forward past the gap."""
    naive = datetime.combine(day, clock).replace(tzinfo=zone)
    return naive.astimezone(UTC).astimezone(zone)


def _bed(night: date, bedtime: time, zone: ZoneInfo) -> datetime:
    day = night + timedelta(days=1) if bedtime < NOON else night
    return local_datetime(day, bedtime, zone)


def _before(bed: datetime, minutes: float) -> datetime:
    zone = bed.tzinfo
    return (bed.astimezone(UTC) - timedelta(minutes=minutes)).astimezone(zone)


def _at(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(UTC).astimezone(zone)


def evening(
    plan: Plan,
    bedtime: time | None = None,
    medicines: list[MedicineEntry] | None = None,
    *,
    night: date,
    ev: Evidence | None = None,
) -> Timeline:
    """The timeline of one evening; `night` is the calendar date the evening starts on."""
    ev = ev or load_evidence()
    zone = ZoneInfo(plan.timezone)
    bed = _bed(night, bedtime or plan.bedtime, zone)
    entries: list[TimelineEntry] = [
        TimelineEntry(start=bed, end=bed, kind="bedtime", what=both("Lights out"))
    ]
    rules = _separation_rules(plan, medicines)
    blocked = _blocked_intervals(rules, night, zone)
    entries += _medicine_entries(rules, night, zone, bed)
    conflicts = [_unplaced(name, sep) for name, sep, times in rules if not times]
    notes: list[Text] = []
    paused = plan.paused_until is not None and night <= plan.paused_until
    if plan.verdict is not Verdict.stop:
        entries += _bath_entry(plan, bed)
        notes += [reason.text for reason in (plan.bath.safety if plan.bath else [])]
    if plan.verdict is not Verdict.stop and paused and plan.paused_until is not None:
        notes.append(_paused_note(plan.paused_until + timedelta(days=1)))
    elif plan.verdict is not Verdict.stop:
        slot, moved_from = _intake_slot(ev, bed, blocked)
        if plan.dose is not None and slot is None:
            conflicts.append(_no_slot_conflict(rules))
        elif plan.dose is not None and plan.form_choice is not None and slot is not None:
            entries.append(_magnesium_entry(plan.dose, plan.form_choice.name, slot))
            if moved_from is not None:
                notes.append(_moved_note(slot, moved_from))
        entries += _glycine_and_companions(plan, _default_slot(ev, bed))
    return Timeline(
        night=night,
        timezone=plan.timezone,
        bedtime=bed,
        entries=sorted(entries, key=lambda e: (e.start, e.kind != "bedtime")),
        conflicts=conflicts,
        notes=notes,
    )


# --- medicines ------------------------------------------------------------------------------

Rule = tuple[str, Separation, list[time]]


def _separation_rules(plan: Plan, medicines: list[MedicineEntry] | None) -> list[Rule]:
    """(medicine name, separation, clock times) for each medicine magnesium must keep from."""
    override = {m.name.casefold(): m.times for m in medicines or []}
    rules: list[Rule] = []
    for finding in plan.findings:
        if finding.separation is None or finding.subject is None:
            continue
        times = override.get(finding.subject.casefold(), finding.medicine_times)
        rules.append((finding.subject, finding.separation, list(times)))
    return rules


def _doses(times: list[time], night: date, zone: ZoneInfo) -> list[datetime]:
    # A daily medicine is taken the day before, that day and the next: all can collide.
    return [
        local_datetime(night + timedelta(days=offset), clock, zone)
        for offset in (-1, 0, 1, 2)
        for clock in times
    ]


def _forbidden(dose: datetime, separation: Separation) -> tuple[datetime, datetime]:
    """Magnesium may not fall strictly inside this interval around one medicine dose."""
    utc = dose.astimezone(UTC)
    after = timedelta(hours=separation.medicine_after_mg_h or 0)
    before = timedelta(hours=separation.medicine_before_mg_h or 0)
    return utc - after, utc + before


def _blocked_intervals(
    rules: list[Rule], night: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    return [
        _forbidden(dose, separation)
        for _name, separation, times in rules
        for dose in _doses(times, night, zone)
    ]


def _medicine_entries(
    rules: list[Rule], night: date, zone: ZoneInfo, bed: datetime
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for name, separation, times in rules:
        for dose in _doses(times, night, zone):
            if abs(dose - bed) > HORIZON:
                continue
            start, end = _forbidden(dose, separation)
            entries.append(
                TimelineEntry(
                    start=dose,
                    end=dose,
                    kind="medicine",
                    what=Text(nl=name, en=name),
                    citations=list(separation.cite),
                )
            )
            if end > start:
                entries.append(
                    TimelineEntry(
                        start=_at(start, zone),
                        end=_at(end, zone),
                        kind="no_magnesium",
                        what=both("No magnesium: keep it apart from {name}", name=name),
                        citations=list(separation.cite),
                    )
                )
    return entries


def _unplaced(name: str, separation: Separation) -> Conflict:
    return Conflict(
        medicine=name,
        message=both(
            "{name} must be kept apart from magnesium, but no time is given for it. Add the "
            "times you take it, so the evening can be planned around it.",
            name=name,
        ),
        citations=list(separation.cite),
    )


# --- the intake slot ------------------------------------------------------------------------


def _window_minutes(ev: Evidence) -> tuple[float, float]:
    figure = ev.claim("intake_window").figure
    low = figure.low if figure and figure.low is not None else 30.0
    high = figure.high if figure and figure.high is not None else 60.0
    return low, high


def _default_slot(ev: Evidence, bed: datetime) -> tuple[datetime, datetime]:
    low, high = _window_minutes(ev)
    return _before(bed, high), _before(bed, low)


def _intake_slot(
    ev: Evidence, bed: datetime, blocked: list[tuple[datetime, datetime]]
) -> tuple[tuple[datetime, datetime] | None, tuple[datetime, datetime] | None]:
    """The usual window if it is clear; else the nearest clear one in the evening; else the
    latest clear one earlier in the day. None when the whole waking day is blocked."""
    default_start, default_end = _default_slot(ev, bed)
    length = default_end - default_start
    zone = bed.tzinfo
    bed_utc = bed.astimezone(UTC)
    base = default_start.astimezone(UTC)
    evening_from = bed_utc - EVENING_BEFORE_BED
    candidates: list[datetime] = []
    moment = bed_utc - DAY_BEFORE_BED
    while moment <= bed_utc - length:
        candidates.append(moment)
        moment += SEARCH_STEP
    evening_slots = sorted(
        (c for c in candidates if c >= evening_from), key=lambda c: (abs(c - base), c < base)
    )
    day_slots = sorted((c for c in candidates if c < evening_from), reverse=True)
    for start in [*evening_slots, *day_slots]:
        end = start + length
        if all(end <= lo or start >= hi for lo, hi in blocked):
            slot = (start.astimezone(zone), end.astimezone(zone))
            moved = None if start == base else (default_start, default_end)
            return slot, moved
    return None, None


def _no_slot_conflict(rules: list[Rule]) -> Conflict:
    names = ", ".join(dict.fromkeys(name for name, _separation, times in rules if times))
    return Conflict(
        medicine=names,
        message=both(
            "Magnesium does not fit anywhere in the day around {names}. Keep taking {names} as "
            "prescribed, and skip magnesium on the days you take it. Ask your pharmacist if "
            "you are not sure.",
            names=names,
        ),
        citations=sorted({c for _name, separation, _times in rules for c in separation.cite}),
    )


def _paused_note(start: date) -> Text:
    return both(
        "No magnesium tonight: it starts on {day}, after your course ends.",
        day=Text(nl=start.isoformat(), en=start.isoformat()),
    )


def _moved_note(slot: tuple[datetime, datetime], usual: tuple[datetime, datetime]) -> Text:
    return both(
        "Magnesium moved to {start}–{end} (usually {usual_start}–{usual_end}) to keep it apart "
        "from your medicines; your medicines stay at their own times.",
        start=slot[0].strftime("%H:%M"),
        end=slot[1].strftime("%H:%M"),
        usual_start=usual[0].strftime("%H:%M"),
        usual_end=usual[1].strftime("%H:%M"),
    )


# --- what goes in the slot ------------------------------------------------------------------


def _bath_entry(plan: Plan, bed: datetime) -> list[TimelineEntry]:
    if plan.bath is None:
        return []
    bath = plan.bath
    return [
        TimelineEntry(
            start=_before(bed, bath.before_bed_min_high),
            end=_before(bed, bath.before_bed_min_low),
            kind="bath",
            what=(
                both(
                    "Warm bath or shower, {low:g}–{high:g} °C, at most {minutes:g} minutes; "
                    "start it in this window.",
                    low=bath.temperature_c_low,
                    high=bath.temperature_c_high,
                    minutes=bath.duration_min,
                )
                if bath.duration_is_maximum
                else both(
                    "Warm bath or shower, {low:g}–{high:g} °C, at least {minutes:g} minutes; "
                    "start it in this window.",
                    low=bath.temperature_c_low,
                    high=bath.temperature_c_high,
                    minutes=bath.duration_min,
                )
            ),
            citations=bath.verdict.citations,
        )
    ]


def _magnesium_entry(
    dose: MagnesiumDose, form_name: Text, slot: tuple[datetime, datetime]
) -> TimelineEntry:
    return TimelineEntry(
        start=slot[0],
        end=slot[1],
        kind="magnesium",
        what=both(
            "Magnesium: {elemental:.0f} mg as {form} ({compound:.2f} g)",
            elemental=dose.elemental_mg,
            form=lower_first(form_name),
            compound=dose.compound_mg / 1000,
        ),
        citations=dose.reasons[0].citations,
    )


def _glycine_and_companions(plan: Plan, slot: tuple[datetime, datetime]) -> list[TimelineEntry]:
    entries = []
    if plan.glycine is not None and plan.glycine.topup_mg > 0:
        entries.append(
            TimelineEntry(
                start=slot[0],
                end=slot[1],
                kind="glycine",
                what=both("Glycine powder: {mg:.0f} mg", mg=plan.glycine.topup_mg),
                citations=plan.glycine.reason.citations,
            )
        )
    entries += [
        TimelineEntry(
            start=slot[0],
            end=slot[1],
            kind="companion",
            what=both("{name}: {mg:.0f} mg", name=companion.name, mg=companion.dose_mg),
            citations=companion.reason.citations,
        )
        for companion in plan.companions
    ]
    return entries


# --- exports --------------------------------------------------------------------------------


def to_text(timeline: Timeline, lang: Lang) -> str:
    """A printable evening, one line an entry, then conflicts and notes."""
    lines = []
    for entry in timeline.entries:
        clock = entry.start.strftime("%H:%M")
        if entry.end != entry.start:
            clock += "–" + entry.end.strftime("%H:%M")
        lines.append(f"{clock:<12} {entry.what.get(lang)}")
    lines += [f"! {c.message.get(lang)}" for c in timeline.conflicts]
    lines += [f"* {n.get(lang)}" for n in timeline.notes]
    return "\n".join(lines) + "\n"


def to_ical(timeline: Timeline, lang: Lang, *, days: int) -> bytes:
    """RFC 5545: one daily-recurring event per evening step, for the length of the trial."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//mgsleep//evening schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "mgsleep")
    stamp = datetime.combine(timeline.night, time(0, 0), tzinfo=UTC)
    for index, entry in enumerate(e for e in timeline.entries if e.kind in CALENDAR_KINDS):
        event = icalendar.Event()
        event.add("uid", f"{timeline.night.isoformat()}-{index}-{entry.kind}@mgsleep")
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.start)
        end = entry.end if entry.end > entry.start else entry.start + timedelta(minutes=5)
        event.add("dtend", end)
        event.add("summary", entry.what.get(lang))
        if entry.citations:
            event.add("description", "mgsleep: " + ", ".join(entry.citations))
        event.add("rrule", {"freq": "daily", "count": days})
        calendar.add_component(event)
    for tzid in sorted(calendar.get_missing_tzids()):
        calendar.subcomponents.insert(0, _vtimezone(tzid, timeline.night.year))
    ical: bytes = calendar.to_ical()
    return ical


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str, year: int) -> icalendar.Timezone:
    """The zone's rules for the years a calendar covers; built once, since it is the slow part
    of writing a calendar (and the same for everyone in one zone)."""
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(year - 1, 1, 1), last_date=date(year + CALENDAR_YEARS, 1, 1)
    )


def calendar_weeks(plan: Plan) -> int:
    """How long the calendar runs: the plan's trial, else the usual four weeks."""
    return plan.expectations.evaluate_after_weeks if plan.expectations else DEFAULT_CALENDAR_WEEKS


def plan_calendar(plan: Plan, first: date, lang: Lang) -> bytes:
    """The plan's evening as a calendar, from the first evening with magnesium."""
    timeline = evening(plan, night=plan.start_date or first)
    return to_ical(timeline, lang, days=7 * calendar_weeks(plan))


def magnesium_time(plan: Plan, night: date) -> time | None:
    """When the plan's evening puts the magnesium (None: it proposes none)."""
    return next(
        (e.start.time() for e in evening(plan, night=night).entries if e.kind == "magnesium"),
        None,
    )


class PlannedEvening(BaseModel):
    """A plan and its first evening on the clock."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    evening: Timeline
    profile: Profile


def plan_for(profile: Profile, first: date) -> PlannedEvening:
    """The plan from the evening of `first`, and that evening."""
    plan = make_plan(profile, start=first)
    return PlannedEvening(plan=plan, evening=evening(plan, night=first), profile=profile)

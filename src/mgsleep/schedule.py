"""The evening on the clock: bath, magnesium and companions, medicines kept apart.

Times are worked out in UTC and shown in the person's zone, so "60 minutes before bed" is
60 real minutes on the nights the clocks change, and a bedtime after midnight falls on the
next calendar day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.schema import Separation
from mgsleep.i18n import Lang, Text, both, lower_first
from mgsleep.plan import MagnesiumDose, Plan, Verdict, make_plan
from mgsleep.profile import MedicineEntry, Profile
from mgsleep.trial.kinds import Evening
from mgsleep.trial.protocol import TrialProtocol

# "diary" is the calendar's morning prompt; an evening's timeline never holds one.
EntryKind = Literal[
    "bath", "magnesium", "glycine", "companion", "medicine", "no_magnesium", "bedtime", "diary"
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
# The evenings on which the trial has a dose taken: its magnesium, or a blinded numbered dose.
TRIAL_DOSE_EVENINGS = frozenset({Evening.magnesium, Evening.sealed_dose})
# A trial's magnesium taken at its own time fills a window this long (the plan's is 30 min).
TRIAL_INTAKE_WINDOW = timedelta(minutes=30)


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


class TrialEvening(BaseModel):
    """What the running trial asks of one evening, and what it tests: the protocol is the one
    source of truth, so the plan, the home page and the calendar show the same evening."""

    model_config = ConfigDict(frozen=True)

    instruction: Evening
    first_evening: date
    form: str | None = None
    dose_mg: float | None = None
    intake_time: time | None = None


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
    trial: TrialEvening | None = None,
) -> Timeline:
    """The timeline of one evening; `night` is the calendar date the evening starts on.

    With a running `trial`, its protocol decides: a night without magnesium keeps the bath
    (the same in both phases) and drops every intake; a magnesium night takes the trial's
    form, dose and time. Safety still comes first: a stop plan, a paused course or a medicine
    window overrules the trial."""
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
    elif plan.verdict is not Verdict.stop and _without_magnesium(trial, night):
        # Nothing is taken, so no window needs keeping free of it.
        entries = [e for e in entries if e.kind != "no_magnesium"]
        notes.append(_trial_note(trial, night))
    elif plan.verdict is not Verdict.stop:
        added, conflict, note = _intake(plan, trial, ev, bed, (rules, blocked))
        entries += added
        conflicts += conflict
        notes += note
    return Timeline(
        night=night,
        timezone=plan.timezone,
        bedtime=bed,
        entries=sorted(entries, key=lambda e: (e.start, e.kind != "bedtime")),
        conflicts=conflicts,
        notes=notes,
    )


def _without_magnesium(trial: TrialEvening | None, night: date) -> bool:
    if trial is None:
        return False
    if trial.instruction is Evening.diary_only:
        return True
    # Before the first trial night nothing is taken, so the baseline starts clean.
    return trial.instruction is Evening.outside and night < trial.first_evening


def _trial_note(trial: TrialEvening | None, night: date) -> Text:
    if trial is not None and night < trial.first_evening:
        day = trial.first_evening.isoformat()
        return both(
            "No magnesium yet: your trial starts on the evening of {day}.",
            day=Text(nl=day, en=day),
        )
    return both(
        "No magnesium tonight: this is a night without it in your trial. Fill in your sleep "
        "diary tomorrow morning."
    )


def _intake(
    plan: Plan,
    trial: TrialEvening | None,
    ev: Evidence,
    bed: datetime,
    medicines: tuple[list[Rule], list[tuple[datetime, datetime]]],
) -> tuple[list[TimelineEntry], list[Conflict], list[Text]]:
    """The evening's intakes (the trial's dose on a trial night), or why there are none."""
    rules, blocked = medicines
    slot, moved_from = _intake_slot(ev, bed, blocked)
    on_trial = trial is not None and trial.instruction in TRIAL_DOSE_EVENINGS
    own = _trial_slot(trial, bed, blocked, plan.timezone) if trial and on_trial else None
    if own is not None:
        slot, moved_from = own, None
    # A blinded trial tests the numbered dose alone: anything added could taste of it.
    sealed = trial is not None and trial.instruction is Evening.sealed_dose
    extras = [] if sealed else _glycine_and_companions(plan, _default_slot(ev, bed))
    if plan.dose is None or plan.form_choice is None:
        return extras, [], []
    if slot is None:
        return extras, [_no_slot_conflict(rules)], []
    if sealed:
        magnesium = _sealed_dose_entry(bed, slot)
    elif trial is not None and on_trial:
        magnesium = _trial_magnesium_entry(plan.dose, plan.form_choice.name, trial, ev, slot)
    else:
        magnesium = _magnesium_entry(plan.dose, plan.form_choice.name, slot)
    notes = [] if moved_from is None else [_moved_note(slot, moved_from)]
    return [magnesium, *extras], [], notes


def _sealed_dose_entry(bed: datetime, slot: tuple[datetime, datetime]) -> TimelineEntry:
    """A blinded trial's evening: the dose the helper numbered for it, magnesium or not."""
    evening_of = (bed - timedelta(days=1) if bed.time() < NOON else bed).date().isoformat()
    what = both(
        "Your trial dose: the one numbered for the evening of {day}",
        day=Text(nl=evening_of, en=evening_of),
    )
    return _magnesium_in(slot, what, [])


def _trial_slot(
    trial: TrialEvening, bed: datetime, blocked: list[tuple[datetime, datetime]], trial_zone: str
) -> tuple[datetime, datetime] | None:
    """The trial's own intake time on this evening, unless a medicine window now covers it."""
    if trial.intake_time is None:
        return None
    zone = ZoneInfo(trial_zone)
    # An evening intake before a bedtime after midnight was on the calendar day before.
    after_midnight = bed.time() < NOON <= trial.intake_time
    day = bed.date() - timedelta(days=1) if after_midnight else bed.date()
    start = local_datetime(day, trial.intake_time, zone)
    end = _at(start + TRIAL_INTAKE_WINDOW, zone)
    clear = all(end.astimezone(UTC) <= lo or start.astimezone(UTC) >= hi for lo, hi in blocked)
    return (start, end) if clear else None


def _trial_magnesium_entry(
    dose: MagnesiumDose,
    form_name: Text,
    trial: TrialEvening,
    ev: Evidence,
    slot: tuple[datetime, datetime],
) -> TimelineEntry:
    """What the trial tests, as it was started, even if the profile now points elsewhere."""
    if trial.form is not None:
        known = {form.key: form.name for form in ev.forms}
        form_name = known.get(trial.form, Text(nl=trial.form, en=trial.form))
    dose_mg = trial.dose_mg if trial.dose_mg is not None else dose.elemental_mg
    what = both(
        "Magnesium for your trial: {elemental:.0f} mg as {form}",
        elemental=dose_mg,
        form=lower_first(form_name),
    )
    return _magnesium_in(slot, what, dose.reasons[0].citations)


def _magnesium_in(
    slot: tuple[datetime, datetime], what: Text, citations: list[str]
) -> TimelineEntry:
    return TimelineEntry(
        start=slot[0], end=slot[1], kind="magnesium", what=what, citations=citations
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
    what = both(
        "Magnesium: {elemental:.0f} mg as {form} ({compound:.2f} g)",
        elemental=dose.elemental_mg,
        form=lower_first(form_name),
        compound=dose.compound_mg / 1000,
    )
    return _magnesium_in(slot, what, dose.reasons[0].citations)


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


# --- the running trial ----------------------------------------------------------------------


def trial_evening(protocol: TrialProtocol | None, night: date) -> TrialEvening | None:
    """What the protocol asks of the evening of `night`; None once the trial is over (the
    plan goes on as it is) or without a trial."""
    if protocol is None:
        return None
    first_evening = protocol.baseline_start - timedelta(days=1)
    instruction = protocol.evening(night)
    if instruction is Evening.outside and night >= first_evening:
        return None
    return TrialEvening(
        instruction=instruction,
        first_evening=first_evening,
        form=protocol.form,
        dose_mg=protocol.dose_mg,
        intake_time=protocol.intake_time,
    )


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


def magnesium_time(plan: Plan, night: date) -> time | None:
    """When the plan's evening puts the magnesium (None: it proposes none)."""
    return next(
        (e.start.time() for e in evening(plan, night=night).entries if e.kind == "magnesium"),
        None,
    )


class PlannedEvening(BaseModel):
    """A plan and its first evening on the clock, under the running trial if there is one."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    evening: Timeline
    profile: Profile
    trial: TrialProtocol | None = None


def plan_for(
    profile: Profile, first: date, protocol: TrialProtocol | None = None
) -> PlannedEvening:
    """The plan from the evening of `first`, and that evening as the trial (if any) has it."""
    plan = make_plan(profile, start=first)
    tonight = evening(plan, night=first, trial=trial_evening(protocol, first))
    return PlannedEvening(plan=plan, evening=tonight, profile=profile, trial=protocol)


TrialChange = Literal["form", "dose_mg", "intake_time"]


def trial_departures(plan: Plan, protocol: TrialProtocol, night: date) -> list[TrialChange]:
    """What the plan now proposes differently from what the running trial tests: a profile
    change that alters these must ask whether to end the trial or keep to it."""
    if plan.verdict is Verdict.stop or plan.elemental_mg is None:
        return []  # no magnesium at all: the plan page says so, whatever the trial
    changes: list[TrialChange] = []
    if protocol.form is not None and protocol.form != plan.form:
        changes.append("form")
    if protocol.dose_mg is not None and round(protocol.dose_mg) != round(plan.elemental_mg):
        changes.append("dose_mg")
    planned_time = magnesium_time(plan, night)
    if protocol.intake_time is not None and planned_time not in {None, protocol.intake_time}:
        changes.append("intake_time")
    return changes

"""The calendar round trip: the .ics a person imports says, evening by evening, what the trial's
protocol says. Each file is parsed back with icalendar and its daily series expanded (RRULE
minus EXDATE), as a calendar app would show them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]  # no stubs installed
from fastapi import FastAPI

from mgsleep import clock
from mgsleep.ical import plan_calendar
from mgsleep.lang import Lang
from mgsleep.plan import Plan, make_plan
from mgsleep.profile import Profile
from mgsleep.trial.kinds import Evening
from mgsleep.trial.protocol import TrialProtocol
from tests.test_api import PROFILE as API_PROFILE
from tests.test_api import Person
from tests.test_api import app as app

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PROFILE: dict[str, Any] = {
    "age": 45,
    "sex": "male",
    "complaints": ["falling_asleep"],
    "bath": True,
    "bedtime": "22:30",
}
# Fourteen baseline nights, then magnesium: the spring clock change (29 March 2026, 02:00 ->
# 03:00) falls in the magnesium phase, so the same series runs on both sides of it.
FIRST_EVENING = date(2026, 3, 8)
BASELINE_START = FIRST_EVENING + timedelta(days=1)  # nights are named by their morning
MAGNESIUM_START = BASELINE_START + timedelta(days=14)
# Not the plan's 200 mg, so a summary that shows it comes from the trial, not the plan.
TRIAL_DOSE_MG = 150.0
TRIAL_INTAKE = time(21, 0)
EXPORTED = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
INTAKE_STEPS = ("magnesium-", "glycine-", "companion-")


def _plan(**overrides: Any) -> Plan:
    return make_plan(Profile.model_validate({**PROFILE, **overrides}), start=FIRST_EVENING)


def _protocol(plan: Plan) -> TrialProtocol:
    return TrialProtocol(
        baseline_start=BASELINE_START,
        magnesium_start=MAGNESIUM_START,
        form=plan.form,
        dose_mg=TRIAL_DOSE_MG,
        intake_time=TRIAL_INTAKE,
    )


def _export(
    plan: Plan,
    protocol: TrialProtocol | None,
    *,
    at: datetime = EXPORTED,
    lang: Lang = "en",
) -> icalendar.Calendar:
    ics = plan_calendar(plan, FIRST_EVENING, lang, protocol=protocol, key="p1", exported_at=at)
    return icalendar.Calendar.from_ical(ics)


def _live(calendar: icalendar.Calendar) -> list[icalendar.cal.Component]:
    return [e for e in calendar.walk("VEVENT") if e.get("status") != "CANCELLED"]


def _uid(event: icalendar.cal.Component) -> str:
    return str(event.get("uid"))


def _exdates(event: icalendar.cal.Component) -> list[datetime]:
    found = event.get("exdate")
    if found is None:
        return []
    groups = found if isinstance(found, list) else [found]
    return [moment.dt for group in groups for moment in group.dts]


def occurrences(event: icalendar.cal.Component) -> list[datetime]:
    """Every start of one event, as a calendar app expands it."""
    start = event.decoded("dtstart")
    rule = event.get("rrule")
    if rule is None:
        return [start]
    expanded = rrulestr(rule.to_ical().decode(), dtstart=start, forceset=True)
    for skipped in _exdates(event):
        expanded.exdate(skipped)
    return list(expanded)


def evenings_with(calendar: icalendar.Calendar, prefixes: tuple[str, ...]) -> dict[date, str]:
    """Evening date -> summary of the live events whose UID starts with one of `prefixes`."""
    found: dict[date, str] = {}
    for event in _live(calendar):
        if _uid(event).startswith(prefixes):
            for start in occurrences(event):
                found[start.astimezone(AMSTERDAM).date()] = str(event.get("summary"))
    return found


def _trial_evenings(protocol: TrialProtocol, kind: Evening) -> list[date]:
    last = protocol.verdict_due()
    days = (last - FIRST_EVENING).days
    evenings = [FIRST_EVENING + timedelta(days=n) for n in range(days)]
    return [day for day in evenings if protocol.evening(day) is kind]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_no_intake_on_any_baseline_evening(lang: Lang) -> None:
    plan = _plan()
    protocol = _protocol(plan)
    calendar = _export(plan, protocol, lang=lang)
    baseline = _trial_evenings(protocol, Evening.diary_only)
    assert len(baseline) == 14
    intakes = evenings_with(calendar, INTAKE_STEPS)
    assert not set(baseline) & set(intakes), sorted(set(baseline) & set(intakes))
    # The bath is kept in both phases, so it is on the baseline evenings too.
    assert set(baseline) <= set(evenings_with(calendar, ("bath-",)))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_intake_on_every_magnesium_evening_with_the_trials_dose(lang: Lang) -> None:
    plan = _plan()
    protocol = _protocol(plan)
    calendar = _export(plan, protocol, lang=lang)
    magnesium = _trial_evenings(protocol, Evening.magnesium)
    assert len(magnesium) == 28
    intakes = evenings_with(calendar, ("magnesium-",))
    assert sorted(intakes) == magnesium
    assert all("150 mg" in summary for summary in intakes.values()), set(intakes.values())
    starts = [
        s for e in _live(calendar) if _uid(e).startswith("magnesium-") for s in occurrences(e)
    ]
    assert {(s.hour, s.minute) for s in starts} == {(21, 0)}  # the trial's intake time


def test_every_event_has_a_reminder_alarm() -> None:
    plan = _plan()
    events = _live(_export(plan, _protocol(plan)))
    assert events
    for event in events:
        alarms = event.walk("VALARM")
        assert len(alarms) == 1, _uid(event)
        alarm = alarms[0]
        assert str(alarm.get("action")) == "DISPLAY"
        assert str(alarm.get("description"))
        # A reminder comes before the step (or at it), never after.
        assert alarm.decoded("trigger") <= timedelta(0), _uid(event)


def test_the_morning_diary_prompt_is_an_event_of_its_own() -> None:
    plan = _plan()
    protocol = _protocol(plan)
    calendar = _export(plan, protocol)
    diary = [e for e in _live(calendar) if _uid(e).startswith("diary-")]
    assert diary
    assert all(e.walk("VALARM") for e in diary)
    mornings = sorted(s.astimezone(AMSTERDAM) for e in diary for s in occurrences(e))
    evenings = _trial_evenings(protocol, Evening.diary_only) + _trial_evenings(
        protocol, Evening.magnesium
    )
    # One prompt the morning after every trial evening, in the morning, not at bedtime.
    assert [m.date() for m in mornings] == [day + timedelta(days=1) for day in evenings]
    assert all(5 <= m.hour < 12 for m in mornings), {m.time() for m in mornings}
    bedtime_uids = {_uid(e) for e in _live(calendar) if _uid(e).startswith("bedtime-")}
    assert bedtime_uids
    assert not bedtime_uids & {_uid(e) for e in diary}


def test_a_re_export_after_a_bedtime_change_keeps_the_uids_with_a_higher_sequence() -> None:
    plan = _plan()
    protocol = _protocol(plan)
    before = _export(plan, protocol)
    later = _plan(bedtime="23:15")
    after = _export(later, protocol, at=EXPORTED + timedelta(days=2))
    old = {_uid(e): e for e in _live(before)}
    new = {_uid(e): e for e in _live(after)}
    assert set(new) == set(old)
    for uid, event in new.items():
        assert int(event.get("sequence")) > int(old[uid].get("sequence")), uid
    bedtimes = {
        (s.hour, s.minute)
        for e in new.values()
        if _uid(e).startswith("bedtime-")
        for s in occurrences(e)
    }
    assert bedtimes == {(23, 15)}


def test_a_step_that_disappears_is_sent_as_cancelled() -> None:
    plan = _plan()
    protocol = _protocol(plan)
    before = _export(plan, protocol)
    bath = [_uid(e) for e in _live(before) if _uid(e).startswith("bath-")]
    assert bath
    after = _export(_plan(bath=False), protocol, at=EXPORTED + timedelta(hours=1))
    cancelled = {_uid(e): e for e in after.walk("VEVENT") if e.get("status") == "CANCELLED"}
    assert set(bath) <= set(cancelled)
    assert not [e for e in _live(after) if _uid(e).startswith("bath-")]
    old_sequence = int(next(e for e in _live(before) if _uid(e) == bath[0]).get("sequence"))
    assert int(cancelled[bath[0]].get("sequence")) > old_sequence


def test_a_medicine_that_is_stopped_is_sent_as_cancelled() -> None:
    plan = _plan(medicines=[{"name": "doxycycline", "times": ["21:00"]}])
    before = _export(plan, _protocol(plan))
    medicine = {
        _uid(e) for e in _live(before) if _uid(e).startswith(("medicine-", "no_magnesium-"))
    }
    assert medicine
    after = _export(_plan(), _protocol(plan), at=EXPORTED + timedelta(hours=1))
    cancelled = {_uid(e) for e in after.walk("VEVENT") if e.get("status") == "CANCELLED"}
    assert medicine <= cancelled


def test_evenings_across_the_clock_change_keep_their_wall_clock_time() -> None:
    plan = _plan()
    calendar = _export(plan, _protocol(plan))
    for step, wall in (("bath-", (20, 30)), ("magnesium-", (21, 0)), ("bedtime-", (22, 30))):
        starts = [s for e in _live(calendar) if _uid(e).startswith(step) for s in occurrences(e)]
        local = [s.astimezone(AMSTERDAM) for s in starts]
        around = [m for m in local if date(2026, 3, 27) <= m.date() <= date(2026, 3, 30)]
        assert [m.date().day for m in around] == [27, 28, 29, 30], step
        assert {(m.hour, m.minute) for m in local} == {wall}, step
        # Both sides of the change: the same wall-clock time is another UTC offset.
        assert {m.utcoffset() for m in around} == {timedelta(hours=1), timedelta(hours=2)}


def test_without_a_trial_every_evening_has_the_plans_intake() -> None:
    plan = _plan()
    calendar = _export(plan, None)
    intakes = evenings_with(calendar, ("magnesium-",))
    assert len(intakes) == 28
    assert all("200 mg" in summary for summary in intakes.values())


# ---- the same through the API --------------------------------------------------------------


def _calendar(person: Person, start: str) -> icalendar.Calendar:
    response = person.get("/schedule.ics", params={"start": start})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_the_api_calendar_follows_the_started_trial(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    moments = iter([EXPORTED, EXPORTED + timedelta(minutes=30)])
    exported = [EXPORTED]

    def exporting_now() -> datetime:
        return exported[-1]

    # The route reads the clock through its own name for `now`: set there, so the two
    # exports below are half an hour apart (SEQUENCE counts minutes).
    monkeypatch.setattr("mgsleep.web.api.plan.now", exporting_now)
    monkeypatch.setattr(clock, "now", exporting_now)
    anna = Person(app)
    assert anna.signup("anna").status_code == 201
    assert anna.put("/profile", json=API_PROFILE).status_code == 200
    trial = {
        "baseline_start": BASELINE_START.isoformat(),
        "magnesium_start": MAGNESIUM_START.isoformat(),
        "from_plan": True,
    }
    started = anna.post("/trial", json=trial)
    assert started.status_code == 201, started.text
    dose_mg = started.json()["dose_mg"]
    protocol = TrialProtocol.model_validate(
        {"baseline_start": BASELINE_START, "magnesium_start": MAGNESIUM_START}
    )
    exported[-1] = next(moments)
    first = _calendar(anna, FIRST_EVENING.isoformat())
    intakes = evenings_with(first, ("magnesium-",))
    assert sorted(intakes) == _trial_evenings(protocol, Evening.magnesium)
    assert not set(intakes) & set(_trial_evenings(protocol, Evening.diary_only))
    assert all(f"{dose_mg:.0f} mg" in summary for summary in intakes.values())
    assert all(e.walk("VALARM") for e in _live(first))
    assert anna.put("/profile", json={**API_PROFILE, "bedtime": "23:30"}).status_code == 200
    exported[-1] = next(moments)
    second = _calendar(anna, FIRST_EVENING.isoformat())
    old = {_uid(e): int(e.get("sequence")) for e in _live(first)}
    new = {_uid(e): int(e.get("sequence")) for e in _live(second)}
    assert set(new) == set(old)
    assert all(new[uid] > old[uid] for uid in new)

"""The evening on the clock: after midnight, both clock changes, iCalendar round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from mgsleep.ical import plan_calendar
from mgsleep.plan import make_plan
from mgsleep.profile import MedicineEntry, Profile
from mgsleep.schedule import evening, local_datetime, to_text

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _plan(**overrides: object):
    profile = Profile.model_validate(
        {"age": 45, "sex": "male", "complaints": ["falling_asleep"], "bath": True, **overrides}
    )
    return make_plan(profile, start=date(2026, 3, 28))


def _entry(timeline, kind):
    return next(e for e in timeline.entries if e.kind == kind)


def _real_minutes(earlier: datetime, later: datetime) -> float:
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() / 60


def test_an_ordinary_evening():
    timeline = evening(_plan(bedtime="22:30"), night=date(2026, 1, 14))
    magnesium = _entry(timeline, "magnesium")
    bath = _entry(timeline, "bath")
    assert magnesium.start == datetime(2026, 1, 14, 21, 30, tzinfo=AMSTERDAM)
    assert magnesium.end == datetime(2026, 1, 14, 22, 0, tzinfo=AMSTERDAM)
    assert (bath.start.hour, bath.start.minute) == (20, 30)  # 2 h before bed
    assert (bath.end.hour, bath.end.minute) == (21, 30)  # 1 h before bed


def test_a_bedtime_after_midnight_falls_on_the_next_day():
    timeline = evening(_plan(bedtime="01:00"), night=date(2026, 1, 14))
    assert timeline.bedtime == datetime(2026, 1, 15, 1, 0, tzinfo=AMSTERDAM)
    magnesium = _entry(timeline, "magnesium")
    assert magnesium.start == datetime(2026, 1, 15, 0, 0, tzinfo=AMSTERDAM)
    bath = _entry(timeline, "bath")
    assert bath.start == datetime(2026, 1, 14, 23, 0, tzinfo=AMSTERDAM)


def test_spring_forward_keeps_real_minutes():
    # 29 March 2026: clocks go from 02:00 to 03:00. Bed at 03:00 CEST is 01:00 UTC.
    timeline = evening(_plan(bedtime="03:00"), night=date(2026, 3, 28))
    bed = timeline.bedtime
    magnesium = _entry(timeline, "magnesium")
    assert bed.utcoffset() == timedelta(hours=2)
    assert _real_minutes(magnesium.start, bed) == 60
    assert magnesium.start.strftime("%H:%M %z") == "01:00 +0100"  # one wall-clock hour is skipped
    assert _real_minutes(_entry(timeline, "bath").start, bed) == 120


def test_a_bedtime_the_spring_change_skips_moves_forward():
    timeline = evening(_plan(bedtime="02:30"), night=date(2026, 3, 28))
    assert timeline.bedtime.strftime("%H:%M %z") == "03:30 +0200"


def test_fall_back_keeps_real_minutes():
    # 25 October 2026: clocks go from 03:00 back to 02:00; 02:30 happens twice.
    timeline = evening(_plan(bedtime="02:30"), night=date(2026, 10, 24))
    bed = timeline.bedtime
    magnesium = _entry(timeline, "magnesium")
    assert _real_minutes(magnesium.start, bed) == 60
    assert _real_minutes(magnesium.end, bed) == 30
    assert _real_minutes(_entry(timeline, "bath").start, bed) == 120


def test_a_medicine_across_the_spring_change_is_kept_apart_in_real_hours():
    plan = _plan(bedtime="23:30", medicines=[{"name": "ciprofloxacin", "times": ["21:00"]}])
    timeline = evening(plan, night=date(2026, 3, 28))
    magnesium = [e for e in timeline.entries if e.kind == "magnesium"]
    # 21:00 + 2 h must pass before magnesium; 23:00-23:30 is the nearest clear window
    assert [e.start.strftime("%H:%M") for e in magnesium] == ["23:00"]
    assert timeline.notes


def test_medicine_times_passed_in_override_the_profile():
    plan = _plan(bedtime="22:30", medicines=[{"name": "ciprofloxacin", "times": ["08:00"]}])
    timeline = evening(
        plan,
        medicines=[MedicineEntry(name="ciprofloxacin", times=[time(21, 0)])],
        night=date(2026, 1, 14),
    )
    # 21:00 blocks 15:00-23:00: magnesium moves to the afternoon, the antibiotic stays put.
    magnesium = [e for e in timeline.entries if e.kind == "magnesium"]
    assert [e.end.strftime("%H:%M") for e in magnesium] == ["15:00"]
    doses = [e.start.strftime("%H:%M") for e in timeline.entries if e.kind == "medicine"]
    assert "21:00" in doses
    assert not timeline.conflicts


def test_a_day_with_no_room_skips_magnesium_and_never_moves_the_medicine():
    times = ["06:00", "10:00", "14:00", "18:00", "22:00"]
    plan = _plan(bedtime="22:30", medicines=[{"name": "Tivicay", "times": times}])
    timeline = evening(plan, night=date(2026, 1, 14))
    assert not [e for e in timeline.entries if e.kind == "magnesium"]
    [conflict] = timeline.conflicts
    assert "skip magnesium" in conflict.message.en
    assert "another time" not in conflict.message.en


def test_a_medicine_without_times_is_reported():
    plan = _plan(medicines=[{"name": "doxycycline"}])
    timeline = evening(plan, night=date(2026, 1, 14))
    assert "no time is given" in timeline.conflicts[0].message.en


def test_local_datetime_handles_gaps():
    moment = local_datetime(date(2026, 3, 29), time(2, 15), AMSTERDAM)
    assert moment.strftime("%H:%M %z") == "03:15 +0200"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_ical_round_trip(lang):
    plan = _plan(bedtime="22:30")
    calendar = icalendar.Calendar.from_ical(plan_calendar(plan, date(2026, 3, 28), lang))
    events = [e for e in calendar.walk("VEVENT") if e.get("status") != "CANCELLED"]
    kinds = {str(e.get("uid")).split("-")[0] for e in events}
    assert kinds == {"bath", "magnesium", "glycine", "bedtime", "diary"}
    assert list(calendar.walk("VTIMEZONE"))
    magnesium = next(e for e in events if str(e.get("uid")).startswith("magnesium-0@"))
    start = magnesium.decoded("dtstart")
    assert start == datetime(2026, 3, 28, 21, 30, tzinfo=AMSTERDAM)
    assert str(start.tzinfo) == "Europe/Amsterdam"
    assert magnesium.get("rrule")["COUNT"] == [28]
    assert magnesium.get("rrule")["FREQ"] == ["DAILY"]
    summary = str(magnesium.get("summary"))
    assert summary.startswith("Magnesium: 200 mg als" if lang == "nl" else "Magnesium: 200 mg as")


def test_stop_plan_has_no_intake_in_the_calendar():
    plan = _plan(kidney_disease=True)
    calendar = icalendar.Calendar.from_ical(plan_calendar(plan, date(2026, 1, 14), "en"))
    live = [e for e in calendar.walk("VEVENT") if e.get("status") != "CANCELLED"]
    assert sorted(str(e.get("summary")) for e in live) == [
        "Fill in your sleep diary for last night",
        "Lights out",
    ]


def test_text_export_in_both_languages():
    timeline = evening(_plan(bedtime="22:30"), night=date(2026, 1, 14))
    assert "21:30–22:00" in to_text(timeline, "en")
    assert "Licht uit" in to_text(timeline, "nl")


# --- the running trial decides each evening ---------------------------------------------------


def _trial(**changes: object):
    from mgsleep.trial.protocol import TrialProtocol

    values = {
        "baseline_start": date(2026, 1, 15),
        "magnesium_start": date(2026, 1, 29),
        "form": "citrate",
        "dose_mg": 150,
        "intake_time": "21:00",
    }
    return TrialProtocol.model_validate(values | changes)


def _kinds(timeline) -> set[str]:
    return {e.kind for e in timeline.entries}


def test_a_baseline_evening_has_the_bath_and_no_intake():
    from mgsleep.schedule import trial_evening

    plan, trial = _plan(bedtime="22:30"), _trial()
    timeline = evening(plan, night=date(2026, 1, 20), trial=trial_evening(trial, date(2026, 1, 20)))
    assert "bath" in _kinds(timeline)
    assert not _kinds(timeline) & {"magnesium", "glycine", "companion", "no_magnesium"}
    assert any("No magnesium tonight" in note.en for note in timeline.notes)


def test_a_magnesium_evening_takes_the_trials_form_dose_and_time():
    from mgsleep.schedule import trial_evening

    plan, trial = _plan(bedtime="22:30"), _trial()
    night = date(2026, 1, 28)  # its morning is the first magnesium night
    timeline = evening(plan, night=night, trial=trial_evening(trial, night))
    magnesium = _entry(timeline, "magnesium")
    assert magnesium.start == datetime(2026, 1, 28, 21, 0, tzinfo=AMSTERDAM)
    assert magnesium.what.en.startswith("Magnesium for your trial: 150 mg as magnesium citrate")


def test_after_the_trial_the_plan_goes_on_as_it_is():
    from mgsleep.schedule import trial_evening

    trial = _trial(end="2026-03-01")
    assert trial_evening(trial, date(2026, 3, 5)) is None
    assert trial_evening(trial, date(2026, 1, 10)) is not None  # before: nothing yet


def test_safety_overrules_the_trial():
    from mgsleep.schedule import trial_evening

    night = date(2026, 1, 28)
    stop = evening(_plan(kidney_disease=True), night=night, trial=trial_evening(_trial(), night))
    assert "magnesium" not in _kinds(stop)
    # A medicine taken at the trial's time moves the magnesium away from it.
    plan = _plan(bedtime="22:30", medicines=[{"name": "levothyroxine", "times": ["21:00"]}])
    moved = evening(plan, night=night, trial=trial_evening(_trial(), night))
    magnesium = _entry(moved, "magnesium")
    assert magnesium.start.time() != time(21, 0)


def _blinded(**changes: object):
    from mgsleep.trial.protocol import TrialProtocol

    values = {
        "baseline_start": date(2026, 1, 15),
        "magnesium_start": date(2026, 1, 15),
        "design": "pairs",
        "pairs": 2,
        "period_nights": 7,
        "washout_days": 1,
        "blinded": True,
        "seed": 20260302,
        "form": "bisglycinate",
        "dose_mg": 200,
        "intake_time": "21:30",
    }
    return TrialProtocol.model_validate(values | changes)


def test_a_blinded_trial_gives_every_period_evening_the_same_numbered_dose():
    from mgsleep.schedule import trial_evening

    plan, trial = _plan(bedtime="22:30"), _blinded()
    whats = set()
    for offset in range(-1, 30):
        night = date(2026, 1, 15) + timedelta(days=offset)
        timeline = evening(plan, night=night, trial=trial_evening(trial, night))
        doses = [e for e in timeline.entries if e.kind == "magnesium"]
        # Nothing beside the dose (no glycine powder to taste), and the same words whatever
        # the allocation: the evening shows only the number to take.
        assert "glycine" not in _kinds(timeline)
        for dose in doses:
            whats.add(dose.what.en.split(" of ")[0])
            assert "200 mg" not in dose.what.en
    assert whats == {"Your trial dose: the one numbered for the evening"}


def test_a_blinded_trials_calendar_does_not_tell_the_arms_apart():
    plan = _plan(bedtime="22:30")
    first_period_night = date(2026, 1, 15)
    # The two seeds draw opposite orders: magnesium first in one, the placebo in the other.
    assert _blinded(seed=1).phase_of(first_period_night) != _blinded(seed=2).phase_of(
        first_period_night
    )
    one = plan_calendar(plan, date(2026, 1, 14), "en", protocol=_blinded(seed=1), key="k")
    other = plan_calendar(plan, date(2026, 1, 14), "en", protocol=_blinded(seed=2), key="k")
    assert one == other

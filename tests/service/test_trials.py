from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from mgsleep.diary.night import NightEntry
from mgsleep.errors import InputError, NotFound
from mgsleep.profile import Profile
from mgsleep.service import diary, trials
from mgsleep.service.profile import save_profile

DATES = {"baseline_start": date(2026, 1, 1), "magnesium_start": date(2026, 1, 15)}


def test_no_trial_is_not_found(session: Session, owner: int) -> None:
    with pytest.raises(NotFound) as missing:
        trials.running_trial(session, owner)
    assert missing.value.code == "no_trial"


def test_a_trial_from_the_plan_needs_a_profile(session: Session, owner: int) -> None:
    with pytest.raises(InputError) as refused:
        trials.start_trial(session, owner, DATES, from_plan=True)
    assert (refused.value.field, refused.value.code) == ("from_plan", "no_profile")


def test_a_trial_from_the_plan_tests_the_plans_magnesium(session: Session, owner: int) -> None:
    save_profile(session, owner, Profile(age=40, sex="female", bedtime="23:00"))
    protocol = trials.start_trial(session, owner, DATES, from_plan=True)
    assert protocol.dose_mg is not None
    assert protocol.form is not None
    assert protocol.intake_time is not None
    assert trials.running_trial(session, owner) == protocol


def test_a_too_short_baseline_is_named(session: Session, owner: int) -> None:
    short = {**DATES, "magnesium_start": date(2026, 1, 3)}
    with pytest.raises(InputError) as refused:
        trials.start_trial(session, owner, short)
    assert (refused.value.field, refused.value.code) == ("magnesium_start", "baseline_too_short")
    assert refused.value.problem.params["nights"] == 7


def _night(day: date, latency: int) -> NightEntry:
    return NightEntry(
        date=day,
        in_bed="22:30",
        lights_out="22:45",
        sleep_latency_min=latency,
        final_wake="06:30",
        out_of_bed="07:00",
    )


def test_the_analysis_is_worked_out_once_per_diary(session: Session, owner: int) -> None:
    trials.start_trial(session, owner, DATES)
    for offset in range(20):
        diary.add_night(
            session, owner, _night(DATES["baseline_start"] + timedelta(days=offset), 20)
        )
    first = trials.trial_inputs(session, owner)
    as_of = date(2026, 1, 21)
    analysis = trials.trial_analysis(first, as_of)
    # The same diary, read again: the same work, not done again.
    assert trials.trial_analysis(trials.trial_inputs(session, owner), as_of) is analysis
    assert trials.trial_charts(first, as_of, "en") is trials.trial_charts(first, as_of, "en")
    # One night changed: the analysis sees it at once.
    diary.add_night(session, owner, _night(date(2026, 1, 20), 45), replace=True)
    changed = trials.trial_analysis(trials.trial_inputs(session, owner), as_of)
    assert changed is not analysis
    assert (
        changed.outcomes["sleep_latency_min"].magnesium_mean
        != analysis.outcomes["sleep_latency_min"].magnesium_mean
    )

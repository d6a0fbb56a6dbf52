"""Today, for one person: tonight as the plan and the running trial have it, whether last night
is in the diary, the trial's progress and the nights it misses.

One read of the profile, the trial and the diary; the home page and the API show this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from mgsleep.schedule import PlannedEvening, TrialChange, plan_for, trial_departures
from mgsleep.service.profile import finished_profile
from mgsleep.store import repo
from mgsleep.trial.kinds import Evening, Phase
from mgsleep.trial.protocol import TrialProtocol

# Missing nights are pointed out for this far back: older ones are hard to recall well.
MISSING_LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class PhaseProgress:
    """Nights logged in one phase of the trial, of the nights the phase has had so far and of
    all the nights it will have (None for an open-ended phase)."""

    phase: Phase
    logged: int
    so_far: int
    planned: int | None


@dataclass(frozen=True)
class TrialProgress:
    protocol: TrialProtocol
    phases: list[PhaseProgress]
    verdict_due: date
    started: bool  # False until the first trial evening has come


@dataclass(frozen=True)
class Today:
    today: date
    planned: PlannedEvening | None  # None until the profile is finished
    instruction: Evening | None  # what the trial asks of tonight; None without a trial
    last_night: date  # the morning date of last night: today
    last_night_logged: bool
    trial: TrialProgress | None
    missing: list[date]  # trial nights of the last week not in the diary, newest first
    departures: list[TrialChange]  # what the plan now proposes differently from the trial


def today_view(session: Session, owner_id: int, today: date) -> Today:
    """What the home page shows. Reads the profile, the trial and the diary once."""
    protocol = repo.active_trial(session, owner_id)
    profile = finished_profile(session, owner_id)
    planned = None if profile is None else plan_for(profile, today, protocol)
    logged = {n.date for n in repo.get_nights(session, owner_id, start=_since(protocol, today))}
    return Today(
        today=today,
        planned=planned,
        instruction=None if protocol is None else protocol.evening(today),
        last_night=today,
        last_night_logged=today in logged,
        trial=None if protocol is None else trial_progress(protocol, logged, today),
        missing=[] if protocol is None else missing_nights(protocol, logged, today),
        departures=(
            []
            if protocol is None or planned is None
            else trial_departures(planned.plan, protocol, today)
        ),
    )


def _since(protocol: TrialProtocol | None, today: date) -> date:
    first = today - timedelta(days=MISSING_LOOKBACK_DAYS)
    return first if protocol is None else min(first, protocol.baseline_start)


def trial_progress(protocol: TrialProtocol, logged: set[date], today: date) -> TrialProgress:
    """Per phase: nights logged, nights so far (mornings up to today) and nights planned."""
    open_ended = protocol.scheduled_end() is None  # an A-B's magnesium phase runs on
    mornings = _days(protocol.baseline_start, protocol.last_planned_night())
    phases = []
    for phase in (Phase.baseline, Phase.magnesium):
        own = [day for day in mornings if protocol.phase_of(day) is phase]
        so_far = [day for day in own if day <= today]
        phases.append(
            PhaseProgress(
                phase=phase,
                logged=sum(1 for day in so_far if day in logged),
                so_far=len(so_far),
                planned=None if open_ended and phase is Phase.magnesium else len(own),
            )
        )
    return TrialProgress(
        protocol=protocol,
        phases=phases,
        verdict_due=protocol.verdict_due(),
        started=today >= protocol.baseline_start - timedelta(days=1),
    )


def missing_nights(protocol: TrialProtocol, logged: set[date], today: date) -> list[date]:
    """Trial nights of the week before last night (by morning date) without any entry; last
    night itself is asked for on its own."""
    first = max(protocol.baseline_start, today - timedelta(days=MISSING_LOOKBACK_DAYS))
    return [
        day
        for day in reversed(_days(first, today - timedelta(days=1)))
        if protocol.phase_of(day) is not None and day not in logged
    ]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]

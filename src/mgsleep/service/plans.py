"""The plan of a stored profile, under the running trial: what to take, when, and the
evening on the clock; and the same evenings as a calendar."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy.orm import Session

from mgsleep.errors import NotFound
from mgsleep.i18n import Lang
from mgsleep.schedule import PlannedEvening, plan_for
from mgsleep.service.profile import stored_profile
from mgsleep.store import repo
from mgsleep.trial.protocol import TrialProtocol


def stored_plan(session: Session, owner_id: int, first: date) -> PlannedEvening:
    """The plan of the stored profile (NotFound or Conflict while there is none finished),
    with the evening of `first` as the running trial has it."""
    profile = stored_profile(session, owner_id)
    return plan_for(profile, first, repo.active_trial(session, owner_id))


def running_protocol(session: Session, owner_id: int) -> TrialProtocol | None:
    """The running trial's protocol, which decides each evening while it runs."""
    return repo.active_trial(session, owner_id)


def end_running_trial(session: Session, owner_id: int) -> None:
    """End the running trial (its nights and protocol stay for the report); NotFound without
    one."""
    if not repo.end_trial(session, owner_id):
        raise NotFound("trial", "no_trial", hint="start_trial")


def calendar_key(owner_id: int) -> str:
    """Names a person's calendar in its event UIDs: the same on every export, so a calendar
    app replaces the old events; no user number in the file."""
    return hashlib.sha256(f"mgsleep-calendar:{owner_id}".encode()).hexdigest()[:16]


def stored_calendar(
    session: Session, owner_id: int, first: date, lang: Lang, exported_at: datetime
) -> bytes:
    """The evenings from `first` as an iCalendar file, day by day as the trial says."""
    from mgsleep.ical import plan_calendar

    planned = stored_plan(session, owner_id, first)
    return plan_calendar(
        planned.plan,
        first,
        lang,
        protocol=planned.trial,
        key=calendar_key(owner_id),
        exported_at=exported_at,
    )

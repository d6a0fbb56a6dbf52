"""The plan of a stored profile: what to take, when, and the first evening on the clock."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mgsleep.schedule import PlannedEvening, plan_for
from mgsleep.service.profile import stored_profile


def stored_plan(session: Session, owner_id: int, first: date) -> PlannedEvening:
    """The plan of the stored profile (NotFound or Conflict while there is none finished)."""
    return plan_for(stored_profile(session, owner_id), first)

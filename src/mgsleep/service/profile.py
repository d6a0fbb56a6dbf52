"""The person's profile as stored: the answers as entered, the questionnaire's progress, and
the two things every other use case asks of it (the person's zone and today's date)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from mgsleep.clock import parse_clock, today_in, zone_or_default
from mgsleep.errors import Conflict, InputError, NotFound
from mgsleep.profile import Profile
from mgsleep.store import repo


@dataclass(frozen=True)
class StoredAnswers:
    """What the person has entered so far, and which questionnaire steps are finished
    (None: the profile is complete, or was stored whole)."""

    answers: dict[str, Any]
    steps_done: list[int] | None


def stored_answers(session: Session, owner_id: int) -> StoredAnswers | None:
    data = repo.get_profile(session, owner_id)
    if data is None:
        return None
    return StoredAnswers(answers=data, steps_done=repo.get_profile_progress(session, owner_id))


def stored_profile(session: Session, owner_id: int) -> Profile:
    """The complete profile; NotFound before one is stored, Conflict while it is unfinished."""
    stored = stored_answers(session, owner_id)
    if stored is None:
        raise NotFound("profile", "no_profile", hint="store_profile")
    if stored.steps_done is not None:
        raise Conflict("profile", "profile_unfinished", hint="store_profile")
    try:
        return Profile.model_validate(stored.answers)
    except ValidationError as error:
        problem = InputError.from_validation(error).problem
        raise Conflict(problem.field, "profile_unfinished", hint="store_profile") from error


def finished_profile(session: Session, owner_id: int) -> Profile | None:
    """The complete profile, or None (pages offer to finish it instead of failing)."""
    try:
        return stored_profile(session, owner_id)
    except InputError:
        return None


def as_entered(profile: Profile) -> dict[str, Any]:
    """What the person gave, JSON-ready; defaults stay out, so they can improve later."""
    return profile.model_dump(mode="json", exclude_unset=True)


def save_profile(session: Session, owner_id: int, profile: Profile) -> Profile:
    """Store a complete profile (the API, a profile file)."""
    repo.save_profile(session, owner_id, as_entered(profile))
    return profile


def save_answers(
    session: Session, owner_id: int, answers: dict[str, Any], steps_done: Iterable[int] | None
) -> None:
    """Store the questionnaire's answers so far; `steps_done` None marks it complete."""
    repo.save_profile(session, owner_id, answers, steps_done=steps_done)


def person_zone(session: Session, owner_id: int) -> str:
    """The person's time zone from their answers, which may still be half filled in."""
    return zone_or_default((repo.get_profile(session, owner_id) or {}).get("timezone"))


def usual_bedtime(session: Session, owner_id: int) -> time | None:
    """The bedtime given in the profile (even a half-filled one), or None."""
    given = (repo.get_profile(session, owner_id) or {}).get("bedtime")
    try:
        return parse_clock(given) if given else None
    except ValueError:
        return None


def person_today(session: Session, owner_id: int, at: datetime | None = None) -> date:
    """Today where the person lives: the date every "today" default of a use case takes."""
    return today_in(person_zone(session, owner_id), at)

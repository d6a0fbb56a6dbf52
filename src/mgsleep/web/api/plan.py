"""/profile, /screen, /plan, /schedule.ics: the person's answers and what follows from them."""

from __future__ import annotations

from fastapi.responses import Response

from mgsleep.clock import now
from mgsleep.profile import Profile
from mgsleep.public import PlanPublic, ScreenResult, plan_public, screen_result
from mgsleep.safety import screen
from mgsleep.service.plans import stored_calendar, stored_plan
from mgsleep.service.profile import as_entered, save_profile, stored_profile
from mgsleep.web.api.common import StartQuery, documented, guarded_router
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep

guarded = guarded_router()


class ProfilePublic(Profile):
    """The stored profile, in the same keys and forms as PUT /profile accepts."""


def _profile_public(profile: Profile) -> ProfilePublic:
    return ProfilePublic.model_validate(as_entered(profile))


@guarded.get("/profile", tags=["profile"], responses=documented(404, 409))
def read_profile(session: SessionDep, user: CurrentUser) -> ProfilePublic:
    """The stored profile, as entered (404 before one is stored, 409 while unfinished)."""
    return _profile_public(stored_profile(session, user.id))


@guarded.put("/profile", tags=["profile"], responses=documented(422))
def write_profile(session: SessionDep, user: CurrentUser, profile: Profile) -> ProfilePublic:
    """Store the profile (the same keys as a profile file for `mgsleep plan`)."""
    return _profile_public(save_profile(session, user.id, profile))


@guarded.get("/screen", tags=["plan"], responses=documented(404, 409))
def screen_stored(session: SessionDep, user: CurrentUser, lang: LocaleDep) -> ScreenResult:
    """The safety screen for the stored profile."""
    return screen_result(screen(stored_profile(session, user.id)), lang)


@guarded.post("/screen", tags=["plan"], responses=documented(422))
def screen_given(profile: Profile, lang: LocaleDep) -> ScreenResult:
    """The safety screen for the profile in the body; nothing is stored."""
    return screen_result(screen(profile), lang)


@guarded.get("/plan", tags=["plan"], responses=documented(404, 409, 422))
def read_plan(
    session: SessionDep,
    user: CurrentUser,
    lang: LocaleDep,
    today: TodayDep,
    start: StartQuery = None,
) -> PlanPublic:
    """Findings first, then the plan, then the first evening on the clock."""
    planned = stored_plan(session, user.id, start or today)
    return plan_public(planned.plan, planned.evening, lang)


@guarded.get(
    "/schedule.ics",
    tags=["plan"],
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "an iCalendar file"},
        **documented(404, 409, 422),
    },
)
def schedule_ics(
    session: SessionDep,
    user: CurrentUser,
    lang: LocaleDep,
    today: TodayDep,
    start: StartQuery = None,
) -> Response:
    """The evenings as daily events with reminders, as the running trial's protocol has them
    (no intake on its nights without magnesium), and a morning diary prompt. UIDs stay the
    same on every export, so importing again replaces the old events."""
    return Response(
        stored_calendar(session, user.id, start or today, lang, now()),
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-evening.ics"'},
    )

"""/today: what the home page shows, for programs (a phone widget, a reminder)."""

from __future__ import annotations

from mgsleep.public import TodayPublic, today_public
from mgsleep.service.today import today_view
from mgsleep.web.api.common import guarded_router
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep

guarded = guarded_router()


@guarded.get("/today", tags=["plan"])
def read_today(
    session: SessionDep, user: CurrentUser, lang: LocaleDep, today: TodayDep
) -> TodayPublic:
    """Tonight as the plan and the running trial have it, whether last night is in the diary,
    the trial's nights per phase and the trial nights of the past week that are missing."""
    return today_public(today_view(session, user.id, today), lang)

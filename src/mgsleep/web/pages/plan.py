"""The plan, its printable version and its calendar."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.evidence import load_evidence
from mgsleep.i18n import Lang
from mgsleep.profile import (
    Profile,
)
from mgsleep.schedule import PlannedEvening, plan_calendar, plan_for
from mgsleep.service.profile import finished_profile, stored_answers
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep
from mgsleep.web.pages.common import N_, formatters, references_for_keys, render, render_fragment
from mgsleep.web.pages.questionnaire import steps_done
from mgsleep.web.pages.questionnaire_steps import STEPS

router = APIRouter()


OUTCOME_LABELS = {
    "sleep_latency_min": N_("Time to fall asleep"),
    "total_sleep_min": N_("Total sleep"),
    "quality": N_("Sleep quality"),
    "side_effects": N_("Side effects"),
}


def _stored_profile(session: Session, owner_id: int) -> tuple[Profile | None, int]:
    """The finished profile, or None with the step to continue at."""
    profile = finished_profile(session, owner_id)
    if profile is not None:
        return profile, 1
    done = steps_done(stored_answers(session, owner_id))
    return None, next((s.number for s in STEPS if s.number not in done), 1)


# Plan bodies kept per process: a person views their plan many times a day, unchanged.
CACHED_BODIES = 256


@functools.lru_cache(maxsize=CACHED_BODIES)
def _planned(profile_json: str, today: date) -> PlannedEvening:
    """The same answers give the same plan on the same day (the core reads no clock)."""
    return plan_for(Profile.model_validate_json(profile_json), today)


@functools.lru_cache(maxsize=CACHED_BODIES)
def _plan_body(profile_json: str, today: date, lang: Lang, printable: bool) -> str:
    """The plan's findings, reasons, timeline and sources, rendered once per profile, day and
    language."""
    ev = load_evidence()
    planned = _planned(profile_json, today)
    plan, timeline, profile = planned.plan, planned.evening, planned.profile
    cited = {*plan.citations, *(c for e in timeline.entries for c in e.citations)}
    cited |= {c for conflict in timeline.conflicts for c in conflict.citations}
    return render_fragment(
        "_plan_body_alone.html",
        lang,
        plan=plan,
        timeline=timeline,
        profile=profile,
        ev=ev,
        sources=references_for_keys(cited, ev),
        outcome_labels=OUTCOME_LABELS,
        today=today,
        printable=printable,
        **formatters(lang),
    )


def _plan_context(
    lang: Lang, profile: Profile, today: date, *, printable: bool = False
) -> dict[str, Any]:
    key = profile.model_dump_json()
    return {
        "plan": _planned(key, today).plan,
        "plan_body": _plan_body(key, today, lang, printable),
        "profile": profile,
        "today": today,
        **formatters(lang),
    }


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep, today: TodayDep
) -> Response:
    profile, next_step = _stored_profile(session, user.id)
    if profile is None:
        return render(request, "plan.html", lang, user, plan=None, next_step=next_step)
    return render(request, "plan.html", lang, user, **_plan_context(lang, profile, today))


@router.get("/plan/print", response_class=HTMLResponse)
def plan_print(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep, today: TodayDep
) -> Response:
    profile, _next_step = _stored_profile(session, user.id)
    if profile is None:
        return RedirectResponse("/plan", status_code=303)
    context = _plan_context(lang, profile, today, printable=True)
    return render(request, "plan_print.html", lang, user, **context)


@router.get("/plan.ics")
def plan_ics(lang: LocaleDep, user: CurrentUser, session: SessionDep, today: TodayDep) -> Response:
    """The evening as a daily calendar for the trial's length (the same as the API's)."""
    profile = finished_profile(session, user.id)
    if profile is None:
        return RedirectResponse("/plan", status_code=303)
    plan = plan_for(profile, today).plan
    return Response(
        plan_calendar(plan, today, lang),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-evening.ics"'},
    )

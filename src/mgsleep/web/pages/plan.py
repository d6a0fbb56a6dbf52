"""The plan, its printable version and its calendar."""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.clock import now
from mgsleep.evidence import load_evidence
from mgsleep.evidence.schema import Reference
from mgsleep.i18n import Lang
from mgsleep.profile import (
    Profile,
)
from mgsleep.schedule import PlannedEvening, plan_for, trial_departures
from mgsleep.service.plans import end_running_trial, running_protocol, stored_calendar
from mgsleep.service.profile import finished_profile, stored_answers
from mgsleep.trial.protocol import TrialProtocol
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep
from mgsleep.web.pages.common import (
    N_,
    FormCsrf,
    formatters,
    references_for_keys,
    render,
    render_fragment,
)
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


PlanPart = Literal["answer", "details", "all"]
SOURCES_PAGE = "/plan/sources"

# Plan bodies kept per process: a person views their plan many times a day, unchanged.
CACHED_BODIES = 256


@functools.lru_cache(maxsize=CACHED_BODIES)
def _planned(profile_json: str, trial_json: str | None, today: date) -> PlannedEvening:
    """The same answers and trial give the same plan on the same day (the core reads no
    clock)."""
    protocol = None if trial_json is None else TrialProtocol.model_validate_json(trial_json)
    return plan_for(Profile.model_validate_json(profile_json), today, protocol)


@functools.lru_cache(maxsize=CACHED_BODIES)
def _plan_body(
    profile_json: str, trial_json: str | None, today: date, lang: Lang, part: PlanPart
) -> str:
    """A part of the plan (the answer, the folded details, or all of it for printing),
    rendered once per profile, trial, day and language."""
    ev = load_evidence()
    planned = _planned(profile_json, trial_json, today)
    plan, timeline, profile = planned.plan, planned.evening, planned.profile
    return render_fragment(
        "_plan_body_alone.html",
        lang,
        plan=plan,
        timeline=timeline,
        profile=profile,
        ev=ev,
        sources=_plan_sources(planned),
        outcome_labels=OUTCOME_LABELS,
        today=today,
        printable=part == "all",
        part=part,
        # On screen the numbered sources have a page of their own; the print has them inline.
        sources_page=None if part == "all" else SOURCES_PAGE,
        **formatters(lang),
    )


def _plan_sources(planned: PlannedEvening) -> list[Reference]:
    """Every source the plan and its evening cite, in the order they are numbered."""
    plan, timeline = planned.plan, planned.evening
    cited = {*plan.citations, *(c for e in timeline.entries for c in e.citations)}
    cited |= {c for conflict in timeline.conflicts for c in conflict.citations}
    return references_for_keys(cited, load_evidence())


def _plan_context(
    lang: Lang,
    profile: Profile,
    protocol: TrialProtocol | None,
    today: date,
    *,
    printable: bool = False,
) -> dict[str, Any]:
    key = profile.model_dump_json()
    trial_key = None if protocol is None else protocol.model_dump_json()
    planned = _planned(key, trial_key, today)
    return {
        "plan": planned.plan,
        "planned": planned,
        "departures": [] if protocol is None else trial_departures(planned.plan, protocol, today),
        **(
            {"plan_body": _plan_body(key, trial_key, today, lang, "all")}
            if printable
            else {
                "plan_answer": _plan_body(key, trial_key, today, lang, "answer"),
                "plan_details": _plan_body(key, trial_key, today, lang, "details"),
            }
        ),
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
    protocol = running_protocol(session, user.id)
    context = _plan_context(lang, profile, protocol, today)
    ended = request.query_params.get("trial") == "ended"
    return render(request, "plan.html", lang, user, trial_ended=ended, **context)


def _stored_plan_context(
    session: Session, owner_id: int, lang: Lang, today: date, *, printable: bool = False
) -> dict[str, Any] | None:
    """The plan page's context from the stored profile; None while it is not finished."""
    profile, _next_step = _stored_profile(session, owner_id)
    if profile is None:
        return None
    protocol = running_protocol(session, owner_id)
    return _plan_context(lang, profile, protocol, today, printable=printable)


@router.get("/plan/print", response_class=HTMLResponse)
def plan_print(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep, today: TodayDep
) -> Response:
    context = _stored_plan_context(session, user.id, lang, today, printable=True)
    if context is None:
        return RedirectResponse("/plan", status_code=303)
    return render(request, "plan_print.html", lang, user, **context)


@router.get("/plan/sources", response_class=HTMLResponse)
def plan_sources(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep, today: TodayDep
) -> Response:
    """The plan's sources, numbered as its footnotes are."""
    context = _stored_plan_context(session, user.id, lang, today)
    if context is None:
        return RedirectResponse("/plan", status_code=303)
    sources = _plan_sources(context["planned"])
    return render(request, "plan_sources.html", lang, user, sources=sources)


@router.post("/plan/trial-choice", dependencies=[FormCsrf])
def trial_choice(
    user: CurrentUser, session: SessionDep, choice: Annotated[str, Form()] = ""
) -> Response:
    """After a profile change that alters what the trial tests: end the trial, or keep it
    (the plan already follows the trial's magnesium while it runs)."""
    if choice == "end":
        end_running_trial(session, user.id)
        return RedirectResponse("/plan?trial=ended", status_code=303)
    return RedirectResponse("/trial", status_code=303)


@router.get("/plan.ics")
def plan_ics(lang: LocaleDep, user: CurrentUser, session: SessionDep, today: TodayDep) -> Response:
    """The evening as a daily calendar for the trial's length (the same as the API's)."""
    if finished_profile(session, user.id) is None:
        return RedirectResponse("/plan", status_code=303)
    return Response(
        stored_calendar(session, user.id, today, lang, now()),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-evening.ics"'},
    )

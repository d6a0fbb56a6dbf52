"""The profile questionnaire, one step a page."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mgsleep.i18n import Lang, translations
from mgsleep.service.profile import save_answers, stored_answers
from mgsleep.store.repo import Account
from mgsleep.web.deps import CurrentUser, LocaleDep, OptionalUser, SessionDep
from mgsleep.web.pages.common import FormCsrf, FormDep, render
from mgsleep.web.pages.questionnaire import (
    StepValues,
    answers_from_form,
    answers_from_profile,
    check_step,
    steps_done,
    whole_profile_errors,
)
from mgsleep.web.pages.questionnaire_steps import (
    BLANK_ROWS,
    CHOICES,
    COMMON_TIMEZONES,
    LAST_STEP,
    MULTI_CHOICES,
    STEPS,
    Step,
    step_of,
)

router = APIRouter()


def _profile_page(
    request: Request,
    lang: Lang,
    user: Account,
    step: Step,
    answers: dict[str, Any],
    done: set[int],
    *,
    errors: dict[str, str] | None = None,
    unanswered: list[Step] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    answers = dict(answers)
    for kind in ("medicines", "supplements"):
        filled = [row for row in answers[kind] if any(v for k, v in row.items() if k != "id")]
        answers[kind] = [*filled, *({"id": secrets.token_hex(4)} for _ in range(BLANK_ROWS))]
    return render(
        request,
        "profile.html",
        lang,
        user,
        status_code=status_code,
        step=step,
        steps=STEPS,
        done=done,
        answers=answers,
        errors=errors or {},
        unanswered=unanswered or [],
        choices=CHOICES,
        multi_choices=MULTI_CHOICES,
        timezones=COMMON_TIMEZONES,
    )


@router.get("/profile", response_class=HTMLResponse)
def profile_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    step: str | None = None,
) -> Response:
    stored = stored_answers(session, user.id)
    done = steps_done(stored)
    first_open = next((s.number for s in STEPS if s.number not in done), 1)
    current = step_of(step, first_open)
    answers = answers_from_profile(stored.answers if stored else {}, lang)
    return _profile_page(request, lang, user, current, answers, done)


@router.post("/profile", dependencies=[FormCsrf])
def profile_submit(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    form: FormDep,
    step: str | None = None,
) -> Response:
    """Check one step, save the answers so far, and go on (to the plan after the last)."""
    gettext = translations(lang).gettext
    stored = stored_answers(session, user.id)
    kept = stored.answers if stored else {}
    current = step_of(step)
    done = steps_done(stored)
    answers = answers_from_form(form, current, answers_from_profile(kept, lang))
    parsed = StepValues(gettext).read(current, answers)
    if not parsed.errors:
        check_step(current, kept, parsed)
    if parsed.errors:
        return _profile_page(
            request, lang, user, current, answers, done, errors=parsed.errors, status_code=422
        )
    merged = {**kept, **parsed.values}
    done = done | {current.number}
    broken = whole_profile_errors(merged) if len(done) == len(STEPS) else []
    unanswered = [s for s in STEPS if s.number not in done or s.number in broken]
    save_answers(session, user.id, merged, sorted(done - set(broken)) if unanswered else None)
    if form.get("action") == "more":
        return RedirectResponse(f"/profile?step={current.number}", status_code=303)
    if current.number < LAST_STEP:
        return RedirectResponse(f"/profile?step={current.number + 1}", status_code=303)
    if unanswered:
        return _profile_page(
            request, lang, user, current, answers, done, unanswered=unanswered, status_code=422
        )
    return RedirectResponse("/plan", status_code=303)


@router.get("/profile/row/{kind}", response_class=HTMLResponse)
def profile_row(request: Request, lang: LocaleDep, user: OptionalUser, kind: str) -> Response:
    """One more empty medicine or supplement row (htmx; without it the form adds rows)."""
    if kind not in {"medicine", "supplement"}:
        return Response(status_code=404)
    row = {"id": secrets.token_hex(4)}
    return render(request, "_profile_row.html", lang, user, kind=kind, row=row, errors={})

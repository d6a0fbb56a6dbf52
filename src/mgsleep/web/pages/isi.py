"""The Insomnia Severity Index: the questions, the score, the history."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.diary.questionnaires import score
from mgsleep.errors import InputError
from mgsleep.evidence.schema import Questionnaire
from mgsleep.i18n import Lang, translations
from mgsleep.service.isi import isi, isi_history, latest_isi, record_isi
from mgsleep.store.repo import Account
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep
from mgsleep.web.pages.common import FormCsrf, Gettext, PostedFields, htmx_status, page, parse_count

router = APIRouter()


def _answer_name(number: int) -> str:
    return f"item_{number}"


def _isi_answers(
    q: Questionnaire, fields: Mapping[str, str], _: Gettext
) -> tuple[list[int], dict[int, str]]:
    """The answers as numbers; an item left open is named, its range is the core's to check."""
    answers: list[int] = []
    errors: dict[int, str] = {}
    for number in range(1, len(q.items) + 1):
        try:
            answers.append(int(fields.get(_answer_name(number), "")))
        except ValueError:
            errors[number] = _("Choose one answer.")
    if errors:
        return answers, errors
    try:
        score(q, answers)
    except InputError as error:
        number = parse_count(error.field.removeprefix("answers.")) or 1
        errors[number] = _("Choose one of the answers shown.")
    return answers, errors


def _isi_page(
    request: Request,
    lang: Lang,
    user: Account,
    session: Session,
    *,
    chosen: Mapping[str, str] | None = None,
    errors: dict[int, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    q = isi()
    return page(
        request,
        "isi.html",
        lang,
        user,
        status_code=htmx_status(request, status_code),
        q=q,
        items=list(enumerate(q.items, start=1)),
        values=list(range(q.item_min, q.item_max + 1)),
        chosen=chosen or {},
        errors=errors or {},
        answer_name=_answer_name,
        result=latest_isi(session, user.id),
        history=list(reversed(isi_history(session, user.id))),
        saved=saved,
    )


@router.get("/isi", response_class=HTMLResponse)
def isi_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    saved: str | None = None,
) -> Response:
    return _isi_page(request, lang, user, session, saved=bool(saved))


@router.post("/isi", dependencies=[FormCsrf])
def isi_submit(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    today: TodayDep,
    fields: PostedFields,
) -> Response:
    answers, errors = _isi_answers(isi(), fields, translations(lang).gettext)
    if errors:
        return _isi_page(
            request, lang, user, session, chosen=fields, errors=errors, status_code=422
        )
    # A second answer on the same day is a correction of the first.
    record_isi(session, user.id, answers, today, replace=True)
    return RedirectResponse("/isi?saved=1#result", status_code=303)

"""The upload page for wearable and app exports: the same importers and summary as the CLI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mgsleep.diary.imports import ImportReport
from mgsleep.diary.sources import ENGLISH_NAMES, SOURCE_NAMES, SOURCES
from mgsleep.errors import GENERIC, InputError, Problem, render
from mgsleep.i18n import Lang, translations
from mgsleep.lang import N_
from mgsleep.service.imports import import_file, zone_summary
from mgsleep.service.profile import person_zone
from mgsleep.store.repo import Account
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep
from mgsleep.web.pages.common import FormCsrf, htmx_status
from mgsleep.web.pages.common import render as render_page

router = APIRouter()

DEFAULT_SOURCE = "fitbit"
# A reader's own English (a parser's message, a header it expected) is for the API and the
# CLI; the page says in the reader's language what went wrong and what to do.
NOT_THIS_EXPORT = N_(
    "This file cannot be read as an export of {source}. Check that you chose the app the file "
    "comes from, and that it is the file the app exports, unchanged."
)
NO_RECORD_READABLE = N_(
    "No night could be read from this file: all {count} records were refused. Check that it "
    "is the file {source} exports, unchanged."
)


def source_options(lang: Lang) -> list[dict[str, str | bool]]:
    """Every source as the dropdown shows it: the key as the value, the name to read."""
    gettext = translations(lang).gettext
    return [
        {"key": key, "name": gettext(SOURCE_NAMES[key]), "english": key in ENGLISH_NAMES}
        for key in SOURCES
    ]


def failure_message(found: Problem, source: str, lang: Lang) -> str:
    """Why an import failed, in the reader's words: by code, never the reader's English, and
    the source by its name, never its key."""
    gettext = translations(lang).gettext
    name = gettext(SOURCE_NAMES.get(source, SOURCE_NAMES[DEFAULT_SOURCE]))
    if found.code in GENERIC:
        return gettext(NOT_THIS_EXPORT).format(source=name)
    if found.code == "no_night_readable":
        return gettext(NO_RECORD_READABLE).format(source=name, count=found.params.get("count", 0))
    return render(Problem(found.field, found.code, found.params), lang)


def _import_page(
    request: Request,
    lang: Lang,
    user: Account,
    *,
    chosen: str,
    report: ImportReport | None = None,
    error: str | None = None,
) -> HTMLResponse:
    return render_page(
        request,
        "import.html",
        lang,
        user,
        # htmx swaps in only successful answers; the message must still reach the page.
        status_code=htmx_status(request, 200 if error is None else 422),
        sources=source_options(lang),
        report=report,
        zone_summary=zone_summary(report, lang) if report is not None else "",
        error=error,
        chosen=chosen if chosen in SOURCES else DEFAULT_SOURCE,
    )


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, lang: LocaleDep, user: CurrentUser) -> Response:
    return _import_page(request, lang, user, chosen=DEFAULT_SOURCE)


@router.post("/import", dependencies=[FormCsrf])
def import_upload(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    source: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[str, Form()] = "",
    replace: Annotated[str, Form()] = "",
) -> Response:
    try:
        report = import_file(
            session,
            user.id,
            source,
            file.file,
            timezone=person_zone(session, user.id),
            replace=replace == "yes",
            dry_run=dry_run == "yes",
        )
    except InputError as problem:
        error = failure_message(problem.problem, source, lang)
        return _import_page(request, lang, user, chosen=source, error=error)
    return _import_page(request, lang, user, chosen=source, report=report)

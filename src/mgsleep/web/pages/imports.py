"""The upload page for wearable and app exports: the same importers and summary as the CLI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mgsleep.diary.sources import SOURCES
from mgsleep.errors import InputError, sentence
from mgsleep.service.imports import import_file
from mgsleep.service.profile import person_zone
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep
from mgsleep.web.pages.common import FormCsrf, render

router = APIRouter()


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, lang: LocaleDep, user: CurrentUser) -> Response:
    return render(
        request,
        "import.html",
        lang,
        user,
        sources=list(SOURCES),
        report=None,
        error=None,
        chosen="fitbit",
    )


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
    error = None
    report = None
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
        error = sentence(problem.problem, lang)
    return render(
        request,
        "import.html",
        lang,
        user,
        status_code=200 if error is None else 422,
        sources=list(SOURCES),
        report=report,
        error=error,
        chosen=source if source in SOURCES else "fitbit",
    )

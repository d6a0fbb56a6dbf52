"""The upload page for wearable and app exports: the same importers and summary as the CLI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mgsleep.clock import DEFAULT_TIMEZONE
from mgsleep.diary.imports import SOURCES, reader_for
from mgsleep.errors import InputError
from mgsleep.store.importing import apply_import
from mgsleep.store.repo import DuplicateNight, get_profile
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep
from mgsleep.web.pages import FormCsrf, render

router = APIRouter()


def _zone(session: SessionDep, owner_id: int) -> str:
    profile = get_profile(session, owner_id) or {}
    zone = profile.get("timezone")
    return zone if isinstance(zone, str) and zone else DEFAULT_TIMEZONE


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
    if source not in SOURCES:
        error = f"source: unknown ({source!r}); valid: {', '.join(SOURCES)}"
    else:
        try:
            # A savepoint: a refused file leaves the diary exactly as it was.
            with session.begin_nested():
                items = reader_for(source)(file.file, _zone(session, user.id))
                report = apply_import(
                    session, user.id, items, replace=replace == "yes", dry_run=dry_run == "yes"
                )
        except InputError as problem:
            error = problem.reason
        except DuplicateNight as problem:
            error = str(problem)
    status = 200 if error is None else 422
    return render(
        request,
        "import.html",
        lang,
        user,
        status_code=status,
        sources=list(SOURCES),
        report=report,
        error=error,
        chosen=source,
    )

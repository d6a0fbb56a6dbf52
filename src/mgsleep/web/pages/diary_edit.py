"""One night of the diary: changed or deleted, each on a page of its own."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mgsleep.diary.night import DIARY_SOURCE, NightEntry, NightTag, SideEffect
from mgsleep.errors import NotFound
from mgsleep.i18n import Lang
from mgsleep.service import diary
from mgsleep.store.repo import Account
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep
from mgsleep.web.pages.common import FormCsrf, htmx_status, page, parse_date
from mgsleep.web.pages.night_form import (
    NightFormDep,
    entry_values,
    form_values,
    read_night,
    source_query,
)

router = APIRouter()

EditMode = Literal["edit", "delete", "missing"]


def _edit_page(
    request: Request,
    lang: Lang,
    user: Account,
    *,
    mode: EditMode,
    night: date | None,
    source: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    query = source_query(source)
    action = "" if night is None else f"/diary/{night.isoformat()}{query}"
    return page(
        request,
        "diary_edit.html",
        lang,
        user,
        status_code=htmx_status(request, status_code),
        mode=mode,
        night=night,
        query=query,
        action=action,
        form_mode="edit",
        values=values or {},
        errors=errors or {},
        side_effects=[effect.value for effect in SideEffect],
        tags=[tag.value for tag in NightTag],
        blinded=False,
    )


def _missing(
    request: Request, lang: Lang, user: Account, night: date | None, source: str
) -> HTMLResponse:
    return _edit_page(
        request, lang, user, mode="missing", night=night, source=source, status_code=404
    )


def _stored(
    session: SessionDep, owner_id: int, night: date | None, source: str
) -> NightEntry | None:
    if night is None:
        return None
    try:
        return diary.night(session, owner_id, night, source)
    except NotFound:
        return None


@router.get("/diary/{night_date}", response_class=HTMLResponse)
def diary_edit_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    source: str = DIARY_SOURCE,
) -> Response:
    night = parse_date(night_date)
    entry = _stored(session, user.id, night, source)
    if entry is None:
        return _missing(request, lang, user, night, source)
    values = entry_values(entry)
    return _edit_page(request, lang, user, mode="edit", night=night, source=source, values=values)


@router.post("/diary/{night_date}", dependencies=[FormCsrf])
def diary_edit(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    form: NightFormDep,
    source: str = DIARY_SOURCE,
) -> Response:
    night = parse_date(night_date)
    stored = _stored(session, user.id, night, source)
    if night is None or stored is None:
        return _missing(request, lang, user, night, source)
    entry, errors = read_night(form, night.isoformat(), stored.timezone, source, lang)
    if entry is None:
        return _edit_page(
            request,
            lang,
            user,
            mode="edit",
            night=night,
            source=source,
            values=form_values(form),
            errors=errors,
            status_code=422,
        )
    diary.change_night(session, user.id, night, entry)
    return RedirectResponse(f"/diary?saved={night.isoformat()}", status_code=303)


@router.get("/diary/{night_date}/delete", response_class=HTMLResponse)
def diary_delete_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    source: str = DIARY_SOURCE,
) -> Response:
    night = parse_date(night_date)
    if _stored(session, user.id, night, source) is None:
        return _missing(request, lang, user, night, source)
    return _edit_page(request, lang, user, mode="delete", night=night, source=source)


@router.post("/diary/{night_date}/delete", dependencies=[FormCsrf])
def diary_delete(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    source: str = DIARY_SOURCE,
) -> Response:
    night = parse_date(night_date)
    if night is None or _stored(session, user.id, night, source) is None:
        return _missing(request, lang, user, night, source)
    diary.remove_night(session, user.id, night, source)
    return RedirectResponse(f"/diary?deleted={night.isoformat()}", status_code=303)

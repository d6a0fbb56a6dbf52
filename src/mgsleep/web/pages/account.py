"""The account: everything stored, exported or deleted, and the tokens of apps that push."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.errors import InputError, render
from mgsleep.i18n import Lang, translations
from mgsleep.service import diary, ingest
from mgsleep.service.account import export_everything
from mgsleep.store.repo import Account, delete_account
from mgsleep.web.deps import (
    SESSION_LANG,
    CurrentUser,
    LocaleDep,
    SessionDep,
    get_settings,
    now,
)
from mgsleep.web.pages.common import FormCsrf, download_headers, htmx_status, page

router = APIRouter()


def _account_page(
    request: Request,
    lang: Lang,
    user: Account,
    session: Session,
    error: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return page(
        request,
        "account.html",
        lang,
        user,
        status_code=htmx_status(request, status_code),
        error=error,
        tokens=ingest.tokens(session, user.id),
        ingest_url=f"{get_settings(request).base_url.rstrip('/')}/api/v1/ingest/",
        **context,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep
) -> Response:
    return _account_page(request, lang, user, session)


@router.post("/account/tokens", dependencies=[FormCsrf])
def account_new_token(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
) -> Response:
    """A new token, shown on this answer only: what is stored is its hash."""
    try:
        made = ingest.create_token(session, user.id, name, now())
    except InputError as problem:
        message = render(problem.problem, lang)
        return _account_page(
            request, lang, user, session, status_code=422, token_error=message, token_name=name
        )
    return _account_page(request, lang, user, session, new_token=made)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[FormCsrf])
def account_revoke_token(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep, token_id: int
) -> Response:
    """Revoke one of this person's tokens; another person's id is simply not found."""
    ingest.revoke_token(session, user.id, token_id, now())
    return RedirectResponse("/account#tokens", status_code=303)


@router.get("/account/export.json")
def account_export_json(user: CurrentUser, session: SessionDep, lang: LocaleDep) -> Response:
    """The same document as the API's GET /api/v1/export."""
    export = export_everything(session, user.id, user.username, lang=lang, at=now())
    return Response(
        export.model_dump_json(indent=2),
        media_type="application/json",
        headers=download_headers("mgsleep-my-data.json"),
    )


@router.get("/account/export.csv")
def account_export_csv(user: CurrentUser, session: SessionDep) -> Response:
    return Response(
        diary.export_csv(session, user.id),
        media_type="text/csv; charset=utf-8",
        headers=download_headers("diary.csv"),
    )


@router.post("/account/delete", dependencies=[FormCsrf])
def account_delete(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    if confirm != "yes":
        _ = translations(lang).gettext
        error = _("Tick the box to confirm that everything should be deleted.")
        return _account_page(request, lang, user, session, error=error, status_code=422)
    delete_account(session, user.id)
    # Nothing of the account stays in the cookie; the language is not theirs to lose.
    kept_lang = request.session.get(SESSION_LANG)
    request.session.clear()
    if kept_lang:
        request.session[SESSION_LANG] = kept_lang
    return RedirectResponse("/", status_code=303)

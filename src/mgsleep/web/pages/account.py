"""The account: everything stored, exported or deleted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mgsleep.i18n import Lang, translations
from mgsleep.service import diary
from mgsleep.service.account import export_everything
from mgsleep.store.repo import Account, delete_account
from mgsleep.web.deps import SESSION_LANG, CurrentUser, LocaleDep, SessionDep, now
from mgsleep.web.pages.common import FormCsrf, download_headers, htmx_status, page

router = APIRouter()


def _account_page(
    request: Request, lang: Lang, user: Account, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return page(
        request,
        "account.html",
        lang,
        user,
        status_code=htmx_status(request, status_code),
        error=error,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, lang: LocaleDep, user: CurrentUser) -> Response:
    return _account_page(request, lang, user)


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
        return _account_page(request, lang, user, error=error, status_code=422)
    delete_account(session, user.id)
    # Nothing of the account stays in the cookie; the language is not theirs to lose.
    kept_lang = request.session.get(SESSION_LANG)
    request.session.clear()
    if kept_lang:
        request.session[SESSION_LANG] = kept_lang
    return RedirectResponse("/", status_code=303)

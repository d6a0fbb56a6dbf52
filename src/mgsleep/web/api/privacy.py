"""/export and /account: everything stored about the person, handed out or deleted."""

from __future__ import annotations

from fastapi import Request, status
from fastapi.responses import Response

from mgsleep.public import AccountExport
from mgsleep.service import diary
from mgsleep.service.account import export_everything
from mgsleep.store.repo import delete_account
from mgsleep.web.api.common import guarded_router
from mgsleep.web.api.nights import CSV_RESPONSE, csv_download
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, now

guarded = guarded_router()


@guarded.get("/export", tags=["privacy"])
def export_all(session: SessionDep, user: CurrentUser, lang: LocaleDep) -> AccountExport:
    """All of your data as one JSON document (the same as the account page's download)."""
    return export_everything(session, user.id, user.username, lang=lang, at=now())


@guarded.get(
    "/export/nights.csv", tags=["privacy"], response_class=Response, responses=CSV_RESPONSE
)
def export_all_nights_csv(session: SessionDep, user: CurrentUser) -> Response:
    """The diary as CSV, as part of all your data."""
    return csv_download(diary.export_csv(session, user.id))


@guarded.delete("/account", status_code=status.HTTP_204_NO_CONTENT, tags=["privacy"])
def delete_my_account(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Delete the account and everything stored with it, and log out."""
    delete_account(session, user.id)
    request.session.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

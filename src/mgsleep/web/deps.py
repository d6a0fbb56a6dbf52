"""Request dependencies: the database session, the logged-in user, the language, CSRF."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mgsleep.i18n import Lang, parse_lang
from mgsleep.store.db import session_scope
from mgsleep.store.repo import Account, get_account
from mgsleep.web.security import new_csrf_token, same_token
from mgsleep.web.settings import Settings

SESSION_USER = "uid"
SESSION_CSRF = "csrf"
SESSION_LANG = "lang"
SESSION_ACCOUNT_KEY = "ak"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One transaction per request: all of it is kept, or none of it."""
    with session_scope(engine) as session:
        yield session


# "function" scope: the commit happens before the response leaves, so a client never hears
# "saved" for a transaction that then fails.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_lang(request: Request, settings: SettingsDep) -> Lang:
    """?lang= first (and remembered), then the remembered choice, then the browser's."""
    chosen = parse_lang(request.query_params.get("lang"))
    if chosen is not None:
        request.session[SESSION_LANG] = chosen
        return chosen
    remembered = parse_lang(request.session.get(SESSION_LANG))
    if remembered is not None:
        return remembered
    return parse_lang(request.headers.get("accept-language")) or settings.default_language


LocaleDep = Annotated[Lang, Depends(get_lang)]


def account_key(account: Account) -> str:
    """Binds a session to one account as it is now: a deleted account whose id is handed to
    someone new (SQLite reuses ids) or a changed password no longer matches."""
    material = f"{account.id}|{account.username}|{account.password_hash}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def start_session(request: Request, account: Account) -> None:
    """A new session on log-in (no fixation), keeping only the chosen language."""
    lang = request.session.get(SESSION_LANG)
    request.session.clear()
    request.session[SESSION_USER] = account.id
    request.session[SESSION_ACCOUNT_KEY] = account_key(account)
    if lang:
        request.session[SESSION_LANG] = lang


def optional_user(request: Request, session: SessionDep) -> Account | None:
    owner_id = request.session.get(SESSION_USER)
    if not isinstance(owner_id, int):
        return None
    account = get_account(session, owner_id)
    if account is None or request.session.get(SESSION_ACCOUNT_KEY) != account_key(account):
        return None
    return account


OptionalUser = Annotated[Account | None, Depends(optional_user)]


class LoginRequired(Exception):  # noqa: N818 - a redirect for pages, 401 for the API
    pass


def current_user(request: Request, user: OptionalUser) -> Account:
    if user is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(status_code=401, detail="log in first")
        raise LoginRequired
    return user


CurrentUser = Annotated[Account, Depends(current_user)]


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = new_csrf_token()
        request.session[SESSION_CSRF] = token
    return token


def check_api_csrf(request: Request, x_csrf_token: Annotated[str | None, Header()] = None) -> None:
    """Unsafe API calls carry the session's token in X-CSRF-Token (from /api/v1/auth)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if not same_token(request.session.get(SESSION_CSRF), x_csrf_token):
        raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token header")


async def check_form_csrf(request: Request) -> None:
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    form = await request.form()
    given = form.get("csrf_token")
    if not same_token(request.session.get(SESSION_CSRF), given if isinstance(given, str) else None):
        raise HTTPException(status_code=403, detail="the form has expired; reload the page")

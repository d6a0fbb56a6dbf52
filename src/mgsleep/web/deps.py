"""Request dependencies: the database session, the logged-in user, the language, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mgsleep import clock
from mgsleep.i18n import Lang, parse_lang
from mgsleep.security import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, new_csrf_token, same_token
from mgsleep.service.accounts import LoginLimits, SessionRules, binding, session_account
from mgsleep.service.profile import person_today
from mgsleep.store.db import session_scope
from mgsleep.store.repo import Account
from mgsleep.web.settings import Settings

SESSION_USER = "uid"
SESSION_TOKEN = "sid"  # noqa: S105 - the name of a cookie field, not a secret
SESSION_CSRF = "csrf"
SESSION_LANG = "lang"
SESSION_ACCOUNT_KEY = "ak"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(
    request: Request, engine: Annotated[Engine, Depends(get_engine)]
) -> Iterator[Session]:
    """One transaction per request: all of it is kept, or none of it. A request that may
    write takes the write lock at once (see `session_scope`); a GET only reads."""
    with session_scope(engine, write=request.method not in SAFE_METHODS) as session:
        yield session


# "function" scope: the commit happens before the response leaves, so a client never hears
# "saved" for a transaction that then fails.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def now() -> datetime:
    """The moment (clock.now: the one place the program reads the clock)."""
    return clock.now()


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


def client_address(request: Request, settings: Settings) -> str:
    """The client's address; X-Forwarded-For is believed only from a configured proxy, and
    then only its last hop that is not itself a trusted proxy."""
    direct = request.client.host if request.client else "unknown"
    if not settings.trusted_proxies or not settings.trusts(direct):
        return direct
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not settings.trusts(hop):
            return hop
    return direct


def login_limits(settings: Settings) -> LoginLimits:
    return LoginLimits(
        pair=settings.login_attempts_per_15_min,
        account=settings.login_attempts_per_account,
        address=settings.login_attempts_per_address,
    )


def session_rules(settings: Settings) -> SessionRules:
    return SessionRules(
        idle=timedelta(days=settings.session_idle_days),
        absolute=timedelta(days=settings.session_max_days),
    )


def start_session(request: Request, account: Account, token: str) -> None:
    """A new session on log-in (no fixation), keeping only the chosen language."""
    lang = request.session.get(SESSION_LANG)
    request.session.clear()
    request.session[SESSION_USER] = account.id
    request.session[SESSION_TOKEN] = token
    request.session[SESSION_ACCOUNT_KEY] = binding(account)
    if lang:
        request.session[SESSION_LANG] = lang


def remember_device(response: Response, token: str | None, settings: Settings) -> None:
    if token:
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            secure=settings.https,
            samesite="lax",
        )


def optional_user(request: Request, engine: EngineDep, settings: SettingsDep) -> Account | None:
    cached: Account | None = getattr(request.state, "account", None)
    if cached is not None:
        return cached
    token = request.session.get(SESSION_TOKEN)
    account = session_account(
        engine, token if isinstance(token, str) else None, now=now(), rules=session_rules(settings)
    )
    if account is None or request.session.get(SESSION_ACCOUNT_KEY) != binding(account):
        return None
    request.state.account = account
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
    if request.method in SAFE_METHODS:
        return
    if not same_token(request.session.get(SESSION_CSRF), x_csrf_token):
        raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token header")


async def check_form_csrf(request: Request) -> AsyncIterator[None]:
    """The form's token against the session's; the form's uploaded files are closed once the
    answer has gone (the handler reads the same, cached, form)."""
    if request.method in SAFE_METHODS:
        yield
        return
    form = await request.form()
    try:
        given = form.get("csrf_token")
        token = given if isinstance(given, str) else None
        if not same_token(request.session.get(SESSION_CSRF), token):
            raise HTTPException(status_code=403, detail="the form has expired; reload the page")
        yield
    finally:
        await form.close()


def today_for(session: Session, owner_id: int) -> date:
    """Today where the person lives: every "today" of a request enters here."""
    return person_today(session, owner_id, now())


def get_today(session: SessionDep, user: CurrentUser) -> date:
    return today_for(session, user.id)


TodayDep = Annotated[date, Depends(get_today)]

"""Home, sign up, log in, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mgsleep.i18n import translations
from mgsleep.security import DEVICE_COOKIE, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from mgsleep.service.accounts import AccessOutcome, end_session, log_in, sign_up
from mgsleep.service.today import today_view
from mgsleep.store.tables import USERNAME_MAX_LEN
from mgsleep.web.deps import (
    SESSION_TOKEN,
    EngineDep,
    LocaleDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    client_address,
    login_limits,
    now,
    remember_device,
    start_session,
    today_for,
)
from mgsleep.web.pages.common import FormCsrf, formatters, render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, lang: LocaleDep, user: OptionalUser, session: SessionDep) -> Response:
    """Logged in: today (tonight, last night, the trial); else what mgsleep is."""
    if user is None:
        return render(request, "home.html", lang, user)
    view = today_view(session, user.id, today_for(session, user.id))
    return render(request, "home.html", lang, user, view=view, **formatters(lang))


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return render(request, "privacy.html", lang, user)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return render(request, "signup.html", lang, user, error=None, username="")


@router.post("/signup", dependencies=[FormCsrf])
def signup(
    request: Request,
    lang: LocaleDep,
    engine: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=USERNAME_MAX_LEN * 4)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)],
) -> Response:
    _ = translations(lang).gettext
    name = username.strip()
    error = None
    if not 3 <= len(name) <= USERNAME_MAX_LEN:
        error = _("Choose a user name of 3 to 150 characters.")
    elif len(password) < MIN_PASSWORD_LENGTH:
        error = _("Choose a password of at least 8 characters.")
    if error is None:
        result = sign_up(engine, name, password, secret=settings.resolved_secret_key(), now=now())
        if result.account is not None and result.session_token is not None:
            start_session(request, result.account, result.session_token)
            response = RedirectResponse("/profile", status_code=303)
            remember_device(response, result.device_token, settings)
            return response
        error = _("That user name is taken.")
    return render(request, "signup.html", lang, None, status_code=422, error=error, username=name)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, lang: LocaleDep, user: OptionalUser, next: str | None = None
) -> Response:
    return render(request, "login.html", lang, user, error=None, username="", next=_safe_next(next))


@router.post("/login", dependencies=[FormCsrf])
def login(
    request: Request,
    lang: LocaleDep,
    engine: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=USERNAME_MAX_LEN * 4)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    _ = translations(lang).gettext
    result = log_in(
        engine,
        username,
        password,
        client=client_address(request, settings),
        device=request.cookies.get(DEVICE_COOKIE),
        secret=settings.resolved_secret_key(),
        now=now(),
        limits=login_limits(settings),
    )
    if result.account is None or result.session_token is None:
        too_many = result.outcome is AccessOutcome.too_many
        return render(
            request,
            "login.html",
            lang,
            None,
            status_code=429 if too_many else 401,
            error=_("Too many attempts. Wait 15 minutes and try again.")
            if too_many
            else _("User name or password is not right."),
            username=username,
            next=_safe_next(next),
        )
    start_session(request, result.account, result.session_token)
    response = RedirectResponse(_safe_next(next), status_code=303)
    remember_device(response, result.device_token, settings)
    return response


@router.post("/logout", dependencies=[FormCsrf])
def logout(request: Request, engine: EngineDep) -> Response:
    end_session(engine, request.session.get(SESSION_TOKEN))
    request.session.clear()
    return RedirectResponse("/", status_code=303)

"""Server-rendered pages: the shared renderer, home, sign up, log in, log out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from mgsleep.i18n import Lang, format_number, translations
from mgsleep.store.repo import Account, UsernameTaken, create_account, find_account
from mgsleep.web.deps import (
    LocaleDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    check_form_csrf,
    csrf_token,
    start_session,
)
from mgsleep.web.security import (
    MIN_PASSWORD_LENGTH,
    attempt_key,
    hash_password,
    note_failure,
    note_success,
    too_many_attempts,
    verify_password,
)

router = APIRouter()
FormCsrf = Depends(check_form_csrf)

templates = Environment(
    loader=PackageLoader("mgsleep.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    request: Request,
    name: str,
    lang: Lang,
    user: Account | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the reader's language; every template gets `_`, `num`, `csrf_token`, `user`."""
    gettext = translations(lang).gettext

    def num(template: str, *args: Any, **values: Any) -> str:
        return format_number(lang, template, *args, **values)

    html = templates.get_template(name).render(
        _=gettext,
        num=num,
        lang=lang,
        user=user,
        csrf_token=csrf_token(request),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return render(request, "home.html", lang, user)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return render(request, "signup.html", lang, user, error=None, username="")


@router.post("/signup", dependencies=[FormCsrf])
def signup(
    request: Request,
    lang: LocaleDep,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    _ = translations(lang).gettext
    name = username.strip()
    error = None
    if not 3 <= len(name) <= 150:
        error = _("Choose a user name of 3 to 150 characters.")
    elif len(password) < MIN_PASSWORD_LENGTH:
        error = _("Choose a password of at least 8 characters.")
    if error is None:
        try:
            account = create_account(session, name, hash_password(password))
        except UsernameTaken:
            error = _("That user name is taken.")
        else:
            start_session(request, account)
            return RedirectResponse("/profile", status_code=303)
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
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    _ = translations(lang).gettext
    client = request.client.host if request.client else "unknown"
    key = attempt_key(username.strip(), client)
    if too_many_attempts(session, key, settings.login_attempts_per_15_min):
        error = _("Too many attempts. Wait 15 minutes and try again.")
        return render(
            request,
            "login.html",
            lang,
            None,
            status_code=429,
            error=error,
            username=username,
            next=_safe_next(next),
        )
    account = find_account(session, username.strip())
    if account is None or not verify_password(account.password_hash, password):
        note_failure(session, key)
        error = _("User name or password is not right.")
        return render(
            request,
            "login.html",
            lang,
            None,
            status_code=401,
            error=error,
            username=username,
            next=_safe_next(next),
        )
    note_success(session, key)
    start_session(request, account)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[FormCsrf])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)

"""/auth: sign up, log in and out, a new password, who is logged in."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from mgsleep.clock import printable
from mgsleep.errors import Conflict
from mgsleep.security import DEVICE_COOKIE, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, RATE_WINDOW
from mgsleep.service.accounts import (
    AccessOutcome,
    PasswordOutcome,
    change_password,
    end_session,
    log_in,
    sign_up,
)
from mgsleep.store.db import session_scope
from mgsleep.store.repo import Account, get_account
from mgsleep.store.tables import USERNAME_MAX_LEN
from mgsleep.web.api.common import documented, guarded_router, open_router
from mgsleep.web.deps import (
    SESSION_TOKEN,
    CurrentUser,
    EngineDep,
    SettingsDep,
    client_address,
    csrf_token,
    login_limits,
    now,
    remember_device,
    start_session,
)
from mgsleep.web.settings import Settings

router = open_router()
guarded = guarded_router()

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=USERNAME_MAX_LEN),
    AfterValidator(printable),
]


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(max_length=USERNAME_MAX_LEN), AfterValidator(printable)]
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class Me(BaseModel):
    username: str
    csrf_token: str = Field(description="send it as the X-CSRF-Token header on unsafe methods")


def _logged_in(
    request: Request, account: Account, token: str, device: str | None, settings: Settings
) -> JSONResponse:
    start_session(request, account, token)
    me = Me(username=account.username, csrf_token=csrf_token(request))
    status_code = status.HTTP_201_CREATED if request.url.path.endswith("/signup") else 200
    response = JSONResponse(me.model_dump(), status_code=status_code)
    remember_device(response, device, settings)
    return response


# Signing up and logging in need no CSRF token (there is no session yet). They are still safe
# from other sites: the body must be JSON (FastAPI refuses other content types), and a
# cross-site JSON request needs a CORS preflight this app never grants.


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=Me,
    tags=["auth"],
    responses=documented(409, 422),
)
def signup(
    request: Request, engine: EngineDep, settings: SettingsDep, body: SignupRequest
) -> Response:
    """Create an account and log in; the answer carries the CSRF token."""
    result = sign_up(
        engine, body.username, body.password, secret=settings.resolved_secret_key(), now=now()
    )
    if result.account is None or result.session_token is None:
        raise Conflict("username", "username_taken")
    return _logged_in(request, result.account, result.session_token, result.device_token, settings)


@router.post("/auth/login", response_model=Me, tags=["auth"], responses=documented(401, 422, 429))
def login(
    request: Request, engine: EngineDep, settings: SettingsDep, body: LoginRequest
) -> Response:
    """Log in. After too many failures the answer is 429 for 15 minutes; a browser that
    logged in to the account before is not locked out by someone else's guesses."""
    result = log_in(
        engine,
        body.username,
        body.password,
        client=client_address(request, settings),
        device=request.cookies.get(DEVICE_COOKIE),
        secret=settings.resolved_secret_key(),
        now=now(),
        limits=login_limits(settings),
    )
    if result.outcome is AccessOutcome.too_many:
        return JSONResponse(
            {"detail": "too many attempts; wait 15 minutes and try again"},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(int(RATE_WINDOW.total_seconds()))},
        )
    if result.account is None or result.session_token is None:
        return JSONResponse(
            {"detail": "user name or password is not right"},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    return _logged_in(request, result.account, result.session_token, result.device_token, settings)


@guarded.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def logout(request: Request, engine: EngineDep) -> Response:
    """End the session here and on the server: the cookie no longer opens anything."""
    end_session(engine, request.session.get(SESSION_TOKEN))
    request.session.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


@guarded.post("/auth/password", tags=["auth"], responses=documented(401, 403, 422))
def new_password(
    request: Request, engine: EngineDep, user: CurrentUser, body: PasswordChange
) -> Me:
    """A new password ends every session of the account, on every device; this one gets a
    new session."""
    outcome, token = change_password(
        engine, user, body.current_password, body.new_password, now=now()
    )
    if outcome is not PasswordOutcome.ok or token is None:
        raise HTTPException(status_code=401, detail="the current password is not right")
    with session_scope(engine, write=False) as session:
        account = get_account(session, user.id)
    if account is None:
        raise HTTPException(status_code=401, detail="log in first")
    start_session(request, account, token)
    return Me(username=account.username, csrf_token=csrf_token(request))


@guarded.get("/auth/me", tags=["auth"])
def me(request: Request, user: CurrentUser) -> Me:
    """Who is logged in, and the session's CSRF token."""
    return Me(username=user.username, csrf_token=csrf_token(request))

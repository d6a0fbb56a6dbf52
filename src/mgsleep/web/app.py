"""The FastAPI application: settings, database, sessions, static files, routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from mgsleep.errors import Conflict, InputError, NotFound, Problem, problems_from, sentence
from mgsleep.evidence import load_evidence
from mgsleep.label import MAX_LABEL_BYTES
from mgsleep.lang import Lang
from mgsleep.service.imports import MAX_DIARY_CSV_BYTES
from mgsleep.store.db import open_store
from mgsleep.web.deps import LoginRequired, get_lang
from mgsleep.web.guards import DOCS_CSP, KB, MB, REPORT_CSP, Limits, RequestGuard
from mgsleep.web.settings import Settings

SESSION_COOKIE = "mgsleep_session"
SESSION_DAYS = 30


class IsoDateConvertor(Convertor[str]):
    """A path part that looks like a date, so /nights/import is never read as a night."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("isodate", IsoDateConvertor())


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A lifespan inside a running one (a test client within a test client) shares the
        # store: replacing it would orphan the open one's connections.
        if getattr(app.state, "engine", None) is not None:
            yield
            return
        app.state.engine = open_store(settings.resolved_database_url())
        _warm_up()
        try:
            yield
        finally:
            app.state.engine.dispose()
            app.state.engine = None

    app = FastAPI(
        title="mgsleep",
        version="0.1.0",
        description="Magnesium for sleep: evidence, safety, a personal plan and an N-of-1 trial.",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    # Added first, so it runs inside the session middleware and can see who is logged in.
    app.add_middleware(RequestGuard, limits=_limits(settings), router=app.router)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=settings.https,
    )
    app.mount("/static", StaticFiles(packages=[("mgsleep.web", "static")]), name="static")
    _add_error_handlers(app)
    _include_routers(app)
    return app


def _warm_up() -> None:
    """What the first requests would otherwise pay for, paid at start: the evidence base and
    the statistics library behind the trial pages."""
    import mgsleep.trial.analysis  # noqa: F401 - imported for its side effect of loading scipy

    load_evidence()


# Uploads: a wearable export can be large; CSV diaries and labels are small. The body may be a
# little larger than the file it carries (the form's boundaries and other fields).
UPLOAD_PATHS = ("/import",)
CSV_PATHS = ("/diary/import", "/api/v1/nights/import")
LABEL_PATHS = ("/label", "/api/v1/label/upload")
FORM_OVERHEAD_BYTES = 64 * KB
CSV_LIMIT_BYTES = MAX_DIARY_CSV_BYTES + FORM_OVERHEAD_BYTES
LABEL_LIMIT_BYTES = MAX_LABEL_BYTES + FORM_OVERHEAD_BYTES


def _limits(settings: Settings) -> Limits:
    by_path = dict.fromkeys(UPLOAD_PATHS, settings.max_upload_mb * MB)
    by_path |= dict.fromkeys(CSV_PATHS, CSV_LIMIT_BYTES)
    by_path |= dict.fromkeys(LABEL_PATHS, LABEL_LIMIT_BYTES)
    return Limits(
        default_bytes=settings.max_body_kb * KB,
        by_path=by_path,
        gated_paths=frozenset({*UPLOAD_PATHS, *CSV_PATHS}),
        csp_by_path={
            "/api/docs": DOCS_CSP,
            "/trial/report.html": REPORT_CSP,
            "/api/v1/trial/report.html": REPORT_CSP,
        },
        hsts=settings.https,
    )


def _status_of(error: InputError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return int(getattr(error, "status_code", 422))


def _public(found: Problem) -> dict[str, object]:
    if found.code == "json_invalid":
        at = found.field.rsplit(".", 1)[-1] if found.field else "?"
        reason = f"not valid JSON at character {at}: {found.params.get('error', found.detail)}"
        return {"field": "document", "reason": reason, "code": found.code, "params": {}}
    return {
        "field": found.field or "document",
        "reason": found.detail or found.english(),
        "code": found.code,
        "params": dict(found.params),
    }


def _include_routers(app: FastAPI) -> None:
    from mgsleep.web import api, pages

    app.include_router(api.router, prefix="/api/v1")
    # Pages are for people; the OpenAPI schema documents the JSON API only.
    app.include_router(pages.router, include_in_schema=False)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _lang(request: Request) -> Lang:
    try:
        return get_lang(request, request.app.state.settings)
    except (AssertionError, AttributeError):  # no session yet (the error came before it)
        return request.app.state.settings.default_language  # type: ignore[no-any-return]


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    """An error as a page for people: in their language, with a way back."""
    from mgsleep.i18n import translations
    from mgsleep.web.pages.common import render

    lang = _lang(request)
    _ = translations(lang).gettext
    titles = {
        404: _("This page does not exist"),
        403: _("This form has expired"),
        405: _("This page does not exist"),
        500: _("Something went wrong"),
    }
    messages = {
        404: _("The address may be mistyped, or the page has moved."),
        403: _("Go back, reload the page and send the form again."),
        405: _("The address may be mistyped, or the page has moved."),
        500: _("This is our fault, not yours. What you had saved is kept; try again in a moment."),
    }
    title = titles.get(status_code, _("Something went wrong"))
    text = message or messages.get(status_code, messages[500])
    return render(
        request,
        "error.html",
        lang,
        None,
        status_code=status_code,
        title=title,
        message=text,
        back="/",
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        # The details go to the server's log (the middleware re-raises); the person gets a page.
        if _is_api(request):
            problem = InputError("", "server_error")
            return JSONResponse(status_code=500, content={"detail": [problem.as_dict()]})
        return error_page(request, 500)

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError) -> Response:
        if not _is_api(request):
            return error_page(request, _status_of(error), sentence(error.problem, _lang(request)))
        return JSONResponse(status_code=_status_of(error), content={"detail": error.as_dicts()})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        # Field, code and reason only: never the submitted values, which may be personal.
        return JSONResponse(
            status_code=422, content={"detail": [_public(p) for p in problems_from(error.errors())]}
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        # The API speaks in problems (field and reason) where the framework answers with a
        # bare sentence: an unknown address, a wrong method, a form it cannot parse (a 422,
        # like any other body it cannot read).
        reasons = {404: "no such address", 405: "method not allowed", 400: "not readable"}
        api = request.url.path.startswith("/api/")
        if api and isinstance(error.detail, str) and error.status_code in reasons:
            field = "body" if error.status_code == 400 else "path"
            code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
            problem = InputError(
                field,
                code[error.status_code],
                detail=f"{reasons[error.status_code]}: {error.detail}",
            )
            return JSONResponse(
                status_code=422 if error.status_code == 400 else error.status_code,
                content={"detail": [problem.as_dict()]},
                headers=error.headers,
            )
        if not api:
            return error_page(request, error.status_code)
        return await http_exception_handler(request, error)

    @app.exception_handler(IntegrityError)
    async def lost_race(request: Request, error: IntegrityError) -> Response:
        # Two requests wrote the same thing at the same moment (PostgreSQL lets both try);
        # the one that lost hears so, and can try again.
        problem = InputError("", "changed_meanwhile")
        return JSONResponse(status_code=409, content={"detail": [problem.as_dict()]})

    @app.exception_handler(DataError)
    async def unstorable(request: Request, error: DataError) -> Response:
        # A value the database cannot hold (the models refuse these first; this is the net).
        problem = InputError("", "unstorable")
        return JSONResponse(status_code=422, content={"detail": [problem.as_dict()]})

    @app.exception_handler(OperationalError)
    async def busy(request: Request, error: OperationalError) -> Response:
        if "locked" not in str(error.orig).lower():
            raise error
        return JSONResponse(
            status_code=503,
            content={"detail": "the database is busy; try again in a moment"},
            headers={"Retry-After": "1"},
        )

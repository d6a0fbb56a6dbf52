"""The JSON API at /api/v1: the core's answers as typed JSON, for one logged-in person.

Every query passes the logged-in person's id, so changing a date or a key in the address can
only ever reach their own data. Unsafe methods carry the session's token in the X-CSRF-Token
header (GET /auth/me gives it). Sentences from the core come in the reader's language (?lang=,
else Accept-Language) where the API composes the answer (findings, timeline, ISI bands), and
as {nl, en} pairs inside the core's own models (plan, label report, analysis, evidence).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mgsleep.clock import SaneDate, printable
from mgsleep.diary.csvio import RowError, parse_csv, to_csv
from mgsleep.diary.night import DIARY_SOURCE, NightEntry, metrics
from mgsleep.diary.questionnaires import Direction, change, score
from mgsleep.documents import parse_document
from mgsleep.dose import FormFacts, form_facts
from mgsleep.errors import InputError
from mgsleep.evidence import load_evidence
from mgsleep.evidence.lookup import corrections_for, find_form, references_for, resolve_topic
from mgsleep.evidence.lookup import topics as topic_counts
from mgsleep.evidence.schema import (
    Absorption,
    Companion,
    Correction,
    EvidenceStrength,
    Questionnaire,
    Reference,
    Severity,
)
from mgsleep.i18n import Lang
from mgsleep.label import Label, LabelReport, analyse_label
from mgsleep.plan import Plan, make_plan
from mgsleep.plan import Verdict as PlanVerdict
from mgsleep.profile import Profile
from mgsleep.safety import Finding, screen, verdict
from mgsleep.schedule import EntryKind, Timeline, evening, to_ical
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
from mgsleep.store.repo import (
    Account,
    DuplicateNight,
    DuplicateResponse,
    active_trial,
    add_night,
    add_response,
    delete_account,
    delete_night,
    get_account,
    get_nights,
    get_profile,
    get_responses,
    get_trials,
    import_nights,
    save_profile,
    start_trial,
)
from mgsleep.store.tables import SOURCE_MAX_LEN, USERNAME_MAX_LEN
from mgsleep.trial.analysis import TrialAnalysis, TrialReport, analyse
from mgsleep.trial.analysis import Verdict as TrialVerdict
from mgsleep.trial.analysis import report as summarise_trial
from mgsleep.trial.protocol import TrialProtocol
from mgsleep.trial.report import render_html
from mgsleep.web.deps import (
    SESSION_TOKEN,
    CurrentUser,
    EngineDep,
    LocaleDep,
    SessionDep,
    SettingsDep,
    check_api_csrf,
    client_address,
    csrf_token,
    current_user,
    login_limits,
    now,
    remember_device,
    start_session,
)
from mgsleep.web.settings import Settings

ISI = "isi"
MAX_CSV_BYTES = 5_000_000  # ten years of nights is about 0.5 MB
MAX_LABEL_BYTES = 200_000
MAX_ROW_ERRORS = 50
MAX_ISI_ANSWERS = 50
# The calendar's length when the plan sets no evaluation date (a stop plan).
DEFAULT_TRIAL_WEEKS = 4


# ---- errors: the field and the reason, as the app's handlers give them ------------------------


class FieldNamingRoute(APIRoute):
    """Names the field in a model-wide validation error.

    The core's model validators (a night's clock times, a trial's phases, a profile's
    coherence) say which field they are about in the message itself ("end: the trial must end
    after magnesium starts"); pydantic can only place them on the body as a whole.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        fields = _body_model_fields(self)

        async def named(request: Request) -> Response:
            try:
                return await handler(_BoundedJSONRequest(request.scope, request.receive))
            except RequestValidationError as error:
                problems = [_with_field(problem, fields) for problem in error.errors()]
                raise RequestValidationError(problems, body=error.body) from None

        return named


class _BoundedJSONRequest(Request):
    """A body the parsers choke on is bad input (a 422), not a crash or a bare 400."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (RecursionError, UnicodeDecodeError):
            # Too deep for the parser's stack, or not UTF-8: either way not JSON we read.
            raise json.JSONDecodeError("not JSON: nested too deeply or not UTF-8", "", 0) from None


def _body_model_fields(route: APIRoute) -> set[str]:
    names: set[str] = set()
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(annotation.model_fields)
    return names


# A problem with the body as a whole (missing, not JSON) is about the "document", as in
# `parse_document`: an empty field name would tell the reader nothing.
WHOLE_BODY = ("body", "document")


def _with_field(problem: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    location = tuple(problem.get("loc", ()))
    if problem.get("type") == "json_invalid":
        at = location[-1] if len(location) > 1 else "?"
        reason = f"not valid JSON at character {at}: {problem.get('ctx', {}).get('error', '')}"
        return {**problem, "loc": WHOLE_BODY, "msg": reason}
    if location != ("body",):
        return problem
    reason = str(problem.get("msg", "")).removeprefix("Value error, ")
    head, colon, rest = reason.partition(": ")
    if problem.get("type") == "value_error" and colon and head in fields:
        return {**problem, "loc": ("body", head), "msg": rest}
    first_word = reason.split(" ", 1)[0]
    if problem.get("type") == "value_error" and first_word in fields:
        return {**problem, "loc": ("body", first_word), "msg": reason}
    return {**problem, "loc": WHOLE_BODY}


def _problem(
    status_code: int, field: str, reason: str, allowed: str | None = None
) -> HTTPException:
    """An error in the same shape as a 422: a list of {field, reason, ...}."""
    return HTTPException(status_code, detail=[InputError(field, reason, allowed=allowed).as_dict()])


def _not_found(field: str, reason: str) -> HTTPException:
    return _problem(status.HTTP_404_NOT_FOUND, field, reason)


def _conflict(field: str, reason: str, allowed: str) -> HTTPException:
    return _problem(status.HTTP_409_CONFLICT, field, reason, allowed)


def _model_problem(error: PydanticValidationError) -> InputError:
    """The first problem of a model built in code (not from the request body) as an InputError."""
    problem = error.errors()[0]
    reason = str(problem["msg"]).removeprefix("Value error, ")
    head, colon, rest = reason.partition(": ")
    if colon and head.isidentifier():
        return InputError(head, rest)
    return InputError(".".join(str(part) for part in problem["loc"]) or "document", reason)


class ProblemDetail(BaseModel):
    field: str
    reason: str
    value: Any = None
    allowed: str | None = None
    line: int | None = None


class Problems(BaseModel):
    detail: list[ProblemDetail]


class Message(BaseModel):
    detail: str


def _documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    models: dict[int, type[BaseModel]] = {401: Message, 403: Message, 429: Message}
    # Errors are JSON even where the success is a calendar, a CSV or a page.
    return {
        code: {"model": models.get(code, Problems), "content": {"application/json": {}}}
        for code in codes
    }


router = APIRouter(route_class=FieldNamingRoute)
# Everything but signing up and logging in: a session, and the token for unsafe methods.
guarded = APIRouter(
    route_class=FieldNamingRoute,
    dependencies=[Depends(check_api_csrf), Depends(current_user)],
    responses=_documented(401, 403, 422),
)


# ---- auth --------------------------------------------------------------------------------------


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
    responses=_documented(409, 422),
)
def signup(
    request: Request, engine: EngineDep, settings: SettingsDep, body: SignupRequest
) -> Response:
    """Create an account and log in; the answer carries the CSRF token."""
    result = sign_up(
        engine, body.username, body.password, secret=settings.resolved_secret_key(), now=now()
    )
    if result.account is None or result.session_token is None:
        raise _conflict("username", "this user name is taken", "choose another")
    return _logged_in(request, result.account, result.session_token, result.device_token, settings)


@router.post("/auth/login", response_model=Me, tags=["auth"], responses=_documented(401, 422, 429))
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


@guarded.post("/auth/password", tags=["auth"], responses=_documented(401, 403, 422))
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


# ---- profile -----------------------------------------------------------------------------------


class ProfilePublic(Profile):
    """The stored profile, in the same keys and forms as PUT /profile accepts."""


def _profile_public(profile: Profile) -> ProfilePublic:
    return ProfilePublic.model_validate(profile.model_dump(exclude_unset=True))


def _as_entered(profile: Profile) -> dict[str, Any]:
    """What the person gave, JSON-ready; defaults stay out, so they can improve later."""
    return _profile_public(profile).model_dump(mode="json", exclude_unset=True)


def _stored_profile(session: Session, user: Account) -> Profile:
    data = get_profile(session, user.id)
    if data is None:
        raise _not_found("profile", "no profile stored yet")
    try:
        return Profile.model_validate(data)
    except PydanticValidationError as error:
        problem = _model_problem(error)
        # The pages save the questionnaire as it is filled in; it may not be complete yet.
        raise _conflict(
            problem.field,
            f"the stored profile is not complete: {problem.reason}",
            "finish the profile (PUT /api/v1/profile)",
        ) from error


@guarded.get("/profile", tags=["profile"], responses=_documented(404, 409))
def read_profile(session: SessionDep, user: CurrentUser) -> ProfilePublic:
    return _profile_public(_stored_profile(session, user))


@guarded.put("/profile", tags=["profile"], responses=_documented(422))
def write_profile(session: SessionDep, user: CurrentUser, profile: Profile) -> ProfilePublic:
    """Store the profile (the same keys as a profile file for `mgsleep plan`)."""
    save_profile(session, user.id, _as_entered(profile))
    return _profile_public(profile)


# ---- screen, plan, schedule --------------------------------------------------------------------


class SeparationPublic(BaseModel):
    medicine_before_mg_h: float | None = Field(description="the medicine this long before")
    medicine_after_mg_h: float | None = Field(description="or this long after magnesium")


class FindingPublic(BaseModel):
    severity: Severity
    code: str
    subject: str | None = Field(description="the medicine or supplement as typed")
    message: str
    management: str
    citations: list[str]
    substance: str | None = Field(default=None, description="the substance it is about")
    read_as: list[str] = Field(
        default_factory=list, description="the names an unclear entry was read as: check them"
    )
    separation: SeparationPublic | None = None
    pause_until: dt.date | None = Field(
        default=None, description="magnesium pauses until the day after (a short course)"
    )


def _finding(finding: Finding, lang: Lang) -> FindingPublic:
    separation = finding.separation
    return FindingPublic(
        severity=finding.severity,
        code=finding.code,
        subject=finding.subject,
        message=finding.message.get(lang),
        management=finding.management.get(lang),
        citations=finding.citations,
        substance=finding.substance,
        read_as=finding.read_as,
        separation=None
        if separation is None
        else SeparationPublic(
            medicine_before_mg_h=separation.medicine_before_mg_h,
            medicine_after_mg_h=separation.medicine_after_mg_h,
        ),
        pause_until=finding.pause_until,
    )


class ScreenResult(BaseModel):
    gravest: Severity | None = Field(description="the gravest finding; null: nothing found")
    findings: list[FindingPublic] = Field(description="gravest first")


def _screen(profile: Profile, lang: Lang) -> ScreenResult:
    findings = screen(profile)
    return ScreenResult(gravest=verdict(findings), findings=[_finding(f, lang) for f in findings])


@guarded.get("/screen", tags=["plan"], responses=_documented(404, 409))
def screen_stored(session: SessionDep, user: CurrentUser, lang: LocaleDep) -> ScreenResult:
    """The safety screen for the stored profile."""
    return _screen(_stored_profile(session, user), lang)


@guarded.post("/screen", tags=["plan"], responses=_documented(422))
def screen_given(profile: Profile, lang: LocaleDep) -> ScreenResult:
    """The safety screen for the profile in the body; nothing is stored."""
    return _screen(profile, lang)


class TimelineEntryPublic(BaseModel):
    start: dt.datetime
    end: dt.datetime
    kind: EntryKind
    what: str
    citations: list[str]


class PlannedCompanion(BaseModel):
    key: str
    dose_mg: float
    pathways: list[str]
    evidence_strength: EvidenceStrength


class PlanPublic(BaseModel):
    verdict: PlanVerdict
    headline: str = Field(default="", description="the verdict in one sentence")
    start_date: dt.date | None = Field(default=None, description="the first evening with magnesium")
    paused_until: dt.date | None = Field(default=None, description="no magnesium up to this day")
    findings: list[FindingPublic]
    form: str | None
    elemental_mg: float | None
    compound_mg: float | None
    glycine_mg_total: float | None
    glycine_topup_mg: float | None
    companions: list[PlannedCompanion]
    timeline: list[TimelineEntryPublic] = Field(description="the first evening")
    conflicts: list[str]
    notes: list[str]
    citations: list[str]
    plan: Plan = Field(description="the whole plan, with its reasons in both languages")


def _plan_public(plan: Plan, timeline: Timeline, lang: Lang) -> PlanPublic:
    return PlanPublic(
        verdict=plan.verdict,
        headline=plan.headline.get(lang),
        start_date=plan.start_date,
        paused_until=plan.paused_until,
        findings=[_finding(f, lang) for f in plan.findings],
        form=plan.form,
        elemental_mg=plan.elemental_mg,
        compound_mg=plan.compound_mg,
        glycine_mg_total=plan.glycine_mg_total,
        glycine_topup_mg=plan.glycine_topup_mg,
        companions=[
            PlannedCompanion(
                key=c.key,
                dose_mg=c.dose_mg,
                pathways=c.pathways,
                evidence_strength=c.evidence_strength,
            )
            for c in plan.companions
        ],
        timeline=[
            TimelineEntryPublic(
                start=e.start, end=e.end, kind=e.kind, what=e.what.get(lang), citations=e.citations
            )
            for e in timeline.entries
        ],
        conflicts=[c.message.get(lang) for c in timeline.conflicts],
        notes=[n.get(lang) for n in timeline.notes],
        citations=plan.citations,
        plan=plan,
    )


StartQuery = Annotated[
    SaneDate | None, Query(description="the first evening, YYYY-MM-DD (default: today)")
]


def _plan_for(session: Session, user: Account, start: dt.date | None) -> tuple[Plan, Timeline]:
    first = start or dt.date.today()
    plan = make_plan(_stored_profile(session, user), start=first)
    return plan, evening(plan, night=first)


@guarded.get("/plan", tags=["plan"], responses=_documented(404, 409, 422))
def read_plan(
    session: SessionDep, user: CurrentUser, lang: LocaleDep, start: StartQuery = None
) -> PlanPublic:
    """Findings first, then the plan, then the first evening on the clock."""
    plan, timeline = _plan_for(session, user, start)
    return _plan_public(plan, timeline, lang)


@guarded.get(
    "/schedule.ics",
    tags=["plan"],
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "an iCalendar file"},
        **_documented(404, 409, 422),
    },
)
def schedule_ics(
    session: SessionDep, user: CurrentUser, lang: LocaleDep, start: StartQuery = None
) -> Response:
    """The evening as daily-recurring events, for as long as the trial of the plan lasts."""
    plan, first = _plan_for(session, user, start)
    timeline = evening(plan, night=plan.start_date or first.night)
    weeks = plan.expectations.evaluate_after_weeks if plan.expectations else DEFAULT_TRIAL_WEEKS
    return Response(
        to_ical(timeline, lang, days=7 * weeks),
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-evening.ics"'},
    )


# ---- nights ------------------------------------------------------------------------------------


class NightCreate(NightEntry):
    """One night as written down in the morning; `date` is the morning the night ended."""


class NightPublic(NightEntry):
    """A stored night: what was entered (clock times as HH:MM) and the diary metrics."""

    time_in_bed_min: float
    time_trying_min: float
    total_sleep_min: float
    sleep_efficiency_pct: float
    terminal_wake_min: float


def _night_public(entry: NightEntry) -> NightPublic:
    derived = metrics(entry)
    return NightPublic.model_validate(
        {
            **entry.model_dump(),
            "time_in_bed_min": derived.time_in_bed_min,
            "time_trying_min": derived.time_trying_min,
            "total_sleep_min": derived.total_sleep_min,
            "sleep_efficiency_pct": derived.sleep_efficiency_pct,
            "terminal_wake_min": derived.terminal_wake_min,
        }
    )


def _entry(night: NightCreate) -> NightEntry:
    return NightEntry.model_validate(night.model_dump())


SourceQuery = Annotated[
    str,
    Query(min_length=1, max_length=SOURCE_MAX_LEN, description="where the night came from"),
    AfterValidator(printable),
]
ReplaceQuery = Annotated[bool, Query(description="overwrite what is already stored")]


def _one_night(session: Session, user: Account, night_date: dt.date, source: str) -> NightEntry:
    found = get_nights(session, user.id, start=night_date, end=night_date, source=source)
    if not found:
        raise _not_found("date", f"no night on {night_date.isoformat()} in the diary")
    return found[0]


def _duplicate_night(night_date: dt.date) -> HTTPException:
    return _conflict(
        "date",
        f"a night for {night_date.isoformat()} is already in the diary",
        "send ?replace=true to overwrite it",
    )


def _csv_download(nights: list[NightEntry]) -> Response:
    return Response(
        to_csv(nights),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-nights.csv"'},
    )


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the diary in the template's columns"}
}


@guarded.get("/nights", tags=["nights"], responses=_documented(422))
def list_nights(
    session: SessionDep,
    user: CurrentUser,
    start: Annotated[SaneDate | None, Query(description="first morning date")] = None,
    end: Annotated[SaneDate | None, Query(description="last morning date")] = None,
) -> list[NightPublic]:
    """The diary in date order, each night with its metrics."""
    return [_night_public(n) for n in get_nights(session, user.id, start=start, end=end)]


@guarded.post(
    "/nights",
    status_code=status.HTTP_201_CREATED,
    tags=["nights"],
    responses=_documented(409, 422),
)
def create_night(
    session: SessionDep, user: CurrentUser, night: NightCreate, replace: ReplaceQuery = False
) -> NightPublic:
    """Add a night; 409 when the diary has one for that date, unless ?replace=true."""
    entry = _entry(night)
    try:
        add_night(session, user.id, entry, replace=replace)
        session.flush()  # a night stored at the same moment must not slip through
    except (DuplicateNight, IntegrityError) as error:
        raise _duplicate_night(entry.date) from error
    return _night_public(entry)


@guarded.get("/nights/export.csv", tags=["nights"], response_class=Response, responses=CSV_RESPONSE)
def export_nights_csv(session: SessionDep, user: CurrentUser) -> Response:
    return _csv_download(get_nights(session, user.id))


class ImportResult(BaseModel):
    added: int
    replaced: int
    already_present: int
    replaced_dates: list[dt.date]


@guarded.post(
    "/nights/import",
    tags=["nights"],
    responses=_documented(409, 413, 422),
)
def import_nights_csv(
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="a diary CSV, see examples/diary-template.csv")],
    replace: ReplaceQuery = False,
    timezone: Annotated[
        str | None, Query(description="time zone of the clock times (default: Europe/Amsterdam)")
    ] = None,
) -> ImportResult:
    """Import a CSV diary: the whole file, or on any bad row nothing (422 lists the rows)."""
    parsed = list(parse_csv(_read_upload(file, MAX_CSV_BYTES), timezone=timezone))
    errors = [row for row in parsed if isinstance(row, RowError)]
    if errors:
        detail = [
            InputError(e.field, e.reason, line=e.row).as_dict() for e in errors[:MAX_ROW_ERRORS]
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)
    nights = [row for row in parsed if isinstance(row, NightEntry)]
    try:
        summary = import_nights(session, user.id, nights, replace=replace)
        session.flush()
    except DuplicateNight as error:
        raise _conflict(
            "file",
            f"{error.night_date.isoformat()} differs from the night already in the diary; "
            "nothing was imported",
            "send ?replace=true to overwrite those nights",
        ) from error
    return ImportResult(
        added=summary.added,
        replaced=summary.replaced,
        already_present=summary.already_present,
        replaced_dates=summary.conflicts,
    )


def _read_upload(upload: UploadFile, limit: int) -> str:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise _problem(status.HTTP_413_CONTENT_TOO_LARGE, "file", f"larger than {limit // 1000} kB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError("file", "not a UTF-8 text file") from error


@guarded.get("/nights/{night_date:isodate}", tags=["nights"], responses=_documented(404, 422))
def read_night(
    session: SessionDep, user: CurrentUser, night_date: SaneDate, source: SourceQuery = DIARY_SOURCE
) -> NightPublic:
    return _night_public(_one_night(session, user, night_date, source))


@guarded.put("/nights/{night_date:isodate}", tags=["nights"], responses=_documented(404, 422))
def replace_night(
    session: SessionDep, user: CurrentUser, night_date: SaneDate, night: NightCreate
) -> NightPublic:
    """Change a stored night; the body is the whole night, with the same date."""
    entry = _entry(night)
    if entry.date != night_date:
        raise InputError(
            "date", "differs from the date in the address", value=entry.date.isoformat()
        )
    _one_night(session, user, night_date, entry.source)
    add_night(session, user.id, entry, replace=True)
    return _night_public(entry)


@guarded.delete(
    "/nights/{night_date:isodate}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["nights"],
    responses=_documented(404, 422),
)
def remove_night(
    session: SessionDep, user: CurrentUser, night_date: SaneDate, source: SourceQuery = DIARY_SOURCE
) -> Response:
    if not delete_night(session, user.id, night_date, source):
        raise _not_found("date", f"no night on {night_date.isoformat()} in the diary")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- ISI ---------------------------------------------------------------------------------------


class IsiCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[int] = Field(
        max_length=MAX_ISI_ANSWERS, description="one answer 0–4 per item, in the items' order"
    )
    date: SaneDate | None = Field(default=None, description="the day answered (default: today)")


class IsiPublic(BaseModel):
    date: dt.date
    answers: list[int]
    total_points: int
    band: str
    band_label: str
    remission: bool
    above_case_cutoff: bool


class IsiChange(BaseModel):
    points: int = Field(description="this total minus the first one")
    meaningful: bool
    direction: Direction
    text: str


class IsiCreated(IsiPublic):
    change_since_first: IsiChange | None


def _isi() -> Questionnaire:
    return load_evidence().questionnaire(ISI)


def _isi_public(q: Questionnaire, day: dt.date, answers: list[int], lang: Lang) -> IsiPublic:
    result = score(q, answers)
    return IsiPublic(
        date=day,
        answers=answers,
        total_points=result.total_points,
        band=result.band,
        band_label=result.band_label.get(lang),
        remission=result.remission,
        above_case_cutoff=result.above_case_cutoff,
    )


@guarded.get("/isi", tags=["isi"])
def list_isi(session: SessionDep, user: CurrentUser, lang: LocaleDep) -> list[IsiPublic]:
    """Every Insomnia Severity Index answered, oldest first, with score and band."""
    q = _isi()
    return [
        _isi_public(q, r.taken_on, list(r.answers), lang)
        for r in get_responses(session, user.id, ISI)
    ]


@guarded.post(
    "/isi",
    status_code=status.HTTP_201_CREATED,
    tags=["isi"],
    responses=_documented(409, 422),
)
def add_isi(
    session: SessionDep,
    user: CurrentUser,
    lang: LocaleDep,
    body: IsiCreate,
    replace: ReplaceQuery = False,
) -> IsiCreated:
    """Score and store the answers; 409 when that day has one, unless ?replace=true."""
    q = _isi()
    result = score(q, body.answers)
    day = body.date or dt.date.today()
    try:
        add_response(session, user.id, ISI, day, body.answers, result.total_points, replace=replace)
        session.flush()
    except (DuplicateResponse, IntegrityError) as error:
        raise _conflict(
            "date",
            f"an ISI for {day.isoformat()} is already stored",
            "send ?replace=true to overwrite it",
        ) from error
    earlier = [r for r in get_responses(session, user.id, ISI) if r.taken_on < day]
    since = None if not earlier else change(q, score(q, list(earlier[0].answers)), result)
    public = _isi_public(q, day, body.answers, lang)
    return IsiCreated(
        **public.model_dump(),
        change_since_first=None
        if since is None
        else IsiChange(
            points=since.points,
            meaningful=since.meaningful,
            direction=since.direction,
            text=since.text.get(lang),
        ),
    )


# ---- trial -------------------------------------------------------------------------------------


class TrialStart(TrialProtocol):
    from_plan: bool = Field(
        default=False,
        description="take form, dose and intake time from the stored profile's plan, "
        "where they are not given",
    )


class TrialPublic(TrialProtocol):
    verdict_due_on: dt.date = Field(description="the first morning a verdict can be given")


def _trial_public(protocol: TrialProtocol) -> TrialPublic:
    return TrialPublic.model_validate(
        {**protocol.model_dump(), "verdict_due_on": protocol.verdict_due()}
    )


def _taken_from_plan(session: Session, user: Account, first: dt.date) -> dict[str, Any]:
    """Form, dose and intake time from the person's plan, so the trial tests what they take."""
    try:
        profile = _stored_profile(session, user)
    except HTTPException as error:
        raise InputError(
            "from_plan", "no complete profile is stored", allowed="PUT /api/v1/profile first"
        ) from error
    plan = make_plan(profile, start=first)
    if plan.verdict is PlanVerdict.stop or plan.elemental_mg is None:
        raise InputError(
            "from_plan",
            "the plan proposes no magnesium (a stop finding or no room under the limit)",
            allowed="see GET /api/v1/plan and talk to your doctor first",
        )
    intake = next(
        (e.start.time() for e in evening(plan, night=first).entries if e.kind == "magnesium"),
        None,
    )
    return {"form": plan.form, "dose_mg": plan.elemental_mg, "intake_time": intake}


def _protocol(values: dict[str, Any]) -> TrialProtocol:
    try:
        return TrialProtocol.model_validate(values)
    except PydanticValidationError as error:
        raise _model_problem(error) from error


def _active(session: Session, user: Account) -> TrialProtocol:
    protocol = active_trial(session, user.id)
    if protocol is None:
        raise _not_found("trial", "no trial started")
    return protocol


def _analysis(
    session: Session, user: Account, as_of: dt.date | None
) -> tuple[TrialAnalysis, list[NightEntry]]:
    protocol = _active(session, user)
    nights = get_nights(session, user.id)
    isi = [(r.taken_on, r.total) for r in get_responses(session, user.id, ISI)]
    analysis = analyse(protocol, nights, as_of=as_of or dt.date.today(), isi_totals=isi)
    return analysis, nights


AsOfQuery = Annotated[
    SaneDate | None, Query(description="count nights up to this morning (default: today)")
]


@guarded.get("/trial", tags=["trial"], responses=_documented(404))
def read_trial(session: SessionDep, user: CurrentUser) -> TrialPublic:
    """The running trial's protocol."""
    return _trial_public(_active(session, user))


@guarded.post(
    "/trial",
    status_code=status.HTTP_201_CREATED,
    tags=["trial"],
    responses=_documented(422),
)
def begin_trial(session: SessionDep, user: CurrentUser, body: TrialStart) -> TrialPublic:
    """Start a trial; an earlier one is kept, inactive, for its report."""
    values = body.model_dump(exclude={"from_plan"})
    if body.from_plan:
        taken = _taken_from_plan(session, user, body.baseline_start)
        values |= {k: v for k, v in taken.items() if values.get(k) is None}
    protocol = _protocol(values)
    start_trial(session, user.id, protocol)
    return _trial_public(protocol)


class TrialStatus(BaseModel):
    nights_by_phase: dict[str, int]
    missing_nights: int
    adherence_pct: float | None
    more_nights_needed: int
    verdict_due: dt.date
    verdict: TrialVerdict


@guarded.get("/trial/status", tags=["trial"], responses=_documented(404, 422))
def trial_status(session: SessionDep, user: CurrentUser, as_of: AsOfQuery = None) -> TrialStatus:
    """Nights per phase, adherence, what is missing and when the verdict is due."""
    analysis, _nights = _analysis(session, user, as_of)
    return TrialStatus(
        nights_by_phase=analysis.nights_by_phase,
        missing_nights=analysis.missing_nights,
        adherence_pct=analysis.adherence_pct,
        more_nights_needed=analysis.more_nights_needed,
        verdict_due=analysis.protocol.verdict_due(),
        verdict=analysis.verdict,
    )


@guarded.get("/trial/report", tags=["trial"], responses=_documented(404, 422))
def trial_report(session: SessionDep, user: CurrentUser, as_of: AsOfQuery = None) -> TrialReport:
    """Per outcome: the phase means, the difference with its interval, and the verdict."""
    analysis, _nights = _analysis(session, user, as_of)
    return summarise_trial(analysis)


@guarded.get(
    "/trial/report.html",
    tags=["trial"],
    response_class=HTMLResponse,
    responses=_documented(404, 422),
)
def trial_report_html(
    session: SessionDep, user: CurrentUser, lang: LocaleDep, as_of: AsOfQuery = None
) -> HTMLResponse:
    """The report as one self-contained HTML page, charts included."""
    analysis, nights = _analysis(session, user, as_of)
    return HTMLResponse(render_html(analysis, nights, lang))


# ---- label -------------------------------------------------------------------------------------


@guarded.post("/label", tags=["label"], responses=_documented(422))
def analyse_label_json(label: Label) -> LabelReport:
    """A supplement label: magnesium, glycine, pathways, evidence doses, limits, cost."""
    return analyse_label(label)


@guarded.post("/label/upload", tags=["label"], responses=_documented(413, 422))
def analyse_label_file(
    file: Annotated[UploadFile, File(description="a label written as YAML or JSON")],
) -> LabelReport:
    """The same for a label file; a problem names its line."""
    return analyse_label(parse_document(_read_upload(file, MAX_LABEL_BYTES), Label))


# ---- evidence ----------------------------------------------------------------------------------


class FormDetail(FormFacts):
    absorption: list[Absorption]
    corrections: list[Correction] = Field(description="where the article is corrected")


class TopicCount(BaseModel):
    topic: str
    references: int


class TopicEvidence(BaseModel):
    topic: str
    references: list[Reference] = Field(description="newest first")
    corrections: list[Correction]


@guarded.get("/evidence/forms", tags=["evidence"])
def list_forms() -> list[FormFacts]:
    """The magnesium forms: chemistry, measured absorption, tolerance, price."""
    ev = load_evidence()
    return [form_facts(ev, form) for form in ev.forms]


@guarded.get("/evidence/forms/{key}", tags=["evidence"], responses=_documented(404))
def read_form(key: str) -> FormDetail:
    """One form in full; `key` may also be a name such as 'magnesiumglycinaat'."""
    ev = load_evidence()
    try:
        form = find_form(key, ev, field="key")
    except InputError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=[error.as_dict()]) from error
    return FormDetail.model_validate(
        {
            **form_facts(ev, form).model_dump(),
            "absorption": form.absorption,
            "corrections": corrections_for(form.key, ev),
        }
    )


@guarded.get("/evidence/companions", tags=["evidence"])
def list_companions() -> list[Companion]:
    """What may go with magnesium (glycine, L-theanine, …), with its evidence."""
    return load_evidence().companions


@guarded.get("/evidence/topics", tags=["evidence"])
def list_topics() -> list[TopicCount]:
    return [TopicCount(topic=t, references=n) for t, n in topic_counts(load_evidence()).items()]


@guarded.get("/evidence/topics/{topic}", tags=["evidence"], responses=_documented(404))
def read_topic(topic: str) -> TopicEvidence:
    """The studies behind a topic, form or companion, and the article's corrections."""
    ev = load_evidence()
    try:
        key = resolve_topic(topic, ev)
    except InputError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=[error.as_dict()]) from error
    return TopicEvidence(
        topic=key, references=references_for(key, ev), corrections=corrections_for(key, ev)
    )


# ---- privacy -----------------------------------------------------------------------------------


class AccountExport(BaseModel):
    """Everything stored about one person."""

    username: str
    exported_at: dt.datetime
    profile: dict[str, Any] | None = Field(description="as entered")
    nights: list[NightPublic]
    isi: list[IsiPublic]
    trial: TrialPublic | None = Field(description="the running trial")
    earlier_trials: list[TrialProtocol]


@guarded.get("/export", tags=["privacy"])
def export_all(session: SessionDep, user: CurrentUser, lang: LocaleDep) -> AccountExport:
    """All of your data as one JSON document."""
    q = _isi()
    trials = get_trials(session, user.id)
    running = next((protocol for protocol, active in trials if active), None)
    return AccountExport(
        username=user.username,
        exported_at=dt.datetime.now(dt.UTC),
        profile=get_profile(session, user.id),
        nights=[_night_public(n) for n in get_nights(session, user.id)],
        isi=[
            _isi_public(q, r.taken_on, list(r.answers), lang)
            for r in get_responses(session, user.id, ISI)
        ],
        trial=None if running is None else _trial_public(running),
        earlier_trials=[protocol for protocol, active in trials if not active],
    )


@guarded.get(
    "/export/nights.csv", tags=["privacy"], response_class=Response, responses=CSV_RESPONSE
)
def export_all_nights_csv(session: SessionDep, user: CurrentUser) -> Response:
    return _csv_download(get_nights(session, user.id))


@guarded.delete("/account", status_code=status.HTTP_204_NO_CONTENT, tags=["privacy"])
def delete_my_account(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Delete the account and everything stored with it, and log out."""
    delete_account(session, user.id)
    request.session.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


router.include_router(guarded)

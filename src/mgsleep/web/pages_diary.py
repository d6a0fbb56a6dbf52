"""A person's own data: the sleep diary, the ISI, the trial, and the account (export, delete).

Every rule lives in the core: these pages turn form fields into core values, call the core,
and put its answers into words. Form fields arrive as text, so a mistake is shown next to its
field on the page instead of as a bare validation error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session

from mgsleep.clock import DEFAULT_TIMEZONE, known_zone
from mgsleep.diary.csvio import RowError, parse_csv, to_csv
from mgsleep.diary.night import DIARY_SOURCE, NightEntry, NightMetrics, SideEffect, metrics
from mgsleep.diary.questionnaires import Change, Score, change, score
from mgsleep.errors import InputError
from mgsleep.evidence import load_evidence
from mgsleep.evidence.schema import Questionnaire, Severity
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.plan import Verdict as PlanVerdict
from mgsleep.plan import make_plan
from mgsleep.profile import Profile
from mgsleep.schedule import evening
from mgsleep.store.repo import (
    Account,
    DuplicateNight,
    active_trial,
    add_night,
    add_response,
    delete_account,
    delete_night,
    get_nights,
    get_profile,
    get_responses,
    get_trials,
    import_nights,
    start_trial,
)
from mgsleep.trial.analysis import (
    CONFIDENCE,
    MAX_MORE_NIGHTS,
    OutcomeResult,
    TrialAnalysis,
    analyse,
)
from mgsleep.trial.charts import (
    CHART_KINDS,
    DISTRIBUTION_SIZE_IN,
    DPI,
    SERIES_SIZE_IN,
    ChartKind,
    chart_filename,
    distribution_chart,
    series_chart,
    trial_points,
)
from mgsleep.trial.labels import change_unit, outcome_name, outcome_unit, phase_name
from mgsleep.trial.protocol import (
    IDEAL_BASELINE_NIGHTS,
    MIN_BASELINE_NIGHTS,
    MIN_MAGNESIUM_NIGHTS,
    Design,
    Outcome,
    Phase,
    TrialProtocol,
)
from mgsleep.trial.report import render_html
from mgsleep.web.deps import SESSION_LANG, CurrentUser, LocaleDep, SessionDep
from mgsleep.web.pages import FormCsrf, render

router = APIRouter()

Gettext = Callable[[str], str]

ISI = "isi"
NO_VALUE = "—"
# Enough for years of nightly rows; a larger upload is not a diary.
MAX_CSV_BYTES = 5_000_000
MAX_ROW_ERRORS_SHOWN = 20
# The night before is the usual default; after a long gap the last night logged still is.
DEFAULTS_LOOKBACK_DAYS = 366
TRIAL_BASELINE_DEFAULT_NIGHTS = IDEAL_BASELINE_NIGHTS
# Personal health data: not kept by shared browsers or proxies.
PRIVATE = {"Cache-Control": "private, no-store"}

CLOCK_FIELDS = ("in_bed", "lights_out", "final_wake", "out_of_bed", "intake_time")
NUMBER_FIELDS = ("sleep_latency_min", "awakenings", "waso_min", "quality", "magnesium_mg")
TEXT_FIELDS = ("magnesium_form", "notes")
# What usually stays the same from one night to the next; side effects and notes do not.
USUAL_FIELDS = (*CLOCK_FIELDS, *NUMBER_FIELDS, "magnesium_form")


# ---- shared ----------------------------------------------------------------------------------


def _day(lang: Lang, value: date) -> str:
    return format_date(value, "EEE d MMM y", locale=lang)


def _page(
    request: Request,
    name: str,
    lang: Lang,
    user: Account | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    def day(value: date) -> str:
        return _day(lang, value)

    return render(request, name, lang, user, status_code=status_code, day=day, **context)


def _status(request: Request, code: int) -> int:
    """htmx swaps in only successful answers, and a form with its errors must still be shown."""
    return 200 if request.headers.get("HX-Request") else code


def _download(filename: str) -> dict[str, str]:
    return {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'}


def _zone(session: Session, owner_id: int) -> str:
    """The person's time zone from their profile, which may still be half filled in."""
    zone = (get_profile(session, owner_id) or {}).get("timezone")
    if isinstance(zone, str):
        try:
            return known_zone(zone)
        except ValueError:
            pass
    return DEFAULT_TIMEZONE


def _today(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def _profile(session: Session, owner_id: int) -> Profile | None:
    data = get_profile(session, owner_id)
    if data is None:
        return None
    try:
        return Profile.model_validate(data)
    except ValidationError:
        return None


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _parse_count(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


def _problem_text(problem: ErrorDetails, _: Gettext, lang: Lang) -> str:
    """A field's validation problem in the reader's words, with the limit it broke."""
    kind = problem["type"]
    limits = problem.get("ctx") or {}
    name = str(problem["loc"][0]) if problem["loc"] else ""
    if kind == "missing":
        return _("Fill this in.")
    if name in CLOCK_FIELDS:
        return _("Enter a time as HH:MM, for example 23:15.")
    if kind == "date_range":
        return _("Enter a date between 1900 and 2100.")
    if kind.startswith("date"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind in ("int_parsing", "int_from_float"):
        return _("Enter a whole number.")
    if kind == "float_parsing":
        return _("Enter a number.")
    if kind in ("greater_than_equal", "greater_than"):
        limit = limits.get("ge", limits.get("gt"))
        return format_number(lang, _("Enter {limit:g} or more."), limit=limit)
    if kind in ("less_than_equal", "less_than"):
        limit = limits.get("le", limits.get("lt"))
        return format_number(lang, _("Enter {limit:g} or less."), limit=limit)
    if kind == "string_too_long":
        return _("Use at most {limit} characters.").format(limit=limits.get("max_length"))
    if kind == "enum":
        return _("Choose one of the options.")
    return _("This value is not valid.")


# ---- the diary -------------------------------------------------------------------------------


class NightForm(BaseModel):
    """The diary form as posted: text, checked against NightEntry only afterwards."""

    date: str = ""
    in_bed: str = ""
    lights_out: str = ""
    sleep_latency_min: str = ""
    awakenings: str = ""
    waso_min: str = ""
    final_wake: str = ""
    out_of_bed: str = ""
    quality: str = ""
    magnesium_mg: str = ""
    magnesium_form: str = ""
    intake_time: str = ""
    bath: str = ""
    side_effects: list[str] = []
    notes: str = ""
    replace: str = ""


NightFormDep = Annotated[NightForm, Form()]


@dataclass(frozen=True)
class NightRow:
    entry: NightEntry
    metrics: NightMetrics
    href: str


def _clock_text(value: time | None) -> str:
    return "" if value is None else f"{value:%H:%M}"


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _entry_values(entry: NightEntry) -> dict[str, Any]:
    """A stored night as the form shows it."""
    values: dict[str, Any] = {name: _clock_text(getattr(entry, name)) for name in CLOCK_FIELDS}
    values |= {name: _number_text(getattr(entry, name)) for name in NUMBER_FIELDS}
    values |= {
        "date": entry.date.isoformat(),
        "magnesium_form": entry.magnesium_form or "",
        "bath": "yes" if entry.bath else "",
        "side_effects": [effect.value for effect in entry.side_effects],
        "notes": entry.notes or "",
    }
    return values


def _form_values(form: NightForm) -> dict[str, Any]:
    return form.model_dump(exclude={"replace"})


def _night_data(form: NightForm, night: str, zone: str, source: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in (*CLOCK_FIELDS, *NUMBER_FIELDS, *TEXT_FIELDS):
        text = str(getattr(form, name)).strip()
        if text:
            # A Dutch keyboard types 1,5 for 1.5.
            data[name] = text.replace(",", ".") if name == "magnesium_mg" else text
    return data | {
        "date": night,
        "bath": form.bath == "yes",
        "side_effects": form.side_effects,
        "timezone": zone,
        "source": source,
    }


def _impossible_text(name: str, reason: str, _: Gettext) -> str:
    """The core's reasons why a night cannot have happened, said in the reader's language."""
    if name == "lights_out":
        return _("Lights out can't be before you got into bed.")
    if name == "final_wake":
        return _("The final awakening can't be before lights out.")
    if name == "out_of_bed" and "24 hours" in reason:
        return _("A night can't last longer than 24 hours.")
    if name == "out_of_bed":
        return _("Getting out of bed can't be before the final awakening.")
    if name == "sleep_latency_min":
        return _(
            "The minutes to fall asleep plus the minutes awake are more than the time from "
            "lights out to the final awakening."
        )
    return reason


def _validation_errors(error: ValidationError, lang: Lang) -> dict[str, str]:
    """Field name -> what is wrong with it; the first problem per field."""
    _ = translations(lang).gettext
    found: dict[str, str] = {}
    for problem in error.errors():
        if problem["loc"]:
            found.setdefault(str(problem["loc"][0]), _problem_text(problem, _, lang))
            continue
        # A night that cannot have happened: the core names each field in its message.
        for part in str(problem["msg"]).removeprefix("Value error, ").split("; "):
            name, _sep, reason = part.partition(": ")
            found.setdefault(name, _impossible_text(name, reason, _))
    return found


def _validate_night(data: dict[str, Any], lang: Lang) -> tuple[NightEntry | None, dict[str, str]]:
    try:
        return NightEntry.model_validate(data), {}
    except ValidationError as error:
        return None, _validation_errors(error, lang)


def _previous_night(session: Session, owner_id: int, night: date) -> NightEntry | None:
    earlier = get_nights(
        session,
        owner_id,
        start=night - timedelta(days=DEFAULTS_LOOKBACK_DAYS),
        end=night - timedelta(days=1),
    )
    return earlier[-1] if earlier else None


def _follow_trial(values: dict[str, Any], protocol: TrialProtocol | None, night: date) -> None:
    """During a trial the magnesium fields follow its phase: the protocol says what to take."""
    if protocol is None:
        return
    phase = protocol.phase_of(night)
    if phase is Phase.magnesium and not values.get("magnesium_mg") and protocol.dose_mg:
        values["magnesium_mg"] = _number_text(protocol.dose_mg)
        values["magnesium_form"] = protocol.form or ""
        values["intake_time"] = _clock_text(protocol.intake_time)
    elif phase in (Phase.baseline, Phase.washout):
        values |= {"magnesium_mg": "", "magnesium_form": "", "intake_time": ""}


def _new_night_values(
    session: Session, owner_id: int, night: date
) -> tuple[dict[str, Any], date | None]:
    """The form for a new night: last night's usual answers, and the date of that night."""
    values: dict[str, Any] = {"date": night.isoformat(), "awakenings": "0", "waso_min": "0"}
    previous = _previous_night(session, owner_id, night)
    if previous is not None:
        usual = _entry_values(previous)
        values |= {name: usual[name] for name in (*USUAL_FIELDS, "bath")}
    _follow_trial(values, active_trial(session, owner_id), night)
    return values, None if previous is None else previous.date


def _source_query(source: str) -> str:
    """Nights from an importer share their date with the diary's; the source tells them apart."""
    return "" if source == DIARY_SOURCE else "?" + urlencode({"source": source})


def _night_rows(nights: Sequence[NightEntry]) -> list[NightRow]:
    rows = []
    for entry in sorted(nights, key=lambda n: (n.date, n.source), reverse=True):
        href = f"/diary/{entry.date.isoformat()}{_source_query(entry.source)}"
        rows.append(NightRow(entry=entry, metrics=metrics(entry), href=href))
    return rows


@dataclass
class DiaryState:
    """What the diary page shows besides the nights: the form and any message."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    defaults_from: date | None = None
    already_logged: date | None = None
    duplicate_date: date | None = None
    notice: str | None = None
    import_problem: str | None = None
    import_errors: list[RowError] = field(default_factory=list)
    import_error_count: int = 0
    status_code: int = 200


def _fresh_state(session: Session, owner_id: int) -> DiaryState:
    """The form for last night, and whether last night is already in the diary."""
    night = _today(_zone(session, owner_id))
    values, defaults_from = _new_night_values(session, owner_id, night)
    logged = get_nights(session, owner_id, start=night, end=night, source=DIARY_SOURCE)
    return DiaryState(
        values=values, defaults_from=defaults_from, already_logged=night if logged else None
    )


def _diary_page(
    request: Request, lang: Lang, user: Account, session: Session, state: DiaryState
) -> HTMLResponse:
    return _page(
        request,
        "diary.html",
        lang,
        user,
        status_code=_status(request, state.status_code),
        state=state,
        action="/diary",
        form_mode="new",
        values=state.values,
        errors=state.errors,
        rows=_night_rows(get_nights(session, user.id)),
        side_effects=[effect.value for effect in SideEffect],
    )


def _saved_notice(session: Session, owner_id: int, night: date, lang: Lang) -> str | None:
    stored = get_nights(session, owner_id, start=night, end=night)
    if not stored:
        return None
    result = metrics(stored[0])
    hours, minutes = divmod(round(result.total_sleep_min), 60)
    return format_number(
        lang,
        translations(lang).gettext(
            "Saved the night of {date}: {hours} h {minutes:02d} min asleep, sleep efficiency "
            "{efficiency:.0f}%."
        ),
        date=_day(lang, night),
        hours=hours,
        minutes=minutes,
        efficiency=result.sleep_efficiency_pct,
    )


def _diary_notice(
    session: Session, owner_id: int, lang: Lang, query: Mapping[str, str]
) -> str | None:
    """The message after a save, a delete or an import (they redirect here)."""
    _ = translations(lang).gettext
    saved = _parse_date(query.get("saved"))
    if saved is not None:
        return _saved_notice(session, owner_id, saved, lang)
    deleted = _parse_date(query.get("deleted"))
    if deleted is not None:
        return _("Deleted the night of {date}.").format(date=_day(lang, deleted))
    added = _parse_count(query.get("added"))
    if added is not None:
        return _("{added} nights added, {replaced} replaced, {present} already present.").format(
            added=added,
            replaced=_parse_count(query.get("replaced")) or 0,
            present=_parse_count(query.get("present")) or 0,
        )
    return None


@router.get("/diary", response_class=HTMLResponse)
def diary_page(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep
) -> Response:
    state = _fresh_state(session, user.id)
    state.notice = _diary_notice(session, user.id, lang, request.query_params)
    return _diary_page(request, lang, user, session, state)


@router.post("/diary", dependencies=[FormCsrf])
def diary_add(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    form: NightFormDep,
) -> Response:
    data = _night_data(form, form.date, _zone(session, user.id), DIARY_SOURCE)
    entry, errors = _validate_night(data, lang)
    if entry is None:
        state = DiaryState(values=_form_values(form), errors=errors, status_code=422)
        return _diary_page(request, lang, user, session, state)
    try:
        add_night(session, user.id, entry, replace=form.replace == "yes")
    except DuplicateNight:
        state = DiaryState(values=_form_values(form), duplicate_date=entry.date, status_code=409)
        return _diary_page(request, lang, user, session, state)
    return RedirectResponse(f"/diary?saved={entry.date.isoformat()}", status_code=303)


def _diary_csv(session: Session, owner_id: int) -> Response:
    text = to_csv(get_nights(session, owner_id))
    return Response(text, media_type="text/csv; charset=utf-8", headers=_download("diary.csv"))


@router.get("/diary/export.csv")
def diary_export(user: CurrentUser, session: SessionDep) -> Response:
    return _diary_csv(session, user.id)


def _upload_text(upload: UploadFile, _: Gettext) -> tuple[str | None, str | None]:
    """The uploaded file as text, or why it cannot be read."""
    content = upload.file.read(MAX_CSV_BYTES + 1)
    if not content:
        return None, _("Choose a CSV file first.")
    if len(content) > MAX_CSV_BYTES:
        return None, _("The file is larger than 5 MB; this is not a diary CSV.")
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, _("The file is not a UTF-8 text file. Save it as CSV (UTF-8) and try again.")


def _import_failure(problem: str, errors: Sequence[RowError] = ()) -> DiaryState:
    return DiaryState(
        values={},
        import_problem=problem,
        import_errors=list(errors[:MAX_ROW_ERRORS_SHOWN]),
        import_error_count=len(errors),
        status_code=422,
    )


def _import(
    session: Session, owner_id: int, upload: UploadFile, replace: bool, lang: Lang
) -> DiaryState | str:
    """All of the file or nothing: the failure to show, or where to go after success."""
    _ = translations(lang).gettext
    text, problem = _upload_text(upload, _)
    if text is None:
        return _import_failure(problem or "")
    try:
        parsed = list(parse_csv(text, timezone=_zone(session, owner_id)))
    except InputError as error:
        return _import_failure(
            _("The first line of the file is not right: {reason}.").format(reason=error.reason)
        )
    row_errors = [row for row in parsed if isinstance(row, RowError)]
    if row_errors:
        message = _("Rows with a problem: {count}. Nothing was imported.")
        return _import_failure(message.format(count=len(row_errors)), row_errors)
    nights = [row for row in parsed if isinstance(row, NightEntry)]
    try:
        # A savepoint: the nights stored before a conflicting one must go too.
        with session.begin_nested():
            summary = import_nights(session, owner_id, nights, replace=replace)
    except DuplicateNight as error:
        message = _(
            "The night of {date} in the file differs from the one in your diary, so nothing "
            "was imported. Tick “Replace nights that differ” to overwrite them."
        )
        return _import_failure(message.format(date=_day(lang, error.night_date)))
    return (
        f"/diary?added={summary.added}&replaced={summary.replaced}"
        f"&present={summary.already_present}"
    )


@router.post("/diary/import", dependencies=[FormCsrf])
def diary_import(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    replace: Annotated[str, Form()] = "",
) -> Response:
    outcome = _import(session, user.id, file, replace == "yes", lang)
    if isinstance(outcome, str):
        return RedirectResponse(outcome, status_code=303)
    fresh = _fresh_state(session, user.id)
    outcome.values, outcome.defaults_from = fresh.values, fresh.defaults_from
    outcome.already_logged = fresh.already_logged
    return _diary_page(request, lang, user, session, outcome)


EditMode = Literal["edit", "delete", "missing"]


def _edit_page(
    request: Request,
    lang: Lang,
    user: Account,
    *,
    mode: EditMode,
    night: date | None,
    source: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    query = _source_query(source)
    action = "" if night is None else f"/diary/{night.isoformat()}{query}"
    return _page(
        request,
        "diary_edit.html",
        lang,
        user,
        status_code=_status(request, status_code),
        mode=mode,
        night=night,
        query=query,
        action=action,
        form_mode="edit",
        values=values or {},
        errors=errors or {},
        side_effects=[effect.value for effect in SideEffect],
    )


def _stored(session: Session, owner_id: int, night: date | None, source: str) -> NightEntry | None:
    if night is None:
        return None
    found = get_nights(session, owner_id, start=night, end=night, source=source)
    return found[0] if found else None


@router.get("/diary/{night_date}", response_class=HTMLResponse)
def diary_edit_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    source: str = DIARY_SOURCE,
) -> Response:
    night = _parse_date(night_date)
    entry = _stored(session, user.id, night, source)
    if entry is None:
        return _edit_page(
            request, lang, user, mode="missing", night=night, source=source, status_code=404
        )
    values = _entry_values(entry)
    return _edit_page(request, lang, user, mode="edit", night=night, source=source, values=values)


@router.post("/diary/{night_date}", dependencies=[FormCsrf])
def diary_edit(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    form: NightFormDep,
    source: str = DIARY_SOURCE,
) -> Response:
    night = _parse_date(night_date)
    stored = _stored(session, user.id, night, source)
    if night is None or stored is None:
        return _edit_page(
            request, lang, user, mode="missing", night=night, source=source, status_code=404
        )
    data = _night_data(form, night.isoformat(), stored.timezone, source)
    entry, errors = _validate_night(data, lang)
    if entry is None:
        values = _form_values(form)
        return _edit_page(
            request,
            lang,
            user,
            mode="edit",
            night=night,
            source=source,
            values=values,
            errors=errors,
            status_code=422,
        )
    add_night(session, user.id, entry, replace=True)
    return RedirectResponse(f"/diary?saved={night.isoformat()}", status_code=303)


@router.get("/diary/{night_date}/delete", response_class=HTMLResponse)
def diary_delete_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    source: str = DIARY_SOURCE,
) -> Response:
    night = _parse_date(night_date)
    if _stored(session, user.id, night, source) is None:
        return _edit_page(
            request, lang, user, mode="missing", night=night, source=source, status_code=404
        )
    return _edit_page(request, lang, user, mode="delete", night=night, source=source)


@router.post("/diary/{night_date}/delete", dependencies=[FormCsrf])
def diary_delete(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    night_date: str,
    source: str = DIARY_SOURCE,
) -> Response:
    night = _parse_date(night_date)
    if night is None or not delete_night(session, user.id, night, source):
        return _edit_page(
            request, lang, user, mode="missing", night=night, source=source, status_code=404
        )
    return RedirectResponse(f"/diary?deleted={night.isoformat()}", status_code=303)


# ---- the Insomnia Severity Index -------------------------------------------------------------


async def _posted_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


PostedFields = Annotated[dict[str, str], Depends(_posted_fields)]


@dataclass(frozen=True)
class IsiResult:
    taken_on: date
    score: Score
    since_first: Change | None


@dataclass(frozen=True)
class IsiHistoryRow:
    taken_on: date
    total: int
    band: str


def _answer_name(number: int) -> str:
    return f"item_{number}"


def _isi_answers(
    q: Questionnaire, fields: Mapping[str, str], _: Gettext
) -> tuple[list[int], dict[int, str]]:
    """The answers as numbers; an item left open is named, its range is the core's to check."""
    answers: list[int] = []
    errors: dict[int, str] = {}
    for number in range(1, len(q.items) + 1):
        try:
            answers.append(int(fields.get(_answer_name(number), "")))
        except ValueError:
            errors[number] = _("Choose one answer.")
    if errors:
        return answers, errors
    try:
        score(q, answers)
    except InputError as error:
        number = _parse_count(error.field.removeprefix("answers.")) or 1
        errors[number] = _("Choose one of the answers shown.")
    return answers, errors


def _isi_result(q: Questionnaire, session: Session, owner_id: int) -> IsiResult | None:
    """The latest score and, when there is an earlier one, the change since the first."""
    stored = get_responses(session, owner_id, ISI)
    if not stored:
        return None
    latest = score(q, list(stored[-1].answers))
    first = score(q, list(stored[0].answers)) if len(stored) > 1 else None
    since = None if first is None else change(q, first, latest)
    return IsiResult(taken_on=stored[-1].taken_on, score=latest, since_first=since)


def _isi_history(
    q: Questionnaire, session: Session, owner_id: int, lang: Lang
) -> list[IsiHistoryRow]:
    rows = [
        IsiHistoryRow(r.taken_on, r.total, score(q, list(r.answers)).band_label.get(lang))
        for r in get_responses(session, owner_id, ISI)
    ]
    return sorted(rows, key=lambda row: row.taken_on, reverse=True)


def _isi_page(
    request: Request,
    lang: Lang,
    user: Account,
    session: Session,
    *,
    chosen: Mapping[str, str] | None = None,
    errors: dict[int, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    q = load_evidence().questionnaire(ISI)
    return _page(
        request,
        "isi.html",
        lang,
        user,
        status_code=_status(request, status_code),
        q=q,
        items=list(enumerate(q.items, start=1)),
        values=list(range(q.item_min, q.item_max + 1)),
        chosen=chosen or {},
        errors=errors or {},
        answer_name=_answer_name,
        result=_isi_result(q, session, user.id),
        history=_isi_history(q, session, user.id, lang),
        saved=saved,
    )


@router.get("/isi", response_class=HTMLResponse)
def isi_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    saved: str | None = None,
) -> Response:
    return _isi_page(request, lang, user, session, saved=bool(saved))


@router.post("/isi", dependencies=[FormCsrf])
def isi_submit(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    fields: PostedFields,
) -> Response:
    q = load_evidence().questionnaire(ISI)
    answers, errors = _isi_answers(q, fields, translations(lang).gettext)
    if errors:
        return _isi_page(
            request, lang, user, session, chosen=fields, errors=errors, status_code=422
        )
    result = score(q, answers)
    # A second answer on the same day is a correction of the first.
    taken_on = _today(_zone(session, user.id))
    add_response(session, user.id, ISI, taken_on, answers, result.total_points, replace=True)
    return RedirectResponse("/isi?saved=1#result", status_code=303)


# ---- the trial -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOffer:
    """What the plan says to take in the trial, or why it proposes nothing."""

    form: str | None = None
    form_name: str | None = None
    dose_mg: float | None = None
    intake_time: time | None = None
    refusal: list[str] = field(default_factory=list)
    no_profile: bool = False

    @property
    def usable(self) -> bool:
        return not self.no_profile and not self.refusal


def _plan_offer(session: Session, owner_id: int, start: date, lang: Lang) -> PlanOffer:
    """Form, dose and intake time from the plan, so the trial tests what the person takes."""
    profile = _profile(session, owner_id)
    if profile is None:
        return PlanOffer(no_profile=True)
    plan = make_plan(profile, start=start)
    if plan.verdict is PlanVerdict.stop or plan.elemental_mg is None:
        stops = [f for f in plan.findings if f.severity is Severity.stop]
        reasons = [f"{f.message.get(lang)} {f.management.get(lang)}" for f in stops]
        _ = translations(lang).gettext
        return PlanOffer(
            refusal=reasons or [_("Your plan proposes no magnesium supplement for you.")]
        )
    intake = next(
        (e.start.time() for e in evening(plan, night=start).entries if e.kind == "magnesium"),
        None,
    )
    name = plan.form_choice.name.get(lang) if plan.form_choice else plan.form
    return PlanOffer(form=plan.form, form_name=name, dose_mg=plan.elemental_mg, intake_time=intake)


class TrialForm(BaseModel):
    baseline_start: str = ""
    magnesium_start: str = ""
    design: str = Design.ab.value
    primary_outcome: str = Outcome.sleep_latency_min.value
    replace_current: str = ""


def _trial_defaults(today: date) -> dict[str, str]:
    return {
        "baseline_start": today.isoformat(),
        "magnesium_start": (today + timedelta(days=TRIAL_BASELINE_DEFAULT_NIGHTS)).isoformat(),
        "design": Design.ab.value,
        "primary_outcome": Outcome.sleep_latency_min.value,
    }


def _protocol_errors(error: ValidationError, design: str, lang: Lang) -> dict[str, str]:
    _ = translations(lang).gettext
    found: dict[str, str] = {}
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        name, _sep, reason = message.partition(": ")
        if problem["loc"]:
            found.setdefault(str(problem["loc"][0]), _problem_text(problem, _, lang))
        elif name == "magnesium_start" and design == Design.abab.value:
            found.setdefault(
                name,
                _(
                    "In A-B-A-B every phase is as long as the baseline, so the baseline needs "
                    "at least {count} nights: choose a later magnesium start."
                ).format(count=MIN_MAGNESIUM_NIGHTS // 2),
            )
        elif name == "magnesium_start":
            found.setdefault(
                name,
                _(
                    "The baseline needs at least {minimum} nights (ideally {ideal}): choose a "
                    "later magnesium start."
                ).format(minimum=MIN_BASELINE_NIGHTS, ideal=IDEAL_BASELINE_NIGHTS),
            )
        else:
            found.setdefault(name or "baseline_start", reason or message)
    return found


def _trial_form_errors(form: TrialForm, lang: Lang, has_trial: bool) -> dict[str, str]:
    _ = translations(lang).gettext
    errors: dict[str, str] = {}
    for name in ("baseline_start", "magnesium_start"):
        if _parse_date(getattr(form, name)) is None:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
    if form.design not in {d.value for d in Design}:
        errors["design"] = _("Choose one of the options.")
    if form.primary_outcome not in {o.value for o in Outcome}:
        errors["primary_outcome"] = _("Choose one of the options.")
    if has_trial and form.replace_current != "yes":
        errors["replace_current"] = _("Tick the box to stop the current trial and start a new one.")
    return errors


def _outcome_choices(lang: Lang) -> list[tuple[str, str]]:
    return [(o.value, outcome_name(o, lang)) for o in Outcome]


def _start_page(
    request: Request,
    lang: Lang,
    user: Account,
    *,
    offer: PlanOffer,
    values: Mapping[str, str],
    has_trial: bool,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "trial.html",
        lang,
        user,
        status_code=_status(request, status_code),
        trial=None,
        has_trial=has_trial,
        offer=offer,
        values=values,
        errors=errors or {},
        outcomes=_outcome_choices(lang),
        min_baseline_nights=MIN_BASELINE_NIGHTS,
    )


@dataclass(frozen=True)
class OutcomeLine:
    """One row of the per-outcome table, its numbers already in the reader's notation."""

    key: str
    name: str
    unit: str
    change_unit: str
    primary: bool
    lower_is_better: bool
    verdict: str
    baseline: str
    magnesium: str
    difference: str
    interval: str
    has_charts: bool


def _number(lang: Lang, value: float | None, spec: str = ".1f") -> str:
    if value is None:
        return NO_VALUE
    text = format_number(lang, "{:" + spec + "}", value)
    # A difference that rounds to zero has no direction.
    return text.lstrip("+-") if not text.strip("+-0.,") else text


def _outcome_line(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], outcome: Outcome, lang: Lang
) -> OutcomeLine:
    result: OutcomeResult = analysis.outcomes[outcome.value]
    interval = NO_VALUE
    if result.ci_low is not None and result.ci_high is not None:
        interval = translations(lang).gettext("%(low)s to %(high)s") % {
            "low": _number(lang, result.ci_low, "+.1f"),
            "high": _number(lang, result.ci_high, "+.1f"),
        }
    return OutcomeLine(
        key=outcome.value,
        name=outcome_name(outcome, lang),
        unit=outcome_unit(outcome, lang),
        change_unit=change_unit(outcome, lang),
        primary=outcome is analysis.primary_outcome,
        lower_is_better=result.lower_is_better,
        verdict=result.verdict.value,
        baseline=_number(lang, result.baseline_mean),
        magnesium=_number(lang, result.magnesium_mean),
        difference=_number(lang, result.difference, "+.1f"),
        interval=interval,
        has_charts=bool(trial_points(analysis, nights, outcome)),
    )


def _analysis(
    session: Session, owner_id: int, protocol: TrialProtocol
) -> tuple[TrialAnalysis, list[NightEntry]]:
    nights = get_nights(session, owner_id)
    isi = [(r.taken_on, r.total) for r in get_responses(session, owner_id, ISI)]
    today = _today(_zone(session, owner_id))
    return analyse(protocol, nights, as_of=today, isi_totals=isi), nights


def _tonight(protocol: TrialProtocol, today: date) -> str | None:
    """The phase of the coming night (named by the morning it ends)."""
    phase = protocol.phase_of(today + timedelta(days=1))
    return None if phase is None else phase.value


def _trial_page(
    request: Request,
    lang: Lang,
    user: Account,
    session: Session,
    protocol: TrialProtocol,
    started: bool,
) -> HTMLResponse:
    analysis, nights = _analysis(session, user.id, protocol)
    lines = [_outcome_line(analysis, nights, outcome, lang) for outcome in Outcome]
    phases = [Phase.baseline, Phase.magnesium]
    if protocol.design is Design.abab:
        phases.append(Phase.washout)
    return _page(
        request,
        "trial.html",
        lang,
        user,
        trial=protocol,
        analysis=analysis,
        started=started,
        lines=lines,
        primary=next(line for line in lines if line.primary),
        phases=[(phase.value, phase_name(phase, lang)) for phase in phases],
        tonight=_tonight(protocol, analysis.as_of),
        form_name=_form_name(protocol.form, lang),
        due=protocol.verdict_due(),
        level=format_number(lang, "{:.0%}", CONFIDENCE),
        max_more_nights=MAX_MORE_NIGHTS,
        series_px=_pixels(SERIES_SIZE_IN),
        distribution_px=_pixels(DISTRIBUTION_SIZE_IN),
        number=lambda value, spec=".1f": _number(lang, value, spec),
    )


def _form_name(form: str | None, lang: Lang) -> str | None:
    if form is None:
        return None
    try:
        return load_evidence().form(form).name.get(lang)
    except KeyError:
        return form


def _pixels(size_in: tuple[float, float]) -> tuple[int, int]:
    return round(size_in[0] * DPI), round(size_in[1] * DPI)


@router.get("/trial", response_class=HTMLResponse)
def trial_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    new: str | None = None,
    started: str | None = None,
) -> Response:
    protocol = active_trial(session, user.id)
    if protocol is not None and not new:
        return _trial_page(request, lang, user, session, protocol, bool(started))
    today = _today(_zone(session, user.id))
    offer = _plan_offer(session, user.id, today, lang)
    values = _trial_defaults(today)
    return _start_page(
        request, lang, user, offer=offer, values=values, has_trial=protocol is not None
    )


@router.post("/trial", dependencies=[FormCsrf])
def trial_start(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    form: Annotated[TrialForm, Form()],
) -> Response:
    has_trial = active_trial(session, user.id) is not None
    values = form.model_dump()
    errors = _trial_form_errors(form, lang, has_trial)
    start = _parse_date(form.baseline_start) or _today(_zone(session, user.id))
    offer = _plan_offer(session, user.id, start, lang)
    protocol = None
    if not errors and offer.usable:
        try:
            protocol = TrialProtocol.model_validate(
                {
                    "baseline_start": form.baseline_start,
                    "magnesium_start": form.magnesium_start,
                    "design": form.design,
                    "primary_outcome": form.primary_outcome,
                    "form": offer.form,
                    "dose_mg": offer.dose_mg,
                    "intake_time": offer.intake_time,
                }
            )
        except ValidationError as error:
            errors = _protocol_errors(error, form.design, lang)
    if protocol is None:
        return _start_page(
            request,
            lang,
            user,
            offer=offer,
            values=values,
            has_trial=has_trial,
            errors=errors,
            status_code=422,
        )
    start_trial(session, user.id, protocol)
    return RedirectResponse("/trial?started=1", status_code=303)


def _chart_of(name: str) -> tuple[Outcome, ChartKind] | None:
    for outcome in Outcome:
        for kind in CHART_KINDS:
            if chart_filename(outcome, kind) == f"{name}.png":
                return outcome, kind
    return None


@router.get("/trial/charts/{name}.png")
def trial_chart(name: str, lang: LocaleDep, user: CurrentUser, session: SessionDep) -> Response:
    """One chart of the report; drawing only the one asked for keeps each image request quick."""
    chart = _chart_of(name)
    protocol = active_trial(session, user.id)
    if chart is None or protocol is None:
        return Response(status_code=404)
    outcome, kind = chart
    analysis, nights = _analysis(session, user.id, protocol)
    if not trial_points(analysis, nights, outcome):
        return Response(status_code=404)
    draw = series_chart if kind == "series" else distribution_chart
    return Response(draw(analysis, nights, outcome, lang), media_type="image/png", headers=PRIVATE)


@router.get("/trial/report.html")
def trial_report(
    lang: LocaleDep, user: CurrentUser, session: SessionDep, download: str | None = None
) -> Response:
    protocol = active_trial(session, user.id)
    if protocol is None:
        return RedirectResponse("/trial", status_code=303)
    analysis, nights = _analysis(session, user.id, protocol)
    headers = _download("trial-report.html") if download else PRIVATE
    return HTMLResponse(render_html(analysis, nights, lang), headers=headers)


# ---- the account -----------------------------------------------------------------------------


def _account_page(
    request: Request, lang: Lang, user: Account, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return _page(
        request,
        "account.html",
        lang,
        user,
        status_code=_status(request, status_code),
        error=error,
    )


def all_data(session: Session, user: Account) -> dict[str, Any]:
    """Everything stored for this person, as JSON-ready data."""
    nights = get_nights(session, user.id)
    trials = get_trials(session, user.id)
    running = next((protocol for protocol, active in trials if active), None)
    return {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "account": {"username": user.username},
        "profile": get_profile(session, user.id),
        "nights": [
            {**night.model_dump(mode="json"), "metrics": metrics(night).model_dump(mode="json")}
            for night in nights
        ],
        "questionnaires": {
            q.key: [
                {"taken_on": r.taken_on.isoformat(), "answers": list(r.answers), "total": r.total}
                for r in get_responses(session, user.id, q.key)
            ]
            for q in load_evidence().questionnaires
        },
        "trial": None if running is None else running.model_dump(mode="json"),
        "earlier_trials": [p.model_dump(mode="json") for p, active in trials if not active],
    }


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, lang: LocaleDep, user: CurrentUser) -> Response:
    return _account_page(request, lang, user)


@router.get("/account/export.json")
def account_export_json(user: CurrentUser, session: SessionDep) -> Response:
    body = json.dumps(all_data(session, user), ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers=_download("mgsleep-my-data.json"))


@router.get("/account/export.csv")
def account_export_csv(user: CurrentUser, session: SessionDep) -> Response:
    return _diary_csv(session, user.id)


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

"""The sleep diary page: last night's form, the list of nights, and CSV in and out.

One request reads the diary once: the form's defaults, "already logged" and the notice after
a save all come from the same list of nights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.diary.imports import ImportReport
from mgsleep.diary.night import DIARY_SOURCE, NightEntry, NightTag, SideEffect, metrics
from mgsleep.errors import InputError, render, sentence
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.service import diary
from mgsleep.service.imports import MAX_DIARY_CSV_BYTES
from mgsleep.service.profile import person_zone, usual_bedtime
from mgsleep.store.repo import Account, active_trial
from mgsleep.trial.kinds import Outcome
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, today_for
from mgsleep.web.pages.common import (
    FormCsrf,
    download_headers,
    htmx_status,
    page,
    parse_count,
    parse_date,
    short_day,
)
from mgsleep.web.pages.night_form import (
    NightFormDep,
    form_values,
    new_night_values,
    night_rows,
    read_night,
)

if TYPE_CHECKING:  # the charts load the statistics: only when a page draws them
    from mgsleep.trial.charts import Chart

router = APIRouter()

MAX_ROW_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class RejectedRow:
    """A row of an imported file that was left out, in the reader's words."""

    position: str
    field: str
    reason: str


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
    import_errors: list[RejectedRow] = field(default_factory=list)
    import_error_count: int = 0
    status_code: int = 200
    saved: date | None = None  # just saved: say so and what comes next, not an empty form
    from_bedtime: bool = False  # a first night, its times guessed from the profile's bedtime
    blinded: bool = False  # a blinded trial runs: the morning asks what was taken
    earlier_night: date | None = None  # the form is for an earlier night than last night
    today: date | None = None  # set with a fresh form: the trend charts end here


def _with_fresh_form(
    state: DiaryState,
    nights: Sequence[NightEntry],
    session: Session,
    owner_id: int,
    asked: date | None = None,
) -> DiaryState:
    """The form for last night (or an earlier night `asked` for, never a future one), and
    whether that night is already in the diary."""
    today = today_for(session, owner_id)
    night = asked if asked is not None and asked <= today else today
    protocol = active_trial(session, owner_id)
    state.values, state.defaults_from = new_night_values(
        nights, protocol, night, usual_bedtime(session, owner_id)
    )
    state.from_bedtime = state.defaults_from is None and bool(state.values.get("lights_out"))
    state.blinded = bool(getattr(protocol, "blinded", False))
    state.earlier_night = night if night != today else None
    state.today = today
    logged = any(n.date == night and n.source == DIARY_SOURCE for n in nights)
    state.already_logged = night if logged else None
    return state


def _diary_page(
    request: Request, lang: Lang, user: Account, nights: Sequence[NightEntry], state: DiaryState
) -> HTMLResponse:
    return page(
        request,
        "diary.html",
        lang,
        user,
        status_code=htmx_status(request, state.status_code),
        state=state,
        action="/diary",
        form_mode="new",
        values=state.values,
        errors=state.errors,
        rows=night_rows(nights),
        side_effects=[effect.value for effect in SideEffect],
        tags=[tag.value for tag in NightTag],
        blinded=state.blinded,
        trend=[] if state.today is None else trend_charts(nights, state.today, lang),
    )


# The diary page's trend: the last four weeks of the two outcomes people ask about first.
TREND_DAYS = 28
TREND_OUTCOMES = (Outcome.total_sleep_min, Outcome.sleep_latency_min)


def trend_charts(nights: Sequence[NightEntry], today: date, lang: Lang) -> list[Chart]:
    """Night by night over the last four weeks, once there are a few nights to show."""
    from mgsleep.trial.charts import diary_chart

    first = today - timedelta(days=TREND_DAYS - 1)
    if sum(1 for n in nights if first <= n.date <= today) < TREND_MIN_NIGHTS:
        return []
    return [diary_chart(nights, outcome, first, today, lang) for outcome in TREND_OUTCOMES]


# Fewer nights than this make a chart of dots, not a trend.
TREND_MIN_NIGHTS = 3


def _saved_notice(nights: Sequence[NightEntry], night: date, lang: Lang) -> str | None:
    stored = next((n for n in nights if n.date == night and n.source == DIARY_SOURCE), None)
    if stored is None:
        return None
    result = metrics(stored)
    hours, minutes = divmod(round(result.total_sleep_min), 60)
    return format_number(
        lang,
        translations(lang).gettext(
            "Saved the night of {date}: {hours} h {minutes:02d} min asleep, sleep efficiency "
            "{efficiency:.0f}%."
        ),
        date=short_day(lang, night),
        hours=hours,
        minutes=minutes,
        efficiency=result.sleep_efficiency_pct,
    )


def _imported_notice(lang: Lang, added: int, replaced: int, present: int) -> str:
    return (
        translations(lang)
        .gettext("{added} nights added, {replaced} replaced, {present} already present.")
        .format(added=added, replaced=replaced, present=present)
    )


def _diary_notice(nights: Sequence[NightEntry], lang: Lang, query: Mapping[str, str]) -> str | None:
    """The message after a save, a delete or an import (they redirect here)."""
    saved = parse_date(query.get("saved"))
    if saved is not None:
        return _saved_notice(nights, saved, lang)
    deleted = parse_date(query.get("deleted"))
    if deleted is not None:
        text = translations(lang).gettext("Deleted the night of {date}.")
        return text.format(date=short_day(lang, deleted))
    added = parse_count(query.get("added"))
    if added is not None:
        replaced = parse_count(query.get("replaced")) or 0
        return _imported_notice(lang, added, replaced, parse_count(query.get("present")) or 0)
    return None


@router.get("/diary", response_class=HTMLResponse)
def diary_page(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep
) -> Response:
    nights = diary.nights(session, user.id)
    asked = parse_date(request.query_params.get("date"))
    state = _with_fresh_form(DiaryState(values={}), nights, session, user.id, asked)
    state.notice = _diary_notice(nights, lang, request.query_params)
    state.saved = parse_date(request.query_params.get("saved"))
    return _diary_page(request, lang, user, nights, state)


@router.post("/diary", dependencies=[FormCsrf])
def diary_add(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    form: NightFormDep,
) -> Response:
    zone = person_zone(session, user.id)
    entry, errors = read_night(form, form.date, zone, DIARY_SOURCE, lang)
    state = DiaryState(values=form_values(form), errors=errors, status_code=422)
    if entry is not None:
        try:
            diary.add_night(session, user.id, entry, replace=form.replace == "yes")
        except InputError:
            state = DiaryState(values=form_values(form), duplicate_date=entry.date, status_code=409)
        else:
            return RedirectResponse(f"/diary?saved={entry.date.isoformat()}", status_code=303)
    return _diary_page(request, lang, user, diary.nights(session, user.id), state)


@router.get("/diary/export.csv")
def diary_export(user: CurrentUser, session: SessionDep) -> Response:
    return Response(
        diary.export_csv(session, user.id),
        media_type="text/csv; charset=utf-8",
        headers=download_headers("diary.csv"),
    )


def _rejected_rows(report: ImportReport, lang: Lang) -> list[RejectedRow]:
    rows = []
    for rejected in report.rejected[:MAX_ROW_ERRORS_SHOWN]:
        position = (
            translations(lang).gettext("Row {row}").format(row=rejected.row)
            if rejected.row is not None
            else rejected.position
        )
        rows.append(RejectedRow(position, rejected.field, render(rejected.problem, lang)))
    return rows


def _refusal(error: InputError, lang: Lang) -> str:
    """Why a file imported nothing, in the words of this page (by the problem's code)."""
    _ = translations(lang).gettext
    found = error.problem
    if found.code == "night_differs":
        day = parse_date(str(found.params.get("date")))
        text = _(
            "The night of {date} in the file differs from the one in your diary, so nothing "
            "was imported. Tick “Replace nights that differ” to overwrite them."
        )
        return text.format(date=short_day(lang, day) if day else found.params.get("date"))
    if found.code == "not_utf8":
        return _("The file is not a UTF-8 text file. Save it as CSV (UTF-8) and try again.")
    if found.code in ("unknown_columns", "missing_columns", "broken_csv"):
        text = _("The first line of the file is not right: {reason}")
        return text.format(reason=render(found, lang))
    return sentence(found, lang)


def _import(
    session: Session, owner_id: int, upload: UploadFile, replace: bool, lang: Lang
) -> DiaryState | str:
    """Good rows in, bad rows listed; the state to show, or where to go when all went in."""
    _ = translations(lang).gettext
    data = upload.file.read(MAX_DIARY_CSV_BYTES + 1)
    if not data:
        return DiaryState(values={}, import_problem=_("Choose a CSV file first."), status_code=422)
    if len(data) > MAX_DIARY_CSV_BYTES:
        problem = _("The file is larger than 5 MB; this is not a diary CSV.")
        return DiaryState(values={}, import_problem=problem, status_code=422)
    try:
        zone = person_zone(session, owner_id)
        report = diary.import_csv(session, owner_id, data, timezone=zone, replace=replace)
    except InputError as error:
        return DiaryState(values={}, import_problem=_refusal(error, lang), status_code=422)
    if not report.rejected:
        return (
            f"/diary?added={report.added}&replaced={report.replaced}"
            f"&present={report.already_present}"
        )
    problem = _("Rows with a problem were left out: {count}. The other rows were imported.")
    return DiaryState(
        values={},
        notice=_imported_notice(lang, report.added, report.replaced, report.already_present),
        import_problem=problem.format(count=len(report.rejected)),
        import_errors=_rejected_rows(report, lang),
        import_error_count=len(report.rejected),
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
    nights = diary.nights(session, user.id)
    return _diary_page(
        request, lang, user, nights, _with_fresh_form(outcome, nights, session, user.id)
    )

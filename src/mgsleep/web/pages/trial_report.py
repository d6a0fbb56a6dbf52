"""The running trial: its progress, the verdict per outcome, its charts, the full report.

The diary is read in one short transaction; the analysis and the charts are then worked out
(or found in the cache) with the database connection already back in the pool. A blinded
trial shows only its progress until it has ended: no phase, result or chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.errors import Conflict, NotFound, render
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.service import trials
from mgsleep.store.db import session_scope
from mgsleep.store.repo import Account
from mgsleep.trial.allocation import short_fingerprint
from mgsleep.trial.analysis import CONFIDENCE, MAX_MORE_NIGHTS, TrialAnalysis
from mgsleep.trial.charts import Chart, chart_filename, phase_label
from mgsleep.trial.labels import (
    change_unit,
    form_name,
    outcome_name,
    outcome_unit,
    power_designs,
    power_source_note,
    verdict_explanation,
)
from mgsleep.trial.power import PowerOutlook
from mgsleep.trial.protocol import Design, Outcome, Phase, TrialProtocol
from mgsleep.trial.registration import registration_hash
from mgsleep.web.deps import CurrentUser, EngineDep, LocaleDep, today_for
from mgsleep.web.pages.common import NO_VALUE, PRIVATE, download_headers, page

router = APIRouter()


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
    series: Chart | None
    distribution: Chart | None

    @property
    def has_charts(self) -> bool:
        return self.series is not None


def number(lang: Lang, value: float | None, spec: str = ".1f") -> str:
    if value is None:
        return NO_VALUE
    text = format_number(lang, "{:" + spec + "}", value)
    # A difference that rounds to zero has no direction.
    return text.lstrip("+-") if not text.strip("+-0.,") else text


def _outcome_line(
    analysis: TrialAnalysis, charts: dict[str, Chart], outcome: Outcome, lang: Lang
) -> OutcomeLine:
    result = analysis.outcomes[outcome.value]
    interval = NO_VALUE
    if result.ci_low is not None and result.ci_high is not None:
        interval = translations(lang).gettext("%(low)s to %(high)s") % {
            "low": number(lang, result.ci_low, "+.1f"),
            "high": number(lang, result.ci_high, "+.1f"),
        }
    return OutcomeLine(
        key=outcome.value,
        name=outcome_name(outcome, lang),
        unit=outcome_unit(outcome, lang),
        change_unit=change_unit(outcome, lang),
        primary=outcome is analysis.primary_outcome,
        lower_is_better=result.lower_is_better,
        verdict=result.verdict.value,
        baseline=number(lang, result.baseline_mean),
        magnesium=number(lang, result.magnesium_mean),
        difference=number(lang, result.difference, "+.1f"),
        interval=interval,
        series=charts.get(chart_filename(outcome, "series")),
        distribution=charts.get(chart_filename(outcome, "distribution")),
    )


def _tonight(protocol: TrialProtocol, today: date) -> str | None:
    """What this evening holds: magnesium, the diary only, or a blinded trial's numbered dose."""
    evening = protocol.evening(today)
    return None if evening.value == "outside" else evening.value


def _fingerprints(protocol: TrialProtocol) -> dict[str, str | None]:
    stored = protocol.allocation_fingerprint
    return {
        "registration": registration_hash(protocol),
        "allocation": None if stored is None else short_fingerprint(stored),
    }


@dataclass(frozen=True)
class PowerRow:
    design: str
    nights: int | None  # None: not within a year
    power_pct: float


@dataclass(frozen=True)
class PowerRows:
    rows: list[PowerRow]
    source_note: str  # where the noise was learnt from
    outcome: str  # the outcome's name, in the page's language
    unit: str  # the unit of a change in it
    smallest_change: float
    error_pct: float  # the simulation's standard error at the target, in points
    trial_pct: float | None  # the running trial's chance at its planned length
    trial_nights: int | None


def power_rows(outlook: PowerOutlook, lang: Lang, *, sealed: bool = False) -> PowerRows:
    """The outlook in the page's words: a row a design, in the order the form offers them."""
    plan = outlook.plan
    rows = [
        PowerRow(name, d.nights, 100 * d.power) for name, d in power_designs(plan.designs, lang)
    ]
    trial = outlook.trial
    return PowerRows(
        rows=rows,
        source_note=power_source_note(
            outlook.source,
            outlook.nights_used,
            lang,
            running=outlook.trial is not None,
            sealed=sealed,
        ),
        outcome=outcome_name(outlook.outcome, lang),
        unit=change_unit(outlook.outcome, lang),
        smallest_change=plan.smallest_change,
        error_pct=100 * plan.target_power_se,
        trial_pct=None if trial is None else 100 * trial.power,
        trial_nights=None if trial is None else trial.nights,
    )


def trial_report_page(
    request: Request,
    lang: Lang,
    user: Account,
    session: Session,
    today: date,
    *,
    started: bool,
) -> HTMLResponse:
    inputs = trials.trial_inputs(session, user.id, today)
    # Done reading: the analysis and the charts must not hold the connection.
    session.commit()
    protocol = inputs.protocol
    analysis = trials.trial_analysis(inputs, today)
    status = trials.trial_status(inputs, today)
    sealed = protocol.sealed
    charts = {} if sealed else trials.trial_charts(inputs, today, lang)
    lines = [_outcome_line(analysis, charts, outcome, lang) for outcome in Outcome]
    phases = [Phase.baseline, Phase.magnesium]
    if protocol.design is not Design.ab and (
        protocol.design is Design.abab or protocol.run_in_nights or protocol.washout_days
    ):
        phases.append(Phase.washout)
    if sealed:
        phases = [Phase(key) for key in status.nights_by_phase]
    return page(
        request,
        "trial.html",
        lang,
        user,
        trial=protocol,
        analysis=analysis,
        status=status,
        sealed=sealed,
        helper_sheet=protocol.blinded and today < protocol.magnesium_start,
        fingerprints=_fingerprints(protocol),
        started=started,
        lines=lines,
        primary=next(line for line in lines if line.primary),
        phases=[(phase.value, phase_label(protocol, phase, lang)) for phase in phases],
        tonight=_tonight(protocol, analysis.as_of),
        power=power_rows(trials.power_outlook(inputs, today), lang, sealed=sealed),
        control_name=phase_label(protocol, Phase.baseline, lang),
        form_name=form_name(protocol.form, lang),
        due=protocol.verdict_due(),
        level=format_number(lang, "{:.0%}", CONFIDENCE),
        max_more_nights=MAX_MORE_NIGHTS,
        number=lambda value, spec=".1f": number(lang, value, spec),
        # The rule behind each verdict (its name is the shared `verdict_name`).
        verdict_rule=lambda verdict: verdict_explanation(str(verdict), lang).format(
            certainty=100 * analysis.improved_certainty,
            direction=100 * analysis.direction_certainty,
        ),
    )


def _report_inputs(engine: EngineDep, owner_id: int) -> tuple[trials.TrialInputs, date] | None:
    try:
        with session_scope(engine, write=False) as session:
            today = today_for(session, owner_id)
            return trials.trial_inputs(session, owner_id, today), today
    except NotFound:
        return None


@router.get("/trial/report.html")
def trial_report(
    lang: LocaleDep, user: CurrentUser, engine: EngineDep, download: str | None = None
) -> Response:
    found = _report_inputs(engine, user.id)
    if found is None or found[0].protocol.sealed:
        # Nothing to report yet (no trial, or a blinded one still running): the trial page.
        return RedirectResponse("/trial", status_code=303)
    inputs, today = found
    headers = download_headers("trial-report.html") if download else PRIVATE
    return HTMLResponse(trials.trial_report_html(inputs, today, lang), headers=headers)


@router.get("/trial/report.pdf")
def trial_report_pdf(lang: LocaleDep, user: CurrentUser, engine: EngineDep) -> Response:
    found = _report_inputs(engine, user.id)
    if found is None or found[0].protocol.sealed:
        return RedirectResponse("/trial", status_code=303)
    inputs, today = found
    pdf = trials.trial_report_pdf(inputs, today, lang)
    return Response(pdf, media_type="application/pdf", headers=download_headers("trial-report.pdf"))


@router.get("/trial/helper-sheet.html")
def trial_helper_sheet(
    lang: LocaleDep, user: CurrentUser, engine: EngineDep, request: Request
) -> Response:
    """The helper's preparation sheet of a blinded trial, until the first period starts."""
    with session_scope(engine, write=False) as session:
        today = today_for(session, user.id)
        try:
            sheet = trials.helper_sheet_html(session, user.id, today, lang)
        except NotFound:
            return RedirectResponse("/trial", status_code=303)
        except Conflict as error:
            return page(
                request,
                "error.html",
                lang,
                user,
                status_code=409,
                title=translations(lang).gettext("Preparation sheet for the helper"),
                message=render(error.problem, lang),
                back="/trial",
            )
    return HTMLResponse(sheet, headers=PRIVATE)

"""The running trial: its progress, the verdict per outcome, its charts, the full report.

The diary is read in one short transaction; the analysis and the charts are then worked out
(or found in the cache) with the database connection already back in the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mgsleep.errors import NotFound
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.service import trials
from mgsleep.store.db import session_scope
from mgsleep.store.repo import Account
from mgsleep.trial.analysis import CONFIDENCE, MAX_MORE_NIGHTS, TrialAnalysis
from mgsleep.trial.charts import Chart, chart_filename
from mgsleep.trial.labels import change_unit, form_name, outcome_name, outcome_unit, phase_name
from mgsleep.trial.protocol import Design, Outcome, Phase, TrialProtocol
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
    """The phase of the coming night (named by the morning it ends)."""
    phase = protocol.phase_of(today + timedelta(days=1))
    return None if phase is None else phase.value


def trial_report_page(
    request: Request,
    lang: Lang,
    user: Account,
    session: Session,
    today: date,
    *,
    started: bool,
) -> HTMLResponse:
    inputs = trials.trial_inputs(session, user.id)
    # Done reading: the analysis and the charts must not hold the connection.
    session.commit()
    analysis = trials.trial_analysis(inputs, today)
    charts = trials.trial_charts(inputs, today, lang)
    lines = [_outcome_line(analysis, charts, outcome, lang) for outcome in Outcome]
    protocol = inputs.protocol
    phases = [Phase.baseline, Phase.magnesium]
    if protocol.design is Design.abab:
        phases.append(Phase.washout)
    return page(
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
        form_name=form_name(protocol.form, lang),
        due=protocol.verdict_due(),
        level=format_number(lang, "{:.0%}", CONFIDENCE),
        max_more_nights=MAX_MORE_NIGHTS,
        number=lambda value, spec=".1f": number(lang, value, spec),
    )


@router.get("/trial/report.html")
def trial_report(
    lang: LocaleDep, user: CurrentUser, engine: EngineDep, download: str | None = None
) -> Response:
    try:
        with session_scope(engine, write=False) as session:
            inputs = trials.trial_inputs(session, user.id)
            today = today_for(session, user.id)
    except NotFound:
        return RedirectResponse("/trial", status_code=303)
    headers = download_headers("trial-report.html") if download else PRIVATE
    return HTMLResponse(trials.trial_report_html(inputs, today, lang), headers=headers)

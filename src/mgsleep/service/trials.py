"""The N-of-1 trial: started (from the plan or by hand), and its analysis, report and charts.

Reading a trial is split from working it out: `trial_inputs` reads what the analysis needs in
one go (and the shell then ends its transaction), and `trial_view` computes the analysis, the
charts and the report from those inputs alone. The work is cached by the inputs themselves
(the nights, the ISI totals, the protocol, the date, the language), so a page viewed again
costs a lookup, a change to any night is seen at once, and nothing holds the database while
statistics run or charts are drawn.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from mgsleep.diary.night import NightEntry
from mgsleep.errors import InputError, NotFound
from mgsleep.i18n import Lang
from mgsleep.plan import Plan, Verdict, make_plan
from mgsleep.schedule import magnesium_time
from mgsleep.service.isi import ISI
from mgsleep.service.profile import stored_profile
from mgsleep.store import repo
from mgsleep.trial.protocol import TrialProtocol

if TYPE_CHECKING:  # the statistics load scipy: only when a trial is analysed
    from mgsleep.trial.analysis import TrialAnalysis, TrialReport
    from mgsleep.trial.charts import Chart

# Analyses kept in memory per process: a person's report, and its variations by language.
CACHED_VIEWS = 256


@dataclass(frozen=True)
class TrialIntake:
    """What the trial tests: the plan's form, dose and time of taking it."""

    form: str | None
    dose_mg: float | None
    intake_time: time | None


def intake_from_plan(plan: Plan, first: date) -> TrialIntake:
    """The plan's magnesium, or an InputError when it proposes none (a stop finding, or no
    room under the limit): a trial must test what the person would really take."""
    if plan.verdict is Verdict.stop or plan.elemental_mg is None:
        raise InputError("from_plan", "plan_without_magnesium", hint="see_plan")
    return TrialIntake(plan.form, plan.elemental_mg, magnesium_time(plan, first))


def start_trial(
    session: Session, owner_id: int, values: Mapping[str, Any], *, from_plan: bool = False
) -> TrialProtocol:
    """Make a protocol the running trial (an earlier one stays, inactive, for its report).
    With `from_plan`, the form, dose and time not given come from the stored profile's plan."""
    given = dict(values)
    first = _as_date(given.get("baseline_start"))
    # Without a first night the protocol is refused below, for that reason and no other.
    if from_plan and first is not None:
        intake = _intake_from_stored_plan(session, owner_id, first)
        taken = {"form": intake.form, "dose_mg": intake.dose_mg, "intake_time": intake.intake_time}
        given |= {key: value for key, value in taken.items() if given.get(key) is None}
    try:
        protocol = TrialProtocol.model_validate(given)
    except ValidationError as error:
        raise InputError.from_validation(error) from error
    repo.start_trial(session, owner_id, protocol)
    return protocol


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _intake_from_stored_plan(session: Session, owner_id: int, first: date) -> TrialIntake:
    try:
        profile = stored_profile(session, owner_id)
    except InputError as error:
        raise InputError("from_plan", "no_profile", hint="store_profile") from error
    return intake_from_plan(make_plan(profile, start=first), first)


def running_trial(session: Session, owner_id: int) -> TrialProtocol:
    protocol = repo.active_trial(session, owner_id)
    if protocol is None:
        raise NotFound("trial", "no_trial", hint="start_trial")
    return protocol


@dataclass(frozen=True)
class TrialInputs:
    """Everything an analysis reads, as values: hashable, so the work can be cached by it."""

    protocol: TrialProtocol
    nights: tuple[NightEntry, ...]
    isi_totals: tuple[tuple[date, int], ...]


def trial_inputs(session: Session, owner_id: int) -> TrialInputs:
    """The running trial's protocol, the diary and the ISI totals (NotFound without a trial)."""
    protocol = running_trial(session, owner_id)
    nights = tuple(repo.get_nights(session, owner_id))
    isi = tuple((r.taken_on, r.total) for r in repo.get_responses(session, owner_id, ISI))
    return TrialInputs(protocol, nights, isi)


@functools.lru_cache(maxsize=CACHED_VIEWS)
def trial_analysis(inputs: TrialInputs, as_of: date) -> TrialAnalysis:
    from mgsleep.trial.analysis import analyse

    return analyse(
        inputs.protocol, list(inputs.nights), as_of=as_of, isi_totals=list(inputs.isi_totals)
    )


def trial_report(inputs: TrialInputs, as_of: date) -> TrialReport:
    """Per outcome: the phase means, the difference with its interval, and the verdict."""
    from mgsleep.trial.analysis import report

    return report(trial_analysis(inputs, as_of))


@functools.lru_cache(maxsize=CACHED_VIEWS)
def trial_charts(inputs: TrialInputs, as_of: date, lang: Lang) -> dict[str, Chart]:
    """Both charts of every outcome with nights, by file name."""
    from mgsleep.trial.charts import all_charts

    return all_charts(trial_analysis(inputs, as_of), inputs.nights, lang)


@functools.lru_cache(maxsize=CACHED_VIEWS)
def trial_report_html(inputs: TrialInputs, as_of: date, lang: Lang) -> str:
    """The report as one self-contained HTML page."""
    from mgsleep.trial.report import render_html

    return render_html(trial_analysis(inputs, as_of), list(inputs.nights), lang)

"""The N-of-1 trial: started (from the plan or by hand), and its analysis, report and charts.

Reading a trial is split from working it out: `trial_inputs` reads what the analysis needs in
one go (and the shell then ends its transaction), and `trial_view` computes the analysis, the
charts and the report from those inputs alone. The work is cached by the inputs themselves
(the nights, the ISI totals, the protocol, the date, the language), so a page viewed again
costs a lookup, a change to any night is seen at once, and nothing holds the database while
statistics run or charts are drawn.

A blinded trial is read sealed (without its seed) until it has ended: its phases, results
and charts are then refused with `trial_sealed`, and only its progress is given. The one
exception is the helper's preparation sheet, handed out until the first period starts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from mgsleep import clock
from mgsleep.diary.night import BlindGuess, NightEntry
from mgsleep.errors import Conflict, InputError, NotFound
from mgsleep.i18n import Lang
from mgsleep.plan import Plan, Verdict, make_plan
from mgsleep.public import TrialStatus
from mgsleep.schedule import magnesium_time
from mgsleep.service.isi import ISI
from mgsleep.service.profile import stored_profile
from mgsleep.store import repo
from mgsleep.trial.allocation import draw_seed, fingerprint
from mgsleep.trial.kinds import Verdict as TrialVerdict
from mgsleep.trial.protocol import TrialProtocol

if TYPE_CHECKING:  # the statistics load scipy: only when a trial is analysed
    from mgsleep.trial.analysis import TrialAnalysis, TrialReport
    from mgsleep.trial.blinding import BlindingScore
    from mgsleep.trial.charts import Chart
    from mgsleep.trial.power import PowerOutlook

# Analyses kept in memory per process: a person's report, and its variations by language.
CACHED_VIEWS = 256
# Set by mgsleep when the trial starts, whatever a caller sends.
_REGISTERED_BY_MGSLEEP = ("allocation_fingerprint", "registered_at", "analysis_method")


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
    session: Session,
    owner_id: int,
    values: Mapping[str, Any],
    *,
    from_plan: bool = False,
    at: datetime | None = None,
) -> TrialProtocol:
    """Freeze a protocol and make it the running trial (an earlier one stays, inactive, for
    its report). With `from_plan`, the form, dose and time not given come from the stored
    profile's plan. A randomised design draws its allocation here; the protocol is
    pre-registered at `at` (now). A blinded trial's protocol comes back sealed."""
    given = {k: v for k, v in values.items() if k not in _REGISTERED_BY_MGSLEEP}
    first = _as_date(given.get("baseline_start"))
    # Without a first night the protocol is refused below, for that reason and no other.
    if from_plan and first is not None:
        intake = _intake_from_stored_plan(session, owner_id, first)
        taken = {"form": intake.form, "dose_mg": intake.dose_mg, "intake_time": intake.intake_time}
        given |= {key: value for key, value in taken.items() if given.get(key) is None}
    protocol = _validated(given)
    protocol = _registered(protocol, (at or clock.now()).replace(microsecond=0))
    repo.start_trial(session, owner_id, protocol)
    return protocol.sealed_copy()


def _validated(values: Mapping[str, Any]) -> TrialProtocol:
    try:
        protocol = TrialProtocol.model_validate(values)
    except ValidationError as error:
        raise InputError.from_validation(error) from error
    if protocol.blinded and protocol.seed is not None:
        # A seed the person chose is an allocation the person knows.
        raise InputError("seed", "seed_with_blinding")
    return protocol


def _registered(protocol: TrialProtocol, at: datetime) -> TrialProtocol:
    from mgsleep.evidence import load_evidence
    from mgsleep.trial.analysis import METHOD, smallest_change

    update: dict[str, Any] = {
        "registered_at": at,
        "analysis_method": METHOD,
        "smallest_change": smallest_change(load_evidence(), protocol.primary_outcome)[0],
    }
    if protocol.randomised:
        seed = draw_seed() if protocol.seed is None else protocol.seed
        update |= {
            "seed": seed,
            "allocation_fingerprint": fingerprint(seed, protocol.allocation_from(seed)),
        }
    return TrialProtocol.model_validate({**dict(protocol), **update})


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


def running_trial(session: Session, owner_id: int, today: date | None = None) -> TrialProtocol:
    """The running trial; a blinded one sealed unless `today` is on or after it opens."""
    protocol = repo.active_trial(session, owner_id, today=today)
    if protocol is None:
        raise NotFound("trial", "no_trial", hint="start_trial")
    return protocol


@dataclass(frozen=True)
class TrialInputs:
    """Everything an analysis reads, as values: hashable, so the work can be cached by it."""

    protocol: TrialProtocol
    nights: tuple[NightEntry, ...]
    isi_totals: tuple[tuple[date, int], ...]


def trial_inputs(session: Session, owner_id: int, today: date | None = None) -> TrialInputs:
    """The running trial's protocol (opened only as `running_trial` says), the diary and the
    ISI totals (NotFound without a trial)."""
    protocol = running_trial(session, owner_id, today)
    nights = tuple(repo.get_nights(session, owner_id))
    isi = tuple((r.taken_on, r.total) for r in repo.get_responses(session, owner_id, ISI))
    return TrialInputs(protocol, nights, isi)


def ensure_open(protocol: TrialProtocol) -> None:
    """Conflict while a blinded trial is sealed: its results would give the allocation away."""
    opens_on = protocol.opens_on()
    if protocol.sealed and opens_on is not None:
        raise Conflict("trial", "trial_sealed", opens_on=opens_on.isoformat())


@functools.lru_cache(maxsize=CACHED_VIEWS)
def trial_analysis(inputs: TrialInputs, as_of: date) -> TrialAnalysis:
    from mgsleep.trial.analysis import analyse

    return analyse(
        inputs.protocol, list(inputs.nights), as_of=as_of, isi_totals=list(inputs.isi_totals)
    )


def trial_status(inputs: TrialInputs, as_of: date) -> TrialStatus:
    """Progress: nights per phase (none by phase while sealed), adherence, when it is due."""
    from mgsleep.public import trial_status as public_status

    protocol = inputs.protocol
    analysis = trial_analysis(inputs, as_of)
    logged = sum(1 for n in inputs.nights if n.date <= as_of and protocol.includes(n.date))
    status = public_status(analysis)
    if not protocol.sealed:
        return status.model_copy(update={"nights_logged": logged})
    opens_on = protocol.opens_on()
    return status.model_copy(
        update={
            # A sealed trial knows only its run-in and washout nights by phase.
            "nights_by_phase": (
                {"washout": analysis.nights_by_phase.get("washout", 0)}
                if protocol.run_in_nights or protocol.washout_days
                else {}
            ),
            "adherence_pct": None,
            "verdict": TrialVerdict.not_enough_data,
            "more_nights_needed": 0 if opens_on is None else max(0, (opens_on - as_of).days),
            "allocation_sealed": True,
            "allocation_opens_on": opens_on,
            "nights_logged": logged,
        }
    )


def trial_report(inputs: TrialInputs, as_of: date) -> TrialReport:
    """Per outcome: the phase means, the difference with its interval, and the verdict."""
    from mgsleep.trial.analysis import report

    ensure_open(inputs.protocol)
    return report(trial_analysis(inputs, as_of))


def trial_charts(inputs: TrialInputs, as_of: date, lang: Lang) -> dict[str, Chart]:
    """Both charts of every outcome with nights, by file name."""
    ensure_open(inputs.protocol)
    return _charts(inputs, as_of, lang)


@functools.lru_cache(maxsize=CACHED_VIEWS)
def _charts(inputs: TrialInputs, as_of: date, lang: Lang) -> dict[str, Chart]:
    from mgsleep.trial.charts import all_charts

    return all_charts(trial_analysis(inputs, as_of), inputs.nights, lang)


def trial_report_html(inputs: TrialInputs, as_of: date, lang: Lang) -> str:
    """The report as one self-contained HTML page."""
    ensure_open(inputs.protocol)
    return _report_html(inputs, as_of, lang)


@functools.lru_cache(maxsize=CACHED_VIEWS)
def _report_html(inputs: TrialInputs, as_of: date, lang: Lang) -> str:
    from mgsleep.trial.report import render_html

    return render_html(trial_analysis(inputs, as_of), list(inputs.nights), lang)


def trial_report_pdf(inputs: TrialInputs, as_of: date, lang: Lang) -> bytes:
    """The report as a PDF: a one-page summary, then the full report."""
    ensure_open(inputs.protocol)
    return _report_pdf(inputs, as_of, lang)


@functools.lru_cache(maxsize=32)  # a few hundred kilobytes each
def _report_pdf(inputs: TrialInputs, as_of: date, lang: Lang) -> bytes:
    from mgsleep.trial.pdf import render_pdf

    return render_pdf(trial_analysis(inputs, as_of), list(inputs.nights), lang)


def helper_sheet_html(session: Session, owner_id: int, today: date, lang: Lang) -> str:
    """The preparation sheet for the helper of a blinded trial: which numbered dose holds
    magnesium and which the placebo. Handed out only until the first period starts, so it
    cannot be looked up later by the person taking the doses."""
    from mgsleep.trial.blinding import render_helper_sheet

    protocol = repo.active_trial_for_helper(session, owner_id)
    if protocol is None:
        raise NotFound("trial", "no_trial", hint="start_trial")
    if not protocol.blinded:
        raise Conflict("trial", "trial_not_blinded")
    if today >= protocol.magnesium_start:
        raise Conflict("trial", "helper_sheet_closed", date=protocol.magnesium_start.isoformat())
    return render_helper_sheet(protocol, lang)


def record_guess(
    session: Session, owner_id: int, night_date: date, guess: BlindGuess
) -> NightEntry:
    """The morning guess of a blinded trial ("which did you take last night?") on a night
    already in the diary."""
    from mgsleep.service.diary import change_night, night

    stored = night(session, owner_id, night_date)
    return change_night(
        session, owner_id, night_date, stored.model_copy(update={"blind_guess": guess})
    )


def trial_blinding(inputs: TrialInputs, as_of: date) -> BlindingScore:
    """How well the blinding held: the guesses against the allocation, once it is open."""
    from mgsleep.trial.blinding import blinding_score

    ensure_open(inputs.protocol)
    if not inputs.protocol.blinded:
        raise Conflict("trial", "trial_not_blinded")
    return blinding_score(inputs.protocol, [n for n in inputs.nights if n.date <= as_of])


@dataclass(frozen=True)
class PowerInputs:
    """What a power outlook reads: the running trial (None for a new one) and the nights."""

    protocol: TrialProtocol | None
    nights: tuple[NightEntry, ...]


def power_inputs(
    session: Session, owner_id: int, today: date, *, with_trial: bool = True
) -> PowerInputs:
    """The running trial, sealed while blinded (`with_trial`; the set-up page of a new trial
    leaves it out), and the nights from four weeks before it (or before today) until today."""
    from mgsleep.trial.power import LOOKBACK_DAYS

    protocol = repo.active_trial(session, owner_id, today=today) if with_trial else None
    start = (protocol.baseline_start if protocol else today) - timedelta(days=LOOKBACK_DAYS)
    return PowerInputs(protocol, tuple(repo.get_nights(session, owner_id, start=start, end=today)))


def power_outlook(inputs: PowerInputs | TrialInputs, today: date) -> PowerOutlook:
    """How many nights each design needs for an 80 % chance of showing the smallest change
    that matters, and the running trial's own chance at its planned length: from the trial's
    nights once there are two weeks of them, else from the four weeks without magnesium
    before it (or before today), else defaults. Cached by its inputs."""
    return _outlook(inputs.protocol, inputs.nights, today)


@functools.lru_cache(maxsize=CACHED_VIEWS)
def _outlook(
    protocol: TrialProtocol | None, nights: tuple[NightEntry, ...], today: date
) -> PowerOutlook:
    from mgsleep.trial.power import outlook

    return outlook(protocol, nights, today)

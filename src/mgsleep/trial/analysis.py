"""The N-of-1 verdict: did magnesium change this person's nights?

Method, per outcome: a regression of the nightly value on the phase (baseline 0, magnesium 1)
with AR(1) errors over calendar nights, so missing and washout nights are handled exactly.
The autocorrelation is not plugged in but integrated out over a grid (`ar1`): with 42 nights
a plug-in rho made the 95 % interval cover 89.8 % at rho 0.4 and 88.6 % at 0.7. Measured in
seeded simulation (4,000 series per cell, `calibration.table`; checked in
tests/test_trial_calibration.py), for rho from -0.4 to 0.9: coverage 93.1-95.8 % in A-B
(14 + 28 nights), 94.1-95.5 % in A-B-A-B (4 x 14 nights and a 14-night washout) and
94.0-95.8 % in randomised pairs of 7, 10 or 14 nights. When the phase switches more than
once (A-B-A-B, randomised pairs) a linear time trend is in the model; in A-B a trend cannot
be told apart from the effect, so the estimate with a trend is reported beside it as a check.

The verdict asks for more than an interval that excludes zero: "improved" needs a probability
of at least IMPROVED_CERTAINTY that the improvement is at least the smallest change that
matters; a direction that is probable (DIRECTION_CERTAINTY) but not that large is "possibly
improved" (or "possibly worse"); otherwise "unclear". Bayesian posteriors under a sceptical
prior and, where the pooled trials give one, under their estimate, are reported beside it.

A verdict is due when the protocol's planned nights are over; nights that were not logged
then cost precision, which the analysis reports, and block the verdict only when they cost
more than PRECISION_SLACK and more nights that can still count would make up for it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats

from mgsleep.diary.night import NightEntry, NightMetrics, metrics, one_per_night
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.trial import ar1
from mgsleep.trial.bayes import Posterior, pooled_prior, posterior, sceptical_prior
from mgsleep.trial.protocol import Outcome, Phase, TrialProtocol, Verdict

METHOD = "ar1_integrated_reml"
CONFIDENCE = 0.95
MAX_MORE_NIGHTS = 365
# "improved" (or "worse"): at least this probability that the change is at least the
# smallest change that matters. mgsleep's own threshold, stated in the report.
IMPROVED_CERTAINTY = 0.80
# "possibly improved" (or "possibly worse"): at least this probability of any change in
# that direction, i.e. a one-sided 95 % bound on the better (worse) side of zero.
DIRECTION_CERTAINTY = 0.95
# Missing nights may widen the interval by this factor over a complete diary before more
# nights are asked for (when they can still be logged and would help).
PRECISION_SLACK = 1.15
# Fewer nights than this in either condition carry no estimate of the noise worth the name.
MIN_CONDITION_NIGHTS = 5
OWN_CHOICE = "mgsleep_conventions"

# Which way is better for each outcome.
LOWER_IS_BETTER = {
    Outcome.sleep_latency_min: True,
    Outcome.total_sleep_min: False,
    Outcome.sleep_efficiency_pct: False,
    Outcome.waso_min: True,
    Outcome.quality: False,
}


class Estimate(BaseModel):
    model_config = ConfigDict(frozen=True)

    difference: float
    ci_low: float
    ci_high: float
    standard_error: float
    degrees_of_freedom: int
    rho: float


class OutcomeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    lower_is_better: bool
    smallest_change: float
    smallest_change_source: Literal["published", "mgsleep"] = "mgsleep"
    baseline_n: int
    magnesium_n: int
    baseline_mean: float | None
    magnesium_mean: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    prob_meaningful: float | None
    rho: float | None
    with_trend: Estimate | None
    verdict: Verdict
    more_nights_needed: int
    standard_error: float | None = None
    prob_any_benefit: float | None = None
    prob_harm: float | None = None  # worse by at least the smallest change that matters
    # How much wider the interval is than with every night logged so far (0 when complete).
    precision_cost_pct: float | None = None
    posteriors: list[Posterior] = []


class QuestionnaireChange(BaseModel):
    """First and last questionnaire score inside the trial, e.g. the ISI."""

    model_config = ConfigDict(frozen=True)

    instrument: str
    first_date: date
    first_total: int
    last_date: date
    last_total: int
    change_points: int
    smallest_change: float
    meaningful: bool
    remission: bool = False  # the last total is below the remission threshold
    response: bool = False  # the total dropped by at least the response threshold


class TrialAnalysis(BaseModel):
    model_config = ConfigDict(frozen=True)

    protocol: TrialProtocol
    as_of: date
    method: str
    nights_by_phase: dict[str, int]
    missing_nights: int
    adherence_pct: float | None
    side_effects_by_phase: dict[str, dict[str, int]]
    outcomes: dict[str, OutcomeResult]
    primary_outcome: Outcome
    verdict: Verdict
    more_nights_needed: int
    questionnaire: QuestionnaireChange | None = None
    citations: list[str]
    improved_certainty: float = IMPROVED_CERTAINTY
    direction_certainty: float = DIRECTION_CERTAINTY


@dataclass(frozen=True)
class Series:
    """One outcome's nights inside the trial: day offsets, phase flags and values."""

    day: NDArray[np.float64]
    magnesium: NDArray[np.float64]
    value: NDArray[np.float64]


def outcome_value(night: NightMetrics, outcome: Outcome) -> float | None:
    value = getattr(night, outcome.value)
    return None if value is None else float(value)


def smallest_change(ev: Evidence, outcome: Outcome) -> tuple[float, list[str]]:
    claim = ev.claim(f"smallest_change_{outcome.value}")
    value = claim.figure.point() if claim.figure else None
    if value is None:
        raise KeyError(f"no smallest change for {outcome.value}")
    return value, list(claim.cite)


def smallest_change_source(cite: Sequence[str]) -> Literal["published", "mgsleep"]:
    """Published when the evidence cites a source other than mgsleep's own conventions."""
    return "published" if any(key != OWN_CHOICE for key in cite) else "mgsleep"


def analyse(
    protocol: TrialProtocol,
    nights: list[NightEntry],
    *,
    as_of: date,
    isi_totals: Sequence[tuple[date, int]] = (),
    ev: Evidence | None = None,
) -> TrialAnalysis:
    """Everything the report says, from the protocol, the nights logged until `as_of` and
    any Insomnia Severity Index totals (date, points)."""
    ev = ev or load_evidence()
    inside = [(n, protocol.phase_of(n.date)) for n in one_per_night(nights) if n.date <= as_of]
    counted = [(n, p) for n, p in inside if p in (Phase.baseline, Phase.magnesium)]
    measured = [(metrics(n), p) for n, p in sorted(counted, key=lambda item: item[0].date)]
    schedule = Schedule.of(protocol, as_of)
    results = {o.value: _outcome(ev, protocol, schedule, measured, o) for o in Outcome}
    primary = results[protocol.primary_outcome.value]
    phases = Counter(p.value for _, p in inside if p is not None)
    return TrialAnalysis(
        protocol=protocol,
        as_of=as_of,
        method=METHOD,
        nights_by_phase={p.value: phases.get(p.value, 0) for p in Phase},
        missing_nights=_missing(protocol, {n.date for n, _ in inside}, as_of),
        adherence_pct=_adherence(counted),
        side_effects_by_phase=_side_effects(counted),
        outcomes=results,
        primary_outcome=protocol.primary_outcome,
        verdict=primary.verdict,
        more_nights_needed=primary.more_nights_needed,
        questionnaire=_isi_change(ev, protocol, isi_totals, as_of),
        citations=sorted(
            {"cent2015", "carney2012", "mah2021"}
            | {c for o in Outcome for c in smallest_change(ev, o)[1]}
            | {c for r in results.values() for p in r.posteriors for c in p.prior.cite}
        ),
    )


# The ISI asks about the last two weeks: the "after" score needs two weeks of magnesium behind it.
ISI_RECALL_DAYS = 14


def _isi_change(
    ev: Evidence, protocol: TrialProtocol, totals: Sequence[tuple[date, int]], as_of: date
) -> QuestionnaireChange | None:
    """The last score before magnesium against the last one after two weeks of it."""
    before = [t for t in sorted(totals) if t[0] <= protocol.magnesium_start]
    settled = protocol.magnesium_start + timedelta(days=ISI_RECALL_DAYS)
    after = [t for t in sorted(totals) if settled <= t[0] <= as_of]
    if not before or not after:
        return None
    isi = ev.questionnaire("isi")
    smallest = isi.meaningful_change.point() or 0.0
    points = after[-1][1] - before[-1][1]
    return QuestionnaireChange(
        instrument=isi.key,
        first_date=before[-1][0],
        first_total=before[-1][1],
        last_date=after[-1][0],
        last_total=after[-1][1],
        change_points=points,
        smallest_change=smallest,
        meaningful=-points >= smallest,
        remission=after[-1][1] < (isi.remission_below.point() or 0.0),
        response=isi.response_drop is not None
        and -points >= (isi.response_drop.point() or float("inf")),
    )


def _missing(protocol: TrialProtocol, logged: set[date], as_of: date) -> int:
    end = protocol.scheduled_end()
    last = as_of if end is None else min(as_of, end)
    days = (last - protocol.baseline_start).days + 1
    return max(0, days - len({d for d in logged if protocol.baseline_start <= d <= last}))


def _adherence(counted: Sequence[tuple[NightEntry, Phase | None]]) -> float | None:
    magnesium = [n for n, p in counted if p is Phase.magnesium]
    if not magnesium:
        return None
    taken = sum(1 for n in magnesium if n.magnesium_mg)
    return 100 * taken / len(magnesium)


def _side_effects(counted: Sequence[tuple[NightEntry, Phase | None]]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {Phase.baseline.value: {}, Phase.magnesium.value: {}}
    for night, phase in counted:
        if phase is None:
            continue
        for effect in night.side_effects:
            bucket = found[phase.value]
            bucket[effect.value] = bucket.get(effect.value, 0) + 1
    return found


@dataclass(frozen=True)
class Schedule:
    """The nights that count, as the protocol lays them out: planned (until the verdict is
    due), elapsed (every countable night until `as_of`) and still to come (after `as_of`).
    Built from `TrialProtocol.phase_of` alone, so any design is analysed the same way."""

    due: date
    planned: Series
    elapsed: Series
    future: Series
    trend_in_model: bool

    @classmethod
    def of(cls, protocol: TrialProtocol, as_of: date) -> Schedule:
        due = protocol.verdict_due()
        last = max(due, as_of) + timedelta(days=MAX_MORE_NIGHTS)
        end = protocol.scheduled_end()  # after the trial's last night nothing counts
        if end is not None:
            last = min(last, end - timedelta(days=1))
        rows = []
        day = protocol.baseline_start
        while day <= last:
            phase = protocol.phase_of(day)
            if phase in (Phase.baseline, Phase.magnesium):
                offset = (day - protocol.baseline_start).days
                rows.append((day, offset, 1.0 if phase is Phase.magnesium else 0.0))
            day += timedelta(days=1)

        def pick(keep: Sequence[bool]) -> Series:
            chosen = [(offset, flag) for (_, offset, flag), k in zip(rows, keep, strict=True) if k]
            array = np.array(chosen, dtype=float).reshape(-1, 2)
            return Series(day=array[:, 0], magnesium=array[:, 1], value=np.zeros(len(array)))

        planned = pick([d <= due for d, _, _ in rows])
        future = pick([d > as_of for d, _, _ in rows])
        switches = int(np.count_nonzero(np.diff(planned.magnesium)))
        return cls(
            due=due,
            planned=planned,
            elapsed=pick([d <= as_of for d, _, _ in rows]),
            future=Series(
                future.day[:MAX_MORE_NIGHTS],
                future.magnesium[:MAX_MORE_NIGHTS],
                future.value[:MAX_MORE_NIGHTS],
            ),
            trend_in_model=switches >= 2,
        )

    def nights_until_due(self) -> int:
        due_offset = self.planned.day[-1] if self.planned.day.size else -1.0
        return int(np.count_nonzero(self.future.day <= due_offset))


def _series(
    protocol: TrialProtocol, measured: Sequence[tuple[NightMetrics, Phase | None]], outcome: Outcome
) -> Series:
    rows = []
    for night, phase in measured:
        value = outcome_value(night, outcome)
        if value is not None:
            day = (night.date - protocol.baseline_start).days
            rows.append((day, 1.0 if phase is Phase.magnesium else 0.0, value))
    array = np.array(rows, dtype=float).reshape(-1, 3)
    return Series(day=array[:, 0], magnesium=array[:, 1], value=array[:, 2])


def _outcome(
    ev: Evidence,
    protocol: TrialProtocol,
    schedule: Schedule,
    measured: Sequence[tuple[NightMetrics, Phase | None]],
    outcome: Outcome,
) -> OutcomeResult:
    series = _series(protocol, measured, outcome)
    lower_better = LOWER_IS_BETTER[outcome]
    mid, mid_cite = smallest_change(ev, outcome)
    baseline_n = int((series.magnesium == 0).sum())
    magnesium_n = int((series.magnesium == 1).sum())
    base = OutcomeResult(
        outcome=outcome,
        lower_is_better=lower_better,
        smallest_change=mid,
        smallest_change_source=smallest_change_source(mid_cite),
        baseline_n=baseline_n,
        magnesium_n=magnesium_n,
        baseline_mean=_mean(series.value[series.magnesium == 0]),
        magnesium_mean=_mean(series.value[series.magnesium == 1]),
        difference=None,
        ci_low=None,
        ci_high=None,
        prob_meaningful=None,
        rho=None,
        with_trend=None,
        verdict=Verdict.not_enough_data,
        more_nights_needed=_nights_for_minimum(schedule, baseline_n, magnesium_n),
    )
    if series.value.size >= MIN_CONDITION_NIGHTS and float(np.ptp(series.value)) == 0.0:
        return base.model_copy(update={"verdict": Verdict.no_information, "more_nights_needed": 0})
    if min(baseline_n, magnesium_n) < MIN_CONDITION_NIGHTS:
        return base
    design = ar1.design_matrix(series.magnesium, series.day, with_trend=schedule.trend_in_model)
    nights = ar1.mixture(series.value, design, series.day)
    if nights is None:
        if ar1.no_variation(series.value, design):
            update = {"verdict": Verdict.no_information, "more_nights_needed": 0}
            return base.model_copy(update=update)
        return base
    nights = nights.live()
    primary = _estimate(nights)
    probabilities = _probabilities(nights, lower_better, mid)
    precision = Precision.of(nights, series, schedule)
    verdict, more = _verdict_and_more(schedule, precision, probabilities, mid)
    priors = [sceptical_prior(mid, mid_cite), pooled_prior(ev, outcome)]
    return base.model_copy(
        update={
            "difference": primary.difference,
            "ci_low": primary.ci_low,
            "ci_high": primary.ci_high,
            "standard_error": primary.standard_error,
            "prob_meaningful": probabilities.meaningful_benefit,
            "prob_any_benefit": probabilities.any_benefit,
            "prob_harm": probabilities.meaningful_harm,
            "rho": primary.rho,
            "with_trend": None if schedule.trend_in_model else fit(series, with_trend=True),
            "verdict": verdict,
            "more_nights_needed": more,
            "precision_cost_pct": precision.cost_pct,
            "posteriors": [
                posterior(nights, p, lower_is_better=lower_better, smallest_change=mid)
                for p in priors
                if p is not None
            ],
        }
    )


def _mean(values: NDArray[np.float64]) -> float | None:
    return float(values.mean()) if values.size else None


def _nights_for_minimum(schedule: Schedule, baseline_n: int, magnesium_n: int) -> int:
    """Nights until a verdict can be given if every one is logged: the rest of the planned
    nights, or, past them, the fewest nights still to come that reach the minimum in both
    conditions. Zero when no night that can still be logged would reach it."""
    if schedule.nights_until_due():
        return schedule.nights_until_due()
    need_baseline = max(0, MIN_CONDITION_NIGHTS - baseline_n)
    need_magnesium = max(0, MIN_CONDITION_NIGHTS - magnesium_n)
    if not (need_baseline or need_magnesium):
        return 0
    future = schedule.future.magnesium
    enough = (np.cumsum(future == 0) >= need_baseline) & (np.cumsum(future == 1) >= need_magnesium)
    return int(np.argmax(enough)) + 1 if enough.any() else 0


@dataclass(frozen=True)
class Probabilities:
    meaningful_benefit: float
    any_benefit: float
    meaningful_harm: float
    any_harm: float


def _probabilities(nights: ar1.RhoMixture, lower_better: bool, mid: float) -> Probabilities:
    """From the nights alone (a flat prior on the effect); improvement is positive."""

    def improvement_above(threshold: float) -> float:
        if lower_better:
            return 1 - float(nights.prob_above(-threshold))
        return float(nights.prob_above(threshold))

    return Probabilities(
        meaningful_benefit=improvement_above(mid),
        any_benefit=improvement_above(0.0),
        meaningful_harm=1 - improvement_above(-mid),
        any_harm=1 - improvement_above(0.0),
    )


@dataclass(frozen=True)
class Precision:
    """Standard errors at the estimated rho and noise: from the nights logged, from every
    countable night until now, and from the planned nights."""

    logged: float
    elapsed: float
    planned: float
    rho: float
    innovation_sd: float
    series: Series
    schedule: Schedule

    @classmethod
    def of(cls, nights: ar1.RhoMixture, series: Series, schedule: Schedule) -> Precision:
        best = int(np.argmax(nights.weight))
        rho, sd = float(nights.rho[best]), float(nights.innovation_sd[best])
        trend = schedule.trend_in_model

        def se(s: Series) -> float:
            design = ar1.design_matrix(s.magnesium, s.day, with_trend=trend)
            return ar1.effect_se(design, s.day, rho, sd)

        return cls(
            logged=se(series),
            elapsed=se(schedule.elapsed),
            planned=se(schedule.planned),
            rho=rho,
            innovation_sd=sd,
            series=series,
            schedule=schedule,
        )

    @property
    def cost_pct(self) -> float:
        if not math.isfinite(self.elapsed) or self.elapsed <= 0:
            return 0.0
        return max(0.0, 100 * (self.logged / self.elapsed - 1))

    def nights_to_reach(self, target_se: float) -> int | None:
        """The fewest nights still to come that bring the standard error to `target_se`;
        None when all the nights that can still be logged would not."""
        future = self.schedule.future
        if future.day.size == 0:
            return None
        trend = self.schedule.trend_in_model

        def se_with(extra: int) -> float:
            day = np.concatenate([self.series.day, future.day[:extra]])
            flag = np.concatenate([self.series.magnesium, future.magnesium[:extra]])
            design = ar1.design_matrix(flag, day, with_trend=trend)
            return ar1.effect_se(design, day, self.rho, self.innovation_sd)

        if se_with(future.day.size) > target_se:
            return None
        low, high = 0, future.day.size  # se_with(high) <= target; find the smallest such
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if se_with(middle) <= target_se else (middle, high)
        return high


def _verdict_and_more(
    schedule: Schedule, precision: Precision, p: Probabilities, mid: float
) -> tuple[Verdict, int]:
    if schedule.nights_until_due():
        return Verdict.not_enough_data, schedule.nights_until_due()
    target = PRECISION_SLACK * precision.planned
    if precision.logged > target:
        more = precision.nights_to_reach(target)
        if more:
            return Verdict.not_enough_data, more
    verdict = verdict_of(p)
    if verdict in (Verdict.improved, Verdict.worse):
        return verdict, 0
    # Nights that would narrow the 95 % interval to the smallest change that matters.
    settle_se = mid / stats.norm.ppf(0.5 + CONFIDENCE / 2)
    if precision.logged <= settle_se:
        return verdict, 0
    more = precision.nights_to_reach(settle_se)
    if more is None:
        more = MAX_MORE_NIGHTS if precision.schedule.future.day.size >= MAX_MORE_NIGHTS else 0
    return verdict, more


def verdict_of(p: Probabilities) -> Verdict:
    """The verdict rule, stated once."""
    if p.meaningful_benefit >= IMPROVED_CERTAINTY:
        return Verdict.improved
    if p.meaningful_harm >= IMPROVED_CERTAINTY:
        return Verdict.worse
    if p.any_benefit >= DIRECTION_CERTAINTY:
        return Verdict.possibly_improved
    if p.any_harm >= DIRECTION_CERTAINTY:
        return Verdict.possibly_worse
    return Verdict.unclear


# --- the model ------------------------------------------------------------------------------


def fit(series: Series, *, with_trend: bool) -> Estimate | None:
    """Phase effect with AR(1) errors, rho integrated out; None when the series cannot carry
    it or does not vary."""
    design = ar1.design_matrix(series.magnesium, series.day, with_trend=with_trend)
    nights = ar1.mixture(series.value, design, series.day)
    return None if nights is None else _estimate(nights.live())


def _estimate(nights: ar1.RhoMixture) -> Estimate:
    tail = (1 - CONFIDENCE) / 2
    mean = float(nights.mean())
    # The mixture's SD: each t's variance is scale^2 * df / (df - 2).
    second = float(
        (nights.weight * (nights.scale**2 * nights.df / (nights.df - 2) + nights.effect**2)).sum()
    )
    return Estimate(
        difference=mean,
        ci_low=nights.quantile(tail),
        ci_high=nights.quantile(1 - tail),
        standard_error=math.sqrt(max(second - mean**2, 1e-18)),
        degrees_of_freedom=nights.df,
        rho=float(nights.rho_mode()),
    )


class OutcomeSummary(BaseModel):
    """The headline figures of one outcome, as the CLI's and the API's reports give them."""

    model_config = ConfigDict(frozen=True)

    baseline_mean: float | None
    magnesium_mean: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    prob_meaningful: float | None
    verdict: Verdict
    prob_any_benefit: float | None = None
    prob_harm: float | None = None
    precision_cost_pct: float | None = None
    posteriors: list[Posterior] = []


class TrialReport(BaseModel):
    """The verdict, one summary per outcome, and the full analysis beside them."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    primary_outcome: Outcome
    more_nights_needed: int
    method: str
    outcomes: dict[str, OutcomeSummary]
    analysis: TrialAnalysis


def report(analysis: TrialAnalysis) -> TrialReport:
    return TrialReport(
        verdict=analysis.verdict,
        primary_outcome=analysis.primary_outcome,
        more_nights_needed=analysis.more_nights_needed,
        method=analysis.method,
        outcomes={
            name: OutcomeSummary(
                baseline_mean=result.baseline_mean,
                magnesium_mean=result.magnesium_mean,
                difference=result.difference,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                prob_meaningful=result.prob_meaningful,
                verdict=result.verdict,
                prob_any_benefit=result.prob_any_benefit,
                prob_harm=result.prob_harm,
                precision_cost_pct=result.precision_cost_pct,
                posteriors=result.posteriors,
            )
            for name, result in analysis.outcomes.items()
        },
        analysis=analysis,
    )

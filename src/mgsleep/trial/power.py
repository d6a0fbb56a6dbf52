"""How many nights each design needs: power planning by simulation, before and during a trial.

For a design and a length, many trials are simulated with the person's noise (the SD of one
night and the correlation of consecutive nights, from their baseline or from defaults), a
true improvement of the smallest change that matters, and nights missing at random; each is
analysed as the real trial would be (the same AR(1) model, rho integrated out, on a coarser
rho grid) and the share whose verdict says "better" (improved or possibly improved) is the
power. Randomised designs draw the order within each pair from a seeded generator, the same
idea as the protocol's allocation, so a plan is reproducible. The length is then the
shortest with at least the target power, found by bisection over the design's steps.

The power is an estimate from `replicates` simulated trials: its standard error,
sqrt(p (1 - p) / replicates), is reported (about 2.8 points at 80 % with 200 replicates).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from mgsleep.trial import ar1
from mgsleep.trial.kinds import Outcome, Phase

if TYPE_CHECKING:
    from mgsleep.diary.night import NightEntry
    from mgsleep.trial.protocol import TrialProtocol

TARGET_POWER = 0.80
MAX_NIGHTS = 365
# Without baseline nights: mgsleep's own assumptions, on the cautious side. Positive
# correlation needs more nights; one night's SD is taken as 1.5 times the smallest change
# that matters.
DEFAULT_RHO = 0.3
DEFAULT_SD_PER_SMALLEST_CHANGE = 1.5
AB_BASELINE_NIGHTS = 14
ABAB_WASHOUT_NIGHTS = 14
# Fewer nights than this in the baseline say too little about their own noise to plan on.
MIN_BASELINE_FOR_NOISE = 7
# The range of rho a plan assumes: real diaries showed -0.2 to -0.3; above 0.9 a series is a
# drift, which a plan on two weeks of nights should not extrapolate.
PLANNING_RHO = (-0.3, 0.9)


@dataclass(frozen=True)
class Layout:
    """A design family: how its nights grow with the number of steps."""

    key: str
    period_nights: int
    randomised: bool

    def phases(self, steps: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """One trial's nights, in order: 0 baseline, 1 magnesium, NaN washout (not analysed)."""
        period = self.period_nights
        if self.key == "ab":
            return np.array([0.0] * AB_BASELINE_NIGHTS + [1.0] * (period * steps))
        if self.key == "ab_equal":
            return np.array([0.0] * (period * steps) + [1.0] * (period * steps))
        if self.key == "abab":
            length = period * steps
            block = [0.0] * length + [1.0] * length
            return np.array(block + [math.nan] * ABAB_WASHOUT_NIGHTS + block)
        pairs = [
            [0.0] * period + [1.0] * period
            if rng.random() < 0.5
            else [1.0] * period + [0.0] * period
            for _ in range(steps)
        ]
        return np.array([night for pair in pairs for night in pair])


LAYOUTS = {
    "ab": Layout("ab", 7, randomised=False),  # a 14-night baseline, then weeks of magnesium
    "ab_equal": Layout("ab_equal", 7, randomised=False),  # as many baseline weeks as magnesium
    "abab": Layout("abab", 7, randomised=False),  # four phases of 7, 14, 21 … nights
    "pairs_7": Layout("pairs_7", 7, randomised=True),
    "pairs_10": Layout("pairs_10", 10, randomised=True),
    "pairs_14": Layout("pairs_14", 14, randomised=True),
}


class DesignPower(BaseModel):
    model_config = ConfigDict(frozen=True)

    design: str
    period_nights: int
    nights: int | None = Field(
        description="calendar nights, washout included; None: not within max_nights"
    )
    analysed_nights: int | None
    power: float = Field(description="at `nights`, or at the longest length tried")
    power_se: float
    replicates: int


class PowerPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    sd: float
    rho: float
    from_baseline: bool
    smallest_change: float
    missing_share: float
    target_power: float
    designs: list[DesignPower]

    @property
    def target_power_se(self) -> float:
        """The simulation's standard error of a power at the target (its give or take)."""
        replicates = max(self.designs[0].replicates, 1) if self.designs else 1
        return math.sqrt(self.target_power * (1 - self.target_power) / replicates)


@dataclass(frozen=True)
class Noise:
    """How much one night varies around the person's level (SD) and how alike consecutive
    nights are (rho): what a power calculation needs from the baseline."""

    sd: float
    rho: float


def noise_from_baseline(
    values: NDArray[np.float64], day: NDArray[np.float64], smallest_change: float
) -> tuple[Noise, bool]:
    """The person's noise from their baseline nights when there are enough, else defaults.

    Two weeks cannot pin rho down (its posterior is nearly flat over 0 to 1), so the
    plan uses the lag-one correlation of consecutive nights with the usual small-sample
    correction, kept within PLANNING_RHO: a moment estimate, stable on few nights."""
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    if len(values) < MIN_BASELINE_FOR_NOISE or spread == 0:
        return Noise(sd=DEFAULT_SD_PER_SMALLEST_CHANGE * smallest_change, rho=DEFAULT_RHO), False
    centred = values - values.mean()
    consecutive = np.diff(day) == 1
    earlier, later = centred[:-1][consecutive], centred[1:][consecutive]
    pairs = len(earlier)
    rho = float(earlier @ later) / float(centred @ centred) * len(values) / max(pairs, 1)
    rho += (1 + 3 * rho) / max(pairs, 1)
    return Noise(sd=spread, rho=float(np.clip(rho, *PLANNING_RHO))), True


def noise_from_trial(
    values: NDArray[np.float64],
    day: NDArray[np.float64],
    magnesium: NDArray[np.float64] | None,
    smallest_change: float,
) -> tuple[Noise, bool]:
    """The noise from a running trial's nights: each night less the mean of its condition, so
    the effect itself is not taken for noise. While the allocation is sealed (`magnesium`
    None) the conditions are unknown and all nights are taken as one: an effect then counts
    as noise, which errs towards more nights, never fewer."""
    residuals = values.astype(float).copy()
    if magnesium is not None:
        for flag in (0.0, 1.0):
            chosen = magnesium == flag
            if chosen.any():
                residuals[chosen] -= residuals[chosen].mean()
    return noise_from_baseline(residuals, day, smallest_change)


def planned_phases(protocol: TrialProtocol) -> NDArray[np.float64]:
    """The trial's nights until its last (an open A-B: until its verdict is due), as the
    simulation reads them: 0 without magnesium, 1 with it, NaN for a night that is not
    analysed (run-in, washout)."""
    codes = {Phase.baseline: 0.0, Phase.magnesium: 1.0}
    nights = (protocol.last_planned_night() - protocol.baseline_start).days + 1
    phases = (protocol.phase_of(protocol.baseline_start + timedelta(days=d)) for d in range(nights))
    return np.array([math.nan if phase is None else codes.get(phase, math.nan) for phase in phases])


def trial_power(
    protocol: TrialProtocol,
    noise: Noise,
    smallest_change: float,
    *,
    missing_share: float = 0.0,
    replicates: int = 200,
    seed: int = 0,
) -> DesignPower:
    """The chance that this trial, at its planned length, shows the smallest change that
    matters if magnesium brings that much. A randomised design is simulated with orders drawn
    afresh (as the planner does), never with the trial's own, which may be sealed."""
    shape = protocol.model_copy(update={"seed": None})
    key = _noise_key(noise.sd / smallest_change, noise.rho, missing_share)
    return _trial_power(shape.model_dump_json(), *key, replicates, seed)


@lru_cache(maxsize=256)
def _trial_power(
    shape_json: str,
    sd_per_change: float,
    rho: float,
    missing_share: float,
    replicates: int,
    seed: int,
) -> DesignPower:
    from mgsleep.trial.protocol import TrialProtocol

    protocol = TrialProtocol.model_validate_json(shape_json)

    def draw(rng: np.random.Generator) -> NDArray[np.float64]:
        if not protocol.randomised:
            return planned_phases(protocol)
        drawn = protocol.model_copy(update={"seed": int(rng.integers(2**62))})
        return planned_phases(drawn)

    power = _share_better(draw, sd_per_change, rho, missing_share, replicates, seed, 1.0)
    # Any order has the same nights: one drawn order counts them.
    phases = draw(np.random.default_rng(seed))
    return DesignPower(
        design=protocol.design.value,
        period_nights=protocol.period_days,
        nights=len(phases),
        analysed_nights=int(np.count_nonzero(~np.isnan(phases))),
        power=power,
        power_se=math.sqrt(max(power * (1 - power), 0.0) / replicates),
        replicates=replicates,
    )


def plan_for_baseline(
    values: NDArray[np.float64],
    day: NDArray[np.float64],
    smallest_change: float,
    *,
    missing_share: float = 0.0,
    replicates: int = 200,
    seed: int = 0,
) -> PowerPlan:
    """The plan from the person's own baseline nights (values on day offsets), or from
    defaults while there are too few of them."""
    noise, from_baseline = noise_from_baseline(values, day, smallest_change)
    return plan_power(
        noise.sd,
        noise.rho,
        smallest_change,
        from_baseline=from_baseline,
        missing_share=missing_share,
        replicates=replicates,
        seed=seed,
    )


def plan_power(
    sd: float,
    rho: float,
    smallest_change: float,
    *,
    from_baseline: bool = False,
    designs: tuple[str, ...] = tuple(LAYOUTS),
    missing_share: float = 0.0,
    target_power: float = TARGET_POWER,
    replicates: int = 200,
    seed: int = 0,
    max_nights: int = MAX_NIGHTS,
) -> PowerPlan:
    """The nights each design needs for `target_power`. Cached: a page may call it freely."""
    key = _noise_key(sd / smallest_change, rho, missing_share)
    found = [
        _design_power(
            design,
            *key,
            target_power,
            replicates,
            seed,
            max_nights,
        )
        for design in designs
    ]
    return PowerPlan(
        sd=sd,
        rho=rho,
        from_baseline=from_baseline,
        smallest_change=smallest_change,
        missing_share=missing_share,
        target_power=target_power,
        designs=found,
    )


def _noise_key(
    sd_per_change: float, rho: float, missing_share: float
) -> tuple[float, float, float]:
    """The noise as a plan is cached by: the SD to two significant figures, rho and the share
    of missing nights to 0.05. Finer than what a few weeks of nights can tell (rho from 14
    nights has an SD of about 0.25), coarse enough that the plan of a diary that grows by a
    night is usually already worked out."""
    return float(f"{sd_per_change:.2g}"), round(20 * rho) / 20, round(20 * missing_share) / 20


@lru_cache(maxsize=512)
def _design_power(
    design: str,
    sd_per_change: float,
    rho: float,
    missing_share: float,
    target: float,
    replicates: int,
    seed: int,
    max_nights: int,
) -> DesignPower:
    """In units of the smallest change (the answer depends only on SD / change)."""
    layout = LAYOUTS[design]

    def at(steps: int) -> float:
        return simulated_power(layout, steps, sd_per_change, rho, missing_share, replicates, seed)

    def nights(steps: int) -> int:
        return len(layout.phases(steps, np.random.default_rng(seed)))

    most = max(1, _steps_within(layout, max_nights))
    low, high = 0, most
    power_high = at(high)
    if power_high < target:
        return _result(layout, None, power_high, replicates, None)
    # Bisection for the fewest steps with the target power: power rises with the nights.
    while high - low > 1:
        middle = (low + high) // 2
        power_middle = at(middle)
        if power_middle >= target:
            high, power_high = middle, power_middle
        else:
            low = middle
    phases = layout.phases(high, np.random.default_rng(seed))
    return _result(layout, nights(high), power_high, replicates, int(np.isfinite(phases).sum()))


def _steps_within(layout: Layout, max_nights: int) -> int:
    rng = np.random.default_rng(0)
    steps = 1
    while len(layout.phases(steps + 1, rng)) <= max_nights:
        steps += 1
    return steps


def _result(
    layout: Layout, nights: int | None, power: float, replicates: int, analysed: int | None
) -> DesignPower:
    return DesignPower(
        design=layout.key,
        period_nights=layout.period_nights,
        nights=nights,
        analysed_nights=analysed,
        power=power,
        power_se=math.sqrt(max(power * (1 - power), 0.0) / replicates),
        replicates=replicates,
    )


# A batch of simulated trials shares one allocation and one pattern of missing nights.
BATCH = 50


def simulated_power(
    layout: Layout,
    steps: int,
    sd_per_change: float,
    rho: float,
    missing_share: float,
    replicates: int,
    seed: int,
    *,
    effect_per_change: float = 1.0,
) -> float:
    """The share of simulated trials with a "better" verdict, for a true improvement of
    `effect_per_change` smallest changes (0 gives the false-positive rate)."""
    return _share_better(
        lambda rng: layout.phases(steps, rng),
        sd_per_change,
        rho,
        missing_share,
        replicates,
        seed,
        effect_per_change,
    )


def _share_better(
    draw_phases: Callable[[np.random.Generator], NDArray[np.float64]],
    sd_per_change: float,
    rho: float,
    missing_share: float,
    replicates: int,
    seed: int,
    effect_per_change: float,
) -> float:
    """`simulated_power` for any design: `draw_phases` lays out one trial's nights."""
    from mgsleep.trial.analysis import DIRECTION_CERTAINTY, IMPROVED_CERTAINTY

    # The same seed for every length: neighbouring lengths share their random draws, so the
    # power rises smoothly with the nights and the bisection is not misled by noise.
    rng = np.random.default_rng(seed)
    better = 0
    done = 0
    while done < replicates:
        size = min(BATCH, replicates - done)
        phases = draw_phases(rng)
        day = np.flatnonzero(np.isfinite(phases) & (rng.random(len(phases)) >= missing_share))
        magnesium = phases[day]
        noise = ar1_noise(rng, size, len(phases), rho)[:, day] * sd_per_change
        values = noise + effect_per_change * magnesium
        daily = day.astype(float)
        switches = int(np.count_nonzero(np.diff(phases[np.isfinite(phases)])))
        design = ar1.design_matrix(magnesium, daily, with_trend=switches >= 2)
        nights = ar1.mixture(values, design, daily, ar1.RHO_GRID_COARSE)
        if nights is not None:
            meaningful = nights.prob_above(1.0) >= IMPROVED_CERTAINTY
            any_benefit = nights.prob_above(0.0) >= DIRECTION_CERTAINTY
            better += int(np.count_nonzero(meaningful | any_benefit))
        done += size
    return better / replicates


def ar1_noise(
    rng: np.random.Generator, series: int, nights: int, rho: float
) -> NDArray[np.float64]:
    """Stationary AR(1) noise with unit marginal SD, one row per series."""
    shocks = rng.standard_normal((series, nights))
    out = np.empty_like(shocks)
    out[:, 0] = shocks[:, 0]
    innovation = math.sqrt(1 - rho**2)
    for night in range(1, nights):
        out[:, night] = rho * out[:, night - 1] + innovation * shocks[:, night]
    return out


# The nights a plan learns the person's noise from before a trial: the last four weeks
# without magnesium. During one, its own nights once there are two weeks of them.
LOOKBACK_DAYS = 28
TRIAL_NIGHTS_FOR_NOISE = 14
# Fewer simulated trials than the statistics' default, so a page answers in about a second
# the first time (then from the cache); the plan states its error (about 4 points at 80 %).
PLANNING_REPLICATES = 100
# One design only for the running trial's own chance: more replicates for the same time.
TRIAL_REPLICATES = 400

NoiseSource = Literal["trial_nights", "recent_nights", "defaults"]


class PowerOutlook(BaseModel):
    """The plan (nights each design needs) and, with a trial running, this trial's chance of
    showing the smallest change that matters, with where the noise was learnt from."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    source: NoiseSource
    nights_used: int
    plan: PowerPlan
    trial: DesignPower | None


def outlook(
    protocol: TrialProtocol | None, nights: Sequence[NightEntry], today: date
) -> PowerOutlook:
    """The power outlook from the diary: a running trial's own nights when it has two weeks of
    them (each less its condition's mean; all as one while sealed), else the four weeks
    without magnesium before it (or before today), else mgsleep's defaults."""
    from mgsleep.evidence import load_evidence
    from mgsleep.trial.analysis import smallest_change

    outcome = protocol.primary_outcome if protocol else Outcome.sleep_latency_min
    change = (protocol.smallest_change if protocol else None) or smallest_change(
        load_evidence(), outcome
    )[0]
    source: NoiseSource = "defaults"
    missing_share = 0.0
    trial_nights = [] if protocol is None else _trial_points(protocol, nights, today, outcome)
    if protocol is not None and len(trial_nights) >= TRIAL_NIGHTS_FOR_NOISE:
        day, values, flags = (
            np.array(column, dtype=float) for column in zip(*trial_nights, strict=True)
        )
        noise, _ = noise_from_trial(values, day, None if protocol.sealed else flags, change)
        source, used = "trial_nights", len(trial_nights)
        missing_share = 1 - used / max(used, _countable_nights(protocol, today))
    else:
        until = today if protocol is None else protocol.baseline_start - timedelta(days=1)
        points = _nights_without_magnesium(nights, until, outcome)
        day = np.array([d for d, _v in points], dtype=float)
        values = np.array([v for _d, v in points], dtype=float)
        noise, from_baseline = noise_from_baseline(values, day, change)
        used = len(points) if from_baseline else 0
        source = "recent_nights" if from_baseline else "defaults"
    plan = plan_power(
        noise.sd,
        noise.rho,
        change,
        from_baseline=source != "defaults",
        missing_share=missing_share,
        replicates=PLANNING_REPLICATES,
    )
    trial = (
        None
        if protocol is None
        else trial_power(
            protocol, noise, change, missing_share=missing_share, replicates=TRIAL_REPLICATES
        )
    )
    return PowerOutlook(outcome=outcome, source=source, nights_used=used, plan=plan, trial=trial)


def _counted(protocol: TrialProtocol, night: date) -> tuple[bool, float]:
    """Whether a night counts in the analysis, and its condition (NaN while sealed)."""
    phase = protocol.phase_of(night)
    if phase is None:
        return protocol.includes(night), math.nan  # a sealed period's night, or outside
    return phase in (Phase.baseline, Phase.magnesium), float(phase is Phase.magnesium)


def _trial_points(
    protocol: TrialProtocol, nights: Sequence[NightEntry], today: date, outcome: Outcome
) -> list[tuple[int, float, float]]:
    from mgsleep.diary.night import metrics
    from mgsleep.trial.analysis import outcome_value

    points = []
    for night in nights:
        counts, flag = _counted(protocol, night.date)
        if not counts or night.date > today:
            continue
        value = outcome_value(metrics(night), outcome)
        if value is not None:
            points.append(((night.date - protocol.baseline_start).days, value, flag))
    return points


def _countable_nights(protocol: TrialProtocol, today: date) -> int:
    """The trial's nights until today that the analysis would count, logged or not."""
    nights = (today - protocol.baseline_start).days + 1
    return sum(
        _counted(protocol, protocol.baseline_start + timedelta(days=d))[0] for d in range(nights)
    )


def _nights_without_magnesium(
    nights: Sequence[NightEntry], until: date, outcome: Outcome
) -> list[tuple[int, float]]:
    from mgsleep.diary.night import metrics
    from mgsleep.trial.analysis import outcome_value

    first = until - timedelta(days=LOOKBACK_DAYS)
    return [
        ((night.date - first).days, value)
        for night in nights
        if first <= night.date <= until
        and not night.magnesium_mg
        and (value := outcome_value(metrics(night), outcome)) is not None
    ]

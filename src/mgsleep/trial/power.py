"""How many nights each design needs: power planning by simulation, before the trial.

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
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from mgsleep.trial import ar1

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
    found = [
        _design_power(
            design,
            round(sd / smallest_change, 3),
            round(rho, 2),
            round(missing_share, 2),
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
    from mgsleep.trial.analysis import DIRECTION_CERTAINTY, IMPROVED_CERTAINTY

    # The same seed for every length: neighbouring lengths share their random draws, so the
    # power rises smoothly with the nights and the bisection is not misled by noise.
    rng = np.random.default_rng(seed)
    better = 0
    done = 0
    while done < replicates:
        size = min(BATCH, replicates - done)
        phases = layout.phases(steps, rng)
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

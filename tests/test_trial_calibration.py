"""Calibration of the trial's statistics by seeded simulation: interval coverage, the
verdict's false-positive rate and power per design, and statsmodels' exact AR(1) maximum
likelihood as the reference it is compared with."""

from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np
import pytest

from mgsleep.trial import ar1
from mgsleep.trial.analysis import Verdict, analyse
from mgsleep.trial.calibration import interval_coverage, layout_phases
from mgsleep.trial.power import LAYOUTS, ar1_noise, plan_power, simulated_power
from tests.simulate import diary, protocol

pytestmark = pytest.mark.slow

# Each design at the length mgsleep proposes first: A-B 14 + 28 nights; A-B-A-B four phases
# of 14 nights with a 14-night washout; randomised pairs of 7-night periods, 3 pairs.
DESIGNS = {"ab": 4, "abab": 2, "pairs_7": 3}
RHOS = (-0.4, -0.3, 0.0, 0.4, 0.7, 0.9)


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("rho", RHOS)
def test_the_95_percent_interval_covers_93_to_97_percent(design, rho):
    phases = layout_phases(design, DESIGNS[design], seed=1)
    coverage = interval_coverage(phases, rho, replicates=2000, seed=7)
    assert 0.93 <= coverage <= 0.97


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("rho", [-0.3, 0.0, 0.4, 0.7])
def test_false_positive_rate_of_a_better_verdict(design, rho):
    layout = LAYOUTS[design]
    rate = simulated_power(layout, DESIGNS[design], 1.0, rho, 0.0, 1000, 3, effect_per_change=0)
    # "possibly improved" is a one-sided 95 % bound: about 5 %, and never much above it.
    assert rate <= 0.07


@pytest.mark.parametrize("design", DESIGNS)
def test_power_rises_with_the_effect_and_falls_with_correlation(design):
    layout = LAYOUTS[design]
    steps = DESIGNS[design]

    def power(effect, rho):
        return simulated_power(layout, steps, 1.0, rho, 0.0, 600, 4, effect_per_change=effect)

    assert power(0.5, 0.3) < power(1.0, 0.3) < power(2.0, 0.3)
    assert power(1.0, 0.7) < power(1.0, -0.3)


def test_the_batched_simulation_agrees_with_the_full_analysis():
    """The power planner's shortcut (the model on arrays) against `analyse` on diaries."""
    trial = protocol()
    better = 0
    seeds = range(150)
    for seed in seeds:
        nights = diary(1000 + seed, trial, 42, effect_min=-10)
        verdict = analyse(trial, nights, as_of=trial.baseline_start + timedelta(days=41)).verdict
        better += verdict in {Verdict.improved, Verdict.possibly_improved}
    full = better / len(seeds)
    # The diaries: SD 10 min, rho 0.4, an effect of one smallest change (10 min).
    batched = simulated_power(LAYOUTS["ab"], 4, 1.0, 0.4, 0.0, 3000, 5)
    assert full == pytest.approx(batched, abs=0.1)


def test_the_planned_length_reaches_the_target_power_on_fresh_seeds():
    plan = plan_power(15.0, 0.3, 10.0, designs=("pairs_7", "abab"), seed=11)
    for found in plan.designs:
        assert found.nights is not None
        layout = LAYOUTS[found.design]
        steps = next(
            s
            for s in range(1, 60)
            if len(layout.phases(s, np.random.default_rng(0))) == found.nights
        )
        fresh = simulated_power(layout, steps, 1.5, 0.3, 0.0, 1000, 99)
        assert fresh >= plan.target_power - 0.05
        if steps > 1:
            assert simulated_power(layout, steps - 1, 1.5, 0.3, 0.0, 1000, 99) < found.power


def _arima(values: np.ndarray, magnesium: np.ndarray):
    import statsmodels.api as sm

    with warnings.catch_warnings():
        # statsmodels warns about start values and convergence on short series
        warnings.simplefilter("ignore")
        fitted = sm.tsa.arima.ARIMA(values, exog=magnesium, order=(1, 0, 0)).fit()
    low, high = fitted.conf_int(alpha=0.05)[1]
    return float(fitted.params[1]), float(low), float(high), float(fitted.bse[1])


def test_closer_to_95_percent_than_statsmodels_exact_ar1():
    """ARIMA(1,0,0) with the phase as exogenous regressor, exact MLE, missing nights as NaN."""
    rng = np.random.default_rng(21)
    nights, missing_share = 42, 0.1
    magnesium = (np.arange(nights) >= 14).astype(float)
    replicates = 150
    ours_dev, theirs_dev, gaps = 0.0, 0.0, []
    for rho in (-0.4, 0.0, 0.4, 0.7, 0.9):
        ours = theirs = 0
        for _ in range(replicates):
            values = 35 + 10 * ar1_noise(rng, 1, nights, rho)[0]
            logged = rng.random(nights) >= missing_share
            day = np.flatnonzero(logged).astype(float)
            design = ar1.design_matrix(magnesium[logged], day, with_trend=False)
            mixture = ar1.mixture(values[logged], design, day)
            assert mixture is not None
            low, high = mixture.quantile(0.025), mixture.quantile(0.975)
            ours += low < 0 < high
            with_gaps = np.where(logged, values, np.nan)
            estimate, t_low, t_high, t_se = _arima(with_gaps, magnesium)
            theirs += t_low < 0 < t_high
            gaps.append(abs(float(mixture.mean()) - estimate) / t_se)
        ours_dev += abs(ours / replicates - 0.95)
        theirs_dev += abs(theirs / replicates - 0.95)
        assert 0.91 <= ours / replicates <= 0.99
    assert ours_dev < theirs_dev
    # Both estimate the same effect: they differ by a fraction of a standard error.
    assert float(np.median(gaps)) < 0.25

"""Power planning: the nights each design needs, from the person's baseline or defaults."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mgsleep.trial.power import (
    DEFAULT_RHO,
    DEFAULT_SD_PER_SMALLEST_CHANGE,
    LAYOUTS,
    ar1_noise,
    noise_from_baseline,
    plan_power,
)


def test_randomised_pairs_are_reproducible_from_the_seed_and_balanced():
    layout = LAYOUTS["pairs_7"]
    first = layout.phases(6, np.random.default_rng(42))
    again = layout.phases(6, np.random.default_rng(42))
    assert np.array_equal(first, again)
    pairs = first.reshape(6, 14)
    # Every pair holds one period of each, in either order.
    assert all(pair.sum() == 7 for pair in pairs)
    orders = {tuple(pair[:1]) for pair in pairs}
    assert orders == {(0.0,), (1.0,)}  # both orders drawn in six pairs with this seed


def test_the_plan_is_reproducible_and_cached():
    plan = plan_power(15.0, 0.3, 10.0, designs=("ab", "pairs_7"), replicates=100, seed=3)
    started = time.perf_counter()
    again = plan_power(15.0, 0.3, 10.0, designs=("ab", "pairs_7"), replicates=100, seed=3)
    assert time.perf_counter() - started < 0.05
    assert plan == again


def test_noisier_nights_need_more_nights():
    quiet = plan_power(10.0, 0.3, 10.0, designs=("pairs_7",), replicates=100, seed=4)
    noisy = plan_power(20.0, 0.3, 10.0, designs=("pairs_7",), replicates=100, seed=4)
    assert quiet.designs[0].nights is not None
    assert noisy.designs[0].nights is not None
    assert quiet.designs[0].nights < noisy.designs[0].nights


def test_randomised_pairs_need_whole_pairs():
    plan = plan_power(15.0, 0.2, 10.0, designs=("pairs_10", "pairs_14"), replicates=100, seed=5)
    for found in plan.designs:
        assert found.nights is not None
        assert found.nights % (2 * found.period_nights) == 0
        assert found.power >= plan.target_power
        assert found.power_se == pytest.approx(
            (found.power * (1 - found.power) / found.replicates) ** 0.5
        )


def test_a_design_that_cannot_reach_the_target_says_so():
    # A 14-night baseline limits A-B however long magnesium runs.
    plan = plan_power(30.0, 0.5, 10.0, designs=("ab",), replicates=100, seed=6)
    found = plan.designs[0]
    assert found.nights is None
    assert found.power < plan.target_power


def test_the_baseline_gives_the_noise_and_too_few_nights_give_defaults():
    rng = np.random.default_rng(8)
    values = 30 + 12 * ar1_noise(rng, 1, 300, 0.5)[0]
    day = np.arange(300, dtype=float)
    noise, from_baseline = noise_from_baseline(values, day, 10.0)
    assert from_baseline
    assert noise.rho == pytest.approx(0.5, abs=0.1)
    assert noise.sd == pytest.approx(12, rel=0.15)
    default, from_baseline = noise_from_baseline(values[:5], day[:5], 10.0)
    assert not from_baseline
    assert (default.sd, default.rho) == (DEFAULT_SD_PER_SMALLEST_CHANGE * 10.0, DEFAULT_RHO)


def test_a_page_can_afford_a_plan():
    started = time.perf_counter()
    plan_power(14.0, 0.1, 10.0, replicates=100, seed=9)
    assert time.perf_counter() - started < 5


def test_a_plan_from_baseline_nights_uses_them():
    from mgsleep.trial.power import plan_for_baseline

    rng = np.random.default_rng(10)
    values = 30 + 8 * ar1_noise(rng, 1, 14, -0.2)[0]
    plan = plan_for_baseline(values, np.arange(14, dtype=float), 10.0, replicates=100)
    assert plan.from_baseline
    assert plan.sd == pytest.approx(float(np.std(values)), rel=0.5)
    assert {d.design for d in plan.designs} == set(LAYOUTS)

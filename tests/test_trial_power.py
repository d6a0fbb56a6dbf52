"""Power planning: the nights each design needs, from the person's baseline or defaults."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from mgsleep.trial.power import (
    DEFAULT_RHO,
    DEFAULT_SD_PER_SMALLEST_CHANGE,
    LAYOUTS,
    TRIAL_NIGHTS_FOR_NOISE,
    Noise,
    _design_power,
    ar1_noise,
    noise_from_baseline,
    noise_from_trial,
    outlook,
    plan_power,
    simulated_power,
    trial_power,
)
from tests.simulate import START, diary, protocol


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
    before = _design_power.cache_info()
    # A diary one night longer moves the noise a little: the plan is the one worked out.
    again = plan_power(15.04, 0.31, 10.0, designs=("ab", "pairs_7"), replicates=100, seed=3)
    after = _design_power.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0)
    assert plan.designs == again.designs


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


def test_a_plan_from_baseline_nights_uses_them():
    from mgsleep.trial.power import plan_for_baseline

    rng = np.random.default_rng(10)
    values = 30 + 8 * ar1_noise(rng, 1, 14, -0.2)[0]
    plan = plan_for_baseline(values, np.arange(14, dtype=float), 10.0, replicates=100)
    assert plan.from_baseline
    assert plan.sd == pytest.approx(float(np.std(values)), rel=0.5)
    assert {d.design for d in plan.designs} == set(LAYOUTS)


# ---- during a trial: its own nights, and its own chance ------------------------------------


def test_a_running_trials_noise_leaves_the_effect_out():
    rng = np.random.default_rng(12)
    flags = np.tile([0.0] * 7 + [1.0] * 7, 3)
    values = 40 + 10 * ar1_noise(rng, 1, flags.size, 0.0)[0] - 30 * flags
    day = np.arange(flags.size, dtype=float)
    within, _ = noise_from_trial(values, day, flags, 20.0)
    together, _ = noise_from_trial(values, day, None, 20.0)
    assert within.sd == pytest.approx(10, rel=0.3)
    # Sealed, the 30-minute effect is taken for noise: more nights, never fewer.
    assert together.sd > 1.3 * within.sd


def test_the_trials_own_chance_is_the_planners_for_the_same_design():
    # Four randomised pairs of a week from the first night: the planner's pairs_7 at 4 steps.
    trial = protocol(0, "pairs", pairs=4, period_nights=7, seed=3)
    own = trial_power(trial, Noise(sd=15.0, rho=0.3), 10.0, replicates=1000, seed=1)
    planned = simulated_power(LAYOUTS["pairs_7"], 4, 1.5, 0.3, 0.0, 1000, 1)
    assert (own.nights, own.analysed_nights) == (56, 56)
    assert own.power == pytest.approx(planned, abs=4 * (2 * own.power_se**2) ** 0.5)


def test_a_longer_trial_has_a_better_chance():
    def chance(magnesium_nights: int) -> float:
        end = START + timedelta(days=14 + magnesium_nights)
        found = trial_power(protocol(14, end=end), Noise(15.0, 0.2), 10.0, replicates=600)
        assert found.nights == 14 + magnesium_nights
        return found.power

    assert chance(28) < chance(84)


def test_a_washout_is_counted_in_the_nights_not_in_the_analysis():
    found = trial_power(
        protocol(0, "pairs", pairs=2, period_nights=7, washout_days=3, seed=1),
        Noise(15.0, 0.2),
        10.0,
        replicates=100,
    )
    assert found.nights == 4 * 7 + 3 * 3
    assert found.analysed_nights == 4 * 7


def test_the_outlook_learns_from_the_trials_nights_after_two_weeks():
    trial = protocol(14)
    nights = diary(5, trial, 42, effect_min=-20)
    early = outlook(trial, nights, START + timedelta(days=TRIAL_NIGHTS_FOR_NOISE - 2))
    assert (early.source, early.nights_used) == ("defaults", 0)
    later = outlook(trial, nights, START + timedelta(days=20))
    assert (later.source, later.nights_used) == ("trial_nights", 21)
    assert later.plan.missing_share == 0
    assert later.trial is not None
    assert later.trial.nights == 42  # an open A-B: 14 nights, then 28 with magnesium


def test_the_outlook_counts_the_nights_that_are_missing():
    trial = protocol(14)
    logged = [n for n in diary(5, trial, 30) if n.date.day % 5]  # every fifth morning missing
    found = outlook(trial, logged, START + timedelta(days=29))
    assert found.source == "trial_nights"
    assert found.plan.missing_share == pytest.approx(1 - found.nights_used / 30, abs=0.03)
    assert found.plan.missing_share > 0.1


def test_a_sealed_trials_outlook_needs_no_allocation():
    trial = protocol(0, "pairs", pairs=4, period_nights=7, blinded=True, seed=9)
    sealed = trial.model_copy(update={"seed": None})
    assert sealed.sealed
    nights = diary(6, trial, 56, effect_min=-30)
    today = START + timedelta(days=27)
    blind = outlook(sealed, nights, today)
    seen = outlook(trial, nights, today)
    assert blind.source == seen.source == "trial_nights"
    assert blind.nights_used == seen.nights_used
    # Without the allocation the effect counts as noise: a cautious plan.
    assert blind.plan.sd > seen.plan.sd
    # The trial's chance is simulated with fresh orders: the sealed seed never enters it.
    assert outlook(trial.model_copy(update={"seed": 10}), nights, today).trial == seen.trial


def test_before_a_trial_the_outlook_reads_four_weeks_without_magnesium():
    earlier = protocol(14)
    nights = diary(7, earlier, 42, effect_min=-20)
    today = START + timedelta(days=20)  # two weeks without magnesium, then a week with it
    found = outlook(None, nights, today)
    without = [n for n in nights if not n.magnesium_mg and n.date > today - timedelta(days=29)]
    assert found.source == "recent_nights"
    assert found.nights_used == len(without) == 14
    assert found.trial is None
    assert outlook(None, nights, date(2020, 1, 1)).source == "defaults"

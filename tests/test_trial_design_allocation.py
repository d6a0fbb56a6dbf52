"""Randomised designs: the allocation follows from its seed, and every night gets its phase."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from mgsleep.trial.allocation import fingerprint, pair_orders
from mgsleep.trial.kinds import Design, Evening, Phase
from mgsleep.trial.protocol import TrialProtocol

FIRST = date(2026, 3, 2)


def _randomised(**changes: object) -> TrialProtocol:
    values: dict[str, object] = {
        "baseline_start": FIRST,
        "magnesium_start": FIRST,
        "design": Design.pairs,
        "pairs": 4,
        "period_nights": 7,
        "seed": 20260302,
    }
    return TrialProtocol.model_validate(values | changes)


def test_the_allocation_is_reproducible_from_its_seed() -> None:
    drawn = [pair_orders(Design.pairs, 6, seed) for seed in range(50)]
    assert drawn == [pair_orders(Design.pairs, 6, seed) for seed in range(50)]
    # Different seeds draw different orders (50 seeds, 64 possible allocations).
    assert len(set(drawn)) > 20
    # A known seed gives a known allocation, on any computer and in any later version: the
    # coin is the first byte's parity of SHA-256 over the seed and the pair's number.
    by_hand = tuple(
        "ab"
        if hashlib.sha256(f"mgsleep-allocation-v1:20260302:{i}".encode()).digest()[0] % 2 == 0
        else "ba"
        for i in range(6)
    )
    assert pair_orders(Design.pairs, 6, 20260302) == by_hand == ("ab", "ba", "ba", "ba", "ba", "ba")


def test_the_coin_is_fair_over_many_seeds() -> None:
    firsts = [pair_orders(Design.pairs, 1, seed)[0] for seed in range(2000)]
    assert 900 < firsts.count("ab") < 1100


def test_counterbalanced_pairs_mirror_the_pair_before() -> None:
    for seed in range(30):
        orders = pair_orders(Design.abba, 6, seed)
        for first, second in zip(orders[::2], orders[1::2], strict=True):
            assert {first, second} == {"ab", "ba"}


def test_every_night_of_a_randomised_trial_has_the_phase_of_its_period() -> None:
    trial = _randomised(magnesium_start=FIRST + timedelta(days=3), washout_days=2)
    orders = trial.allocation
    assert orders is not None
    night = FIRST
    expected: list[Phase | None] = [Phase.washout] * 3  # the run-in
    for index, order in enumerate(orders):
        for arm_index, arm in enumerate(order):
            expected += [Phase.baseline if arm == "a" else Phase.magnesium] * 7
            last = index == len(orders) - 1 and arm_index == 1
            if not last:
                expected += [Phase.washout] * 2
    found = [trial.phase_of(night + timedelta(days=d)) for d in range(len(expected))]
    assert found == expected
    assert trial.scheduled_end() == FIRST + timedelta(days=len(expected))
    assert trial.phase_of(FIRST - timedelta(days=1)) is None
    assert trial.phase_of(FIRST + timedelta(days=len(expected))) is None


def test_each_pair_holds_one_period_of_each_arm() -> None:
    for seed in range(20):
        periods = _randomised(seed=seed, design=Design.abba).periods()
        assert len(periods) == 8
        for pair in range(1, 5):
            arms = [p.phase for p in periods if p.pair == pair]
            assert sorted(arms) == [Phase.baseline, Phase.magnesium]


def test_fixed_designs_keep_their_phases() -> None:
    ab = TrialProtocol(baseline_start=FIRST, magnesium_start=FIRST + timedelta(days=14))
    assert ab.phase_of(FIRST + timedelta(days=13)) is Phase.baseline
    assert ab.phase_of(FIRST + timedelta(days=14)) is Phase.magnesium
    abab = ab.model_copy(update={"design": Design.abab})
    assert abab.phase_of(FIRST + timedelta(days=28)) is Phase.washout
    assert abab.phase_of(FIRST + timedelta(days=42)) is Phase.baseline


def test_an_open_trial_says_magnesium_evenings_and_a_blinded_one_only_numbered_doses() -> None:
    trial = _randomised(washout_days=1)
    evenings = {trial.evening(FIRST + timedelta(days=d - 1)) for d in range(70)}
    assert evenings == {Evening.magnesium, Evening.diary_only, Evening.outside}
    blinded = _randomised(washout_days=1, blinded=True, seed=None)
    period_evening = FIRST - timedelta(days=1)  # the first night's dose is taken the evening before
    assert blinded.evening(period_evening) is Evening.sealed_dose
    washout_evening = FIRST + timedelta(days=6)
    assert blinded.evening(washout_evening) is Evening.diary_only


def test_a_sealed_trial_knows_no_phase_inside_its_periods() -> None:
    opened = _randomised(blinded=True, washout_days=1)
    sealed = opened.sealed_copy()
    assert sealed.sealed
    assert not opened.sealed
    assert sealed.allocation is None
    assert {sealed.phase_of(p.first_night) for p in opened.periods()} == {None}
    assert sealed.phase_of(FIRST + timedelta(days=7)) is Phase.washout
    assert "seed" not in opened.model_dump()
    assert "20260302" not in opened.model_dump_json()


def test_a_seed_must_match_the_fingerprint_it_was_stored_with() -> None:
    trial = _randomised()
    orders = trial.allocation
    assert orders is not None
    stored = fingerprint(20260302, orders)
    assert _randomised(allocation_fingerprint=stored).allocation == orders
    with pytest.raises(ValidationError) as refused:
        _randomised(seed=1, allocation_fingerprint=stored)
    assert refused.value.errors()[0]["type"] == "seed_not_fingerprint"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        (
            {
                "design": Design.ab,
                "magnesium_start": FIRST + timedelta(days=14),
                "pairs": None,
                "period_nights": None,
                "seed": None,
                "blinded": True,
            },
            "blinding_needs_randomising",
        ),
        ({"period_nights": 8}, "period_nights_choice"),
        ({"design": Design.abba, "pairs": 3}, "abba_even_pairs"),
        ({"magnesium_start": FIRST - timedelta(days=1)}, "run_in_range"),
        ({"end": FIRST + timedelta(days=10)}, "end_set_by_design"),
    ],
)
def test_a_design_that_cannot_work_is_refused_by_its_code(
    changes: dict[str, object], code: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _randomised(**changes)
    assert refused.value.errors()[0]["type"] == code

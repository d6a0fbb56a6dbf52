"""The N-of-1 verdict on simulated diaries with a known effect."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from mgsleep.trial.analysis import Verdict, analyse
from mgsleep.trial.protocol import Design, Phase
from tests.simulate import diary, protocol

SEEDS = range(200)


def _last_night(trial, nights):
    return trial.baseline_start + timedelta(days=nights - 1)


def _verdicts(effect_min: float, **noise: float) -> Counter[str]:
    trial = protocol()
    counts: Counter[str] = Counter()
    for seed in SEEDS:
        nights = diary(seed, trial, 42, effect_min=effect_min, **noise)
        counts[analyse(trial, nights, as_of=_last_night(trial, 42)).verdict.value] += 1
    return counts


def test_a_fifteen_minute_fall_is_found():
    counts = _verdicts(-15)
    assert counts["improved"] >= 0.85 * len(SEEDS)
    assert counts["worse"] == 0


def test_the_estimate_recovers_the_effect():
    trial = protocol()
    differences, covered = [], 0
    for seed in range(100):
        result = analyse(
            trial, diary(seed, trial, 42, effect_min=-15), as_of=_last_night(trial, 42)
        )
        latency = result.outcomes["sleep_latency_min"]
        differences.append(latency.difference)
        covered += latency.ci_low < -15 < latency.ci_high
        assert latency.with_trend is not None  # an A-B design reports the trend check beside it
    assert sum(differences) / len(differences) == pytest.approx(-15, abs=1.5)
    assert covered >= 85


def test_prob_meaningful_follows_the_estimate():
    trial = protocol()
    big = analyse(trial, diary(2, trial, 42, effect_min=-30), as_of=_last_night(trial, 42))
    none = analyse(trial, diary(2, trial, 42, effect_min=0), as_of=_last_night(trial, 42))
    assert big.outcomes["sleep_latency_min"].prob_meaningful > 0.9
    assert none.outcomes["sleep_latency_min"].prob_meaningful < 0.5


def test_no_effect_is_no_clear_effect_in_at_least_ninety_percent_of_seeds():
    counts = _verdicts(0)
    assert counts["no_clear_effect"] >= 0.9 * len(SEEDS)


def test_ten_nights_are_not_enough():
    trial = protocol()
    nights = diary(1, trial, 10, effect_min=-15)
    result = analyse(trial, nights, as_of=_last_night(trial, 10))
    assert result.verdict is Verdict.not_enough_data
    # 10 baseline nights logged, 0 of 28 magnesium nights
    assert result.more_nights_needed == 28


def test_a_worse_series_is_called_worse():
    trial = protocol()
    nights = diary(3, trial, 42, effect_min=25)
    assert analyse(trial, nights, as_of=_last_night(trial, 42)).verdict is Verdict.worse


def test_missing_nights_are_counted_and_tolerated():
    trial = protocol()
    nights = diary(4, trial, 50, effect_min=-20, missing=0.15)
    result = analyse(trial, nights, as_of=_last_night(trial, 50))
    assert result.missing_nights == 50 - len(nights)
    assert result.verdict in {Verdict.improved, Verdict.not_enough_data}


def test_adherence_and_phase_counts():
    trial = protocol()
    nights = diary(5, trial, 42)
    result = analyse(trial, nights, as_of=_last_night(trial, 42))
    assert result.nights_by_phase == {"baseline": 14, "magnesium": 28, "washout": 0}
    assert result.adherence_pct == pytest.approx(100)


def test_abab_design_phases_and_trend_in_the_model():
    trial = protocol(baseline_nights=14, design="abab", washout_days=14)
    assert trial.design is Design.abab
    assert trial.phase_of(trial.baseline_start + timedelta(days=20)) is Phase.magnesium
    assert trial.phase_of(trial.baseline_start + timedelta(days=30)) is Phase.washout
    assert trial.phase_of(trial.baseline_start + timedelta(days=45)) is Phase.baseline
    assert trial.phase_of(trial.baseline_start + timedelta(days=60)) is Phase.magnesium
    assert trial.phase_of(trial.baseline_start + timedelta(days=70)) is None
    nights = diary(6, trial, 70, effect_min=-20)
    result = analyse(trial, nights, as_of=_last_night(trial, 70))
    assert result.nights_by_phase["washout"] == 14
    assert result.outcomes["sleep_latency_min"].with_trend is None  # the trend is in the model
    assert result.verdict is Verdict.improved


def test_protocol_refuses_a_short_baseline():
    with pytest.raises(ValueError, match="at least 7 nights"):
        protocol(baseline_nights=5)


def test_sixteen_nights_are_not_enough_either():
    trial = protocol()
    result = analyse(trial, diary(1, trial, 16), as_of=_last_night(trial, 16))
    latency = result.outcomes["sleep_latency_min"]
    assert latency.verdict is Verdict.not_enough_data
    assert latency.more_nights_needed == 26


def test_the_isi_change_is_read_before_and_after_two_weeks_of_magnesium():
    trial = protocol()
    nights = diary(8, trial, 42)
    before = (trial.magnesium_start - timedelta(days=1), 17)
    too_early = (trial.magnesium_start + timedelta(days=5), 9)
    after = (trial.magnesium_start + timedelta(days=27), 10)
    result = analyse(
        trial, nights, as_of=_last_night(trial, 42), isi_totals=[before, too_early, after]
    )
    change = result.questionnaire
    assert change is not None
    assert (change.first_total, change.last_total, change.change_points) == (17, 10, -7)
    assert change.meaningful  # a drop of 6 or more (Yang 2009)
    only_early = analyse(
        trial, nights, as_of=_last_night(trial, 42), isi_totals=[before, too_early]
    )
    assert only_early.questionnaire is None


def test_an_outcome_that_never_changes_is_no_clear_effect():
    trial = protocol()
    nights = [n.model_copy(update={"quality": 3}) for n in diary(9, trial, 42)]
    result = analyse(trial, nights, as_of=_last_night(trial, 42))
    assert result.outcomes["quality"].verdict is Verdict.no_clear_effect

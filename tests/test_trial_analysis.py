"""The N-of-1 verdict on simulated diaries with a known effect."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from mgsleep.trial.analysis import (
    DIRECTION_CERTAINTY,
    IMPROVED_CERTAINTY,
    Probabilities,
    Verdict,
    analyse,
    verdict_of,
)
from mgsleep.trial.protocol import Design, Phase
from tests.simulate import diary, protocol

SEEDS = range(100)
BETTER = {Verdict.improved, Verdict.possibly_improved}
WORSE = {Verdict.worse, Verdict.possibly_worse}


def _last_night(trial, nights):
    return trial.baseline_start + timedelta(days=nights - 1)


def _analyse(trial, nights_logged, total, **kw):
    return analyse(trial, nights_logged, as_of=_last_night(trial, total), **kw)


def _verdicts(effect_min: float, seeds=SEEDS, **noise: float) -> Counter[Verdict]:
    trial = protocol()
    counts: Counter[Verdict] = Counter()
    for seed in seeds:
        nights = diary(seed, trial, 42, effect_min=effect_min, **noise)
        counts[_analyse(trial, nights, 42).verdict] += 1
    return counts


@pytest.mark.slow  # a hundred simulated trials
def test_a_fifteen_minute_fall_is_found_as_better():
    counts = _verdicts(-15)
    assert sum(counts[v] for v in BETTER) >= 0.80 * len(SEEDS)
    assert not any(counts[v] for v in WORSE)


@pytest.mark.slow  # a hundred simulated trials
def test_a_fall_well_past_the_smallest_change_is_improved():
    # Twice the published smallest change that matters (20 min, AASM 2021).
    counts = _verdicts(-40)
    assert counts[Verdict.improved] >= 0.95 * len(SEEDS)


@pytest.mark.slow  # a hundred simulated trials
def test_a_fall_of_one_and_a_half_times_the_smallest_change_is_mostly_improved():
    counts = _verdicts(-30)
    assert counts[Verdict.improved] >= 0.7 * len(SEEDS)
    assert counts[Verdict.improved] + counts[Verdict.possibly_improved] >= 0.95 * len(SEEDS)


def test_improved_means_a_probable_change_that_matters():
    trial = protocol()
    for seed in range(40):
        nights = diary(seed, trial, 42, effect_min=-12)
        latency = _analyse(trial, nights, 42).outcomes["sleep_latency_min"]
        assert (latency.verdict is Verdict.improved) == (
            latency.prob_meaningful >= IMPROVED_CERTAINTY
        )


def test_a_small_certain_change_is_not_called_improved():
    """The issue's case: an interval wholly below zero but far from 10 min was "improved"."""
    trial = protocol()
    nights = diary(2, trial, 42, effect_min=-6, sd_min=3)
    latency = _analyse(trial, nights, 42).outcomes["sleep_latency_min"]
    assert latency.ci_high < 0
    assert latency.prob_meaningful < IMPROVED_CERTAINTY
    assert latency.verdict is Verdict.possibly_improved


def test_the_verdict_rule_and_its_thresholds():
    def rule(meaningful=0.0, benefit=0.5, harm=0.0):
        return verdict_of(Probabilities(meaningful, benefit, harm, 1 - benefit))

    assert rule(meaningful=IMPROVED_CERTAINTY, benefit=0.99) is Verdict.improved
    assert rule(meaningful=IMPROVED_CERTAINTY - 0.01, benefit=0.99) is Verdict.possibly_improved
    assert rule(benefit=DIRECTION_CERTAINTY) is Verdict.possibly_improved
    assert rule(benefit=DIRECTION_CERTAINTY - 0.01) is Verdict.unclear
    assert rule(benefit=1 - DIRECTION_CERTAINTY) is Verdict.possibly_worse
    assert rule(benefit=0.01, harm=IMPROVED_CERTAINTY) is Verdict.worse


@pytest.mark.slow  # a hundred simulated trials
def test_the_estimate_recovers_the_effect():
    trial = protocol()
    differences, covered = [], 0
    for seed in range(100):
        result = _analyse(trial, diary(seed, trial, 42, effect_min=-15), 42)
        latency = result.outcomes["sleep_latency_min"]
        differences.append(latency.difference)
        covered += latency.ci_low < -15 < latency.ci_high
        assert latency.with_trend is not None  # an A-B design reports the trend check beside it
    assert sum(differences) / len(differences) == pytest.approx(-15, abs=1.5)
    assert covered >= 90


def test_prob_meaningful_follows_the_estimate():
    trial = protocol()
    big = _analyse(trial, diary(2, trial, 42, effect_min=-30), 42)
    none = _analyse(trial, diary(2, trial, 42, effect_min=0), 42)
    assert big.outcomes["sleep_latency_min"].prob_meaningful > 0.9
    assert none.outcomes["sleep_latency_min"].prob_meaningful < 0.5


@pytest.mark.slow  # a hundred simulated trials
def test_no_effect_is_never_improved_and_rarely_better():
    counts = _verdicts(0)
    assert counts[Verdict.improved] <= 0.02 * len(SEEDS)
    assert sum(counts[v] for v in BETTER | WORSE) <= 0.12 * len(SEEDS)


def test_a_worse_series_is_called_worse():
    trial = protocol()
    nights = diary(3, trial, 42, effect_min=25)
    assert _analyse(trial, nights, 42).verdict is Verdict.worse


def test_ten_nights_are_not_enough_and_the_rest_of_the_plan_is_asked_for():
    trial = protocol()
    result = _analyse(trial, diary(1, trial, 10, effect_min=-15), 10)
    assert result.verdict is Verdict.not_enough_data
    assert result.more_nights_needed == 32  # 4 baseline and 28 magnesium nights still to come


def test_sixteen_nights_are_not_enough_either():
    trial = protocol()
    latency = _analyse(trial, diary(1, trial, 16), 16).outcomes["sleep_latency_min"]
    assert latency.verdict is Verdict.not_enough_data
    assert latency.more_nights_needed == 26


def test_one_missed_night_does_not_block_the_verdict():
    trial = protocol()
    for missed in (3, 20, 41):  # a baseline night, a magnesium night, the last night
        nights = diary(4, trial, 42, effect_min=-20)
        del nights[missed]
        latency = _analyse(trial, nights, 42).outcomes["sleep_latency_min"]
        assert latency.verdict is not Verdict.not_enough_data
        assert 0 < latency.precision_cost_pct < 5


def test_a_complete_diary_costs_no_precision():
    trial = protocol()
    latency = _analyse(trial, diary(4, trial, 42), 42).outcomes["sleep_latency_min"]
    assert latency.precision_cost_pct == pytest.approx(0, abs=1e-6)


@pytest.mark.slow  # a hundred simulated trials
def test_ten_percent_missing_rarely_blocks_a_verdict():
    counts = _verdicts(-15, missing=0.10)
    assert counts[Verdict.not_enough_data] <= 0.05 * len(SEEDS)


def test_missing_nights_cost_precision_and_are_counted():
    trial = protocol()
    costs = []
    for share in (0.1, 0.3):
        nights = diary(4, trial, 42, effect_min=-20, missing=share)
        result = _analyse(trial, nights, 42)
        assert result.missing_nights == 42 - len(nights)
        costs.append(result.outcomes["sleep_latency_min"].precision_cost_pct)
    assert 0 < costs[0] < costs[1]


def test_many_missing_nights_ask_for_nights_that_can_still_count():
    trial = protocol()  # open-ended A-B: magnesium nights can still be logged
    every = diary(6, trial, 42)
    # A full baseline, one magnesium night in five: the interval is 25 % wider than complete.
    nights = [n for i, n in enumerate(every) if i < 14 or i % 5 == 0]
    first = _analyse(trial, nights, 42)
    assert first.verdict is Verdict.not_enough_data
    assert first.outcomes["sleep_latency_min"].precision_cost_pct > 15
    more = first.more_nights_needed
    assert 0 < more < 365
    # Log exactly the nights asked for: the verdict arrives.
    extra = [n for n in diary(6, trial, 42 + more) if n.date > _last_night(trial, 42)]
    later = _analyse(trial, nights + extra, 42 + more)
    assert later.verdict is not Verdict.not_enough_data


def test_after_the_last_abab_night_no_more_nights_are_asked_for():
    trial = protocol(baseline_nights=14, design="abab", washout_days=14)
    nights = diary(7, trial, 70, missing=0.4)
    result = _analyse(trial, nights, 80)
    assert result.more_nights_needed == 0
    assert result.verdict is not Verdict.not_enough_data


def test_adherence_and_phase_counts():
    trial = protocol()
    result = _analyse(trial, diary(5, trial, 42), 42)
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
    result = _analyse(trial, diary(6, trial, 70, effect_min=-40), 70)
    assert result.nights_by_phase["washout"] == 14
    assert result.outcomes["sleep_latency_min"].with_trend is None  # the trend is in the model
    assert result.verdict is Verdict.improved


def test_a_seven_night_baseline_is_analysed():
    trial = protocol(baseline_nights=7)
    result = _analyse(trial, diary(8, trial, 35, effect_min=-30), 35)
    assert result.outcomes["sleep_latency_min"].baseline_n == 7
    assert result.verdict in BETTER


def test_protocol_refuses_a_short_baseline():
    with pytest.raises(ValueError, match="at least 7 nights"):
        protocol(baseline_nights=5)


def test_the_isi_change_is_read_before_and_after_two_weeks_of_magnesium():
    trial = protocol()
    nights = diary(8, trial, 42)
    before = (trial.magnesium_start - timedelta(days=1), 17)
    too_early = (trial.magnesium_start + timedelta(days=5), 9)
    after = (trial.magnesium_start + timedelta(days=27), 10)
    result = _analyse(trial, nights, 42, isi_totals=[before, too_early, after])
    change = result.questionnaire
    assert change is not None
    assert (change.first_total, change.last_total, change.change_points) == (17, 10, -7)
    assert change.meaningful  # a drop of 6 or more (Yang 2009)
    assert not change.remission  # 10 is not below 8
    assert not change.response  # a drop of 7, not 8 or more (Morin 2011)
    remitted = _analyse(trial, nights, 42, isi_totals=[before, (after[0], 7)]).questionnaire
    assert remitted is not None
    assert remitted.remission
    assert remitted.response  # a drop of 10
    assert _analyse(trial, nights, 42, isi_totals=[before, too_early]).questionnaire is None


def test_an_outcome_that_never_changes_has_no_information():
    trial = protocol()
    nights = [n.model_copy(update={"quality": 3}) for n in diary(9, trial, 42)]
    result = _analyse(trial, nights, 42)
    assert result.outcomes["quality"].verdict is Verdict.no_information
    assert result.outcomes["quality"].more_nights_needed == 0


def test_a_device_that_always_reports_zero_minutes_has_no_information():
    trial = protocol()
    nights = [n.model_copy(update={"sleep_latency_min": 0}) for n in diary(9, trial, 42)]
    result = _analyse(trial, nights, 42)
    assert result.verdict is Verdict.no_information  # the primary outcome
    assert result.more_nights_needed == 0


def test_posteriors_under_the_stated_priors():
    trial = protocol()
    result = _analyse(trial, diary(10, trial, 42, effect_min=-15), 42)
    latency = result.outcomes["sleep_latency_min"]
    by_prior = {p.prior.key: p for p in latency.posteriors}
    assert set(by_prior) == {"sceptical", "pooled_trials"}
    sceptical, pooled = by_prior["sceptical"], by_prior["pooled_trials"]
    # A sceptical prior pulls the estimate towards no effect; the pooled one towards -17 min.
    assert abs(sceptical.difference) < abs(latency.difference)
    assert sceptical.prob_meaningful < latency.prob_meaningful
    assert pooled.prior.improvement_mean == pytest.approx(17.36)
    assert "mah2021" in pooled.prior.cite
    for p in latency.posteriors:
        assert p.ci_low < p.difference < p.ci_high
        assert 0 <= p.prob_harm <= 1 - p.prob_any_benefit <= 1
    # Outcomes without a pooled estimate get the sceptical prior only.
    efficiency = result.outcomes["sleep_efficiency_pct"]
    assert [p.prior.key for p in efficiency.posteriors] == ["sceptical"]


def test_smallest_changes_say_where_they_come_from():
    from mgsleep.evidence import load_evidence
    from mgsleep.trial.analysis import smallest_change, smallest_change_source

    assert smallest_change_source(["mgsleep_conventions"]) == "mgsleep"
    assert smallest_change_source(["aasm2021"]) == "published"
    ev = load_evidence()
    result = _analyse(protocol(), diary(1, protocol(), 42), 42)
    for name, outcome in result.outcomes.items():
        _, cite = smallest_change(ev, outcome.outcome)
        assert outcome.smallest_change_source == smallest_change_source(cite), name


def test_randomised_pairs_of_seven_nights_are_analysed_with_a_trend():
    trial = protocol(baseline_nights=0, design="pairs", pairs=4, period_nights=7, seed=20260105)
    nights = diary(12, trial, 56, effect_min=-25)
    del nights[30]  # one missed night
    result = _analyse(trial, nights, 56)
    latency = result.outcomes["sleep_latency_min"]
    assert latency.baseline_n + latency.magnesium_n == 55
    assert latency.with_trend is None  # more than one switch: the trend is in the model
    assert result.verdict in BETTER
    assert result.more_nights_needed == 0


def test_too_few_magnesium_nights_after_the_end_ask_for_nothing_that_cannot_count():
    trial = protocol(baseline_nights=14, design="abab", washout_days=14)
    logged = [
        n
        for n in diary(13, trial, 70)
        if trial.phase_of(n.date) is not Phase.magnesium or n.date.day % 9 == 0
    ]
    result = _analyse(trial, logged, 75)
    latency = result.outcomes["sleep_latency_min"]
    assert latency.magnesium_n < 5
    assert latency.verdict is Verdict.not_enough_data
    assert latency.more_nights_needed == 0

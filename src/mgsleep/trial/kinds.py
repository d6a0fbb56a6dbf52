"""The words of a trial (designs, phases, outcomes, verdicts), as plain enums: known to every
shell without loading the models or the statistics."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Design", "Evening", "Outcome", "Phase", "Verdict"]


class Design(StrEnum):
    ab = "ab"  # fixed order: the weakest design, kept for the simplest trials
    abab = "abab"
    pairs = "pairs"  # randomised pairs: each pair of periods in a random order
    abba = "abba"  # randomised pairs, counterbalanced: every second pair mirrors the one before


class Phase(StrEnum):
    baseline = "baseline"
    magnesium = "magnesium"
    washout = "washout"


class Evening(StrEnum):
    """What the protocol asks of one evening: the single answer the home page, the plan and
    the calendar all show, so they cannot disagree."""

    outside = "outside"  # before the trial's first night or after its last
    diary_only = "diary_only"  # a baseline or washout evening: no magnesium, only the diary
    magnesium = "magnesium"
    # A blinded trial: take the dose numbered for this date (magnesium or placebo, sealed).
    sealed_dose = "sealed_dose"


class Outcome(StrEnum):
    sleep_latency_min = "sleep_latency_min"
    total_sleep_min = "total_sleep_min"
    sleep_efficiency_pct = "sleep_efficiency_pct"
    waso_min = "waso_min"
    quality = "quality"


class Verdict(StrEnum):
    """What a trial found for an outcome."""

    improved = "improved"  # a change that matters is probable (see trial.analysis)
    possibly_improved = "possibly_improved"  # better, but perhaps by less than matters
    unclear = "unclear"
    possibly_worse = "possibly_worse"
    worse = "worse"
    not_enough_data = "not_enough_data"
    no_information = "no_information"  # the outcome never varies: choose another
    # Reports made before the verdicts above said this where they now say one of
    # possibly_improved, unclear or possibly_worse; kept so that they still read.
    no_clear_effect = "no_clear_effect"

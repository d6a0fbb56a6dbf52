"""The words of a trial (designs, phases, outcomes, verdicts), as plain enums: known to every
shell without loading the models or the statistics."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Design", "Evening", "Outcome", "Phase", "Verdict"]


class Design(StrEnum):
    ab = "ab"
    abab = "abab"


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


class Outcome(StrEnum):
    sleep_latency_min = "sleep_latency_min"
    total_sleep_min = "total_sleep_min"
    sleep_efficiency_pct = "sleep_efficiency_pct"
    waso_min = "waso_min"
    quality = "quality"


class Verdict(StrEnum):
    """What a trial found for an outcome."""

    improved = "improved"
    no_clear_effect = "no_clear_effect"
    worse = "worse"
    not_enough_data = "not_enough_data"

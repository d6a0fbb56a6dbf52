"""The words of a trial (designs, phases, outcomes, verdicts), as plain enums: known to every
shell without loading the models or the statistics."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Design", "Outcome", "Phase", "Verdict"]


class Design(StrEnum):
    ab = "ab"
    abab = "abab"


class Phase(StrEnum):
    baseline = "baseline"
    magnesium = "magnesium"
    washout = "washout"


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

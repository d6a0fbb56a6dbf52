"""Blinding with a helper: the preparation sheet, and how well the blinding held.

The helper fills identical capsules (or sachets) with magnesium for the magnesium periods and
with a placebo for the control periods, numbered by the evening they are for; the person
takes the one numbered for each evening and, each morning, guesses which it was. Once the
trial has ended the guesses are scored against the allocation: guessing right far more often
than chance means the blinding did not hold (a taste, a laxative effect), and the report
says so beside the verdict.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import jinja2
from babel.dates import format_date
from pydantic import BaseModel, ConfigDict

from mgsleep.diary.night import BlindGuess, NightEntry, one_per_night
from mgsleep.i18n import Lang, format_number
from mgsleep.trial.allocation import short_fingerprint
from mgsleep.trial.labels import form_name
from mgsleep.trial.protocol import Phase, TrialProtocol

__all__ = ["BlindingScore", "BlindingVerdict", "Dose", "blinding_score", "doses"]

# Fewer decided guesses than this say too little to judge the blinding by.
MIN_DECIDED_GUESSES = 10
WILSON_Z = 1.959964  # two-sided 95 %
CHANCE = 0.5


class BlindingVerdict(StrEnum):
    held = "held"  # right about as often as a coin would be
    not_held = "not_held"  # right (or wrong) more often than chance explains
    too_few_guesses = "too_few_guesses"


class BlindingScore(BaseModel):
    """The morning guesses of a blinded trial against what was really taken."""

    model_config = ConfigDict(frozen=True)

    guesses: int  # period nights with any answer, "unsure" included
    correct: int
    wrong: int
    unsure: int
    correct_share: float | None  # of the guesses that named magnesium or placebo
    ci_low: float | None  # Wilson 95 % interval of that share
    ci_high: float | None
    verdict: BlindingVerdict
    # Per arm (baseline = placebo), how often each guess was given.
    by_phase: dict[str, dict[str, int]]


def blinding_score(protocol: TrialProtocol, nights: Sequence[NightEntry]) -> BlindingScore:
    """Score the guesses of the period nights; needs the opened (unsealed) protocol."""
    if protocol.sealed:
        raise ValueError("a sealed trial cannot be scored")
    truth = {Phase.magnesium: BlindGuess.magnesium, Phase.baseline: BlindGuess.placebo}
    by_phase = {phase.value: {guess.value: 0 for guess in BlindGuess} for phase in truth}
    correct = wrong = unsure = 0
    for night in one_per_night(list(nights)):
        phase = protocol.phase_of(night.date)
        if night.blind_guess is None or phase not in truth:
            continue
        by_phase[phase.value][night.blind_guess.value] += 1
        if night.blind_guess is BlindGuess.unsure:
            unsure += 1
        elif night.blind_guess is truth[phase]:
            correct += 1
        else:
            wrong += 1
    decided = correct + wrong
    low, high = wilson_interval(correct, decided) if decided else (None, None)
    verdict = BlindingVerdict.too_few_guesses
    if decided >= MIN_DECIDED_GUESSES and low is not None and high is not None:
        verdict = BlindingVerdict.held if low <= CHANCE <= high else BlindingVerdict.not_held
    return BlindingScore(
        guesses=decided + unsure,
        correct=correct,
        wrong=wrong,
        unsure=unsure,
        correct_share=correct / decided if decided else None,
        ci_low=low,
        ci_high=high,
        verdict=verdict,
        by_phase=by_phase,
    )


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson score interval: sound near 0 and 1 and for a few dozen guesses, where the
    plain normal interval is not."""
    share = successes / trials
    z2 = WILSON_Z**2
    centre = (share + z2 / (2 * trials)) / (1 + z2 / trials)
    half = WILSON_Z * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials**2))
    half /= 1 + z2 / trials
    return max(0.0, centre - half), min(1.0, centre + half)


# --- the preparation sheet --------------------------------------------------------------------


@dataclass(frozen=True)
class Dose:
    """One numbered dose: the evening it is for, and what the helper puts in it."""

    number: int
    evening: date
    pair: int
    magnesium: bool


def doses(protocol: TrialProtocol) -> list[Dose]:
    """Every period evening in date order, numbered from 1 (needs the unsealed protocol)."""
    found: list[Dose] = []
    for period in protocol.periods():
        if period.phase is None:
            raise ValueError("the allocation is sealed")
        for offset in range(period.nights):
            # A night is named by its morning: its dose is taken the evening before.
            evening = period.first_night + timedelta(days=offset - 1)
            found.append(
                Dose(len(found) + 1, evening, period.pair, period.phase is Phase.magnesium)
            )
    return found


def render_helper_sheet(protocol: TrialProtocol, lang: Lang) -> str:
    """The preparation sheet as one printable HTML page."""
    template = _environment(lang).get_template("helper_sheet.html")
    return template.render(_sheet_context(protocol, lang))


def _sheet_context(protocol: TrialProtocol, lang: Lang) -> dict[str, Any]:
    listed = doses(protocol)
    return {
        "lang": lang,
        "protocol": protocol,
        "doses": listed,
        "magnesium_count": sum(1 for d in listed if d.magnesium),
        "placebo_count": sum(1 for d in listed if not d.magnesium),
        "form_name": form_name(protocol.form, lang),
        "dose_mg": None
        if protocol.dose_mg is None
        else format_number(lang, "{:.0f}", protocol.dose_mg),
        "fingerprint": short_fingerprint(protocol.allocation_fingerprint or ""),
        "opens_on": protocol.opens_on(),
    }


@functools.cache
def _environment(lang: Lang) -> jinja2.Environment:
    """The report's environment, with each evening named by its weekday: a helper fills the
    doses evening by evening."""
    from mgsleep.trial.report import template_environment  # the report imports this module

    env = template_environment(lang).overlay()
    env.filters["day"] = lambda value: format_date(value, "EEEE d MMMM y", locale=lang)
    return env

"""Scoring a questionnaire and comparing two scores; pure, with the instrument as data.

An instrument's total is the sum of its item scores and a higher total is more severe (as on
the Insomnia Severity Index). Bands, the remission and case thresholds and the smallest
change that matters all come from the instrument's cited data, never from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from mgsleep.errors import InputError
from mgsleep.evidence.schema import Questionnaire, ScoreBand
from mgsleep.i18n import Text, both

__all__ = ["Change", "Direction", "IsiRecord", "IsiResult", "Score", "change", "score"]


class Score(BaseModel):
    """One completed questionnaire: the total and what the sources say it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    total_points: int
    band: str
    band_label: Text
    remission: bool
    above_case_cutoff: bool  # at or above the cut-off: the source counts the cut-off as a case


class Direction(StrEnum):
    improved = "improved"
    worse = "worse"
    unchanged = "unchanged"


class Change(BaseModel):
    """From an earlier score to a later one; `points` is later minus earlier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    points: int
    meaningful: bool  # the drop reaches the instrument's smallest change that matters
    direction: Direction
    text: Text


def score(q: Questionnaire, answers: list[int]) -> Score:
    """Score one set of answers, one per item in the instrument's order."""
    _check_answers(q, answers)
    total_points = sum(answers)
    band = _band(q, total_points)
    return Score(
        instrument=q.key,
        total_points=total_points,
        band=band.key,
        band_label=band.label,
        remission=total_points < _threshold(q.remission_below.value),
        above_case_cutoff=total_points >= _threshold(q.case_cutoff.value),
    )


def change(q: Questionnaire, earlier: Score, later: Score) -> Change:
    """How the total moved between two scores of the same instrument."""
    _check_instrument(q, earlier, "earlier")
    _check_instrument(q, later, "later")
    points = later.total_points - earlier.total_points
    meaningful = -points >= _threshold(q.meaningful_change.value)
    return Change(
        instrument=q.key,
        points=points,
        meaningful=meaningful,
        direction=_direction(points),
        text=_change_text(q, earlier, later, meaningful),
    )


def _check_answers(q: Questionnaire, answers: list[int]) -> None:
    if len(answers) != len(q.items):
        raise InputError(
            "answers",
            "answer_count",
            value=len(answers),
            hint="answer_values",
            count=len(q.items),
            low=q.item_min,
            high=q.item_max,
        )
    for number, (item, answer) in enumerate(zip(q.items, answers, strict=True), start=1):
        if not q.item_min <= answer <= q.item_max:
            raise InputError(
                f"answers.{number}",
                "answer_range",
                value=answer,
                number=number,
                item=item.key,
                low=q.item_min,
                high=q.item_max,
            )


def _band(q: Questionnaire, total_points: int) -> ScoreBand:
    # The schema guarantees the bands cover every possible total exactly once.
    return next(b for b in q.bands if b.low <= total_points <= b.high)


def _threshold(value: float | None) -> float:
    if value is None:  # the schema refuses an instrument whose thresholds lack a value
        raise AssertionError("a questionnaire threshold has no value")
    return value


def _check_instrument(q: Questionnaire, given: Score, field: str) -> None:
    if given.instrument != q.key:
        raise InputError(
            f"{field}.instrument", "other_questionnaire", value=given.instrument, expected=q.key
        )


def _direction(points: int) -> Direction:
    if points < 0:
        return Direction.improved
    return Direction.worse if points > 0 else Direction.unchanged


def _change_text(q: Questionnaire, earlier: Score, later: Score, meaningful: bool) -> Text:
    values = {
        "name": q.name,
        "earlier": earlier.total_points,
        "later": later.total_points,
        "difference": abs(later.total_points - earlier.total_points),
        "threshold": _threshold(q.meaningful_change.value),
    }
    if meaningful:
        return both(
            "{name}: from {earlier} to {later} points, {difference} lower. A drop of "
            "{threshold:g} points or more is a meaningful improvement.",
            **values,
        )
    if later.total_points < earlier.total_points:
        return both(
            "{name}: from {earlier} to {later} points, {difference} lower. That is less than "
            "the {threshold:g}-point drop that counts as a meaningful improvement.",
            **values,
        )
    if later.total_points > earlier.total_points:
        return both("{name}: from {earlier} to {later} points, {difference} higher.", **values)
    return both("{name}: unchanged at {later} points.", **values)


@dataclass(frozen=True)
class IsiRecord:
    """One stored answer set of the ISI, scored."""

    taken_on: date
    answers: tuple[int, ...]
    score: Score


@dataclass(frozen=True)
class IsiResult:
    """One ISI and how the total moved since the first one (None: it is the first)."""

    record: IsiRecord
    since_first: Change | None

"""The Insomnia Severity Index as data: scoring at every band edge, change, and its guards."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mgsleep.diary.questionnaires import Direction, Score, change, score
from mgsleep.errors import InputError
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.schema import Questionnaire


@pytest.fixture(scope="module")
def isi(ev: Evidence) -> Questionnaire:
    return ev.questionnaire("isi")


def _total(isi: Questionnaire, total_points: int) -> Score:
    """A score with the given total, spread over the items as evenly as possible."""
    per_item, rest = divmod(total_points, len(isi.items))
    answers = [per_item + 1 if i < rest else per_item for i in range(len(isi.items))]
    return score(isi, answers)


# Worked by hand: the sum of the seven answers, and the band Morin 2011 gives that total.
@pytest.mark.parametrize(
    ("answers", "total_points", "band"),
    [
        ([0, 0, 0, 0, 0, 0, 0], 0, "none"),
        ([1, 1, 1, 1, 1, 1, 1], 7, "none"),
        ([2, 1, 1, 1, 1, 1, 1], 8, "subthreshold"),
        ([2, 2, 2, 2, 2, 2, 2], 14, "subthreshold"),
        ([3, 2, 2, 2, 2, 2, 2], 15, "moderate"),
        ([3, 3, 3, 3, 3, 3, 3], 21, "moderate"),
        ([4, 3, 3, 3, 3, 3, 3], 22, "severe"),
        ([4, 4, 4, 4, 4, 4, 4], 28, "severe"),
    ],
)
def test_totals_fall_in_the_right_band(isi, answers, total_points, band):
    result = score(isi, answers)
    assert result.instrument == "isi"
    assert result.total_points == total_points
    assert result.band == band
    assert result.band_label == next(b.label for b in isi.bands if b.key == band)


@pytest.mark.parametrize(
    ("answers", "remission", "case"),
    [
        ([1, 1, 1, 1, 1, 1, 1], True, False),  # 7: below 8 is remission
        ([2, 1, 1, 1, 1, 1, 1], False, False),  # 8
        ([2, 2, 1, 1, 1, 1, 1], False, False),  # 9
        ([2, 2, 2, 1, 1, 1, 1], False, True),  # 10: the cut-off itself counts as a case
    ],
)
def test_remission_and_case_cutoff_edges(isi, answers, remission, case):
    result = score(isi, answers)
    assert result.remission is remission
    assert result.above_case_cutoff is case


@pytest.mark.parametrize("answers", [[], [1] * 6, [1] * 8])
def test_a_wrong_number_of_answers_is_refused(isi, answers):
    with pytest.raises(InputError, match="Give 7 answers") as caught:
        score(isi, answers)
    assert caught.value.field == "answers"
    assert caught.value.code == "answer_count"
    assert caught.value.allowed == "Whole numbers from 0 to 4."


@pytest.mark.parametrize(
    ("answers", "field", "item"),
    [
        ([0, 0, 5, 0, 0, 0, 0], "answers.3", "waking_early"),
        ([-1, 0, 0, 0, 0, 0, 0], "answers.1", "falling_asleep"),
        ([0, 0, 0, 0, 0, 0, 9], "answers.7", "interference"),
    ],
)
def test_an_answer_out_of_range_is_refused_naming_the_item(isi, answers, field, item):
    with pytest.raises(InputError) as caught:
        score(isi, answers)
    assert caught.value.field == field
    assert caught.value.problem.params["item"] == item
    assert "from 0 to 4" in caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def test_a_drop_of_six_is_meaningful(isi):
    result = change(isi, _total(isi, 20), _total(isi, 14))
    assert result.points == -6
    assert result.meaningful
    assert result.direction is Direction.improved
    assert result.text.en == (
        "Insomnia Severity Index (ISI): from 20 to 14 points, 6 lower. "
        "A drop of 6 points or more is a meaningful improvement."
    )
    assert "betekenisvolle verbetering" in result.text.nl


def test_a_drop_of_five_is_not_meaningful(isi):
    result = change(isi, _total(isi, 20), _total(isi, 15))
    assert result.points == -5
    assert not result.meaningful
    assert result.direction is Direction.improved
    assert "less than the 6-point drop" in result.text.en
    assert "van 20 naar 15 punten, 5 lager" in result.text.nl


@pytest.mark.parametrize(
    ("earlier", "later", "direction"),
    [(10, 16, Direction.worse), (12, 12, Direction.unchanged)],
)
def test_a_rise_or_no_change_is_never_meaningful(isi, earlier, later, direction):
    result = change(isi, _total(isi, earlier), _total(isi, later))
    assert result.points == later - earlier
    assert not result.meaningful
    assert result.direction is direction
    assert result.text.nl != result.text.en


def test_a_score_of_another_instrument_is_refused(isi):
    other = _total(isi, 10).model_copy(update={"instrument": "other"})
    with pytest.raises(InputError) as caught:
        change(isi, other, _total(isi, 10))
    assert caught.value.field == "earlier.instrument"


def test_every_item_and_anchor_is_in_both_languages(isi):
    assert len(isi.items) == 7
    for item in isi.items:
        assert item.text.nl.strip()
        assert item.text.en.strip()
        assert item.text.nl != item.text.en
        assert len(item.anchors) == isi.item_max - isi.item_min + 1
        assert all(a.nl.strip() and a.en.strip() for a in item.anchors)
    for band in isi.bands:
        assert band.label.nl != band.label.en


def test_the_data_loads_with_its_sources():
    isi = load_evidence().questionnaire("isi")
    assert (isi.item_min, isi.item_max) == (0, 4)
    assert [(b.low, b.high) for b in isi.bands] == [(0, 7), (8, 14), (15, 21), (22, 28)]
    assert isi.meaningful_change.value == 6
    assert "yang2009" in isi.meaningful_change.cite
    assert isi.remission_below.value == 8
    assert isi.case_cutoff.value == 10
    assert set(isi.cite) == {"morin2011", "yang2009"}


def _isi_data(isi: Questionnaire) -> dict[str, Any]:
    return isi.model_dump(mode="json")


def test_bands_with_a_gap_are_refused(isi):
    data = _isi_data(isi)
    data["bands"][1]["low"] = 9
    with pytest.raises(ValidationError, match="band subthreshold starts at 9, expected 8"):
        Questionnaire.model_validate(data)


def test_overlapping_bands_are_refused(isi):
    data = _isi_data(isi)
    data["bands"][0]["high"] = 8
    with pytest.raises(ValidationError, match="band subthreshold starts at 8, expected 9"):
        Questionnaire.model_validate(data)


def test_bands_that_stop_short_of_the_maximum_are_refused(isi):
    data = _isi_data(isi)
    data["bands"][-1]["high"] = 27
    with pytest.raises(ValidationError, match="the bands end at 27, expected 28"):
        Questionnaire.model_validate(data)


def test_an_item_with_the_wrong_number_of_anchors_is_refused(isi):
    data = _isi_data(isi)
    data["items"][3]["anchors"].pop()
    with pytest.raises(ValidationError, match="item satisfaction has 4 anchors, expected 5"):
        Questionnaire.model_validate(data)

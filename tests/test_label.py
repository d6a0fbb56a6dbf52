from __future__ import annotations

from pathlib import Path

import pytest

from mgsleep.documents import parse_document
from mgsleep.label import Label, analyse_label

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "labels"


def _label(name: str) -> Label:
    return parse_document((EXAMPLES / name).read_text("utf-8"), Label)


def test_buffered_glycinate_example_is_caught():
    report = analyse_label(_label("buffered-glycinate.yaml"))
    # 20% Mg by weight cannot be pure bisglycinate (14.1%): analysed as a blend with oxide.
    assert report.elemental_mg == pytest.approx(200)
    glycinate = report.ingredients[0]
    assert glycinate.key == "bisglycinate_buffered"
    notes = " ".join(n.en for n in glycinate.notes)
    assert "another magnesium source" in notes
    assert "Only 61% of this magnesium comes from" in notes
    assert report.cost_per_100mg_elemental is not None
    vitamin = report.ingredients[1]
    assert vitamin.kind == "other"
    assert vitamin.key is None


def test_hybrid_example_against_evidence_doses():
    report = analyse_label(_label("japanese-hybrid.json"))
    by_key = {item.key: item for item in report.ingredients}
    assert report.elemental_mg == pytest.approx(100)
    assert by_key["gaba"].share_of_evidence_dose == pytest.approx(100 / 300)
    assert by_key["l_theanine"].share_of_evidence_dose == pytest.approx(1.0)
    assert report.glycine_mg == pytest.approx(1000)
    assert {"gaba_a", "melatonin_synthesis", "thermoregulation"} <= set(report.pathways)
    # oxide's measured range is 4-22.8 %, so 100 mg gives 4-22.8 mg absorbed
    assert report.absorbed_mg_low == pytest.approx(4)
    assert report.absorbed_mg_high == pytest.approx(22.8)
    per_serving = 29.5 / 30
    assert report.cost_per_100mg_absorbed_low == pytest.approx(per_serving / 22.8 * 100)


def test_over_the_upper_limit_is_said():
    label = Label.model_validate(
        {
            "name": "Strong",
            "ingredients": [{"name": "citrate", "amount_mg": 400, "basis": "elemental"}],
        }
    )
    report = analyse_label(label)
    assert report.upper_limit_share_eu == pytest.approx(1.6)
    assert any("above the EU upper limit" in n.en for n in report.notes)
    assert any("above the US upper limit" in n.en for n in report.notes)
    assert report.absorption_complete is False
    assert report.absorbed_mg_low == 0


def test_stated_elemental_of_a_pure_label_raises_no_alarm():
    label = Label.model_validate(
        {
            "name": "Pure",
            "ingredients": [
                {
                    "name": "bisglycinate",
                    "amount_mg": 1419,
                    "basis": "compound",
                    "elemental_mg": 200,
                }
            ],
        }
    )
    assert analyse_label(label).ingredients[0].notes == []

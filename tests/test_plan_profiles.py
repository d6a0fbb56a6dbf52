"""Named profiles with the verdict and the plan lines each must get (a table, not a story)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from mgsleep.plan import Plan, make_plan
from mgsleep.profile import Profile
from mgsleep.schedule import Timeline, evening

NIGHT = date(2026, 1, 14)

BASE: dict[str, Any] = {
    "age": 40,
    "sex": "female",
    "complaints": ["falling_asleep"],
    "digestion": "normal",
    "bedtime": "22:30",
    "region": "eu",
}


@dataclass(frozen=True)
class Case:
    profile: dict[str, Any]
    verdict: str
    form: str | None = None
    codes: set[str] = field(default_factory=set)
    elemental_mg: float | None = None
    companions: set[str] | None = None
    not_companions: set[str] = field(default_factory=set)
    glycine_topup: bool | None = None
    conflict: bool = False
    magnesium_at: str | None = None


def med(name: str, *times: str) -> dict[str, Any]:
    return {"name": name, "times": list(times)}


CASES: dict[str, Case] = {
    "healthy adult, onset insomnia": Case(
        {}, "go", "bisglycinate", elemental_mg=200, glycine_topup=True, magnesium_at="21:30"
    ),
    "staying asleep only: no glycine top-up": Case(
        {"complaints": ["staying_asleep"]}, "go", "bisglycinate", glycine_topup=False
    ),
    "elderly on a PPI": Case(
        {"age": 72, "medicines": [med("omeprazol", "08:00")]},
        "go",
        "bisglycinate",
        codes={"interaction.proton_pump_inhibitors"},
    ),
    "chronic kidney disease": Case({"kidney_disease": True}, "stop", codes={"condition.ckd"}),
    "eGFR 25 without a CKD flag": Case({"egfr": 25}, "stop", codes={"condition.ckd"}),
    "kidney function unknown": Case(
        {"kidney_disease": "unknown"}, "caution", "bisglycinate", codes={"condition.ckd_unknown"}
    ),
    "heart block": Case({"heart_block": True}, "stop", codes={"condition.heart_block"}),
    "bradycardia": Case({"bradycardia": True}, "stop", codes={"condition.bradycardia"}),
    "myasthenia gravis": Case(
        {"myasthenia_gravis": True}, "stop", codes={"condition.myasthenia_gravis"}
    ),
    "pregnancy": Case(
        {"pregnant": True},
        "caution",
        "bisglycinate",
        codes={"condition.pregnancy"},
        elemental_mg=200,
    ),
    "breastfeeding": Case({"breastfeeding": True}, "caution", codes={"condition.lactation"}),
    "ciprofloxacin twice daily": Case(
        {"medicines": [med("ciprofloxacine", "08:00", "20:00")]},
        "caution",
        "bisglycinate",
        codes={"interaction.fluoroquinolones"},
        magnesium_at="22:00",
    ),
    "ciprofloxacin at 21:00": Case(
        {"medicines": [med("ciprofloxacin", "21:00")]},
        "caution",
        codes={"interaction.fluoroquinolones"},
        conflict=True,
    ),
    "alendronate mornings": Case(
        {"medicines": [med("alendroninezuur", "07:00")]},
        "caution",
        codes={"interaction.bisphosphonates"},
        magnesium_at="21:30",
    ),
    "levothyroxine mornings": Case(
        {"medicines": [med("levothyroxine", "07:00")]},
        "caution",
        codes={"interaction.thyroid_hormones"},
        magnesium_at="21:30",
    ),
    "doxycycline in the evening": Case(
        {"bedtime": "23:00", "medicines": [med("doxycycline", "21:00")]},
        "caution",
        codes={"interaction.tetracyclines"},
        conflict=True,
    ),
    "furosemide": Case(
        {"medicines": [med("furosemide", "08:00")]},
        "go",
        codes={"interaction.loop_thiazide_diuretics"},
    ),
    "hydrochlorothiazide in Dutch": Case(
        {"medicines": [med("hydrochloorthiazide")]},
        "go",
        codes={"interaction.loop_thiazide_diuretics"},
    ),
    "spironolactone": Case(
        {"medicines": [med("spironolacton")]},
        "caution",
        codes={"interaction.potassium_sparing_diuretics"},
    ),
    "temazepam": Case(
        {"medicines": [med("temazepam", "22:00")]}, "caution", codes={"interaction.sedatives"}
    ),
    "zolpidem": Case({"medicines": [med("zolpidem")]}, "caution", codes={"interaction.sedatives"}),
    "gabapentin just before bed": Case(
        {"medicines": [med("gabapentine", "22:15")]},
        "caution",
        codes={"interaction.gabapentinoids"},
        magnesium_at="19:45",
    ),
    "an unknown medicine": Case(
        {"medicines": [med("paracetamol")]},
        "caution",
        "bisglycinate",
        codes={"medicine.not_recognised"},
    ),
    "loose stools": Case({"digestion": "loose_stools"}, "go", "bisglycinate"),
    "constipation": Case({"digestion": "constipation"}, "go", "citrate", glycine_topup=True),
    "low budget": Case({"budget": "low"}, "go", "oxide", elemental_mg=200),
    "low budget with a sensitive gut": Case(
        {"budget": "low", "digestion": "sensitive"}, "go", "bisglycinate"
    ),
    "anxiety, multi-pathway": Case(
        {"approach": "multi_pathway", "symptoms": ["anxiety"]},
        "go",
        "bisglycinate",
        companions={"l_theanine", "gaba"},
        not_companions={"l_tryptophan", "melatonin"},
    ),
    "multi-pathway with an SSRI": Case(
        {
            "approach": "multi_pathway",
            "complaints": ["falling_asleep", "staying_asleep"],
            "medicines": [med("sertraline", "09:00")],
        },
        "go",
        companions={"l_theanine", "gaba"},
        not_companions={"l_tryptophan"},
    ),
    "multi-pathway for night waking": Case(
        {"approach": "multi_pathway", "complaints": ["staying_asleep"]},
        "go",
        companions={"l_theanine", "gaba", "l_tryptophan"},
    ),
    "bedtime 01:00": Case({"bedtime": "01:00"}, "go", "bisglycinate", magnesium_at="00:00"),
    "United States": Case({"region": "us"}, "go", "bisglycinate", elemental_mg=200),
    "already 300 mg magnesium": Case(
        {"supplements": [{"name": "magnesium citrate", "dose_mg": 300}]},
        "caution",
        codes={"intake.above_upper_limit", "plan.no_room_for_magnesium"},
    ),
    "already 100 mg magnesium": Case(
        {"supplements": [{"name": "magnesiumcitraat", "dose_mg": 100}]},
        "go",
        "bisglycinate",
        elemental_mg=150,
    ),
    "a child of seven": Case({"age": 7}, "stop", codes={"age.child"}),
    "a teenager": Case({"age": 15}, "caution", codes={"age.teenager"}),
    "tryptophan with an MAOI": Case(
        {
            "medicines": [med("moclobemide", "08:00")],
            "supplements": [{"name": "L-tryptofaan", "dose_mg": 500}],
        },
        "stop",
        codes={"companion.l_tryptophan"},
    ),
    "capsules of 100 mg": Case(
        {"product_elemental_mg_per_unit": 100}, "go", "bisglycinate", elemental_mg=200
    ),
    "magnesium as a laxative": Case(
        {"medicines": [med("magnesiumoxide")]}, "caution", codes={"medicine.contains_magnesium"}
    ),
}


def _run(case: Case) -> tuple[Plan, Timeline]:
    profile = Profile.model_validate({**BASE, **case.profile})
    plan = make_plan(profile, start=NIGHT)
    return plan, evening(plan, night=NIGHT)


@pytest.mark.parametrize("name", CASES)
def test_named_profile(name):
    case = CASES[name]
    plan, timeline = _run(case)
    codes = {f.code for f in plan.findings}
    assert plan.verdict.value == case.verdict, codes
    assert case.codes <= codes
    if case.form is not None:
        assert plan.form == case.form
    if case.elemental_mg is not None:
        assert plan.elemental_mg == pytest.approx(case.elemental_mg)
    if case.verdict == "stop":
        assert plan.elemental_mg is None
        assert plan.doctor_questions
        assert not timeline.has_intake()
    if case.companions is not None:
        assert {c.key for c in plan.companions} == case.companions
    assert not case.not_companions & {c.key for c in plan.companions}
    if case.glycine_topup is not None:
        assert (plan.glycine_topup_mg is not None) == case.glycine_topup
    assert bool(timeline.conflicts) == case.conflict
    magnesium = [e for e in timeline.entries if e.kind == "magnesium"]
    if case.conflict:
        assert magnesium == []
    if case.magnesium_at is not None:
        assert [e.start.strftime("%H:%M") for e in magnesium] == [case.magnesium_at]


def test_there_are_at_least_thirty_named_profiles():
    assert len(CASES) >= 30


def test_glycine_topup_reaches_the_trial_dose():
    plan, _ = _run(CASES["healthy adult, onset insomnia"])
    assert plan.glycine_mg_total == pytest.approx(3000)
    assert plan.glycine_topup_mg == pytest.approx(3000 - 1235, abs=1)


def test_low_budget_oxide_says_the_trial_dose_was_above_the_limit():
    plan, _ = _run(CASES["low budget"])
    assert plan.dose is not None
    assert any(
        "ul_exceeded_in_trials" in str(r.text.en) or "abbasi2012" in r.citations
        for r in plan.dose.reasons
    )


def test_context_always_names_cbt_i_and_the_modest_effect():
    plan, _ = _run(CASES["chronic kidney disease"])
    text = " ".join(r.text.en for r in plan.context)
    assert "CBT-I" in text or "cognitive behavioural therapy" in text.lower()

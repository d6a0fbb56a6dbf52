"""Named profiles with the verdict and the plan lines each must get (a table, not a story)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
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
    paused: bool = False
    no_dose: bool = False


def med(name: str, *times: str) -> dict[str, Any]:
    return {"name": name, "times": list(times)}


CASES: dict[str, Case] = {
    "healthy adult, onset insomnia": Case(
        {}, "go", "bisglycinate", elemental_mg=200, glycine_topup=True, magnesium_at="21:30"
    ),
    "staying asleep only: no glycine top-up": Case(
        {"complaints": ["staying_asleep"]}, "go", "bisglycinate", glycine_topup=False
    ),
    "elderly on a PPI, kidneys fine": Case(
        {"age": 72, "kidney_disease": False, "medicines": [med("omeprazol", "08:00")]},
        "go",
        "bisglycinate",
        codes={"interaction.proton_pump_inhibitors"},
    ),
    "elderly, kidney function not stated": Case(
        {"age": 72}, "caution", "bisglycinate", codes={"condition.ckd_unknown"}
    ),
    "chronic kidney disease of unknown stage": Case(
        {"kidney_disease": True}, "stop", codes={"condition.ckd_stage_unknown"}
    ),
    "chronic kidney disease with eGFR 45": Case(
        {"kidney_disease": True, "egfr": 45},
        "caution",
        "bisglycinate",
        codes={"condition.ckd_moderate"},
    ),
    "eGFR 45 typed without a CKD flag": Case(
        {"egfr": 45}, "caution", "bisglycinate", codes={"condition.ckd_moderate"}
    ),
    "CKD with eGFR 75": Case(
        {"kidney_disease": True, "egfr": 75}, "caution", codes={"condition.ckd_known"}
    ),
    "haemodialysis typed as free text": Case(
        {"other_conditions": ["hemodialyse 3x per week"]}, "stop", codes={"condition.ckd"}
    ),
    "heart failure typed in Dutch": Case(
        {"other_conditions": ["hartfalen"]},
        "caution",
        codes={"condition.heart_failure", "condition.ckd_unknown"},
    ),
    "an unknown condition is named": Case(
        {"other_conditions": ["ziekte van Fabry-Xyz"]},
        "caution",
        codes={"condition.not_recognised"},
    ),
    "a condition with nothing against magnesium": Case(
        {"other_conditions": ["hoge bloeddruk"]}, "go", "bisglycinate"
    ),
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
    "ciprofloxacin at 21:00: magnesium moves to the afternoon": Case(
        {"medicines": [med("ciprofloxacin", "21:00")]},
        "caution",
        codes={"interaction.fluoroquinolones"},
        magnesium_at="14:30",
    ),
    "ciprofloxacin by its Dutch brand at 21:00": Case(
        {"medicines": [med("Ciproxin 500 mg", "21:00")]},
        "caution",
        codes={"interaction.fluoroquinolones"},
        magnesium_at="14:30",
    ),
    "an antibiotic course pauses magnesium until it ends": Case(
        {"medicines": [{**med("doxycycline", "08:00", "20:00"), "course_end": "2026-01-20"}]},
        "caution",
        codes={"interaction.tetracyclines"},
        paused=True,
    ),
    "moxifloxacin keeps its own 4 h / 8 h": Case(
        {"medicines": [med("Avelox", "09:00")]},
        "caution",
        codes={"interaction.fluoroquinolones"},
        magnesium_at="21:30",
    ),
    "an HIV medicine at 22:00": Case(
        {"medicines": [med("Tivicay", "22:00")]},
        "caution",
        codes={"interaction.integrase_inhibitors"},
        magnesium_at="15:30",
    ),
    "Triumeq is dolutegravir": Case(
        {"medicines": [med("Triumeq", "09:00")]},
        "caution",
        codes={"interaction.integrase_inhibitors"},
        magnesium_at="21:30",
    ),
    "raltegravir: no timing makes it safe": Case(
        {"medicines": [med("Isentress 400 mg", "08:00", "20:00")]},
        "stop",
        codes={"interaction.raltegravir"},
    ),
    "eltrombopag": Case(
        {"medicines": [med("Revolade", "08:00")]}, "caution", codes={"interaction.eltrombopag"}
    ),
    "cisplatin: a doctor guides magnesium": Case(
        {"medicines": [med("cisplatine")]}, "stop", codes={"interaction.magnesium_wasting"}
    ),
    "iron tablets": Case(
        {"medicines": [med("ferrofumaraat 200 mg", "20:00")]},
        "caution",
        codes={"interaction.magnesium_binding"},
        magnesium_at="15:30",
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
        magnesium_at="17:30",
    ),
    "furosemide, kidneys fine": Case(
        {"kidney_disease": False, "medicines": [med("furosemide", "08:00")]},
        "go",
        codes={"interaction.loop_thiazide_diuretics"},
    ),
    "furosemide, kidney function not stated": Case(
        {"medicines": [med("Lasix", "08:00")]},
        "caution",
        codes={"interaction.loop_thiazide_diuretics", "condition.ckd_unknown"},
    ),
    "hydrochlorothiazide in Dutch": Case(
        {"kidney_disease": False, "medicines": [med("hydrochloorthiazide")]},
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
        codes={"interaction.gabapentin"},
        magnesium_at="19:45",
    ),
    "pregabalin has no gut interaction": Case(
        {"medicines": [med("Lyrica", "22:00")]}, "go", magnesium_at="21:30"
    ),
    "an unknown medicine at 22:00": Case(
        {"bedtime": "23:00", "medicines": [med("Zyxorin", "22:00")]},
        "caution",
        "bisglycinate",
        codes={"medicine.not_recognised"},
        magnesium_at="17:30",
    ),
    "a common medicine with no interaction": Case(
        {"medicines": [med("paracetamol 500 mg", "08:00")]}, "go", "bisglycinate"
    ),
    "a typo is read as the nearest name, with the wide gap": Case(
        {"medicines": [med("Ciproflaxacine", "21:00")]},
        "caution",
        codes={"medicine.read_as", "medicine.not_recognised", "interaction.fluoroquinolones"},
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
    "multi-pathway for night waking: tryptophan is not proposed": Case(
        {"approach": "multi_pathway", "complaints": ["staying_asleep"]},
        "go",
        companions={"l_theanine", "gaba"},
        not_companions={"l_tryptophan"},
    ),
    "multi-pathway with a sleeping pill": Case(
        {"approach": "multi_pathway", "medicines": [med("temazepam", "22:00")]},
        "caution",
        companions=set(),
    ),
    "pregnant, multi-pathway: no add-ons": Case(
        {"pregnant": True, "approach": "multi_pathway"},
        "caution",
        companions=set(),
        glycine_topup=False,
    ),
    "pregnancy typed as free text": Case(
        {"other_conditions": ["zwanger"], "approach": "multi_pathway"},
        "caution",
        codes={"condition.pregnancy"},
        companions=set(),
        glycine_topup=False,
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
    "a nine-year-old is a child, not a teenager": Case({"age": 9}, "stop", codes={"age.child"}),
    "a teenager: no add-ons": Case(
        {"age": 15, "approach": "multi_pathway"},
        "caution",
        codes={"age.teenager"},
        companions=set(),
        glycine_topup=False,
    ),
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
    "magnesium as a laxative: no supplement on top": Case(
        {"medicines": [med("magnesiumoxide 500 mg", "08:00")]},
        "caution",
        codes={"medicine.is_magnesium"},
        no_dose=True,
    ),
    "milk of magnesia": Case(
        {"medicines": [med("Milk of Magnesia")]},
        "caution",
        codes={"medicine.is_magnesium"},
        no_dose=True,
    ),
    "an antacid with magnesium, amount unknown": Case(
        {"medicines": [med("Rennie")]},
        "caution",
        codes={"medicine.contains_magnesium"},
        no_dose=True,
    ),
    "an antacid with magnesium, amount given": Case(
        {"medicines": [{"name": "Rennie", "magnesium_mg": 60}]},
        "go",
        "bisglycinate",
        elemental_mg=190,
    ),
    "a multivitamin, amount unknown": Case(
        {"supplements": [{"name": "Centrum Advance 50+"}]},
        "caution",
        codes={"medicine.contains_magnesium"},
        no_dose=True,
    ),
    "a multivitamin with 100 mg magnesium": Case(
        {"supplements": [{"name": "multivitamine", "magnesium_mg": 100}]},
        "go",
        elemental_mg=150,
    ),
    "a 'magnesium complex' of 300 mg": Case(
        {"supplements": [{"name": "Magnesium complex", "dose_mg": 300}]},
        "caution",
        codes={"intake.above_upper_limit", "plan.no_room_for_magnesium"},
        no_dose=True,
    ),
    "melatonin with fluvoxamine": Case(
        {
            "medicines": [med("Fevarin", "08:00")],
            "supplements": [{"name": "melatonine"}],
        },
        "stop",
        codes={"companion.melatonin"},
    ),
    "5-HTP with an SSRI": Case(
        {
            "medicines": [med("sertraline", "08:00")],
            "supplements": [{"name": "5-HTP"}],
        },
        "caution",
        codes={"companion.five_htp"},
    ),
    "St John's wort with an MAO-B inhibitor": Case(
        {"medicines": [med("Azilect")], "supplements": [{"name": "sint-janskruid"}]},
        "stop",
        codes={"companion.st_johns_wort"},
    ),
    "glycine with clozapine: no top-up": Case(
        {"medicines": [med("Leponex", "20:00")]}, "go", glycine_topup=False
    ),
    "chronic insomnia points to CBT-I": Case(
        {"insomnia_months": 14}, "go", codes={"insomnia.chronic"}
    ),
    "muscle cramps": Case({"symptoms": ["muscle_cramps"]}, "go", codes={"symptom.muscle_cramps"}),
    "restless legs": Case({"symptoms": ["restless_legs"]}, "go", codes={"symptom.restless_legs"}),
    "a diet that already meets the intake": Case(
        {"dietary_magnesium_mg": 420}, "go", codes={"intake.diet_enough"}
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
    if case.verdict == "stop" or case.no_dose:
        assert plan.elemental_mg is None
        assert not timeline.has_intake() or not [
            e for e in timeline.entries if e.kind == "magnesium"
        ]
    if case.paused:
        assert plan.paused_until is not None
        assert plan.start_date == plan.paused_until + timedelta(days=1)
        assert not [e for e in timeline.entries if e.kind == "magnesium"]
    if case.verdict == "stop":
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
    plan, _ = _run(CASES["chronic kidney disease of unknown stage"])
    text = " ".join(r.text.en for r in plan.context)
    assert "CBT-I" in text or "cognitive behavioural therapy" in text.lower()


def test_two_equally_close_names_both_apply():
    """'orazepam' is one letter from lorazepam and from oxazepam: both are taken, and said."""
    profile = Profile.model_validate({**BASE, "medicines": [med("orazepam", "22:00")]})
    plan = make_plan(profile, start=NIGHT)
    [read_as] = [f for f in plan.findings if f.code == "medicine.read_as"]
    assert set(read_as.read_as) == {"lorazepam", "oxazepam"}
    substances = {f.substance for f in plan.findings if f.code == "interaction.sedatives"}
    assert substances == {"lorazepam", "oxazepam"}


def test_no_message_asks_to_move_a_prescribed_medicine():
    times = ["06:00", "10:00", "14:00", "18:00", "22:00"]
    for name in ("Ciproxin", "Euthyrox", "Tivicay", "Zyxorin"):
        profile = Profile.model_validate({**BASE, "medicines": [med(name, *times)]})
        plan = make_plan(profile, start=NIGHT)
        timeline = evening(plan, night=NIGHT)
        texts = [c.message.en for c in timeline.conflicts] + [n.en for n in timeline.notes]
        texts += [f.management.en for f in plan.findings]
        assert not any("at another time" in t or "move your" in t.lower() for t in texts), name

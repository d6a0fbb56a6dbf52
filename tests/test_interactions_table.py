"""Per interacting substance, from the data: its rule holds whatever the person types.

For every substance an interaction names (by class or by name), every oral brand, a typo, and
the name with a strength after it are read as that substance, and a plan with a dose at a hard
time (just before bed, twice a day, after midnight) keeps magnesium outside its window.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mgsleep.evidence import load_evidence
from mgsleep.evidence.schema import Medicine, Separation, Severity
from mgsleep.plan import make_plan
from mgsleep.profile import Profile
from mgsleep.recognition import recognise
from mgsleep.safety import interactions_for
from mgsleep.schedule import evening

EV = load_evidence()
NIGHT = date(2026, 10, 24)  # the night before the autumn clock change
ZONE = ZoneInfo("Europe/Amsterdam")


def _interacting() -> list[tuple[Medicine, str, Separation | None, Severity]]:
    return [
        (medicine, interaction.key, interaction.separation_for(medicine.key), interaction.severity)
        for medicine in EV.medicines
        for interaction in interactions_for(medicine, EV)
    ]


ROWS = _interacting()
TIMED = [row for row in ROWS if row[2] is not None and row[3] is not Severity.stop]
HARD_TIMES = {
    "just before bed": ("22:30", ["22:15"]),
    "twice a day": ("22:30", ["08:00", "20:00"]),
    "after midnight": ("00:30", ["00:15"]),
}


def _typo(name: str) -> str:
    """One letter dropped from the middle: what a hurried person types."""
    middle = len(name) // 2
    return name[:middle] + name[middle + 1 :]


def _names(medicine: Medicine) -> list[str]:
    oral_brands = [b.name for b in medicine.brands if b.oral]
    return [medicine.names[0], *oral_brands]


def test_every_interaction_names_something_that_exists():
    for interaction in EV.interactions:
        members = [m for m in EV.medicines if interaction in interactions_for(m, EV)]
        assert members, interaction.key


@pytest.mark.parametrize(
    ("medicine", "interaction"),
    [(row[0], row[1]) for row in ROWS],
    ids=[f"{row[1]}-{row[0].key}" for row in ROWS],
)
def test_every_name_and_brand_is_read_as_the_substance(medicine, interaction):
    for name in _names(medicine):
        for typed in (name, f"{name} 500 mg tablet"):
            keys = recognise(typed, EV).keys("medicine")
            assert medicine.key in keys, typed


# A name shorter than this is too short for a one-letter typo to be safe to read as it.
MIN_TYPO_NAME_LENGTH = 7
LONG_NAMED = [row for row in ROWS if len(row[0].names[0].replace(" ", "")) >= MIN_TYPO_NAME_LENGTH]


@pytest.mark.parametrize(
    "medicine", [row[0] for row in LONG_NAMED], ids=[f"{row[1]}-{row[0].key}" for row in LONG_NAMED]
)
def test_a_typo_is_read_as_the_substance_and_reported(medicine):
    name = medicine.names[0]
    typed = _typo(name)
    recognition = recognise(typed, EV)
    assert medicine.key in recognition.keys("medicine"), typed
    if typed.casefold() not in {n.casefold() for n in medicine.names}:
        profile = Profile(age=40, sex="female", medicines=[{"name": typed, "times": ["08:00"]}])
        plan = make_plan(profile, EV, start=NIGHT)
        assert any(f.code == "medicine.read_as" and f.subject == typed for f in plan.findings)


def _kept_apart(start: datetime, end: datetime, dose: datetime, separation: Separation) -> bool:
    before = timedelta(hours=separation.medicine_before_mg_h or 0)
    after = timedelta(hours=separation.medicine_after_mg_h or 0)
    return start >= dose + before or dose >= end + after


@pytest.mark.parametrize("hard", HARD_TIMES, ids=list(HARD_TIMES))
@pytest.mark.parametrize(
    ("medicine", "separation"),
    [(row[0], row[2]) for row in TIMED],
    ids=[f"{row[1]}-{row[0].key}" for row in TIMED],
)
def test_magnesium_keeps_its_distance_at_a_hard_time(medicine, separation, hard):
    bedtime, times = HARD_TIMES[hard]
    profile = Profile(
        age=40,
        sex="male",
        kidney_disease=False,
        bedtime=bedtime,
        medicines=[{"name": medicine.names[0], "times": times}],
    )
    plan = make_plan(profile, EV, start=NIGHT)
    timeline = evening(plan, night=NIGHT, ev=EV)
    doses = [
        datetime.combine(
            NIGHT + timedelta(days=offset), time.fromisoformat(t), tzinfo=ZONE
        ).astimezone(UTC)
        for offset in (-1, 0, 1, 2)
        for t in times
    ]
    magnesium = [e for e in timeline.entries if e.kind == "magnesium"]
    if plan.dose is not None and not magnesium:
        assert timeline.conflicts or plan.paused_until is not None
    for entry in magnesium:
        start, end = entry.start.astimezone(UTC), entry.end.astimezone(UTC)
        assert all(_kept_apart(start, end, dose, separation) for dose in doses), medicine.key
        # The medicine stays where the person takes it: magnesium moves, never the medicine.
        shown = {e.start.strftime("%H:%M") for e in timeline.entries if e.kind == "medicine"}
        assert set(times) <= shown


def test_moxifloxacin_has_its_own_label_timing_within_the_class():
    moxi = EV.medicine("moxifloxacin")
    cipro = EV.medicine("ciprofloxacin")
    [rule] = [i for i in interactions_for(moxi, EV) if i.key == "fluoroquinolones"]
    assert rule.separation_for(moxi.key).medicine_after_mg_h == 8
    assert rule.separation_for(cipro.key).medicine_after_mg_h == 6


def test_raltegravir_is_a_stop_without_a_timing():
    profile = Profile(age=40, sex="male", medicines=[{"name": "Isentress", "times": ["08:00"]}])
    plan = make_plan(profile, EV, start=NIGHT)
    assert plan.verdict.value == "stop"
    assert [f.code for f in plan.findings if f.substance == "raltegravir"] == [
        "interaction.raltegravir"
    ]


@pytest.mark.parametrize(
    ("typed", "substances"),
    [
        ("Triumeq", {"dolutegravir", "abacavir", "lamivudine"}),
        ("Biktarvy", {"bictegravir", "emtricitabine", "tenofovir"}),
        ("Co-Diovan 160/12,5", {"valsartan", "hydrochlorothiazide"}),
        ("Fosavance", {"alendronic_acid", "colecalciferol"}),
        ("Zaldiar", {"tramadol", "paracetamol"}),
        ("amlodipine/valsartan", {"amlodipine", "valsartan"}),
    ],
)
def test_a_combination_product_brings_every_substance(typed, substances):
    profile = Profile(age=40, sex="male", medicines=[{"name": typed, "times": ["08:00"]}])
    plan = make_plan(profile, EV, start=NIGHT)
    from mgsleep.safety import everything_taken

    [line] = everything_taken(profile, EV)
    assert {s.key for s in line.substances} >= substances
    codes = {f.code for f in plan.findings}
    for key in substances:
        for interaction in interactions_for(EV.medicine(key), EV):
            assert f"interaction.{interaction.key}" in codes


def test_every_medicine_class_with_a_rule_has_a_named_profile_test():
    """A rule per class: the classes interactions name each have members with brands."""
    classes = {c for i in EV.interactions for c in i.medicine_classes}
    for key in classes:
        members = [m for m in EV.medicines if key in m.classes]
        assert members, key
        assert any(m.brands for m in members), f"no brand name for any {key} medicine"

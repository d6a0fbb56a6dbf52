"""The profile questionnaire's steps, their questions' options and the messages beside them."""

from __future__ import annotations

from dataclasses import dataclass

from mgsleep.profile import (
    Approach,
    Budget,
    Complaint,
    Digestion,
    Preparation,
    Sex,
    Symptom,
)
from mgsleep.web.pages.common import N_


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    fields: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step(1, N_("About you"), ("age", "sex", "pregnant", "breastfeeding")),
    Step(
        2,
        N_("Your health"),
        (
            "kidney_disease",
            "egfr",
            "heart_block",
            "bradycardia",
            "myasthenia_gravis",
            "other_conditions",
        ),
    ),
    Step(3, N_("Medicines"), ("medicines",)),
    Step(4, N_("Supplements"), ("supplements",)),
    Step(5, N_("Your sleep"), ("complaints", "symptoms", "bedtime", "insomnia_months")),
    Step(
        6,
        N_("Digestion and preferences"),
        (
            "digestion",
            "approach",
            "budget",
            "preparation",
            "product_elemental_mg_per_unit",
            "bath",
            "region",
            "timezone",
        ),
    ),
)


LAST_STEP = STEPS[-1].number


# Required fields borrowed while one step is checked on its own, before step 1 is answered.
PLACEHOLDER = {"age": 30, "sex": Sex.other.value}


BLANK_ROWS = 2


BOOLEAN_FIELDS = {"pregnant", "breastfeeding", "heart_block", "bradycardia", "myasthenia_gravis"}


OPTIONAL_NUMBERS = {"egfr", "insomnia_months", "product_elemental_mg_per_unit"}


SEX_OPTIONS = ((Sex.female, N_("Female")), (Sex.male, N_("Male")), (Sex.other, N_("Other")))


KIDNEY_OPTIONS = (("yes", N_("Yes")), ("no", N_("No")), ("unknown", N_("I don't know")))


COMPLAINT_OPTIONS = (
    (Complaint.falling_asleep, N_("Falling asleep")),
    (Complaint.staying_asleep, N_("Staying asleep: waking in the night")),
    (Complaint.early_waking, N_("Waking too early")),
    (Complaint.unrefreshing, N_("Waking up unrefreshed")),
)


SYMPTOM_OPTIONS = (
    (Symptom.racing_thoughts, N_("Racing thoughts")),
    (Symptom.anxiety, N_("Anxiety")),
    (Symptom.stress, N_("Stress")),
    (Symptom.muscle_cramps, N_("Muscle cramps")),
    (Symptom.muscle_tension, N_("Muscle tension")),
    (Symptom.restless_legs, N_("Restless legs")),
)


DIGESTION_OPTIONS = (
    (Digestion.normal, N_("Normal")),
    (Digestion.sensitive, N_("Sensitive stomach or gut")),
    (Digestion.loose_stools, N_("Loose stools")),
    (Digestion.constipation, N_("Constipation")),
)


APPROACH_OPTIONS = (
    (Approach.simple, N_("Simple: magnesium, with glycine where it helps")),
    (Approach.multi_pathway, N_("Several routes: magnesium with companions such as L-theanine")),
)


BUDGET_OPTIONS = (
    (Budget.low, N_("Low: as cheap as possible")),
    (Budget.medium, N_("Medium")),
    (Budget.high, N_("High: price matters little")),
)


PREPARATION_OPTIONS = (
    (Preparation.either, N_("Either is fine")),
    (Preparation.capsules, N_("Capsules or tablets")),
    (Preparation.powder, N_("Powder")),
)


REGION_OPTIONS = (
    ("eu", N_("Europe: the EFSA upper limit")),
    ("us", N_("United States: the US upper limit")),
)


CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "sex": SEX_OPTIONS,
    "kidney_disease": KIDNEY_OPTIONS,
    "digestion": DIGESTION_OPTIONS,
    "approach": APPROACH_OPTIONS,
    "budget": BUDGET_OPTIONS,
    "preparation": PREPARATION_OPTIONS,
    "region": REGION_OPTIONS,
}


MULTI_CHOICES = {"complaints": COMPLAINT_OPTIONS, "symptoms": SYMPTOM_OPTIONS}


COMMON_TIMEZONES = (
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
)


FIELD_ERRORS = {
    "age": N_("Give your age in whole years, from 1 to 120."),
    "sex": N_("Choose one of the answers."),
    "pregnant": N_("Pregnant does not go with sex male; check both answers."),
    "kidney_disease": N_("Choose yes, no or I don't know."),
    "egfr": N_("Give eGFR as a number above 0 and at most 200, or leave it empty."),
    "medicine": N_(
        "Check this medicine: a name, times as HH:MM such as 08:00 20:00, a last day as a "
        "date, and magnesium as mg a day."
    ),
    "other_conditions": N_("Give at most 30 conditions, each in at most 200 characters."),
    "supplement": N_("Check this supplement: a name, and for magnesium the mg a day, more than 0."),
    "bedtime": N_("Give a time as HH:MM, such as 22:30."),
    "insomnia_months": N_("Give a number of months from 0 to 1200, or leave it empty."),
    "product_elemental_mg_per_unit": N_(
        "Give the mg of magnesium per capsule or scoop, above 0 and at most 1000, or leave it "
        "empty."
    ),
    "timezone": N_("Give a time zone such as Europe/Amsterdam."),
}


DEFAULT_ERROR = N_("Check this answer.")


def step_of(value: str | None, fallback: int = 1) -> Step:
    try:
        number = int(value) if value is not None else fallback
    except ValueError:
        number = fallback
    return STEPS[min(max(number, 1), LAST_STEP) - 1]

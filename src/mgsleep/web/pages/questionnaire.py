"""The profile questionnaire's steps, options and the reading of its answers."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from mgsleep.clock import DEFAULT_TIMEZONE, parse_clock
from mgsleep.i18n import Lang, format_number
from mgsleep.profile import (
    Approach,
    Budget,
    Complaint,
    Digestion,
    Preparation,
    Profile,
    Sex,
    Symptom,
)
from mgsleep.service.profile import StoredAnswers
from mgsleep.web.pages.common import N_, NBSP


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


ROW_ID = re.compile(r"[a-z0-9]{1,16}")


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


def _step(value: str | None, fallback: int = 1) -> Step:
    try:
        number = int(value) if value is not None else fallback
    except ValueError:
        number = fallback
    return STEPS[min(max(number, 1), LAST_STEP) - 1]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _texts(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def _rows(form: FormData, kind: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """A repeating group sent as `kind.column.id`, in the order the rows were sent."""
    rows: dict[str, dict[str, str]] = {}
    for name, value in form.multi_items():
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != kind or parts[1] not in columns:
            continue
        if not ROW_ID.fullmatch(parts[2]) or not isinstance(value, str):
            continue
        row = rows.setdefault(parts[2], {"id": parts[2], **dict.fromkeys(columns, "")})
        row[parts[1]] = value.strip()
    return list(rows.values())


def _number(text: str) -> float | None:
    """'72,5' and '72.5' -> 72.5; '1.500' and '1,500' -> 1500; empty -> None; else ValueError.

    Grouped thousands are read as thousands in either language: a Dutch "1.000 mg" of
    magnesium taken already must not count as 1 mg against the upper limit.
    """
    cleaned = text.strip().replace(" ", "").replace(NBSP, "")
    if not cleaned:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", cleaned):
        cleaned = cleaned.replace(".", "")
    elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    value = float(cleaned.replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _clock(text: str) -> str:
    """'22:30', '22.30', '7:05' or '22:30:00' -> 'HH:MM'; anything else -> ValueError."""
    cleaned = text.strip().replace(".", ":")
    if re.fullmatch(r"\d{1,2}:\d{2}:\d{2}", cleaned):
        cleaned = cleaned.rsplit(":", 1)[0]
    return parse_clock(cleaned).strftime("%H:%M")


def _clocks(text: str) -> list[str]:
    return [_clock(token) for token in re.split(r"[,;\s]+", text.strip()) if token]


def _shown_number(value: object, lang: Lang) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return format_number(lang, "{0:g}", value)


def _shown_clock(value: object) -> str:
    try:
        return _clock(str(value))
    except ValueError:
        return ""


def _listed(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _answers_from_profile(data: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """What the form shows for a stored (maybe partial) profile; sensible defaults elsewhere."""
    kidney = data.get("kidney_disease", "")
    medicines = [m for m in _listed(data.get("medicines")) if isinstance(m, dict)]
    supplements = [s for s in _listed(data.get("supplements")) if isinstance(s, dict)]
    answers: dict[str, Any] = {
        "age": _shown_number(data.get("age"), lang),
        "sex": str(data.get("sex", "")),
        "kidney_disease": (
            "yes" if kidney is True else "no" if kidney is False else str(kidney or "")
        ),
        "medicines": [
            {
                "id": str(index),
                "name": str(m.get("name", "")),
                "times": " ".join(_shown_clock(t) for t in _listed(m.get("times"))),
                "until": str(m.get("course_end") or ""),
                "magnesium": _shown_number(m.get("magnesium_mg"), lang),
            }
            for index, m in enumerate(medicines)
        ],
        "supplements": [
            {
                "id": str(index),
                "name": str(s.get("name", "")),
                "dose": _shown_number(s.get("dose_mg"), lang),
                "magnesium": _shown_number(s.get("magnesium_mg"), lang),
            }
            for index, s in enumerate(supplements)
        ],
        "other_conditions": "\n".join(str(c) for c in _listed(data.get("other_conditions"))),
        "complaints": [str(c) for c in _listed(data.get("complaints"))],
        "symptoms": [str(s) for s in _listed(data.get("symptoms"))],
        "bedtime": _shown_clock(data.get("bedtime", "22:30")),
        "digestion": str(data.get("digestion", Digestion.normal.value)),
        "approach": str(data.get("approach", Approach.simple.value)),
        "budget": str(data.get("budget", Budget.medium.value)),
        "preparation": str(data.get("preparation", Preparation.either.value)),
        "region": str(data.get("region", "eu")),
        "timezone": str(data.get("timezone", DEFAULT_TIMEZONE)),
        "bath": bool(data.get("bath", False)),
    }
    for field in BOOLEAN_FIELDS:
        answers[field] = bool(data.get(field, False))
    for field in OPTIONAL_NUMBERS:
        answers[field] = _shown_number(data.get(field), lang)
    return answers


def _answers_from_form(form: FormData, step: Step, answers: dict[str, Any]) -> dict[str, Any]:
    """The submitted answers of one step over the stored ones, as typed (for showing again)."""
    merged = dict(answers)
    for field in step.fields:
        if field in BOOLEAN_FIELDS or field == "bath":
            merged[field] = _text(form, field) == "yes"
        elif field in MULTI_CHOICES:
            merged[field] = _texts(form, field)
        elif field == "medicines":
            merged[field] = _rows(form, "medicine", ("name", "times", "until", "magnesium"))
        elif field == "supplements":
            merged[field] = _rows(form, "supplement", ("name", "dose", "magnesium"))
        else:
            merged[field] = _text(form, field)
    return merged


class StepValues:
    """One step's answers turned into profile values, with an error per field or row."""

    def __init__(self, gettext: Callable[[str], str]) -> None:
        self._ = gettext
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        # Row position in the profile list -> the row's id in the form, for error placement.
        self.row_ids: dict[str, list[str]] = {"medicines": [], "supplements": []}

    def fail(self, key: str) -> None:
        self.errors.setdefault(key, self._(FIELD_ERRORS.get(key.split(".")[0], DEFAULT_ERROR)))

    def read(self, step: Step, answers: dict[str, Any]) -> StepValues:
        for field in step.fields:
            self._read_field(field, answers[field])
        return self

    def _read_field(self, field: str, answer: Any) -> None:
        if field in BOOLEAN_FIELDS or field == "bath":
            self.values[field] = bool(answer)
        elif field == "age":
            self._age(answer)
        elif field == "kidney_disease":
            kidney = {"yes": True, "no": False, "unknown": "unknown"}
            if answer in kidney:
                self.values[field] = kidney[answer]
            else:
                self.fail(field)
        elif field in CHOICES:
            if answer in {value for value, _label in CHOICES[field]}:
                self.values[field] = answer
            else:
                self.fail(field)
        elif field in MULTI_CHOICES:
            allowed = {value for value, _label in MULTI_CHOICES[field]}
            self.values[field] = [value for value in answer if value in allowed]
        elif field in OPTIONAL_NUMBERS:
            try:
                self.values[field] = _number(answer)
            except ValueError:
                self.fail(field)
        elif field == "bedtime":
            try:
                self.values[field] = _clock(answer)
            except ValueError:
                self.fail(field)
        elif field == "medicines":
            self._medicines(answer)
        elif field == "supplements":
            self._supplements(answer)
        elif field == "other_conditions":
            self.values[field] = _conditions(answer)
        else:
            self.values[field] = answer

    def _age(self, answer: str) -> None:
        try:
            number = _number(answer)
        except ValueError:
            number = None
        if number is None or not number.is_integer():
            self.fail("age")
        else:
            self.values["age"] = int(number)

    def _medicines(self, rows: list[dict[str, str]]) -> None:
        entries = []
        for row in rows:
            if not any(row[column] for column in ("name", "times", "until", "magnesium")):
                continue
            entry = _medicine_row(row)
            if entry is None:
                self.fail(f"medicine.{row['id']}")
                continue
            entries.append(entry)
            self.row_ids["medicines"].append(row["id"])
        self.values["medicines"] = entries

    def _supplements(self, rows: list[dict[str, str]]) -> None:
        entries = []
        for row in rows:
            if not any(row[column] for column in ("name", "dose", "magnesium")):
                continue
            try:
                entry = {"name": row["name"], "dose_mg": _number(row["dose"])}
                magnesium = _number(row["magnesium"])
            except ValueError:
                entry, magnesium = {}, None
            if not row["name"] or not entry:
                self.fail(f"supplement.{row['id']}")
                continue
            if magnesium is not None:
                entry["magnesium_mg"] = magnesium
            entries.append(entry)
            self.row_ids["supplements"].append(row["id"])
        self.values["supplements"] = entries


def _medicine_row(row: dict[str, str]) -> dict[str, Any] | None:
    """A medicine row as the profile takes it; None when a column cannot be read."""
    try:
        times = _clocks(row["times"])
        magnesium = _number(row["magnesium"])
        until = _day(row["until"])
    except ValueError:
        return None
    if not row["name"]:
        return None
    entry: dict[str, Any] = {"name": row["name"], "times": times}
    if magnesium is not None:
        entry["magnesium_mg"] = magnesium
    if until is not None:
        entry["course_end"] = until
    return entry


def _day(text: str) -> str | None:
    """'2026-12-05' (a date field) or '5-12-2026' (typed by hand) -> ISO; empty -> None."""
    cleaned = text.strip()
    if not cleaned:
        return None
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", cleaned)
    if match:
        day, month, year = (int(g) for g in match.groups())
        cleaned = f"{year:04d}-{month:02d}-{day:02d}"
    return date.fromisoformat(cleaned).isoformat()


def _conditions(text: str) -> list[str]:
    """One condition per line (or separated by ';'), as typed."""
    return [part.strip() for part in re.split(r"[\n;]+", text) if part.strip()]


def _error_key(problem: ErrorDetails, row_ids: dict[str, list[str]]) -> str:
    """Where a Profile validation problem is shown: a field, or one row of a list."""
    location = problem["loc"]
    if not location:
        return "pregnant"  # the one whole-profile rule: pregnant with sex male
    field = str(location[0])
    ids = row_ids.get(field, [])
    if len(location) > 1 and isinstance(location[1], int) and location[1] < len(ids):
        return f"{field.removesuffix('s')}.{ids[location[1]]}"
    return field


def _owner_step(key: str) -> int | None:
    field = key.split(".")[0]
    field = {"medicine": "medicines", "supplement": "supplements"}.get(field, field)
    return next((step.number for step in STEPS if field in step.fields), None)


def _check(step: Step, stored: dict[str, Any], parsed: StepValues) -> None:
    """Validate this step's values in a whole profile; keep only the problems it owns."""
    candidate = {**PLACEHOLDER, **stored, **parsed.values}
    try:
        Profile.model_validate(candidate)
    except ValidationError as error:
        for problem in error.errors():
            key = _error_key(problem, parsed.row_ids)
            if _owner_step(key) == step.number:
                parsed.fail(key)


def steps_done(stored: StoredAnswers | None) -> set[int]:
    """The steps answered; a profile stored whole (the API, an older version) has all."""
    if stored is None:
        return set()
    if stored.steps_done is None:
        return {step.number for step in STEPS}
    return set(stored.steps_done)


def _whole_profile_errors(data: dict[str, Any]) -> list[int]:
    """Steps holding a problem when the merged answers are validated as one profile."""
    try:
        Profile.model_validate(data)
    except ValidationError as error:
        owners = {_owner_step(_error_key(p, {})) for p in error.errors()}
        return sorted(n for n in owners if n is not None)
    return []

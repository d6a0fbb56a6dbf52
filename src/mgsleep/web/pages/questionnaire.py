"""The profile questionnaire: a stored profile shown as answers, a step's answers read back."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from mgsleep.clock import DEFAULT_TIMEZONE
from mgsleep.i18n import Lang, format_number
from mgsleep.profile import (
    Approach,
    Budget,
    Digestion,
    Preparation,
    Profile,
)
from mgsleep.service.profile import StoredAnswers
from mgsleep.web.pages.form_fields import (
    form_rows,
    form_text,
    form_texts,
    typed_clock,
    typed_clocks,
    typed_number,
)
from mgsleep.web.pages.questionnaire_steps import (
    BOOLEAN_FIELDS,
    CHOICES,
    DEFAULT_ERROR,
    FIELD_ERRORS,
    MULTI_CHOICES,
    OPTIONAL_NUMBERS,
    PLACEHOLDER,
    STEPS,
    Step,
)


def _shown_number(value: object, lang: Lang) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return format_number(lang, "{0:g}", value)


def _shown_clock(value: object) -> str:
    try:
        return typed_clock(str(value))
    except ValueError:
        return ""


def _listed(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def answers_from_profile(data: dict[str, Any], lang: Lang) -> dict[str, Any]:
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


def answers_from_form(form: FormData, step: Step, answers: dict[str, Any]) -> dict[str, Any]:
    """The submitted answers of one step over the stored ones, as typed (for showing again)."""
    merged = dict(answers)
    for field in step.fields:
        if field in BOOLEAN_FIELDS or field == "bath":
            merged[field] = form_text(form, field) == "yes"
        elif field in MULTI_CHOICES:
            merged[field] = form_texts(form, field)
        elif field == "medicines":
            merged[field] = form_rows(form, "medicine", ("name", "times", "until", "magnesium"))
        elif field == "supplements":
            merged[field] = form_rows(form, "supplement", ("name", "dose", "magnesium"))
        else:
            merged[field] = form_text(form, field)
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
                self.values[field] = typed_number(answer)
            except ValueError:
                self.fail(field)
        elif field == "bedtime":
            try:
                self.values[field] = typed_clock(answer)
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
            number = typed_number(answer)
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
                entry = {"name": row["name"], "dose_mg": typed_number(row["dose"])}
                magnesium = typed_number(row["magnesium"])
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
        times = typed_clocks(row["times"])
        magnesium = typed_number(row["magnesium"])
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


def check_step(step: Step, stored: dict[str, Any], parsed: StepValues) -> None:
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


def whole_profile_errors(data: dict[str, Any]) -> list[int]:
    """Steps holding a problem when the merged answers are validated as one profile."""
    try:
        Profile.model_validate(data)
    except ValidationError as error:
        owners = {_owner_step(_error_key(p, {})) for p in error.errors()}
        return sorted(n for n in owners if n is not None)
    return []

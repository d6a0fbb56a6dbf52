"""Pages: the profile questionnaire, the plan, the label analyser and the evidence browser.

Each page turns form fields into the core's inputs and the core's results into HTML. Doses,
verdicts and findings come from `make_plan`, `evening`, `analyse_label` and the evidence
lookups; nothing here decides them.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from mgsleep import chemistry
from mgsleep.clock import DEFAULT_TIMEZONE, parse_clock
from mgsleep.documents import parse_document
from mgsleep.dose import form_facts
from mgsleep.errors import InputError
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.lookup import (
    corrections_for,
    find_form,
    references_for,
    resolve_topic,
    topics,
)
from mgsleep.evidence.schema import Reference
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.label import Label, LabelReport, analyse_label
from mgsleep.plan import Plan, make_plan
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
from mgsleep.schedule import Timeline, evening, to_ical
from mgsleep.store.repo import Account, get_profile, save_profile
from mgsleep.web.deps import CurrentUser, LocaleDep, OptionalUser, SessionDep
from mgsleep.web.pages import FormCsrf, render

router = APIRouter()


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


async def read_form(request: Request) -> FormData:
    """The submitted form, parsed once (the CSRF check has usually read it already)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


# --- shared formatting -----------------------------------------------------------------------


# Keeps a figure and its unit on one line in narrow table cells.
NBSP = "\u00a0"


def _formatters(lang: Lang) -> dict[str, Any]:
    """Number and date helpers for templates, in the reader's language."""

    def mg(value: float | None, spec: str = ".0f") -> str:
        return (
            "—" if value is None else format_number(lang, "{0:" + spec + "}", value) + NBSP + "mg"
        )

    def pct(value: float | None, spec: str = ".0%") -> str:
        return "—" if value is None else format_number(lang, "{0:" + spec + "}", value)

    def span(low: float, high: float | None, spec: str = ".0f", unit: str = "mg") -> str:
        """'40–47 mg', or '47 mg' where both ends round to the same figure."""
        ends = [format_number(lang, "{0:" + spec + "}", v) for v in (low, high or low)]
        return (ends[0] if ends[0] == ends[1] else "–".join(ends)) + NBSP + unit

    def day(value: date) -> str:
        return format_date(value, format="long", locale=lang)

    def clock(value: datetime | time) -> str:
        return value.strftime("%H:%M")

    return {"mg": mg, "pct": pct, "span": span, "day": day, "clock": clock}


def _references(keys: Iterable[str], ev: Evidence) -> list[Reference]:
    known = {r.key: r for r in ev.references}
    return [known[key] for key in sorted(set(keys)) if key in known]


OUTCOME_LABELS = {
    "sleep_latency_min": N_("Time to fall asleep"),
    "total_sleep_min": N_("Total sleep"),
    "quality": N_("Sleep quality"),
    "side_effects": N_("Side effects"),
}


# --- the profile questionnaire ---------------------------------------------------------------


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
# Kept inside the stored profile while steps are unanswered; it is removed once every step is
# answered, so only a finished profile validates as a Profile (extra keys are refused).
PROGRESS_KEY = "_steps_done"
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


def _without_progress(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != PROGRESS_KEY}


def _steps_done(stored: dict[str, Any] | None) -> set[int]:
    if not stored:
        return set()
    if PROGRESS_KEY not in stored:
        return {step.number for step in STEPS}
    return {n for n in _listed(stored[PROGRESS_KEY]) if isinstance(n, int)}


def _owner_step(key: str) -> int | None:
    field = key.split(".")[0]
    field = {"medicine": "medicines", "supplement": "supplements"}.get(field, field)
    return next((step.number for step in STEPS if field in step.fields), None)


def _check(step: Step, stored: dict[str, Any], parsed: StepValues) -> None:
    """Validate this step's values in a whole profile; keep only the problems it owns."""
    candidate = {**PLACEHOLDER, **_without_progress(stored), **parsed.values}
    try:
        Profile.model_validate(candidate)
    except ValidationError as error:
        for problem in error.errors():
            key = _error_key(problem, parsed.row_ids)
            if _owner_step(key) == step.number:
                parsed.fail(key)


def _whole_profile_errors(data: dict[str, Any]) -> list[int]:
    """Steps holding a problem when the merged answers are validated as one profile."""
    try:
        Profile.model_validate(data)
    except ValidationError as error:
        owners = {_owner_step(_error_key(p, {})) for p in error.errors()}
        return sorted(n for n in owners if n is not None)
    return []


def _profile_page(
    request: Request,
    lang: Lang,
    user: Account,
    step: Step,
    answers: dict[str, Any],
    done: set[int],
    *,
    errors: dict[str, str] | None = None,
    unanswered: list[Step] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    answers = dict(answers)
    for kind in ("medicines", "supplements"):
        filled = [row for row in answers[kind] if any(v for k, v in row.items() if k != "id")]
        answers[kind] = [*filled, *({"id": secrets.token_hex(4)} for _ in range(BLANK_ROWS))]
    return render(
        request,
        "profile.html",
        lang,
        user,
        status_code=status_code,
        step=step,
        steps=STEPS,
        done=done,
        answers=answers,
        errors=errors or {},
        unanswered=unanswered or [],
        choices=CHOICES,
        multi_choices=MULTI_CHOICES,
        timezones=COMMON_TIMEZONES,
    )


@router.get("/profile", response_class=HTMLResponse)
def profile_page(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    step: str | None = None,
) -> Response:
    stored = get_profile(session, user.id) or {}
    done = _steps_done(stored)
    first_open = next((s.number for s in STEPS if s.number not in done), 1)
    current = _step(step, first_open)
    return _profile_page(request, lang, user, current, _answers_from_profile(stored, lang), done)


@router.post("/profile", dependencies=[FormCsrf])
def profile_submit(
    request: Request,
    lang: LocaleDep,
    user: CurrentUser,
    session: SessionDep,
    form: FormDep,
    step: str | None = None,
) -> Response:
    """Check one step, save the answers so far, and go on (to the plan after the last)."""
    gettext = translations(lang).gettext
    stored = get_profile(session, user.id) or {}
    current = _step(step)
    done = _steps_done(stored)
    answers = _answers_from_form(form, current, _answers_from_profile(stored, lang))
    parsed = StepValues(gettext).read(current, answers)
    if not parsed.errors:
        _check(current, stored, parsed)
    if parsed.errors:
        return _profile_page(
            request, lang, user, current, answers, done, errors=parsed.errors, status_code=422
        )
    merged = {**_without_progress(stored), **parsed.values}
    done = done | {current.number}
    broken = _whole_profile_errors(merged) if len(done) == len(STEPS) else []
    unanswered = [s for s in STEPS if s.number not in done or s.number in broken]
    progress = {PROGRESS_KEY: sorted(done - set(broken))} if unanswered else {}
    save_profile(session, user.id, {**merged, **progress})
    if form.get("action") == "more":
        return RedirectResponse(f"/profile?step={current.number}", status_code=303)
    if current.number < LAST_STEP:
        return RedirectResponse(f"/profile?step={current.number + 1}", status_code=303)
    if unanswered:
        return _profile_page(
            request, lang, user, current, answers, done, unanswered=unanswered, status_code=422
        )
    return RedirectResponse("/plan", status_code=303)


@router.get("/profile/row/{kind}", response_class=HTMLResponse)
def profile_row(request: Request, lang: LocaleDep, user: OptionalUser, kind: str) -> Response:
    """One more empty medicine or supplement row (htmx; without it the form adds rows)."""
    if kind not in {"medicine", "supplement"}:
        return Response(status_code=404)
    row = {"id": secrets.token_hex(4)}
    return render(request, "_profile_row.html", lang, user, kind=kind, row=row, errors={})


# --- the plan ----------------------------------------------------------------------------------


def _stored_profile(session: Session, owner_id: int) -> tuple[Profile | None, int]:
    """The finished profile, or None with the step to continue at."""
    stored = get_profile(session, owner_id)
    if not stored:
        return None, 1
    done = _steps_done(stored)
    if len(done) < len(STEPS):
        return None, next(s.number for s in STEPS if s.number not in done)
    try:
        return Profile.model_validate(stored), 1
    except ValidationError:
        return None, 1


def _today(profile: Profile) -> date:
    return datetime.now(ZoneInfo(profile.timezone)).date()


def _plan_and_evening(profile: Profile) -> tuple[Plan, Timeline]:
    today = _today(profile)
    plan = make_plan(profile, start=today)
    return plan, evening(plan, night=today)


def _plan_context(lang: Lang, profile: Profile, *, printable: bool = False) -> dict[str, Any]:
    ev = load_evidence()
    plan, timeline = _plan_and_evening(profile)
    cited = {*plan.citations, *(c for e in timeline.entries for c in e.citations)}
    cited |= {c for conflict in timeline.conflicts for c in conflict.citations}
    return {
        "plan": plan,
        "timeline": timeline,
        "profile": profile,
        "ev": ev,
        "sources": _references(cited, ev),
        "outcome_labels": OUTCOME_LABELS,
        "today": _today(profile),
        "printable": printable,
        **_formatters(lang),
    }


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep
) -> Response:
    profile, next_step = _stored_profile(session, user.id)
    if profile is None:
        return render(request, "plan.html", lang, user, plan=None, next_step=next_step)
    return render(request, "plan.html", lang, user, **_plan_context(lang, profile))


@router.get("/plan/print", response_class=HTMLResponse)
def plan_print(
    request: Request, lang: LocaleDep, user: CurrentUser, session: SessionDep
) -> Response:
    profile, _next_step = _stored_profile(session, user.id)
    if profile is None:
        return RedirectResponse("/plan", status_code=303)
    context = _plan_context(lang, profile, printable=True)
    return render(request, "plan_print.html", lang, user, **context)


@router.get("/plan.ics")
def plan_calendar(lang: LocaleDep, user: CurrentUser, session: SessionDep) -> Response:
    """The evening as a daily calendar for the trial's length; none while a stop finding holds."""
    profile, _next_step = _stored_profile(session, user.id)
    if profile is None:
        return RedirectResponse("/plan", status_code=303)
    plan, _tonight = _plan_and_evening(profile)
    if plan.expectations is None:
        return RedirectResponse("/plan", status_code=303)
    timeline = evening(plan, night=plan.start_date or plan.expectations.start_date)
    body = to_ical(timeline, lang, days=plan.expectations.evaluate_after_weeks * 7)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-evening.ics"'},
    )


# --- the label analyser ------------------------------------------------------------------------

MAX_LABEL_BYTES = 100_000
LABEL_ROW_COLUMNS = ("name", "amount", "basis", "elemental", "other")
LABEL_EXAMPLE = """name: Magnesium bisglycinate 200
serving: 2 capsules
servings_per_container: 60
price: 19.95
currency: EUR
ingredients:
  - name: magnesium bisglycinate
    amount_mg: 1420
    basis: compound
  - name: L-theanine
    amount_mg: 100
"""
# What the core says about an ingredient row (English, for the CLI) -> a sentence for people.
LABEL_ROW_REASONS = {
    "unknown ingredient": N_(
        "mgsleep does not know this ingredient. Check the spelling, or tick “neither magnesium "
        "nor a sleep companion”."
    ),
    "say whether amount_mg": N_(
        "Say whether the amount is magnesium itself (elemental) or the whole compound."
    ),
    "elemental_mg goes with": N_(
        "The magnesium figure beside the amount only goes with an amount of the whole compound."
    ),
}


def _label_page(
    request: Request,
    lang: Lang,
    user: Account | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ev = load_evidence()
    names = sorted({f.name.get(lang) for f in ev.forms} | {c.name.get(lang) for c in ev.companions})
    report: LabelReport | None = context.get("report")
    defaults: dict[str, Any] = {
        "rows": [{"id": str(i)} for i in range(3)],
        "product": {"currency": "EUR"},
        "errors": {},
        "upload_error": None,
        "uploaded": None,
        "report": None,
    }
    return render(
        request,
        "label.html",
        lang,
        user,
        status_code=status_code,
        ev=ev,
        ingredient_names=names,
        example=LABEL_EXAMPLE,
        **_formatters(lang),
        **{**defaults, **context},
        sources=_references(report.citations if report else [], ev),
    )


@router.get("/label", response_class=HTMLResponse)
def label_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return _label_page(request, lang, user)


@router.get("/label/row", response_class=HTMLResponse)
def label_row(request: Request, lang: LocaleDep, user: OptionalUser, n: int = 0) -> Response:
    """One more empty ingredient row (htmx; without it the form adds rows itself)."""
    row = {"id": secrets.token_hex(4)}
    return render(request, "_plan_label_row.html", lang, user, row=row, number=n, errors={})


@router.post("/label", dependencies=[FormCsrf])
def label_submit(request: Request, lang: LocaleDep, user: OptionalUser, form: FormDep) -> Response:
    """A typed label, or an uploaded YAML/JSON file, analysed by the core."""
    if "document" in form:
        return _label_upload(request, lang, user, form.get("document"))
    rows = _rows(form, "ingredient", LABEL_ROW_COLUMNS)
    product = {k: _text(form, k) for k in ("name", "serving", "servings", "price", "currency")}
    if form.get("action") == "add_row":
        rows.append({"id": secrets.token_hex(4)})
        return _label_page(request, lang, user, rows=rows, product=product)
    data, errors, row_ids = _typed_label(product, rows, lang)
    report = None
    if not errors:
        try:
            report = analyse_label(Label.model_validate(data))
        except ValidationError as error:
            errors = _label_errors(error, row_ids, lang)
        except InputError as error:
            errors = {"label": _input_error_text(error, lang)}
    return _label_page(
        request,
        lang,
        user,
        status_code=422 if errors else 200,
        rows=rows,
        product=product,
        errors=errors,
        report=report,
    )


def _typed_label(
    product: dict[str, str], rows: list[dict[str, str]], lang: Lang
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The typed fields as a Label document; numbers that are not numbers are errors here."""
    _ = translations(lang).gettext
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"name": product["name"], "currency": product["currency"] or "EUR"}
    if product["serving"]:
        data["serving"] = product["serving"]
    try:
        servings = _number(product["servings"])
        price = _number(product["price"])
    except ValueError:
        errors["product"] = _("Give servings as a whole number and the price as a number.")
    else:
        if servings is not None:
            data["servings_per_container"] = int(servings) if servings.is_integer() else servings
        if price is not None:
            data["price"] = price
    ingredients, row_ids = [], []
    for row in rows:
        if not any(row.get(c) for c in ("name", "amount", "elemental")):
            continue
        try:
            amount = _number(row["amount"])
            elemental = _number(row["elemental"])
        except ValueError:
            errors[f"ingredient.{row['id']}"] = _("Give amounts in mg as numbers, such as 1420.")
            continue
        entry: dict[str, Any] = {"name": row["name"], "amount_mg": amount}
        entry["other"] = bool(row["other"])
        if row["basis"] in {"elemental", "compound"}:
            entry["basis"] = row["basis"]
        if elemental is not None:
            entry["elemental_mg"] = elemental
        ingredients.append(entry)
        row_ids.append(row["id"])
    data["ingredients"] = ingredients
    return data, errors, row_ids


def _label_errors(error: ValidationError, row_ids: list[str], lang: Lang) -> dict[str, str]:
    _ = translations(lang).gettext
    errors: dict[str, str] = {}
    for problem in error.errors():
        location = problem["loc"]
        field = str(location[0]) if location else "label"
        if field == "ingredients" and len(location) > 1 and isinstance(location[1], int):
            key = f"ingredient.{row_ids[location[1]]}"
            errors.setdefault(key, _ingredient_reason(problem, lang))
        elif field == "ingredients":
            errors.setdefault("ingredients", _("Add at least one ingredient."))
        elif field == "name":
            errors.setdefault("name", _("Give the product a name."))
        else:
            errors.setdefault("product", _("Check the servings, price and currency."))
    return errors


def _ingredient_reason(problem: ErrorDetails, lang: Lang) -> str:
    _ = translations(lang).gettext
    column = str(problem["loc"][2]) if len(problem["loc"]) > 2 else ""
    if column == "name":
        return _("Give the ingredient's name.")
    if column in {"amount_mg", "elemental_mg"}:
        return format_number(
            lang,
            _("Give amounts in mg, more than 0 and at most {limit:g}."),
            limit=chemistry.COMPOUND_MG_RANGE[1],
        )
    reason = str(problem["msg"]).removeprefix("Value error, ")
    for start, message in LABEL_ROW_REASONS.items():
        if reason.startswith(start):
            close = re.search(r"did you mean ([^?]+)\?", reason)
            hint = " " + _("Did you mean {names}?").format(names=close.group(1)) if close else ""
            return _(message) + hint
    return reason


def _input_error_text(error: InputError, lang: Lang) -> str:
    """A core error for people: where it is (line, field) and the reason as the core gives it."""
    _ = translations(lang).gettext
    where = _("Line {line}").format(line=error.line) + ", " if error.line is not None else ""
    allowed = f" ({error.allowed})" if error.allowed else ""
    return f"{where}{error.field}: {error.reason}{allowed}"


def _label_upload(
    request: Request, lang: Lang, user: Account | None, upload: UploadFile | str | None
) -> HTMLResponse:
    _ = translations(lang).gettext

    def failed(message: str) -> HTMLResponse:
        return _label_page(request, lang, user, status_code=422, upload_error=message)

    if not isinstance(upload, UploadFile) or not upload.filename:
        return failed(_("Choose a file first."))
    raw = upload.file.read(MAX_LABEL_BYTES + 1)
    if len(raw) > MAX_LABEL_BYTES:
        return failed(_("The file is larger than 100 kB; a label is much smaller."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return failed(_("The file is not UTF-8 text. Save it as YAML or JSON and try again."))
    try:
        report = analyse_label(parse_document(text, Label))
    except InputError as error:
        return failed(_input_error_text(error, lang))
    return _label_page(request, lang, user, report=report, uploaded=upload.filename)


# --- the evidence browser ----------------------------------------------------------------------

TOPIC_LABELS = {
    "absorption": N_("Absorption"),
    "bath": N_("Bath"),
    "chemistry": N_("Chemistry"),
    "companions": N_("Companions"),
    "diary": N_("Sleep diary"),
    "guidelines": N_("Guidelines"),
    "intakes": N_("Intakes and upper limits"),
    "interactions": N_("Interactions with medicines"),
    "magnesium_sleep": N_("Magnesium and sleep"),
    "n_of_1": N_("Trials in one person"),
    "questionnaires": N_("Questionnaires"),
    "regulation": N_("Rules and regulation"),
    "safety": N_("Safety"),
}


def _topic_title(key: str, ev: Evidence, lang: Lang) -> str:
    names = {f.key: f.name for f in ev.forms} | {c.key: c.name for c in ev.companions}
    if key in names:
        return names[key].get(lang)
    label = TOPIC_LABELS.get(key)
    return translations(lang).gettext(label) if label else key.replace("_", " ")


def _evidence_context(lang: Lang) -> dict[str, Any]:
    ev = load_evidence()
    facts = [form_facts(ev, form) for form in ev.forms]
    counts = topics(ev)
    cited = {c for f in facts for c in f.citations} | {c for x in ev.companions for c in x.cite}
    return {
        "ev": ev,
        "facts": facts,
        "topic_list": [(key, _topic_title(key, ev, lang), n) for key, n in counts.items()],
        "sources": _references(cited, ev),
        "topic": None,
        "missing": None,
        **_formatters(lang),
    }


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return render(request, "evidence.html", lang, user, **_evidence_context(lang))


@router.get("/evidence/forms/{name}", response_class=HTMLResponse)
def evidence_form(request: Request, lang: LocaleDep, user: OptionalUser, name: str) -> Response:
    ev = load_evidence()
    try:
        form = find_form(name, ev)
    except InputError:
        context = {**_evidence_context(lang), "missing": name}
        return render(request, "evidence.html", lang, user, status_code=404, **context)
    facts = form_facts(ev, form)
    return render(
        request,
        "evidence_form.html",
        lang,
        user,
        ev=ev,
        form=form,
        facts=facts,
        corrections=corrections_for(form.key, ev),
        sources=_references(facts.citations, ev),
        **_formatters(lang),
    )


@router.get("/evidence/topics/{name}", response_class=HTMLResponse)
def evidence_topic(request: Request, lang: LocaleDep, user: OptionalUser, name: str) -> Response:
    ev = load_evidence()
    try:
        key = resolve_topic(name, ev)
    except InputError:
        context = {**_evidence_context(lang), "missing": name}
        return render(request, "evidence.html", lang, user, status_code=404, **context)
    return render(
        request,
        "evidence.html",
        lang,
        user,
        ev=ev,
        topic=key,
        topic_title=_topic_title(key, ev, lang),
        is_form=key in {f.key for f in ev.forms},
        references=references_for(key, ev),
        corrections=corrections_for(key, ev),
        missing=None,
        **_formatters(lang),
    )

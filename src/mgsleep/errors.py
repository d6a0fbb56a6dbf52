"""Errors meant for people carry a code and parameters, never a sentence to parse.

A `Problem` names the field, a code from `MESSAGES` and the values the message needs; an
optional `hint` (another code) says what to do instead. Each shell renders it in the reader's
language with `render`: the CLI after `--lang`, the pages after the person's choice, the API in
English beside the code and the parameters (for programs). Core validators raise
`problem(...)` (a pydantic error that carries its field), so a model's own rules reach every
shell the same way as pydantic's built-in checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any, Self

from pydantic_core import PydanticCustomError

from mgsleep.lang import N_, Lang

if TYPE_CHECKING:
    from pydantic import ValidationError


def _gettext(lang: Lang) -> Any:
    # The catalog (and babel, and pydantic) load on the first message, not on import: the
    # CLI imports this module for every command, `--help` included.
    from mgsleep.i18n import translations

    return translations(lang).gettext


def _format(lang: Lang, template: str, **values: Any) -> str:
    from mgsleep.i18n import format_number

    return format_number(lang, template, **values)


# Code -> the English template (a msgid of the catalog). Placeholders are the problem's params.
MESSAGES: dict[str, str] = {
    # pydantic's own checks
    "missing": N_("Fill this in."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "bool_parsing": N_("Answer yes or no."),
    "greater_than_equal": N_("Enter {ge:g} or more."),
    "greater_than": N_("Enter more than {gt:g}."),
    "less_than_equal": N_("Enter {le:g} or less."),
    "less_than": N_("Enter less than {lt:g}."),
    "string_too_long": N_("Use at most {max_length} characters."),
    "string_too_short": N_("Use at least {min_length} characters."),
    "too_long": N_("Give at most {max_length}."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "extra_forbidden": N_("Not a field this file can have."),
    "unknown_field": N_("Not a field this file can have."),
    "unknown_field_close": N_("Not a field this file can have; did you mean {closest}?"),
    "unknown_fields": N_("Not fields this file can have: {names}."),
    # dates, clocks, zones, text (mgsleep.clock, and pydantic's own date and time checks)
    "date_format": N_("Enter a date as YYYY-MM-DD."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": N_("Enter a date as YYYY-MM-DD."),
    "date_type": N_("Enter a date as YYYY-MM-DD."),
    "time_parsing": N_("Enter a time as HH:MM, for example 23:15."),
    "time_type": N_("Enter a time as HH:MM, for example 23:15."),
    "date_range": N_("Enter a date between {earliest} and {latest}."),
    "clock_format": N_("Enter a time as HH:MM, for example 23:15."),
    "unknown_zone": N_("Give a time zone such as Europe/Amsterdam."),
    "control_character": N_("Remove the control character."),
    # a night that cannot have happened (mgsleep.diary.night)
    "lights_out_before_bed": N_("Lights out can't be before you got into bed."),
    "wake_before_lights_out": N_("The final awakening can't be before lights out."),
    "out_of_bed_before_wake": N_("Getting out of bed can't be before the final awakening."),
    "night_too_long": N_("A night can't last longer than 24 hours."),
    "awake_longer_than_night": N_(
        "The minutes to fall asleep plus the minutes awake are more than the time from lights "
        "out to the final awakening."
    ),
    "yes_or_no": N_("Answer yes or no."),
    "unknown_side_effect": N_("Unknown side effect {name}; choose from: {allowed}."),
    "unknown_tag": N_("Unknown tag {name}; choose from: {allowed}."),
    # a trial's phases (mgsleep.trial.protocol)
    "baseline_too_short": N_(
        "The baseline needs at least {nights} nights (ideally {ideal}): choose a later "
        "magnesium start."
    ),
    "abab_baseline_too_short": N_(
        "In A-B-A-B every phase is as long as the baseline, so the baseline needs at least "
        "{nights} nights: choose a later magnesium start."
    ),
    "end_before_magnesium": N_("The trial must end after magnesium starts."),
    "no_trial": N_("No trial has been started."),
    # randomised and blinded trials (mgsleep.trial.protocol, mgsleep.service.trials)
    "blinding_needs_randomising": N_(
        "Only a randomised design can be blinded: in a fixed order you would know which "
        "capsules hold magnesium."
    ),
    "periods_need_randomising": N_("Periods and pairs belong to the randomised designs."),
    "run_in_range": N_("The first period starts from 0 to {most} nights after the first night."),
    "period_nights_choice": N_("A period lasts {choices} nights."),
    "abba_even_pairs": N_("Counterbalanced pairs come two by two: choose an even number."),
    "end_set_by_design": N_("The periods set the end of a randomised trial: {end}."),
    "seed_not_fingerprint": N_(
        "The seed does not give the allocation that the fingerprint was made of."
    ),
    "seed_with_blinding": N_(
        "A blinded trial draws its own seed: a seed you choose is an allocation you know."
    ),
    "trial_sealed": N_(
        "The trial is blinded: its results open on {opens_on}, after the last night."
    ),
    "trial_not_blinded": N_("The running trial is not blinded."),
    "helper_sheet_closed": N_(
        "The preparation sheet was available until the first period started on {date}."
    ),
    "plan_without_magnesium": N_(
        "The plan proposes no magnesium (a stop finding or no room under the limit)."
    ),
    "no_profile": N_("No profile is stored yet."),
    "profile_unfinished": N_("The profile is not finished yet."),
    # a profile (mgsleep.profile)
    "pregnant_male": N_("Pregnant does not go with sex male; check both answers."),
    # names, amounts, labels (mgsleep.names, mgsleep.chemistry, mgsleep.dose)
    "unknown_name": N_("Unknown name {name}."),
    "amount_out_of_range": N_("Enter an amount from {low:g} to {high:g} mg."),
    "blend_unknown_make_up": N_("{form} is a blend of unknown make-up."),
    "elemental_or_compound": N_("Give either the elemental or the compound amount, not both."),
    "no_amount": N_("No amount given."),
    "share_impossible": N_(
        "The label's magnesium share ({share:.1%}) cannot come from {main} and {partner} "
        "alone; it must lie between {low:.1%} and {high:.1%} of the compound mass."
    ),
    "unknown_ingredient": N_(
        "Unknown ingredient {name}. Mark it as other if it is neither magnesium nor a sleep "
        "companion."
    ),
    "unknown_ingredient_close": N_(
        "Unknown ingredient {name}; did you mean {closest}? Mark it as other if it is neither "
        "magnesium nor a sleep companion."
    ),
    "basis_missing": N_("Say whether the amount is elemental magnesium or the compound."),
    "elemental_needs_compound": N_(
        "Elemental magnesium goes with an amount of the compound (the label states both)."
    ),
    # questionnaires (mgsleep.diary.questionnaires)
    "answer_count": N_("Give {count} answers, one per question."),
    "answer_range": N_(
        "The answer to question {number} must be a whole number from {low} to {high}."
    ),
    "answer_list": N_("Give whole numbers separated by commas."),
    "other_questionnaire": N_("The score belongs to another questionnaire."),
    "isi_exists": N_("An ISI for this day is already stored."),
    # diaries and their files (mgsleep.diary)
    "night_exists": N_("The night of {date} is already in the diary."),
    "night_missing": N_("There is no night on {date} in the diary."),
    "night_differs": N_(
        "The night of {date} differs from the one already stored; nothing was imported."
    ),
    "date_not_address": N_("The date differs from the date in the address."),
    "missing_answers": N_("Missing values: {names}."),
    "unknown_columns": N_("Unknown columns: {names}."),
    "missing_columns": N_("Missing columns: {names}."),
    "broken_csv": N_("Line {row} cannot be read as CSV: {reason}."),
    "no_night_readable": N_(
        "No night could be read from this file: all {count} records were refused. "
        "The first, {position}: {reason}"
    ),
    "no_sleep_records": N_("This file holds no sleep records."),
    # documents and files
    "no_such_file": N_("No such file."),
    "unknown_database": N_(
        "Not a database mgsleep can open: give a file name (SQLite) or a postgresql:// address."
    ),
    "not_utf8": N_("Not a UTF-8 text file."),
    "refused": N_("This cannot be read."),
    "too_large": N_("The file is larger than {limit}."),
    "not_a_document": N_("This is not valid YAML or JSON."),
    "not_a_mapping": N_("Expected a mapping of fields."),
    "yaml_alias": N_("Aliases (*name) are not accepted."),
    "too_deep": N_("Nested more than {depth} levels deep."),
    # the web server's own answers
    "not_found": N_("Not found."),
    "method_not_allowed": N_("This method is not allowed here."),
    "bad_request": N_("The request cannot be read: {detail}"),
    "changed_meanwhile": N_("Changed at the same moment by another request; try again."),
    "unstorable": N_(
        "A value could not be stored: it holds a character or a size the database does not take."
    ),
    "busy": N_("The server is busy; try again in a moment."),
    "server_error": N_("Something went wrong on the server; try again in a moment."),
    "username_taken": N_("This user name is taken; choose another."),
    # apps that push nights with a token (mgsleep.service.ingest)
    "ingest_token_missing": N_(
        "Send the token from your account page in the header Authorization: Bearer <token>."
    ),
    "ingest_token_wrong": N_("This token is not known. Copy it again from your account page."),
    "ingest_token_revoked": N_(
        "This token was revoked. Make a new one on your account page and enter it in the app."
    ),
    "too_many_pushes": N_(
        "This token sent more than {limit} times in an hour; try again in {minutes} minutes."
    ),
    "token_name_needed": N_("Give the token a name, such as the app it is for."),
    "no_such_token": N_("This token does not exist or was already revoked."),
}
# What to do instead: a `hint` code names one of these.
HINTS: dict[str, str] = {
    "valid_names": N_("Valid: {valid}."),
    "did_you_mean": N_("Did you mean {closest}? Valid: {valid}."),
    "valid_columns": N_("Columns: {valid}."),
    "add_replace": N_("Ask to replace it to overwrite what is stored (--replace, replace=true)."),
    "give_label_amounts": N_("Give both the elemental and the compound amount from the label."),
    "blend_only": N_("Both only for a blend such as bisglycinate_buffered."),
    "give_amount": N_("Give --elemental or --compound."),
    "answers_option": N_("Give --answers 1,2,0,... or run it in a terminal."),
    "values_as_options": N_("Give them as options (e.g. --in-bed 22:30), or run it in a terminal."),
    "start_trial": N_("Run `mgsleep trial start`."),
    "see_plan": N_("See the plan and talk to your doctor first."),
    "store_profile": N_("Store a complete profile first."),
    "answer_values": N_("Whole numbers from {low} to {high}."),
    "nothing_imported": N_("Nothing was imported."),
    "new_token": N_("Make a new token on your account page."),
}
FALLBACK = N_("Check this answer.")
# Codes that say less than their English detail: English readers get the detail.
GENERIC = frozenset(
    {
        "refused",
        "value_error",
        "invalid",
        "not_a_document",
        "not_found",
        "method_not_allowed",
        "bad_request",
    }
)


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    # The English sentence, for a code the catalog does not know (pydantic's rarer checks).
    detail: str | None = None
    line: int | None = None
    hint: str | None = None

    def english(self) -> str:
        return render(self, "en")

    def english_hint(self) -> str | None:
        return render_hint(self, "en")


def _fill(template: str, lang: Lang, params: Mapping[str, Any]) -> str | None:
    try:
        return _format(lang, _gettext(lang)(template), **params)
    except (KeyError, ValueError, IndexError, TypeError):
        return None


def render(found: Problem, lang: Lang) -> str:
    """The problem in the reader's language, placeholders filled, numbers in their notation."""
    template = MESSAGES.get(found.code)
    if lang == "en" and found.detail and (template is None or found.code in GENERIC):
        return found.detail
    if template is None:
        return str(_gettext(lang)(FALLBACK))
    return _fill(template, lang, found.params) or str(_gettext(lang)(FALLBACK))


def render_hint(found: Problem, lang: Lang) -> str | None:
    template = HINTS.get(found.hint or "")
    return None if template is None else _fill(template, lang, found.params)


def sentence(found: Problem, lang: Lang) -> str:
    """One line for a person: where, what, and what to do instead."""
    where = ""
    if found.line is not None:
        where = _format(lang, _gettext(lang)(N_("Line {line}")), line=found.line)
        where += ", "
    text = (
        f"{where}{found.field}: {render(found, lang)}"
        if found.field
        else where + render(found, lang)
    )
    hint = render_hint(found, lang)
    return _joined(text, hint)


def _joined(text: str, hint: str | None) -> str:
    if not hint:
        return text
    # A source's own sentence may end without a full stop; the hint is a sentence of its own.
    return f"{text} {hint}" if text.endswith((".", "?", "!", ":")) else f"{text}. {hint}"


def by_field(problems: Sequence[Problem], lang: Lang) -> dict[str, str]:
    """Field -> the first problem with it, in the reader's words (what a form shows)."""
    found: dict[str, str] = {}
    for item in problems:
        found.setdefault(item.field.split(".")[0], render(item, lang))
    return found


def problem(field: str, code: str, detail: str, **params: Any) -> PydanticCustomError:
    """Raise this in a validator: pydantic carries the field and the code to every shell."""
    return PydanticCustomError(code, detail, {"field": field, **params})


def several(found: list[tuple[str, str, str]]) -> PydanticCustomError:
    """Several problems of one model-wide rule, each (field, code, English detail)."""
    return PydanticCustomError(
        "several", "; ".join(f"{f}: {d}" for f, _c, d in found), {"problems": found}
    )


def problems_from(error: ValidationError | Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Every problem of a validation error (or of its `errors()` list, as FastAPI hands it
    over), with its field: from its location, or, for a model-wide rule, from the field the
    rule named."""
    items = error if isinstance(error, Sequence) else error.errors()
    found = []
    for item in items:
        context = dict(item.get("ctx") or {})
        named_problems = context.get("problems")
        if named_problems:
            prefix = "".join(f"{part}." for part in item.get("loc", ()) if part != "body")
            found += [Problem(field=prefix + f, code=c, detail=d) for f, c, d in named_problems]
            continue
        named = context.pop("field", None)
        parts = [str(part) for part in item.get("loc", ()) if part != "body"]
        # A model's own rule names its field; inside a list of models, under the item's place.
        location = ".".join([*parts, str(named)] if named else parts)
        found.append(
            Problem(
                field=location,
                code=str(item.get("type", "invalid")),
                params={k: v for k, v in context.items() if isinstance(v, str | int | float)},
                # pydantic prefixes a plain ValueError's message; the sentence is what follows.
                detail=str(item.get("msg", "")).removeprefix("Value error, "),
            )
        )
    return found


class InputError(ValueError):
    """Bad input from a person, as a code. The CLI shows `sentence(error.problem, lang)` and
    exits 2; the API answers 422 with `as_dict()`; the pages show `render(error.problem, lang)`
    beside the field."""

    def __init__(
        self,
        field: str,
        code: str,
        *,
        value: object = None,
        line: int | None = None,
        hint: str | None = None,
        detail: str | None = None,
        **params: Any,
    ) -> None:
        self.problem = Problem(field, code, params, detail=detail, line=line, hint=hint)
        # Every problem found (a form shows each beside its field); the first is `problem`.
        self.problems = [self.problem]
        self.value = value
        super().__init__(self.text("en"))

    @classmethod
    def of(cls, found: Problem, *, value: object = None) -> Self:
        return cls(
            found.field,
            found.code,
            value=value,
            line=found.line,
            hint=found.hint,
            detail=found.detail,
            **found.params,
        )

    @classmethod
    def of_all(cls, found: Sequence[Problem]) -> Self:
        """All the problems of one validation, the first of them as the headline."""
        error = cls.of(found[0])
        error.problems = list(found)
        return error

    @classmethod
    def from_validation(cls, error: ValidationError) -> Self:
        return cls.of_all(problems_from(error))

    @property
    def field(self) -> str:
        return self.problem.field

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def line(self) -> int | None:
        return self.problem.line

    @property
    def reason(self) -> str:
        return self.problem.english()

    @property
    def allowed(self) -> str | None:
        return self.problem.english_hint()

    def text(self, lang: Lang) -> str:
        """The one line a person reads, in their language; the value shown once."""
        found = self.problem
        core = sentence(
            Problem(found.field, found.code, found.params, found.detail, found.line), lang
        )
        shown = repr(self.value) if self.value is not None else None
        if shown is not None and shown not in core:
            core = core.removesuffix(".") + f" ({shown})."
        return _joined(core, render_hint(found, lang))

    def as_dict(self) -> dict[str, object]:
        return _as_dict(self.problem, self.value)

    def as_dicts(self) -> list[dict[str, object]]:
        """Every problem, the value (given for the first one only) beside its own."""
        return [_as_dict(p, self.value if p is self.problem else None) for p in self.problems]


def _as_dict(found: Problem, value: object) -> dict[str, object]:
    return {
        "field": found.field,
        "reason": found.english(),
        "value": value,
        "allowed": found.english_hint(),
        "line": found.line,
        "code": found.code,
        "params": dict(found.params),
    }


class NotFound(InputError):  # noqa: N818 - an outcome to report, like DuplicateNight
    """What was asked for is not there (for this person): 404 in the API."""


class Conflict(InputError):  # noqa: N818 - an outcome to report, like DuplicateNight
    """It clashes with what is stored (a night already there, an unfinished profile): 409."""

"""The diary's night form: posted text in, a core night (or its problems by field) out, and
the answers a new night starts from (the night before, and what the trial asks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form
from pydantic import BaseModel, ValidationError

from mgsleep.diary.night import DIARY_SOURCE, NightEntry, NightMetrics, metrics
from mgsleep.errors import by_field, problems_from
from mgsleep.i18n import Lang
from mgsleep.schedule import TRIAL_DOSE_EVENINGS
from mgsleep.service.diary import DEFAULTS_LOOKBACK_DAYS
from mgsleep.trial.kinds import Evening
from mgsleep.trial.protocol import TrialProtocol

CLOCK_FIELDS = ("in_bed", "lights_out", "final_wake", "out_of_bed", "intake_time")
NUMBER_FIELDS = ("sleep_latency_min", "awakenings", "waso_min", "quality", "magnesium_mg")
TEXT_FIELDS = ("magnesium_form", "notes")
# What usually stays the same from one night to the next; side effects and notes do not.
USUAL_FIELDS = (*CLOCK_FIELDS, *NUMBER_FIELDS, "magnesium_form")


class NightForm(BaseModel):
    """The diary form as posted: text, checked against NightEntry only afterwards."""

    date: str = ""
    in_bed: str = ""
    lights_out: str = ""
    sleep_latency_min: str = ""
    awakenings: str = ""
    waso_min: str = ""
    final_wake: str = ""
    out_of_bed: str = ""
    quality: str = ""
    magnesium_mg: str = ""
    magnesium_form: str = ""
    intake_time: str = ""
    bath: str = ""
    side_effects: list[str] = []
    tags: list[str] = []
    blind_guess: str = ""
    notes: str = ""
    replace: str = ""


NightFormDep = Annotated[NightForm, Form()]


@dataclass(frozen=True)
class NightRow:
    entry: NightEntry
    metrics: NightMetrics
    href: str


def clock_text(value: time | None) -> str:
    return "" if value is None else f"{value:%H:%M}"


def number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def entry_values(entry: NightEntry) -> dict[str, Any]:
    """A stored night as the form shows it."""
    values: dict[str, Any] = {name: clock_text(getattr(entry, name)) for name in CLOCK_FIELDS}
    values |= {name: number_text(getattr(entry, name)) for name in NUMBER_FIELDS}
    values |= {
        "date": entry.date.isoformat(),
        "magnesium_form": entry.magnesium_form or "",
        "bath": "yes" if entry.bath else "",
        "side_effects": [effect.value for effect in entry.side_effects],
        "tags": [tag.value for tag in entry.tags],
        "blind_guess": "" if entry.blind_guess is None else entry.blind_guess.value,
        "notes": entry.notes or "",
    }
    return values


def form_values(form: NightForm) -> dict[str, Any]:
    return form.model_dump(exclude={"replace"})


def _night_data(form: NightForm, night: str, zone: str, source: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in (*CLOCK_FIELDS, *NUMBER_FIELDS, *TEXT_FIELDS):
        text = str(getattr(form, name)).strip()
        if text:
            # A Dutch keyboard types 1,5 for 1.5.
            data[name] = text.replace(",", ".") if name == "magnesium_mg" else text
    if form.blind_guess:
        data["blind_guess"] = form.blind_guess
    return data | {
        "date": night,
        "bath": form.bath == "yes",
        "side_effects": form.side_effects,
        "tags": form.tags,
        "timezone": zone,
        "source": source,
    }


def read_night(
    form: NightForm, night: str, zone: str, source: str, lang: Lang
) -> tuple[NightEntry | None, dict[str, str]]:
    """The night, or what is wrong with each field in the reader's words (the first problem
    per field, the core's own checks of an impossible night included)."""
    try:
        return NightEntry.model_validate(_night_data(form, night, zone, source)), {}
    except ValidationError as error:
        return None, by_field(problems_from(error), lang)


def _follow_trial(values: dict[str, Any], protocol: TrialProtocol | None, night: date) -> None:
    """During a trial the magnesium fields follow what the protocol asked of the evening
    before: its dose (in a blinded trial the numbered dose, the same for both arms, so the
    diary reveals nothing), or nothing on a night without."""
    if protocol is None:
        return
    evening = protocol.evening(night - timedelta(days=1))
    if evening in TRIAL_DOSE_EVENINGS and not values.get("magnesium_mg") and protocol.dose_mg:
        values["magnesium_mg"] = number_text(protocol.dose_mg)
        values["magnesium_form"] = "" if evening is Evening.sealed_dose else protocol.form or ""
        values["intake_time"] = clock_text(protocol.intake_time)
    elif evening is Evening.diary_only:
        values |= {"magnesium_mg": "", "magnesium_form": "", "intake_time": ""}


def new_night_values(
    nights: Sequence[NightEntry],
    protocol: TrialProtocol | None,
    night: date,
    bedtime: time | None = None,
) -> tuple[dict[str, Any], date | None]:
    """The form for a new night: last night's usual answers, and the date of that night
    (`nights` is the diary in date order, as the page has it already). The first night
    starts from the profile's bedtime instead."""
    values: dict[str, Any] = {"date": night.isoformat(), "awakenings": "0", "waso_min": "0"}
    earliest = night - timedelta(days=DEFAULTS_LOOKBACK_DAYS)
    previous = next((n for n in reversed(nights) if earliest <= n.date < night), None)
    if previous is not None:
        usual = entry_values(previous)
        values |= {name: usual[name] for name in (*USUAL_FIELDS, "bath")}
    elif bedtime is not None:
        values |= bedtime_values(bedtime)
    _follow_trial(values, protocol, night)
    return values, None if previous is None else previous.date


# A first night's guess from the bedtime alone: a usual night's length, a few minutes either end.
IN_BED_BEFORE_LIGHTS_OUT = timedelta(minutes=15)
USUAL_NIGHT = timedelta(hours=8)
OUT_OF_BED_AFTER_WAKING = timedelta(minutes=15)


def bedtime_values(bedtime: time) -> dict[str, str]:
    """The clock times of a first night from the profile's bedtime, to be corrected."""
    lights_out = datetime.combine(date(2000, 1, 1), bedtime)
    final_wake = lights_out + USUAL_NIGHT
    return {
        "in_bed": clock_text((lights_out - IN_BED_BEFORE_LIGHTS_OUT).time()),
        "lights_out": clock_text(bedtime),
        "final_wake": clock_text(final_wake.time()),
        "out_of_bed": clock_text((final_wake + OUT_OF_BED_AFTER_WAKING).time()),
    }


def source_query(source: str) -> str:
    """Nights from an importer share their date with the diary's; the source tells them apart."""
    return "" if source == DIARY_SOURCE else "?" + urlencode({"source": source})


def night_rows(nights: Sequence[NightEntry]) -> list[NightRow]:
    rows = []
    for entry in sorted(nights, key=lambda n: (n.date, n.source), reverse=True):
        href = f"/diary/{entry.date.isoformat()}{source_query(entry.source)}"
        rows.append(NightRow(entry=entry, metrics=metrics(entry), href=href))
    return rows

"""The trial report: one self-contained, printable HTML page in the person's language.

Styles and the charts (SVG) are inline, so the page opens offline, can be
mailed or saved as a single file, and prints the same anywhere. The page's sentences live in
the template and are translated through the catalog; this module gathers and formats values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import jinja2
from babel.dates import format_date, format_datetime

from mgsleep.diary.night import NightEntry, NightTag, SideEffect, one_per_night
from mgsleep.evidence import load_evidence
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.trial.allocation import fingerprint, short_fingerprint
from mgsleep.trial.analysis import (
    CONFIDENCE,
    MAX_MORE_NIGHTS,
    OutcomeResult,
    TrialAnalysis,
)
from mgsleep.trial.blinding import BlindingScore, blinding_score
from mgsleep.trial.charts import (
    ROLLING_NIGHTS,
    Chart,
    all_charts,
    chart_filename,
    phase_label,
)
from mgsleep.trial.labels import (
    change_unit,
    form_name,
    outcome_name,
    outcome_unit,
    template_words,
)
from mgsleep.trial.protocol import (
    MIN_BASELINE_NIGHTS,
    MIN_MAGNESIUM_NIGHTS,
    Design,
    Outcome,
    Period,
    Phase,
    TrialProtocol,
    Verdict,
)
from mgsleep.trial.registration import registration_hash

TEMPLATE = "report.html"
NO_VALUE = "—"
# Probabilities this close to 0 or 1 are shown as "< 1%" and "> 99%": a rounded "100%"
# would claim a certainty eight weeks of nights cannot give.
CHANCE_FLOOR = 0.01


@dataclass(frozen=True)
class OutcomeRow:
    key: str
    name: str
    unit: str
    change_unit: str
    primary: bool
    result: OutcomeResult
    trend_holds: bool | None
    series: Chart | None
    distribution: Chart | None


@dataclass(frozen=True)
class SideEffectRow:
    key: str
    baseline_nights: int
    magnesium_nights: int


@dataclass(frozen=True)
class TagRow:
    """A confounder (caffeine, alcohol, illness, ...): on how many nights of each phase."""

    key: str
    baseline_nights: int
    magnesium_nights: int


@dataclass(frozen=True)
class Registration:
    """What the report prints of the pre-registration."""

    registered_at: str | None
    digest: str
    planned_nights: int | None


@dataclass(frozen=True)
class Allocation:
    """A randomised trial's allocation, as the report shows it once it is open."""

    seed: int | None
    fingerprint: str | None  # short form, as shown when the trial started
    fingerprint_matches: bool | None  # None while sealed or for a trial without one
    periods: list[Period]


def render_html(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], lang: Lang, *, for_print: bool = False
) -> str:
    """The report page; `for_print` leaves out what a PDF cannot use (nothing yet but the
    screen-only stacked cards, which print as tables either way)."""
    template = template_environment(lang).get_template(TEMPLATE)
    return template.render(_context(analysis, nights, lang) | {"for_print": for_print})


@functools.cache
def template_environment(lang: Lang) -> jinja2.Environment:
    """One environment per language, built once: it caches compiled templates, and rendering
    with it is safe from several threads."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mgsleep.trial", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The i18n extension adds this method at run time, so the type stubs do not know it.
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_filters(lang))
    env.globals.update(template_words(lang))
    return env


def _filters(lang: Lang) -> dict[str, Callable[..., str]]:
    def number(value: float | None, spec: str = ".1f") -> str:
        if value is None:
            return NO_VALUE
        text = format_number(lang, "{:" + spec + "}", value)
        # A difference that rounds to zero has no direction: "0.0", never "-0.0" or "+0.0".
        return text.lstrip("+-") if not text.strip("+-0.,") else text

    def percent(value_pct: float | None) -> str:
        return NO_VALUE if value_pct is None else format_number(lang, "{:.0f}%", value_pct)

    def chance(probability: float | None) -> str:
        if probability is None:
            return NO_VALUE
        if probability < CHANCE_FLOOR:
            return format_number(lang, "< {:.0%}", CHANCE_FLOOR)
        if probability > 1 - CHANCE_FLOOR:
            return format_number(lang, "> {:.0%}", 1 - CHANCE_FLOOR)
        return format_number(lang, "{:.0%}", probability)

    def day(value: date) -> str:
        return format_date(value, "long", locale=lang)

    return {"number": number, "percent": percent, "chance": chance, "day": day}


def _context(analysis: TrialAnalysis, nights: Sequence[NightEntry], lang: Lang) -> dict[str, Any]:
    charts = all_charts(analysis, nights, lang)
    rows = [_row(analysis, outcome, charts, lang) for outcome in Outcome]
    protocol = analysis.protocol
    return {
        "lang": lang,
        "analysis": analysis,
        "protocol": protocol,
        "design": protocol.design.value,
        "abab": protocol.design is Design.abab,
        "rows": rows,
        "primary": next(row for row in rows if row.primary),
        "trend_rows": [row for row in rows if row.result.with_trend is not None],
        "phases": _phases_shown(analysis),
        "phase_names": {phase.value: phase_label(protocol, phase, lang) for phase in Phase},
        "side_effects": _side_effect_rows(analysis),
        "tags": tag_rows(protocol, nights, analysis.as_of),
        "registration": _registration(protocol, lang),
        "allocation": _allocation(protocol),
        "blinding": _blinding(protocol, nights, analysis.as_of),
        "form_name": form_name(protocol.form, lang),
        "questionnaire_name": _questionnaire_name(analysis, lang),
        "level": format_number(lang, "{:.0%}", CONFIDENCE),
        "min_baseline_nights": MIN_BASELINE_NIGHTS,
        "min_magnesium_nights": MIN_MAGNESIUM_NIGHTS,
        "max_more_nights": MAX_MORE_NIGHTS,
        "rolling_nights": ROLLING_NIGHTS,
    }


def _row(
    analysis: TrialAnalysis, outcome: Outcome, charts: dict[str, Chart], lang: Lang
) -> OutcomeRow:
    result = analysis.outcomes[outcome.value]
    return OutcomeRow(
        key=outcome.value,
        name=outcome_name(outcome, lang),
        unit=outcome_unit(outcome, lang),
        change_unit=change_unit(outcome, lang),
        primary=outcome is analysis.primary_outcome,
        result=result,
        trend_holds=trend_holds(result),
        series=charts.get(chart_filename(outcome, "series")),
        distribution=charts.get(chart_filename(outcome, "distribution")),
    )


def trend_holds(result: OutcomeResult) -> bool | None:
    """Whether an effect the main estimate found stays on the same side of zero with a time
    trend in the model; None when there is no trend check or no effect to check."""
    trend = result.with_trend
    if trend is None or result.difference is None:
        return None
    if result.verdict not in (Verdict.improved, Verdict.worse):
        return None
    return trend.ci_low > 0 if result.difference > 0 else trend.ci_high < 0


def _phases_shown(analysis: TrialAnalysis) -> list[str]:
    # An A-B trial has no washout; a row of zero washout nights would only puzzle.
    protocol = analysis.protocol
    diary_only = protocol.randomised and (protocol.run_in_nights or protocol.washout_days)
    if protocol.design is Design.abab or diary_only:
        return [phase.value for phase in Phase]
    return [Phase.baseline.value, Phase.magnesium.value]


def tag_rows(protocol: TrialProtocol, nights: Sequence[NightEntry], as_of: date) -> list[TagRow]:
    """Each confounder noted in the diary, counted per analysed phase: one that piles up in
    one phase (a cold in the magnesium weeks) can make or hide an effect."""
    counts = {tag: {Phase.baseline: 0, Phase.magnesium: 0} for tag in NightTag}
    for night in one_per_night(list(nights)):
        phase = protocol.phase_of(night.date)
        if night.date > as_of or phase not in (Phase.baseline, Phase.magnesium):
            continue
        for tag in night.tags:
            counts[tag][phase] += 1
    rows = [
        TagRow(tag.value, found[Phase.baseline], found[Phase.magnesium])
        for tag, found in counts.items()
    ]
    return [row for row in rows if row.baseline_nights or row.magnesium_nights]


def _registration(protocol: TrialProtocol, lang: Lang) -> Registration:
    at = protocol.registered_at
    shown = None if at is None else format_datetime(at, "long", tzinfo=UTC, locale=lang)
    return Registration(shown, registration_hash(protocol), protocol.planned_nights())


def _allocation(protocol: TrialProtocol) -> Allocation | None:
    if not protocol.randomised:
        return None
    stored = protocol.allocation_fingerprint
    matches = None
    if stored is not None and protocol.seed is not None:
        matches = fingerprint(protocol.seed, protocol.allocation_from(protocol.seed)) == stored
    return Allocation(
        seed=protocol.seed,
        fingerprint=None if stored is None else short_fingerprint(stored),
        fingerprint_matches=matches,
        periods=protocol.periods(),
    )


def _blinding(
    protocol: TrialProtocol, nights: Sequence[NightEntry], as_of: date
) -> BlindingScore | None:
    if not protocol.blinded or protocol.sealed:
        return None
    return blinding_score(protocol, [n for n in nights if n.date <= as_of])


def _side_effect_rows(analysis: TrialAnalysis) -> list[SideEffectRow]:
    baseline = analysis.side_effects_by_phase.get(Phase.baseline.value, {})
    magnesium = analysis.side_effects_by_phase.get(Phase.magnesium.value, {})
    rows = [
        SideEffectRow(
            key=effect.value,
            baseline_nights=baseline.get(effect.value, 0),
            magnesium_nights=magnesium.get(effect.value, 0),
        )
        for effect in SideEffect
    ]
    return [row for row in rows if row.baseline_nights or row.magnesium_nights]


def _questionnaire_name(analysis: TrialAnalysis, lang: Lang) -> str | None:
    if analysis.questionnaire is None:
        return None
    instrument = analysis.questionnaire.instrument
    known = {q.key: q.name.get(lang) for q in load_evidence().questionnaires}
    return known.get(instrument, instrument)

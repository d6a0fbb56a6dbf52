"""The words people read for outcomes and phases, shared by the charts and the report."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mgsleep.evidence import load_evidence
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.trial.protocol import Outcome, Phase

if TYPE_CHECKING:
    from mgsleep.trial.power import DesignPower


def outcome_name(outcome: Outcome, lang: Lang) -> str:
    _ = translations(lang).gettext
    names = {
        Outcome.sleep_latency_min: _("Time to fall asleep"),
        Outcome.total_sleep_min: _("Total sleep"),
        Outcome.sleep_efficiency_pct: _("Sleep efficiency"),
        Outcome.waso_min: _("Time awake after falling asleep"),
        Outcome.quality: _("Sleep quality"),
    }
    return names[outcome]


def outcome_unit(outcome: Outcome, lang: Lang) -> str:
    _ = translations(lang).gettext
    units = {
        Outcome.sleep_latency_min: _("min"),
        Outcome.total_sleep_min: _("min"),
        Outcome.sleep_efficiency_pct: "%",
        Outcome.waso_min: _("min"),
        Outcome.quality: _("score 1–5"),
    }
    return units[outcome]


def change_unit(outcome: Outcome, lang: Lang) -> str:
    """The unit of a difference: a change in a percentage is in percentage points."""
    _ = translations(lang).gettext
    units = {
        Outcome.sleep_latency_min: _("min"),
        Outcome.total_sleep_min: _("min"),
        Outcome.sleep_efficiency_pct: _("percentage points"),
        Outcome.waso_min: _("min"),
        Outcome.quality: _("points"),
    }
    return units[outcome]


def phase_name(phase: Phase, lang: Lang) -> str:
    _ = translations(lang).gettext
    names = {
        Phase.baseline: _("Baseline"),
        Phase.magnesium: _("Magnesium"),
        Phase.washout: _("Washout"),
    }
    return names[phase]


def verdict_name(verdict: str, lang: Lang) -> str:
    """The verdict in words, as the report's template says it."""
    _ = translations(lang).gettext
    names = {
        "improved": _("improved"),
        "possibly_improved": _("possibly improved"),
        "unclear": _("unclear"),
        "possibly_worse": _("possibly worse"),
        "worse": _("worse"),
        "no_clear_effect": _("no clear effect"),
        "not_enough_data": _("not enough data yet"),
        "no_information": _("no information in this outcome — choose another"),
    }
    return names[verdict]


def design_name(design: str, lang: Lang) -> str:
    _ = translations(lang).gettext
    names = {
        "pairs": _("randomised pairs"),
        "abba": _("randomised pairs, counterbalanced (ABBA)"),
        "abab": _("A-B-A-B, in a fixed order"),
        "ab": _("A-B, in a fixed order"),
    }
    return names[design]


def prior_name(key: str, lang: Lang) -> str:
    """A Bayesian prior of the report: the sceptical one, or the one from the pooled trials."""
    _ = translations(lang).gettext
    if key == "sceptical":
        return _("Sceptical prior (centred on no effect)")
    return _("Prior from the pooled trials")


def side_effect_name(key: str, lang: Lang) -> str:
    """A side effect as the diary form offers it and the report counts it."""
    _ = translations(lang).gettext
    names = {"loose_stools": _("Loose stools"), "nausea": _("Nausea"), "other": _("Other")}
    return names.get(key, key)


def tag_name(key: str, lang: Lang) -> str:
    """What else happened that evening, as the diary form offers it and the report counts it."""
    _ = translations(lang).gettext
    names = {
        "caffeine_after_noon": _("Coffee, tea or cola after 12 noon"),
        "alcohol": _("Alcohol"),
        "illness": _("Illness"),
        "travel": _("Travel"),
        "stress": _("Stress"),
        "late_meal": _("A late meal"),
    }
    return names.get(key, key)


def power_designs(designs: Sequence[DesignPower], lang: Lang) -> list[tuple[str, DesignPower]]:
    """A power plan's designs with their names, in the order the trial form offers them."""
    names = _power_design_names(lang)
    ordered = sorted(designs, key=lambda d: list(names).index(d.design))
    return [(names[d.design], d) for d in ordered]


# The designs of a power plan, in the order the trial form offers them.
def _power_design_names(lang: Lang) -> dict[str, str]:
    _ = translations(lang).gettext
    return {
        "pairs_7": _("Randomised pairs of 7-night periods"),
        "pairs_10": _("Randomised pairs of 10-night periods"),
        "pairs_14": _("Randomised pairs of 14-night periods"),
        "abab": _("A-B-A-B, fixed order"),
        "ab_equal": _("A-B with halves of equal length"),
        "ab": _("A-B with a two-week baseline"),
    }


def power_source_note(
    source: str, nights_used: int, lang: Lang, *, running: bool, sealed: bool
) -> str:
    """Where a power plan learnt the person's noise from, in one sentence."""
    _ = translations(lang).gettext
    if source == "trial_nights" and sealed:
        note = _(
            "Worked out from how much your {nights} nights in this trial varied. While the "
            "trial is blinded, all nights are taken together: that errs towards more nights, "
            "not fewer."
        )
    elif source == "trial_nights":
        note = _(
            "Worked out from how much your {nights} nights in this trial varied, each compared "
            "with the nights of the same kind (with or without magnesium)."
        )
    elif running and source == "recent_nights":
        note = _(
            "Worked out from your nights without magnesium in the four weeks before the trial. "
            "After two weeks of the trial, from the trial's own nights."
        )
    elif running:
        note = _(
            "Worked out from usual values. After two weeks of the trial, from the trial's own "
            "nights."
        )
    elif source == "recent_nights":
        note = _(
            "Worked out from how much your own nights without magnesium in the past four "
            "weeks varied."
        )
    else:
        note = _(
            "Worked out from usual values: once you have logged a week or two of nights, "
            "mgsleep works it out from your own nights."
        )
    return format_number(lang, note, nights=nights_used)


def template_words(lang: Lang) -> dict[str, Callable[[str], str]]:
    """The names above for a template, in its language: one wording on every page."""
    named = (verdict_name, design_name, prior_name, side_effect_name, tag_name)
    return {f.__name__: functools.partial(f, lang=lang) for f in named}


def verdict_explanation(verdict: str, lang: Lang) -> str:
    """What the verdict means, in one sentence: the rule behind the word."""
    from mgsleep.trial.analysis import DIRECTION_CERTAINTY, IMPROVED_CERTAINTY

    _ = translations(lang).gettext
    explanations = {
        "improved": _(
            "A chance of at least {certainty:.0f}% that the improvement is at least the "
            "smallest change that matters."
        ),
        "possibly_improved": _(
            "Probably better (a chance of at least {direction:.0f}%), but perhaps by less than "
            "the smallest change that matters."
        ),
        "unclear": _("Your nights cannot tell yet whether magnesium made this better or worse."),
        "possibly_worse": _(
            "Probably worse (a chance of at least {direction:.0f}%), but perhaps by less than "
            "the smallest change that matters."
        ),
        "worse": _(
            "A chance of at least {certainty:.0f}% that it got worse by at least the smallest "
            "change that matters."
        ),
        "no_clear_effect": _("No clear effect either way."),
        "not_enough_data": _("Not enough nights yet for a verdict."),
        "no_information": _(
            "This measurement is the same every night, so it cannot show any effect. Choose "
            "another outcome, or check the device that records it."
        ),
    }
    return format_number(
        lang,
        explanations[verdict],
        certainty=100 * IMPROVED_CERTAINTY,
        direction=100 * DIRECTION_CERTAINTY,
    )


def form_name(form: str | None, lang: Lang) -> str | None:
    """The form's name in the language; a form the evidence does not know is shown as typed."""
    if form is None:
        return None
    try:
        return load_evidence().form(form).name.get(lang)
    except KeyError:
        return form

"""The words people read for outcomes and phases, shared by the charts and the report."""

from __future__ import annotations

from mgsleep.evidence import load_evidence
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.trial.protocol import Outcome, Phase


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

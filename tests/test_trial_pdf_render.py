"""The trial report as PDF: it renders in both languages, with the summary page first."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mgsleep.diary.night import NightEntry
from mgsleep.i18n import Lang, translations
from mgsleep.trial.allocation import fingerprint
from mgsleep.trial.analysis import TrialAnalysis, analyse
from mgsleep.trial.kinds import Design
from mgsleep.trial.pdf import render_document, render_pdf
from mgsleep.trial.protocol import TrialProtocol
from tests.simulate import diary, protocol

SEED = 7


def _blinded_trial() -> TrialProtocol:
    base = protocol()
    values = {
        "baseline_start": base.baseline_start,
        "magnesium_start": base.baseline_start,
        "design": Design.abba,
        "pairs": 4,
        "blinded": True,
        "seed": SEED,
        "dose_mg": 200,
        "form": "bisglycinate",
    }
    trial = TrialProtocol.model_validate(values)
    assert trial.allocation is not None
    return trial.model_copy(update={"allocation_fingerprint": fingerprint(SEED, trial.allocation)})


@functools.cache
def _inputs() -> tuple[TrialAnalysis, tuple[NightEntry, ...]]:
    trial = _blinded_trial()
    nights = diary(SEED, trial, trial.planned_nights() or 0, effect_min=-15)
    end = trial.scheduled_end()
    assert end is not None
    return analyse(trial, nights, as_of=end - timedelta(days=1)), tuple(nights)


@functools.cache
def _pdf(lang: Lang) -> bytes:
    analysis, nights = _inputs()
    return render_pdf(analysis, nights, lang)


def _page_texts(lang: Lang) -> list[str]:
    analysis, nights = _inputs()
    document = render_document(analysis, nights, lang)
    return [" ".join(_texts(page._page_box)) for page in document.pages]


def _texts(box: Any) -> Iterator[str]:
    if getattr(box, "text", None):
        yield box.text
    for child in getattr(box, "children", None) or []:
        yield from _texts(child)


@pytest.mark.slow  # WeasyPrint lays out the whole report: seconds, not milliseconds
@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_pdf_renders_with_pages(lang: Lang) -> None:
    pdf = _pdf(lang)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    pages = _page_texts(lang)
    # The one-page summary, then the details and the charts.
    assert len(pages) >= 3
    summary = translations(lang).gettext("Summary for your doctor or pharmacist")
    assert summary in pages[0]
    # The summary is a page of its own: the verdict's section starts on the next one.
    verdict = translations(lang).gettext("Results per outcome")
    assert verdict not in pages[0]
    assert verdict in " ".join(pages[1:])


def test_the_pdf_is_in_the_readers_language() -> None:
    # The two languages lay out different words: the documents differ, page counts aside.
    assert _pdf("en") != _pdf("nl")


def test_the_pdf_fetches_nothing() -> None:
    from mgsleep.trial.pdf import _refuse

    with pytest.raises(ValueError, match="self-contained"):
        _refuse("https://example.org/font.woff")

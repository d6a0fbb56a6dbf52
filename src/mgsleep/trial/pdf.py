"""The trial report as PDF, drawn by WeasyPrint from the same HTML the page shows.

One source for both: the report's print styles already lay it out for A4 (the summary for a
doctor or pharmacist on the first page, the rest after it), so the PDF is the printed page,
with its fonts embedded and nothing fetched. WeasyPrint loads pango and its fonts (about half
a second the first time): it is imported here, when a PDF is asked for, and never at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mgsleep.diary.night import NightEntry
from mgsleep.i18n import Lang
from mgsleep.trial.analysis import TrialAnalysis
from mgsleep.trial.report import render_html


def render_pdf(analysis: TrialAnalysis, nights: Sequence[NightEntry], lang: Lang) -> bytes:
    pdf = render_document(analysis, nights, lang).write_pdf()
    if pdf is None:  # only when writing to a target, which this never does
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)


def render_document(analysis: TrialAnalysis, nights: Sequence[NightEntry], lang: Lang) -> Any:
    """The laid-out pages (a WeasyPrint Document): what the PDF is written from."""
    from weasyprint import HTML

    html = render_html(analysis, nights, lang, for_print=True)
    # No base URL, and a fetcher that refuses: the page is self-contained, nothing may load.
    return HTML(string=html, url_fetcher=_refuse).render()


def _refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"the report must be self-contained; it asked for {url}")

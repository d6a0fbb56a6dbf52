"""The trial report and its charts, rendered from simulated diaries in both languages."""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from mgsleep.diary.night import NightEntry
from mgsleep.i18n import Lang, translations
from mgsleep.trial.analysis import QuestionnaireChange, TrialAnalysis, Verdict, analyse
from mgsleep.trial.charts import (
    AXIS_LIMITS,
    MIN_AXIS_SPAN,
    all_charts,
    chart_filename,
    value_axis,
)
from mgsleep.trial.protocol import Outcome
from mgsleep.trial.report import render_html
from tests.simulate import diary, protocol

MAX_CHART_BYTES = 20_000
# Text on a chart drawn 400 units wide stays at least 12 px on a 360 px wide phone screen.
MIN_FONT_UNITS = 13
MAX_VIEW_BOX_WIDTH = 400
IMPROVED_SEED = 2
# Large enough that the improvement probably exceeds the smallest change that matters (10 min).
IMPROVED_EFFECT_MIN = -25
FULL_TRIAL_NIGHTS = 42  # 14 baseline + 28 magnesium
SHORT_TRIAL_NIGHTS = 20  # 14 baseline + 6 magnesium

CANNOT_PROVE_HEADING = "What this cannot prove"
needs_dutch_catalog = pytest.mark.skipif(
    translations("nl").gettext(CANNOT_PROVE_HEADING) == CANNOT_PROVE_HEADING,
    reason="the Dutch catalog has no report sentences yet",
)


class Page(HTMLParser):
    """What the tests look at: the lang attribute, images, outcome rows, text per section."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.images: list[str] = []
        self.outcome_rows: list[str] = []
        self.sections: dict[str, str] = {}
        self._section: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handle_data(" ")  # cells and lines read as separate words
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "svg":
            self.images.append(found.get("aria-labelledby") or "")
        elif tag == "tr" and found.get("data-outcome"):
            self.outcome_rows.append(found["data-outcome"] or "")
        elif tag == "section":
            self._section = found.get("id")
            self.sections[self._section or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        self.handle_data(" ")
        if tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._section is not None:
            self.sections[self._section] += data

    def text(self, section: str) -> str:
        """The section's words with runs of white space made single, as a reader sees them."""
        return " ".join(self.sections[section].split())


def _last_night(nights: int) -> date:
    return protocol().baseline_start + timedelta(days=nights - 1)


@functools.cache
def _trial(case: str) -> tuple[TrialAnalysis, tuple[NightEntry, ...]]:
    trial = protocol()
    count = FULL_TRIAL_NIGHTS if case == "improved" else SHORT_TRIAL_NIGHTS
    nights = diary(IMPROVED_SEED, trial, count, effect_min=IMPROVED_EFFECT_MIN)
    return analyse(trial, nights, as_of=_last_night(count)), tuple(nights)


@functools.cache
def _html(case: str, lang: Lang) -> str:
    analysis, nights = _trial(case)
    return render_html(analysis, nights, lang)


def _page(case: str, lang: Lang) -> Page:
    return Page(_html(case, lang))


def test_the_simulated_diaries_give_the_verdicts_the_tests_expect():
    assert _trial("improved")[0].verdict is Verdict.improved
    assert _trial("short")[0].verdict is Verdict.not_enough_data


CASES = [
    pytest.param(case, lang, id=f"{case}-{lang}")
    for case in ("improved", "short")
    for lang in ("en", "nl")
]


@pytest.mark.parametrize(("case", "lang"), CASES)
def test_the_page_says_its_language(case, lang):
    assert _page(case, lang).lang == lang


@pytest.mark.parametrize(("case", "lang"), CASES)
def test_every_outcome_has_a_row(case, lang):
    assert sorted(_page(case, lang).outcome_rows) == sorted(o.value for o in Outcome)


@pytest.mark.parametrize(("case", "lang"), CASES)
def test_the_charts_are_inline_svgs_named_for_screen_readers(case, lang):
    images = _page(case, lang).images
    assert len(images) == 2 * len(Outcome)
    html = _html(case, lang)
    for labelled_by in images:
        title, summary = labelled_by.split()
        assert f'<title id="{title}">' in html
        assert f'<desc id="{summary}">' in html


@pytest.mark.parametrize(("case", "lang"), CASES)
def test_the_page_links_to_nothing_outside(case, lang):
    html = _html(case, lang)
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert "<link" not in html


@pytest.mark.parametrize(("case", "lang"), CASES)
def test_the_page_prints_on_its_own(case, lang):
    assert "@media print" in _html(case, lang)


def test_an_improvement_is_called_so_in_plain_words():
    page = _page("improved", "en")
    verdict = page.text("verdict")
    assert "Improved: on magnesium your time to fall asleep was better than at baseline." in verdict
    assert "95% interval" in verdict
    assert "the smallest change that matters" in verdict


def test_a_short_diary_says_how_many_more_nights_would_settle_it():
    analysis, _ = _trial("short")
    verdict = _page("short", "en").text("verdict")
    assert "Not enough data yet for a verdict on your time to fall asleep." in verdict
    assert f"At least {analysis.more_nights_needed} more nights are needed" in verdict


def test_the_table_row_carries_the_numbers_and_the_verdict():
    analysis, _ = _trial("improved")
    result = analysis.outcomes[Outcome.sleep_latency_min.value]
    table = _page("improved", "en").text("outcomes")
    assert f"{result.baseline_mean:.1f}" in table
    assert f"{result.difference:+.1f}" in table
    assert "20 min AASM 2021" in table  # the smallest change that matters, published
    assert "0.5 points mgsleep's own" in table  # and where none is published, said so


def test_an_ab_trial_shows_the_trend_check_and_names_the_method():
    page = _page("improved", "en")
    assert "with a straight-line time trend" in page.text("trend")
    method = page.text("method")
    assert "AR(1)" in method
    assert "generalised least squares" in method
    assert "t distribution" in method


def test_what_this_cannot_prove_is_spelled_out_in_english():
    section = _page("improved", "en").text("cannot-prove")
    assert section.startswith(CANNOT_PROVE_HEADING)
    for caveat in ("No placebo", "Expectation", "Regression to the mean", "Other changes"):
        assert caveat in section
    assert "One person only" in section


def test_nights_adherence_and_sources_are_reported():
    analysis, _ = _trial("improved")
    page = _page("improved", "en")
    nights = page.text("nights")
    assert "Nights logged: baseline 14" in nights
    assert "Nights logged: magnesium 28" in nights
    assert "100%" in nights
    html = _html("improved", "en")
    for key in analysis.citations:
        assert key in html


def test_an_abab_trial_lists_the_washout_and_keeps_the_trend_in_the_model():
    trial = protocol(design="abab")
    count = 4 * trial.period_days + trial.washout_days
    nights = diary(IMPROVED_SEED, trial, count, effect_min=IMPROVED_EFFECT_MIN)
    analysis = analyse(trial, nights, as_of=trial.baseline_start + timedelta(days=count - 1))
    page = Page(render_html(analysis, nights, "en"))
    assert "Nights logged: washout 14" in page.text("nights")
    assert "trend" not in page.sections
    assert "a straight-line time trend is part of the model" in page.text("method")


def test_a_questionnaire_change_is_shown_when_present():
    analysis, nights = _trial("improved")
    with_isi = analysis.model_copy(
        update={
            "questionnaire": QuestionnaireChange(
                instrument="isi",
                first_date=analysis.protocol.baseline_start,
                first_total=17,
                last_date=analysis.as_of,
                last_total=9,
                change_points=-8,
                smallest_change=6,
                meaningful=True,
            )
        }
    )
    section = Page(render_html(with_isi, nights, "en")).text("questionnaire")
    assert "Insomnia Severity Index (ISI): 17 points" in section
    assert "a change of -8 points" in section
    assert "This is a change that matters." in section


# --- Dutch: runs once the catalog carries the report's sentences ------------------------------


def test_what_this_cannot_prove_is_spelled_out_in_dutch():
    section = _page("improved", "nl").text("cannot-prove")
    assert section.startswith("Wat dit niet kan bewijzen")
    for caveat in ("Geen placebo", "Verwachting", "Regressie naar het gemiddelde"):
        assert caveat in section
    assert "Maar één persoon" in section


def test_the_dutch_verdicts_are_in_plain_dutch():
    improved = _page("improved", "nl").text("verdict")
    assert (
        "Verbeterd: met magnesium was uw tijd tot inslapen beter dan in de nulmeting." in improved
    )
    short = _page("short", "nl").text("verdict")
    assert "Nog te weinig gegevens voor een oordeel over uw tijd tot inslapen." in short
    assert "Voor een oordeel zijn nog minstens" in short


def test_dutch_numbers_have_a_decimal_comma():
    table = _page("improved", "nl").text("outcomes")
    assert re.search(r"\d,\d", table)
    assert not re.search(r"\d\.\d", table)


# --- the charts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_all_charts_are_small_valid_svgs_for_every_outcome(lang):
    analysis, nights = _trial("improved")
    charts = all_charts(analysis, nights, lang)
    expected = {chart_filename(o, kind) for o in Outcome for kind in ("series", "distribution")}
    assert set(charts) == expected
    assert "sleep_latency_min-series.svg" in charts
    for chart in charts.values():
        root = ElementTree.fromstring(chart.document())  # noqa: S314 - our own output
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(chart.svg) < MAX_CHART_BYTES
        assert float(root.attrib["viewBox"].split()[2]) <= MAX_VIEW_BOX_WIDTH
        sizes = [
            float(t.attrib["font-size"]) for t in root.iter("{http://www.w3.org/2000/svg}text")
        ]
        assert sizes
        assert min(sizes) >= MIN_FONT_UNITS
        assert chart.summary


def test_a_flat_outcome_is_not_magnified():
    """Twenty minutes every night is drawn on a sensible scale, not on 19.95 to 20.05."""
    axis = value_axis(Outcome.waso_min, [20.0] * 30)
    assert axis.high - axis.low >= MIN_AXIS_SPAN[Outcome.waso_min]
    assert axis.low <= 20 <= axis.high
    assert all(float(tick).is_integer() for tick in axis.ticks)


@pytest.mark.parametrize(
    ("outcome", "values"),
    [
        (Outcome.sleep_efficiency_pct, [97.0, 99.0, 100.0]),
        (Outcome.quality, [1.0, 1.0, 2.0]),
        (Outcome.sleep_latency_min, [0.0, 2.0, 5.0]),
    ],
)
def test_an_axis_stays_where_the_values_can_be(outcome, values):
    axis = value_axis(outcome, values)
    floor, ceiling = AXIS_LIMITS[outcome]
    assert axis.low >= floor
    assert ceiling is None or axis.high <= ceiling
    assert axis.low <= min(values)
    assert axis.high >= max(values)


def test_the_charts_are_the_same_every_time():
    analysis, nights = _trial("improved")
    assert all_charts(analysis, nights, "en") == all_charts(analysis, nights, "en")


def test_an_outcome_without_nights_gets_no_chart():
    trial = protocol()
    nights = [
        night.model_copy(update={"quality": None})
        for night in diary(IMPROVED_SEED, trial, FULL_TRIAL_NIGHTS, effect_min=-15)
    ]
    analysis = analyse(trial, nights, as_of=_last_night(FULL_TRIAL_NIGHTS))
    charts = all_charts(analysis, nights, "en")
    assert chart_filename(Outcome.quality, "series") not in charts
    assert chart_filename(Outcome.sleep_latency_min, "series") in charts


SVG = "{http://www.w3.org/2000/svg}"


def _year_of_short_periods() -> tuple[TrialAnalysis, list[NightEntry]]:
    # Twelve pairs of fortnights over a year: every band far too narrow for its name.
    trial = protocol(0, "abba", pairs=12, period_nights=14, washout_days=2, seed=7)
    nights = diary(7, trial, trial.planned_nights() or 0, effect_min=-12)
    end = trial.scheduled_end()
    assert end is not None
    return analyse(trial, nights, as_of=end - timedelta(days=1)), nights


def _texts(document: str) -> list[tuple[str, float]]:
    root = ElementTree.fromstring(document)  # noqa: S314 - our own output
    return [(t.text or "", float(t.attrib["y"])) for t in root.iter(f"{SVG}text")]


def test_a_year_of_nights_is_a_few_elements_not_one_a_night():
    analysis, nights = _year_of_short_periods()
    chart = all_charts(analysis, nights, "en")["sleep_latency_min-series.svg"]
    root = ElementTree.fromstring(chart.document())  # noqa: S314 - our own output
    assert len(list(root.iter())) < 150
    # Each night is still drawn: one circle (two arcs) a night, in the nights' paths.
    arcs = sum(p.attrib["d"].count("a") for p in root.iter(f"{SVG}path"))
    assert arcs == 2 * len(nights)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_phase_is_named_even_when_its_band_is_too_narrow(lang):
    analysis, nights = _year_of_short_periods()
    chart = all_charts(analysis, nights, lang)["sleep_latency_min-series.svg"]
    words = {text for text, _y in _texts(chart.document())}
    names = translations(lang).gettext
    assert {names("Magnesium"), names("Washout")} <= words
    assert any("rect" in part and 'width="12"' in part for part in chart.svg.split("<")[1:])


def test_a_phase_named_on_its_band_is_not_named_again_below():
    analysis, nights = _trial("improved")  # A-B, 14 + 28 nights: both names fit
    chart = all_charts(analysis, nights, "en")["sleep_latency_min-series.svg"]
    assert [text for text, _y in _texts(chart.document())].count("Magnesium") == 1


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_legend_is_below_the_group_counts_and_inside_the_drawing(lang):
    analysis, nights = _trial("improved")
    for name, chart in all_charts(analysis, nights, lang).items():
        root = ElementTree.fromstring(chart.document())  # noqa: S314 - our own output
        height = float(root.attrib["viewBox"].split()[3])
        texts = _texts(chart.document())
        assert max(y for _text, y in texts) <= height - 4, name
        if name.endswith("distribution.svg"):
            counts = [y for text, y in texts if text.startswith("n = ")]
            legend = [y for text, y in texts if text == translations(lang).gettext("Median")]
            assert legend, name
            assert min(legend) > max(counts) + 10, name

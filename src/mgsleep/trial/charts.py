"""Charts for the trial report, drawn as SVG from the nightly values.

An SVG is text: a few kilobytes, drawn in milliseconds without a plotting library in the
request path, sharp at any size and readable by a screen reader (a title and a summary in
words). The drawing is sized for a phone: the view box is 400 units wide and the text 15 to
16 units, so on a phone, where a chart is about 320 px wide, no label is under 12 px; pages
cap a chart's width, so on a wide screen the text grows to at most about 19 px. The same
nights always give the same picture (the dots' spread is seeded).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Literal

from babel.dates import format_date

from mgsleep.diary.night import NightEntry, metrics, one_per_night
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.trial.analysis import TrialAnalysis, outcome_value
from mgsleep.trial.labels import outcome_name, outcome_unit, phase_name
from mgsleep.trial.protocol import Outcome, Phase, TrialProtocol

ChartKind = Literal["series", "distribution", "diary"]
# The trial's two charts per outcome ("diary" is the diary page's own).
CHART_KINDS: tuple[ChartKind, ...] = ("series", "distribution")

# View boxes in SVG units; shown at most about 1.6 times this wide on a desktop page.
SERIES_SIZE = (400, 260)
DISTRIBUTION_SIZE = (400, 280)
FONT_SIZE = 16
SMALL_FONT_SIZE = 15
# Average glyph width of the small font, for laying out the legend without measuring text.
SMALL_CHAR_WIDTH = 0.55 * SMALL_FONT_SIZE
# Generous for the legend: a label that runs into the next entry cannot be read.
LEGEND_CHAR_WIDTH = 0.62 * SMALL_FONT_SIZE
MARGIN_LEFT = 58
MARGIN_RIGHT = 12
MARGIN_TOP = 48  # the axis title, then the phase names, above the plot: never on the dots
MARGIN_BOTTOM = 66  # date labels, then the legend
LEGEND_GAP = 38  # the first legend row's baseline below the plot, under the date labels
DISTRIBUTION_LEGEND_GAP = 60  # under the groups' names and counts
LEGEND_DESCENT = 8  # below the last row's baseline
ROLLING_NIGHTS = 7
# An average of one or two nights jumps about more than it tells.
ROLLING_MIN_NIGHTS = 3
MAX_DATE_TICKS = 5
MAX_VALUE_TICKS = 5
JITTER_SEED = 20260105
JITTER_HALF_WIDTH = 0.12
BOX_HALF_WIDTH = 0.25
# The smallest range of values an axis spans, per outcome: a flat run of nights at 20 min is
# drawn on 15–25, not on a magnified 19.95–20.05 that makes noise look like change.
MIN_AXIS_SPAN = {
    Outcome.sleep_latency_min: 10.0,
    Outcome.total_sleep_min: 60.0,
    Outcome.sleep_efficiency_pct: 10.0,
    Outcome.waso_min: 10.0,
    Outcome.quality: 4.0,
}
# Where the values of an outcome can lie at all: an axis never runs below zero minutes.
AXIS_LIMITS = {
    Outcome.sleep_latency_min: (0.0, None),
    Outcome.total_sleep_min: (0.0, None),
    Outcome.sleep_efficiency_pct: (0.0, 100.0),
    Outcome.waso_min: (0.0, None),
    Outcome.quality: (1.0, 5.0),
}

PHASE_FILL = {
    Phase.baseline: "#dfe7f1",
    Phase.magnesium: "#dcefd8",
    Phase.washout: "#eeeeee",
}
NIGHT_COLOUR = "#2f4b7c"
WASHOUT_NIGHT_COLOUR = "#767676"
AVERAGE_COLOUR = "#b03a2e"
INK = "#333333"
GRID = "#d0d0d0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class NightPoint:
    night: date
    phase: Phase | None  # None outside a trial (the diary's own chart)
    value: float


@dataclass(frozen=True)
class PhaseSpan:
    """Consecutive nights in one phase; an A-B-A-B trial has two spans per counted phase.
    A span without a phase is the diary's own stretch of nights, outside any trial."""

    phase: Phase | None
    first: date
    last: date


@dataclass(frozen=True)
class Chart:
    """One drawn chart: the SVG, and in words what it shows (for a caption and for people
    who cannot see it)."""

    outcome: Outcome
    kind: ChartKind
    svg: str  # to put inside an HTML page (which needs no namespace)
    summary: str

    def document(self) -> str:
        """The chart as an .svg file of its own."""
        return '<?xml version="1.0" encoding="utf-8"?>\n' + self.svg.replace(
            "<svg ", f'<svg xmlns="{SVG_NAMESPACE}" ', 1
        )


def phase_label(protocol: TrialProtocol, phase: Phase, lang: Lang) -> str:
    """A phase's name in this trial: the control of a blinded trial is the placebo, and a
    randomised trial's diary-only nights are its run-in and washouts."""
    _ = translations(lang).gettext
    if protocol.blinded and phase is Phase.baseline:
        return _("Placebo")
    if protocol.randomised and phase is Phase.washout and protocol.run_in_nights:
        return _("Run-in or washout")
    return phase_name(phase, lang)


def chart_filename(outcome: Outcome, kind: ChartKind) -> str:
    return f"{outcome.value}-{kind}.svg"


def all_charts(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], lang: Lang
) -> dict[str, Chart]:
    """Both charts for every outcome with at least one night in the trial, by file name."""
    charts: dict[str, Chart] = {}
    for outcome in Outcome:
        points = trial_points(analysis, nights, outcome)
        if not points:
            continue
        for chart in (
            series_chart(analysis, points, outcome, lang),
            distribution_chart(analysis, points, outcome, lang),
        ):
            charts[chart_filename(outcome, chart.kind)] = chart
    return charts


def trial_points(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], outcome: Outcome
) -> list[NightPoint]:
    """The outcome's nightly values inside the trial, up to the day the analysis counted."""
    protocol = analysis.protocol
    points = []
    # The same nights the analysis counted: one per date, the hand entry first.
    for entry in one_per_night(list(nights)):
        phase = protocol.phase_of(entry.date)
        if phase is None or entry.date > analysis.as_of:
            continue
        value = outcome_value(metrics(entry), outcome)
        if value is not None:
            points.append(NightPoint(night=entry.date, phase=phase, value=value))
    return points


def phase_spans(analysis: TrialAnalysis) -> list[PhaseSpan]:
    """The phases by date, up to the trial's end or the day the analysis counted."""
    protocol = analysis.protocol
    end = protocol.scheduled_end()
    last = analysis.as_of if end is None else min(analysis.as_of, end - timedelta(days=1))
    spans: list[PhaseSpan] = []
    night = protocol.baseline_start
    while night <= last:
        phase = protocol.phase_of(night)
        if phase is not None:
            if spans and spans[-1].phase is phase:
                spans[-1] = PhaseSpan(phase=phase, first=spans[-1].first, last=night)
            else:
                spans.append(PhaseSpan(phase=phase, first=night, last=night))
        night += timedelta(days=1)
    return spans


def rolling_average(points: Sequence[NightPoint]) -> tuple[list[date], list[float]]:
    """The mean of the nights logged in the last ROLLING_NIGHTS calendar days, so a missed
    night does not stretch the window back over weeks."""
    nights: list[date] = []
    averages: list[float] = []
    for point in points:
        since = point.night - timedelta(days=ROLLING_NIGHTS - 1)
        window = [p.value for p in points if since <= p.night <= point.night]
        if len(window) >= ROLLING_MIN_NIGHTS:
            nights.append(point.night)
            averages.append(sum(window) / len(window))
    return nights, averages


# --- axes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueAxis:
    low: float
    high: float
    ticks: tuple[float, ...]


def value_axis(outcome: Outcome, values: Sequence[float]) -> ValueAxis:
    """Round ticks (steps of 1, 2 or 5 times a power of ten) around the values, spanning at
    least the outcome's smallest sensible range and never past where its values can lie."""
    floor, ceiling = AXIS_LIMITS[outcome]
    low, high = (min(values), max(values)) if values else (floor, floor + MIN_AXIS_SPAN[outcome])
    missing = MIN_AXIS_SPAN[outcome] - (high - low)
    if missing > 0:
        low, high = low - missing / 2, high + missing / 2
    if low < floor:
        low, high = floor, high + (floor - low)
    if ceiling is not None and high > ceiling:
        low, high = max(floor, low - (high - ceiling)), ceiling
    step = _nice_step((high - low) / (MAX_VALUE_TICKS - 1))
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    count = round((last - first) / step)
    ticks = tuple(round(first + i * step, 10) for i in range(count + 1))
    return ValueAxis(low=first, high=last, ticks=ticks)


def _nice_step(rough: float) -> float:
    magnitude = 10 ** math.floor(math.log10(rough)) if rough > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if rough <= factor * magnitude:
            return float(factor * magnitude)
    return 10 * magnitude


def date_ticks(first: date, last: date) -> list[date]:
    """Whole weeks from the first night, at most MAX_DATE_TICKS of them."""
    days = (last - first).days
    weeks_per_tick = max(1, math.ceil((days + 1) / (7 * MAX_DATE_TICKS)))
    return [first + timedelta(days=d) for d in range(0, days + 1, 7 * weeks_per_tick)]


@dataclass(frozen=True)
class Frame:
    """Maps nights and values onto the drawing."""

    width: float
    height: float
    first: date
    last: date
    axis: ValueAxis

    @property
    def left(self) -> float:
        return MARGIN_LEFT

    @property
    def right(self) -> float:
        return self.width - MARGIN_RIGHT

    @property
    def top(self) -> float:
        return MARGIN_TOP

    @property
    def bottom(self) -> float:
        return self.height - MARGIN_BOTTOM

    def x(self, position: float) -> float:
        """`position` in days from the first night (or a group number, see `groups`)."""
        days = max((self.last - self.first).days, 1)
        usable = self.right - self.left
        return self.left + usable * (position + 0.5) / (days + 1)

    def y(self, value: float) -> float:
        span = (self.axis.high - self.axis.low) or 1.0
        return self.bottom - (self.bottom - self.top) * (value - self.axis.low) / span


# --- the series chart -------------------------------------------------------------------------


def series_chart(
    analysis: TrialAnalysis, points: Sequence[NightPoint], outcome: Outcome, lang: Lang
) -> Chart:
    """Night by night over the trial dates, phases shaded, with a rolling average."""
    _ = translations(lang).gettext
    spans = phase_spans(analysis)
    first = analysis.protocol.baseline_start
    last = spans[-1].last if spans else first
    frame = Frame(*SERIES_SIZE, first, last, value_axis(outcome, [p.value for p in points]))
    title = _("{outcome}, night by night").format(outcome=outcome_name(outcome, lang))
    names = {phase: phase_label(analysis.protocol, phase, lang) for phase in Phase}
    parts, all_named = _phase_bands(frame, spans, names)
    # Bands too narrow for their names (short periods over a long trial) are named below.
    shown = list(dict.fromkeys(span.phase for span in spans if span.phase is not None))
    swatches = [] if all_named else [(names[phase], f"band:{phase.value}") for phase in shown]
    nightly, height = _nightly_parts(frame, points, spans, outcome, lang, swatches)
    summary = _series_summary(analysis, points, outcome, lang)
    svg = _svg(frame, title, summary, [*parts, *nightly], outcome, "series", height)
    return Chart(outcome, "series", svg, summary)


def diary_chart(
    nights: Sequence[NightEntry], outcome: Outcome, first: date, last: date, lang: Lang
) -> Chart:
    """The diary's last weeks, night by night with the rolling average: a trend at a glance
    on the diary page, drawn like the trial's charts (and as legible on a phone)."""
    _ = translations(lang).gettext
    points = [
        NightPoint(night=entry.date, phase=None, value=value)
        for entry in one_per_night(list(nights))
        if first <= entry.date <= last
        and (value := outcome_value(metrics(entry), outcome)) is not None
    ]
    frame = Frame(*SERIES_SIZE, first, last, value_axis(outcome, [p.value for p in points]))
    title = _("{outcome}, night by night").format(outcome=outcome_name(outcome, lang))
    parts, height = _nightly_parts(frame, points, [PhaseSpan(None, first, last)], outcome, lang)
    summary = _diary_summary(points, outcome, lang)
    svg = _svg(frame, title, summary, parts, outcome, "diary", height)
    return Chart(outcome, "diary", svg, summary)


def _nightly_parts(
    frame: Frame,
    points: Sequence[NightPoint],
    spans: Sequence[PhaseSpan],
    outcome: Outcome,
    lang: Lang,
    swatches: Sequence[tuple[str, str]] = (),
) -> tuple[list[str], float]:
    """The grid, the dates, the rolling average per span, the nights, the legend (with
    `swatches` after it), the title; and the height the drawing needs."""
    _ = translations(lang).gettext
    parts = [*_value_grid(frame, lang), *_date_labels(frame, lang)]
    parts += _rolling_lines(frame, points, spans)
    parts += _night_dots(frame, points)
    legend = [
        (_("Night"), "dot"),
        (_("Average of the last {count} nights").format(count=ROLLING_NIGHTS), "line"),
    ]
    if any(p.phase is Phase.washout for p in points):
        legend.insert(1, (_("Washout night (not counted)"), "ring"))
    marks, height = _legend(frame, [*legend, *swatches])
    parts += marks
    parts.append(_axis_title(frame, outcome, lang))
    return parts, height


def _diary_summary(points: Sequence[NightPoint], outcome: Outcome, lang: Lang) -> str:
    _ = translations(lang).gettext
    if not points:
        return _("No nights logged in these weeks.")
    recent = [p.value for p in points[-ROLLING_NIGHTS:]]
    return format_number(
        lang,
        _(
            "{count} nights logged. Over all of them {mean:.0f} {unit} on average; over the "
            "last {recent} logged, {recent_mean:.0f} {unit}."
        ),
        count=len(points),
        mean=sum(p.value for p in points) / len(points),
        unit=outcome_unit(outcome, lang),
        recent=len(recent),
        recent_mean=sum(recent) / len(recent),
    )


def _phase_bands(
    frame: Frame, spans: Sequence[PhaseSpan], names: dict[Phase, str]
) -> tuple[list[str], bool]:
    """The shaded phases, each named above it where its name fits; and whether all fitted."""
    parts = []
    all_named = True
    for span in spans:
        if span.phase is None:
            continue
        left = frame.x((span.first - frame.first).days - 0.5)
        right = frame.x((span.last - frame.first).days + 0.5)
        parts.append(
            f'<rect x="{left:.1f}" y="{frame.top:.1f}" width="{right - left:.1f}" '
            f'height="{frame.bottom - frame.top:.1f}" fill="{PHASE_FILL[span.phase]}"/>'
        )
        # A name wider than its band would run into the next one.
        if right - left > SMALL_CHAR_WIDTH * len(names[span.phase]):
            name = names[span.phase]
            parts.append(_text((left + right) / 2, frame.top - 8, name, "middle", SMALL_FONT_SIZE))
        else:
            all_named = False
    return parts, all_named


def _value_grid(frame: Frame, lang: Lang) -> list[str]:
    parts = []
    for tick in frame.axis.ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(frame.left - 6, y + 5, format_number(lang, "{:g}", tick), "end"))
    return parts


def _date_labels(frame: Frame, lang: Lang) -> list[str]:
    parts = []
    for tick in date_ticks(frame.first, frame.last):
        x = frame.x((tick - frame.first).days)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.bottom:.1f}" '
            f'y2="{frame.bottom + 5:.1f}" stroke="{INK}"/>'
        )
        parts.append(_text(x, frame.bottom + 21, format_date(tick, "d MMM", locale=lang), "middle"))
    parts.append(
        f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{frame.bottom:.1f}" '
        f'y2="{frame.bottom:.1f}" stroke="{INK}"/>'
    )
    return parts


def _rolling_lines(
    frame: Frame, points: Sequence[NightPoint], spans: Sequence[PhaseSpan]
) -> list[str]:
    """One line per counted span: an average reaching across a switch would smear the step
    that the analysis measures, and suggest a change before magnesium started."""
    parts = []
    for span in spans:
        if span.phase is Phase.washout:
            continue
        nights, averages = rolling_average(
            [p for p in points if span.first <= p.night <= span.last]
        )
        if len(nights) < 2:
            continue
        coordinates = " ".join(
            f"{frame.x((n - frame.first).days):.1f},{frame.y(v):.1f}"
            for n, v in zip(nights, averages, strict=True)
        )
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{AVERAGE_COLOUR}" '
            'stroke-width="2.5" stroke-linejoin="round"/>'
        )
    return parts


def _dots(centres: Sequence[tuple[float, float]], radius: float) -> str:
    """Path data for a circle at each centre. One path for many dots, not a <circle> each: a
    year of nights is then a few elements, not thousands, which a browser and the PDF
    renderer parse, style and draw many times faster; the dots look the same."""
    r = f"{radius:g}"
    return "".join(
        f"M{x - radius:.1f} {y:.1f}a{r} {r} 0 1 0 {2 * radius:g} 0a{r} {r} 0 1 0 {-2 * radius:g} 0"
        for x, y in centres
    )


def _night_dots(frame: Frame, points: Sequence[NightPoint]) -> list[str]:
    counted: list[tuple[float, float]] = []
    washout: list[tuple[float, float]] = []
    for point in points:
        centre = (frame.x((point.night - frame.first).days), frame.y(point.value))
        (washout if point.phase is Phase.washout else counted).append(centre)
    parts: list[str] = []
    if counted:
        parts.append(f'<path d="{_dots(counted, 3.5)}" fill="{NIGHT_COLOUR}"/>')
    if washout:
        parts.append(
            f'<path d="{_dots(washout, 3.5)}" fill="none" stroke="{WASHOUT_NIGHT_COLOUR}" '
            'stroke-width="1.5"/>'
        )
    return parts


def _series_summary(
    analysis: TrialAnalysis, points: Sequence[NightPoint], outcome: Outcome, lang: Lang
) -> str:
    _ = translations(lang).gettext
    result = analysis.outcomes[outcome.value]
    unit = outcome_unit(outcome, lang)
    sentences = [
        _("{count} nights logged.").format(count=len(points)),
    ]
    for phase, mean in (
        (Phase.baseline, result.baseline_mean),
        (Phase.magnesium, result.magnesium_mean),
    ):
        nights = sum(1 for p in points if p.phase is phase)
        if mean is not None:
            sentences.append(
                format_number(
                    lang,
                    _("{phase}: on average {mean:.1f} {unit} over {nights} nights."),
                    phase=phase_label(analysis.protocol, phase, lang),
                    mean=mean,
                    unit=unit,
                    nights=nights,
                )
            )
    return " ".join(sentences)


# --- the distribution chart -------------------------------------------------------------------


@dataclass(frozen=True)
class BoxStats:
    low_whisker: float
    q1: float
    median: float
    q3: float
    high_whisker: float


def box_stats(values: Sequence[float]) -> BoxStats:
    """Quartiles (linear interpolation) and whiskers to the furthest night within 1.5 times
    the box's height, as box plots conventionally draw them."""
    ordered = sorted(values)
    q1, median, q3 = (_quantile(ordered, q) for q in (0.25, 0.5, 0.75))
    reach = 1.5 * (q3 - q1)
    low = min(v for v in ordered if v >= q1 - reach)
    high = max(v for v in ordered if v <= q3 + reach)
    return BoxStats(low, q1, median, q3, high)


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def distribution_chart(
    analysis: TrialAnalysis, points: Sequence[NightPoint], outcome: Outcome, lang: Lang
) -> Chart:
    """Baseline against magnesium: box plots, every night as a dot, the averages marked."""
    _ = translations(lang).gettext
    result = analysis.outcomes[outcome.value]
    groups = [
        (
            Phase.baseline,
            [p.value for p in points if p.phase is Phase.baseline],
            result.baseline_mean,
        ),
        (
            Phase.magnesium,
            [p.value for p in points if p.phase is Phase.magnesium],
            result.magnesium_mean,
        ),
    ]
    counted = [value for _phase, values, _mean in groups for value in values]
    width, height = DISTRIBUTION_SIZE
    # Two groups on a "day" scale of 0..1: the frame's x() puts them at a quarter and three.
    first = analysis.protocol.baseline_start
    frame = Frame(width, height, first, first + timedelta(days=1), value_axis(outcome, counted))
    names = {phase: phase_label(analysis.protocol, phase, lang) for phase in Phase}
    title = _("{outcome}: {control} and magnesium").format(
        outcome=outcome_name(outcome, lang), control=names[Phase.baseline].lower()
    )
    parts = _value_grid(frame, lang)
    jitter = random.Random(JITTER_SEED)  # noqa: S311 - a fixed spread of dots, not a secret
    for position, (phase, values, mean) in enumerate(groups):
        parts += _group(frame, position, phase, names[phase], values, mean, jitter, lang)
    entries = [(_("Night"), "dot"), (_("Average"), "diamond"), (_("Median"), "bar")]
    # Below the groups' names and counts, not on top of them.
    marks, drawn = _legend(frame, entries, first_row_y=frame.bottom + DISTRIBUTION_LEGEND_GAP)
    parts += marks
    parts.append(_axis_title(frame, outcome, lang))
    summary = _distribution_summary(groups, names, outcome, lang)
    svg = _svg(frame, title, summary, parts, outcome, "distribution", drawn)
    return Chart(outcome, "distribution", svg, summary)


def _group(
    frame: Frame,
    position: int,
    phase: Phase,
    name: str,
    values: Sequence[float],
    mean: float | None,
    jitter: random.Random,
    lang: Lang,
) -> list[str]:
    centre = frame.x(position)
    half = BOX_HALF_WIDTH * (frame.x(1) - frame.x(0))
    parts = [
        _text(centre, frame.bottom + 21, name, "middle"),
        _text(centre, frame.bottom + 38, f"n = {len(values)}", "middle", SMALL_FONT_SIZE),
    ]
    if not values:
        return parts
    stats = box_stats(values)
    y_q1, y_q3 = frame.y(stats.q1), frame.y(stats.q3)
    parts += [
        f'<line x1="{centre:.1f}" x2="{centre:.1f}" y1="{frame.y(stats.low_whisker):.1f}" '
        f'y2="{frame.y(stats.high_whisker):.1f}" stroke="{INK}"/>',
        f'<rect x="{centre - half:.1f}" y="{y_q3:.1f}" width="{2 * half:.1f}" '
        f'height="{max(y_q1 - y_q3, 1):.1f}" fill="{PHASE_FILL[phase]}" stroke="{INK}"/>',
        f'<line x1="{centre - half:.1f}" x2="{centre + half:.1f}" '
        f'y1="{frame.y(stats.median):.1f}" y2="{frame.y(stats.median):.1f}" stroke="{INK}" '
        'stroke-width="2.5"/>',
    ]
    spread = 2 * half / 0.5
    centres = [
        (centre + jitter.uniform(-JITTER_HALF_WIDTH, JITTER_HALF_WIDTH) * spread, frame.y(value))
        for value in values
    ]
    # One path fills overlapping dots once; a thin white edge keeps each one apart.
    parts.append(
        f'<path d="{_dots(centres, 3)}" fill="{NIGHT_COLOUR}" fill-opacity="0.7" '
        'stroke="#ffffff" stroke-width="0.6"/>'
    )
    if mean is not None:
        parts.append(_diamond(centre, frame.y(mean)))
        parts.append(
            _text(
                centre + half + 6,
                frame.y(mean) + 5,
                format_number(lang, "{:.1f}", mean),
                "start",
                colour=AVERAGE_COLOUR,
            )
        )
    return parts


def _distribution_summary(
    groups: Sequence[tuple[Phase, Sequence[float], float | None]],
    names: dict[Phase, str],
    outcome: Outcome,
    lang: Lang,
) -> str:
    _ = translations(lang).gettext
    unit = outcome_unit(outcome, lang)
    sentences = []
    for phase, values, mean in groups:
        if not values or mean is None:
            sentences.append(_("{phase}: no nights yet.").format(phase=names[phase]))
            continue
        stats = box_stats(values)
        sentences.append(
            format_number(
                lang,
                _(
                    "{phase}: {nights} nights, average {mean:.1f} {unit}, middle half from "
                    "{q1:.1f} to {q3:.1f}."
                ),
                phase=names[phase],
                nights=len(values),
                mean=mean,
                unit=unit,
                q1=stats.q1,
                q3=stats.q3,
            )
        )
    return " ".join(sentences)


# --- shared -----------------------------------------------------------------------------------


def _text(
    x: float,
    y: float,
    content: str,
    anchor: str,
    size: int = FONT_SIZE,
    colour: str = INK,
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{colour}">{escape(content)}</text>'
    )


def _diamond(x: float, y: float, size: float = 6) -> str:
    return (
        f'<path d="M{x:.1f} {y - size:.1f}L{x + size:.1f} {y:.1f}L{x:.1f} {y + size:.1f}'
        f'L{x - size:.1f} {y:.1f}Z" fill="{AVERAGE_COLOUR}"/>'
    )


def _legend(
    frame: Frame, entries: Sequence[tuple[str, str]], *, first_row_y: float | None = None
) -> tuple[list[str], float]:
    """The entries under the plot, in rows as wide as it; and the height the drawing needs
    for them (more rows than the frame has room for make it taller, never cut off)."""
    parts = []
    y = frame.bottom + LEGEND_GAP if first_row_y is None else first_row_y
    x = frame.left
    for label, mark in entries:
        if x > frame.left and x + 16 + LEGEND_CHAR_WIDTH * len(label) > frame.right:
            x, y = frame.left, y + 18
        if mark == "dot":
            parts.append(
                f'<circle cx="{x + 5:.1f}" cy="{y - 5:.1f}" r="3.5" fill="{NIGHT_COLOUR}"/>'
            )
        elif mark == "ring":
            parts.append(
                f'<circle cx="{x + 5:.1f}" cy="{y - 5:.1f}" r="3.5" fill="none" '
                f'stroke="{WASHOUT_NIGHT_COLOUR}" stroke-width="1.5"/>'
            )
        elif mark == "diamond":
            parts.append(_diamond(x + 5, y - 5, 5))
        elif mark.startswith("band:"):
            fill = PHASE_FILL[Phase(mark.removeprefix("band:"))]
            parts.append(
                f'<rect x="{x:.1f}" y="{y - 11:.1f}" width="12" height="12" fill="{fill}" '
                f'stroke="{WASHOUT_NIGHT_COLOUR}"/>'
            )
        else:
            colour = AVERAGE_COLOUR if mark == "line" else INK
            parts.append(
                f'<line x1="{x:.1f}" x2="{x + 12:.1f}" y1="{y - 5:.1f}" y2="{y - 5:.1f}" '
                f'stroke="{colour}" stroke-width="2.5"/>'
            )
        parts.append(_text(x + 16, y, label, "start", SMALL_FONT_SIZE))
        x += 16 + LEGEND_CHAR_WIDTH * len(label) + 14
    return parts, max(frame.height, y + LEGEND_DESCENT)


def _axis_title(frame: Frame, outcome: Outcome, lang: Lang) -> str:
    label = f"{outcome_name(outcome, lang)} ({outcome_unit(outcome, lang)})"
    return _text(8, 18, label, "start", SMALL_FONT_SIZE)


def _svg(
    frame: Frame,
    title: str,
    summary: str,
    parts: Sequence[str],
    outcome: Outcome,
    kind: str,
    height: float,
) -> str:
    ident = f"chart-{outcome.value.replace('_', '-')}-{kind}"
    return (
        f'<svg viewBox="0 0 {frame.width:.0f} '
        f'{height:.0f}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        'class="chart" font-family="system-ui, sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(summary)}</desc>' + "".join(parts) + "</svg>"
    )

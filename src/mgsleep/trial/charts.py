"""Charts for the trial report, returned as PNG bytes.

Each chart is drawn on its own `Figure` with an Agg canvas, never through pyplot: pyplot keeps
global state (the current figure, a registry of open figures) that is not thread-safe, and a
web server may draw several reports at once. Size, resolution and the jitter seed are fixed,
so the same nights give the same image, small enough to embed in a page.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
from babel.dates import format_date
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MultipleLocator

from mgsleep.diary.night import NightEntry, metrics, one_per_night
from mgsleep.i18n import Lang, format_number, translations
from mgsleep.trial.analysis import TrialAnalysis, outcome_value
from mgsleep.trial.labels import outcome_name, outcome_unit, phase_name
from mgsleep.trial.protocol import Outcome, Phase

ChartKind = Literal["series", "distribution"]
CHART_KINDS: tuple[ChartKind, ...] = ("series", "distribution")

SERIES_SIZE_IN = (7.5, 3.4)
DISTRIBUTION_SIZE_IN = (5.5, 3.6)
DPI = 100
FONT_SIZE_PT = 9
ROLLING_NIGHTS = 7
# An average of one or two nights jumps about more than it tells.
ROLLING_MIN_NIGHTS = 3
MAX_DATE_TICKS = 10
JITTER_SEED = 20260105
JITTER_HALF_WIDTH = 0.12
BOX_WIDTH = 0.5
# Room above the highest night for the phase names.
HEADROOM_FRACTION = 0.22

PHASE_FILL = {
    Phase.baseline: "#dfe7f1",
    Phase.magnesium: "#dcefd8",
    Phase.washout: "#eeeeee",
}
NIGHT_COLOUR = "#2f4b7c"
WASHOUT_NIGHT_COLOUR = "#9a9a9a"
AVERAGE_COLOUR = "#c0392b"
MEDIAN_COLOUR = "#333333"


@dataclass(frozen=True)
class NightPoint:
    night: date
    phase: Phase
    value: float


@dataclass(frozen=True)
class PhaseSpan:
    """Consecutive nights in one phase; an A-B-A-B trial has two spans per counted phase."""

    phase: Phase
    first: date
    last: date


def chart_filename(outcome: Outcome, kind: ChartKind) -> str:
    return f"{outcome.value}-{kind}.png"


def all_charts(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], lang: Lang
) -> dict[str, bytes]:
    """Both charts for every outcome with at least one night in the trial, by file name."""
    charts: dict[str, bytes] = {}
    for outcome in Outcome:
        if not trial_points(analysis, nights, outcome):
            continue
        charts[chart_filename(outcome, "series")] = series_chart(analysis, nights, outcome, lang)
        charts[chart_filename(outcome, "distribution")] = distribution_chart(
            analysis, nights, outcome, lang
        )
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


# --- the series chart -----------------------------------------------------------------------


def series_chart(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], outcome: Outcome, lang: Lang
) -> bytes:
    """Night by night over the trial dates, phases shaded, with a rolling average."""
    _ = translations(lang).gettext
    start = analysis.protocol.baseline_start
    points = trial_points(analysis, nights, outcome)
    spans = phase_spans(analysis)
    figure, axes = _figure(SERIES_SIZE_IN)
    _plot_nights(axes, points, start, lang)
    _plot_rolling_average(axes, points, spans, start, lang)
    _fit_values(axes, [p.value for p in points])
    _shade_phases(axes, spans, start, lang)
    _date_axis(axes, spans, start, lang)
    axes.set_xlabel(_("Night (date of the morning)"))
    axes.set_ylabel(_axis_label(outcome, lang))
    axes.yaxis.set_major_formatter(_number_formatter(lang))
    axes.set_title(_("{outcome}, night by night").format(outcome=outcome_name(outcome, lang)))
    if not points:
        _say_no_nights(axes, lang)
    else:
        figure.legend(loc="outside lower center", ncols=3, frameon=False)
    return _png(figure)


def _plot_nights(axes: Axes, points: Sequence[NightPoint], start: date, lang: Lang) -> None:
    _ = translations(lang).gettext
    counted = [p for p in points if p.phase is not Phase.washout]
    washout = [p for p in points if p.phase is Phase.washout]
    axes.scatter(
        [_offset(p.night, start) for p in counted],
        [p.value for p in counted],
        s=14,
        color=NIGHT_COLOUR,
        zorder=3,
        label=_("Night"),
    )
    if washout:
        axes.scatter(
            [_offset(p.night, start) for p in washout],
            [p.value for p in washout],
            s=14,
            facecolors="none",
            edgecolors=WASHOUT_NIGHT_COLOUR,
            zorder=3,
            label=_("Washout night (not counted)"),
        )


def _plot_rolling_average(
    axes: Axes, points: Sequence[NightPoint], spans: Sequence[PhaseSpan], start: date, lang: Lang
) -> None:
    """One line per counted span: an average reaching across a switch would smear the step
    that the analysis measures, and suggest a change before magnesium started."""
    _ = translations(lang).gettext
    label = _("Average of the last {count} nights").format(count=ROLLING_NIGHTS)
    for span in spans:
        if span.phase is Phase.washout:
            continue
        nights, averages = rolling_average(
            [p for p in points if span.first <= p.night <= span.last]
        )
        if nights:
            axes.plot(
                [_offset(night, start) for night in nights],
                averages,
                color=AVERAGE_COLOUR,
                linewidth=1.8,
                zorder=4,
                label=label,
            )
            label = "_"  # one legend entry for all spans


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


def _shade_phases(axes: Axes, spans: Sequence[PhaseSpan], start: date, lang: Lang) -> None:
    for span in spans:
        # Half a day either side, so a span covers its first and last night's dots.
        left, right = _offset(span.first, start) - 0.5, _offset(span.last, start) + 0.5
        axes.axvspan(left, right, color=PHASE_FILL[span.phase], zorder=0, linewidth=0)
        axes.text(
            (left + right) / 2,
            0.97,
            phase_name(span.phase, lang),
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="top",
            color="#444444",
            clip_on=True,
        )


def _date_axis(axes: Axes, spans: Sequence[PhaseSpan], start: date, lang: Lang) -> None:
    last_day = _offset(spans[-1].last, start) if spans else 0
    axes.set_xlim(-0.5, last_day + 0.5)
    weeks_per_tick = max(1, math.ceil((last_day + 1) / (7 * MAX_DATE_TICKS)))
    axes.xaxis.set_major_locator(MultipleLocator(7 * weeks_per_tick))
    axes.xaxis.set_major_formatter(
        FuncFormatter(
            lambda day, _position: format_date(
                start + timedelta(days=round(day)), "d MMM", locale=lang
            )
        )
    )


def _say_no_nights(axes: Axes, lang: Lang) -> None:
    _ = translations(lang).gettext
    axes.text(
        0.5,
        0.5,
        _("No nights logged yet"),
        transform=axes.transAxes,
        ha="center",
        va="center",
        color="#666666",
    )


# --- the distribution chart -----------------------------------------------------------------


def distribution_chart(
    analysis: TrialAnalysis, nights: Sequence[NightEntry], outcome: Outcome, lang: Lang
) -> bytes:
    """Baseline against magnesium: box plots, every night as a dot, the averages marked."""
    _ = translations(lang).gettext
    result = analysis.outcomes[outcome.value]
    points = trial_points(analysis, nights, outcome)
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
    figure, axes = _figure(DISTRIBUTION_SIZE_IN)
    # One generator, seeded afresh per chart: the same nights always land on the same spots.
    jitter = np.random.default_rng(JITTER_SEED)
    for position, (phase, values, average) in enumerate(groups, start=1):
        _plot_group(axes, position, phase, values, average, jitter, lang)
    axes.set_xticks(
        [1, 2],
        labels=[f"{phase_name(phase, lang)}\nn = {len(values)}" for phase, values, _ in groups],
    )
    axes.set_xlim(0.4, 2.6)
    _fit_values(axes, [p.value for p in points if p.phase is not Phase.washout])
    axes.set_ylabel(_axis_label(outcome, lang))
    axes.yaxis.set_major_formatter(_number_formatter(lang))
    axes.set_title(
        _("{outcome}: baseline and magnesium").format(outcome=outcome_name(outcome, lang))
    )
    figure.legend(
        handles=_distribution_legend(lang), loc="outside lower center", ncols=3, frameon=False
    )
    return _png(figure)


def _plot_group(
    axes: Axes,
    position: int,
    phase: Phase,
    values: Sequence[float],
    average: float | None,
    jitter: np.random.Generator,
    lang: Lang,
) -> None:
    if not values:
        return
    axes.boxplot(
        [values],
        positions=[position],
        widths=BOX_WIDTH,
        showfliers=False,  # every night is drawn as a dot already
        patch_artist=True,
        boxprops={"facecolor": PHASE_FILL[phase], "edgecolor": MEDIAN_COLOUR},
        medianprops={"color": MEDIAN_COLOUR, "linewidth": 1.5},
        whiskerprops={"color": MEDIAN_COLOUR},
        capprops={"color": MEDIAN_COLOUR},
    )
    spread = jitter.uniform(-JITTER_HALF_WIDTH, JITTER_HALF_WIDTH, len(values))
    axes.scatter(position + spread, values, s=12, color=NIGHT_COLOUR, alpha=0.7, zorder=3)
    if average is not None:
        axes.scatter([position], [average], marker="D", s=46, color=AVERAGE_COLOUR, zorder=4)
        axes.annotate(
            format_number(lang, "{:.1f}", average),
            (position + BOX_WIDTH / 2, average),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            color=AVERAGE_COLOUR,
        )


def _distribution_legend(lang: Lang) -> list[Line2D]:
    _ = translations(lang).gettext
    return [
        Line2D([], [], marker="o", linestyle="", color=NIGHT_COLOUR, label=_("Night")),
        Line2D([], [], marker="D", linestyle="", color=AVERAGE_COLOUR, label=_("Average")),
        Line2D([], [], color=MEDIAN_COLOUR, label=_("Median")),
    ]


# --- shared ---------------------------------------------------------------------------------


def _figure(size_in: tuple[float, float]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size_in, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.tick_params(labelsize=FONT_SIZE_PT)
    for spine in ("top", "right"):
        axes.spines[spine].set_visible(False)
    return figure, axes


def _fit_values(axes: Axes, values: Sequence[float]) -> None:
    if not values:
        return
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    axes.set_ylim(low - 0.05 * span, high + HEADROOM_FRACTION * span)


def _axis_label(outcome: Outcome, lang: Lang) -> str:
    return f"{outcome_name(outcome, lang)} ({outcome_unit(outcome, lang)})"


def _number_formatter(lang: Lang) -> FuncFormatter:
    return FuncFormatter(lambda value, _position: format_number(lang, "{:g}", value))


def _offset(night: date, start: date) -> int:
    return (night - start).days


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" chunk: it names the matplotlib build, which the reader has no use for.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()

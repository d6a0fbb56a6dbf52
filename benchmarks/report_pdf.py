"""The trial report as PDF: how long it takes against the HTML it is drawn from. Prints one
JSON line.

A blinded, counterbalanced trial of a year (12 pairs of 14-night periods with 2 washout
nights, 382 nights), every night logged. The analysis is worked out once; then the HTML page
(the baseline, measured in the same run) and the PDF are rendered `--repeats` times each,
in both languages. The first PDF of the process is timed apart: it loads pango and fonts.

    python -m benchmarks.report_pdf [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date, timedelta

from mgsleep.demo import simulated_nights
from mgsleep.trial.allocation import fingerprint
from mgsleep.trial.analysis import analyse
from mgsleep.trial.pdf import render_pdf
from mgsleep.trial.protocol import TrialProtocol
from mgsleep.trial.report import render_html

SEED = 2026


def _trial() -> TrialProtocol:
    start = date(2026, 1, 1)
    trial = TrialProtocol.model_validate(
        {
            "baseline_start": start,
            "magnesium_start": start,
            "design": "abba",
            "pairs": 12,
            "period_nights": 14,
            "washout_days": 2,
            "blinded": True,
            "seed": SEED,
            "dose_mg": 200,
            "form": "bisglycinate",
        }
    )
    orders = trial.allocation
    assert orders is not None
    return trial.model_copy(update={"allocation_fingerprint": fingerprint(SEED, orders)})


def _seconds(work: object, repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    trial = _trial()
    nights = simulated_nights(SEED, trial, trial.planned_nights() or 0, effect_min=-12)
    end = trial.scheduled_end()
    assert end is not None
    analysis = analyse(trial, nights, as_of=end - timedelta(days=1))
    started = time.perf_counter()
    first = render_pdf(analysis, nights, "en")
    first_pdf_s = time.perf_counter() - started
    figures: dict[str, object] = {
        "benchmark": "report_pdf",
        "python": platform.python_version(),
        "nights": len(nights),
        "first_pdf_s": round(first_pdf_s, 3),
        "pdf_bytes": len(first),
    }
    for lang in ("en", "nl"):
        html = _seconds(lambda lang=lang: render_html(analysis, nights, lang), args.repeats)
        pdf = _seconds(lambda lang=lang: render_pdf(analysis, nights, lang), args.repeats)
        figures[f"html_median_s_{lang}"] = round(statistics.median(html), 4)
        figures[f"pdf_median_s_{lang}"] = round(statistics.median(pdf), 3)
        figures[f"pdf_over_html_{lang}"] = round(
            statistics.median(pdf) / statistics.median(html), 1
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

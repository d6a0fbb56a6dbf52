"""How long the trial analysis takes: one person's year of nights, frequentist estimate and
Bayesian posteriors together, and a hosted deployment's nightly batch. Prints one JSON line.

Two baselines, measured in the same run on the same series: statsmodels' ordinary least
squares with HAC (Newey-West) errors, the off-the-shelf autocorrelation-robust interval that
claims certainty too often on short series; and statsmodels' ARIMA(1,0,0) with the phase as
exogenous regressor (exact maximum likelihood), the reference the tests compare coverage
with. For PyMC's sampler on the same model see benchmarks/trial_pymc.py.

    python benchmarks/trial.py [--people 1000] [--nights 365]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import statsmodels.api as sm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulate import diary, protocol

from mgsleep.diary.night import metrics
from mgsleep.evidence import load_evidence
from mgsleep.trial.analysis import analyse

DISTINCT = 200
OUTCOMES = ("sleep_latency_min", "total_sleep_min", "sleep_efficiency_pct", "waso_min", "quality")


def _ols_hac(trial, nights) -> None:  # type: ignore[no-untyped-def]
    """The same five outcomes, metrics computed once, each fitted by OLS with HAC errors."""
    measured = [metrics(n) for n in nights]
    phase = np.array([1.0 if n.date >= trial.magnesium_start else 0.0 for n in nights])
    design = np.column_stack([np.ones_like(phase), phase])
    for outcome in OUTCOMES:
        values = np.array([float(getattr(m, outcome)) for m in measured])
        sm.OLS(values, design).fit(cov_type="HAC", cov_kwds={"maxlags": 3})


def _arima(trial, nights) -> None:  # type: ignore[no-untyped-def]
    """The same five outcomes by exact AR(1) maximum likelihood (constant ones skipped, as
    the analysis gives them no estimate either)."""
    measured = [metrics(n) for n in nights]
    phase = np.array([1.0 if n.date >= trial.magnesium_start else 0.0 for n in nights])
    for outcome in OUTCOMES:
        values = np.array([float(getattr(m, outcome)) for m in measured])
        if np.ptp(values) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # start-value and convergence notices
            sm.tsa.arima.ARIMA(values, exog=phase, order=(1, 0, 0)).fit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000)
    parser.add_argument("--nights", type=int, default=365)
    args = parser.parse_args()
    ev = load_evidence()
    trial = protocol()
    as_of = trial.baseline_start + timedelta(days=args.nights - 1)
    year = diary(0, trial, args.nights, effect_min=-10)

    analyse(trial, year, as_of=as_of, ev=ev)  # the first call loads scipy's modules
    started = time.perf_counter()
    result = analyse(trial, year, as_of=as_of, ev=ev)
    one_person_s = time.perf_counter() - started
    posteriors = sum(len(o.posteriors) for o in result.outcomes.values())

    # Simulating a diary costs more than analysing it; a few hundred distinct diaries, cycled,
    # time the analysis of ten thousand people just as well.
    distinct = [diary(seed, trial, args.nights, effect_min=-10) for seed in range(DISTINCT)]
    started = time.perf_counter()
    for person in range(args.people):
        analyse(trial, distinct[person % DISTINCT], as_of=as_of, ev=ev)
    batch_s = time.perf_counter() - started

    baseline_people = distinct
    started = time.perf_counter()
    for nights in baseline_people:
        _ols_hac(trial, nights)
    baseline_per_person_s = (time.perf_counter() - started) / len(baseline_people)

    arima_people = distinct[:20]
    started = time.perf_counter()
    for nights in arima_people:
        _arima(trial, nights)
    arima_per_person_s = (time.perf_counter() - started) / len(arima_people)

    per_person_s = batch_s / args.people
    print(
        json.dumps(
            {
                "benchmark": "trial_analysis",
                "machine": platform.machine(),
                "python": platform.python_version(),
                "nights_per_person": args.nights,
                "one_person_year_s": round(one_person_s, 4),
                "posteriors_in_it": posteriors,
                "people": args.people,
                "batch_s": round(batch_s, 2),
                "per_person_ms": round(per_person_s * 1000, 3),
                "baseline_statsmodels_ols_hac_per_person_ms": round(
                    baseline_per_person_s * 1000, 3
                ),
                "ratio_to_baseline": round(per_person_s / baseline_per_person_s, 2),
                "baseline_statsmodels_arima_per_person_ms": round(arima_per_person_s * 1000, 3),
                "ratio_to_arima": round(per_person_s / arima_per_person_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

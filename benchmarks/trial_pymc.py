"""The trial's Bayesian posterior (grid over rho, exact t per rho) against PyMC's NUTS
sampler on the same model and the same nights: time and the probabilities they give. Prints
one JSON line.

PyMC is not a dependency of mgsleep; run this with an interpreter that has it (and numpy,
scipy, pydantic), e.g. a separate virtual environment with `pip install pymc pydantic`:

    /path/to/env/bin/python benchmarks/trial_pymc.py [--nights 365] [--draws 1000]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from mgsleep.trial import ar1
from mgsleep.trial.bayes import posterior, sceptical_prior

SMALLEST_MIN = 10.0


def _nights(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    magnesium = (np.arange(count) >= 14).astype(float)
    shocks = rng.standard_normal(count)
    series = np.empty(count)
    series[0] = shocks[0]
    for night in range(1, count):
        series[night] = 0.4 * series[night - 1] + np.sqrt(1 - 0.4**2) * shocks[night]
    return 35 + 10 * series - 12 * magnesium, magnesium


def _grid(values: np.ndarray, magnesium: np.ndarray) -> dict[str, float]:
    day = np.arange(len(values), dtype=float)
    nights = ar1.mixture(values, ar1.design_matrix(magnesium, day, with_trend=False), day)
    assert nights is not None
    prior = sceptical_prior(SMALLEST_MIN, ["mgsleep_conventions"])
    post = posterior(nights.live(), prior, lower_is_better=True, smallest_change=SMALLEST_MIN)
    return {"prob_meaningful": post.prob_meaningful, "prob_any_benefit": post.prob_any_benefit}


def _pymc(values: np.ndarray, magnesium: np.ndarray, draws: int) -> dict[str, float]:
    import pymc as pm
    import pytensor.tensor as pt

    prior = sceptical_prior(SMALLEST_MIN, ["mgsleep_conventions"])
    with pm.Model():
        intercept = pm.Flat("intercept")
        effect = pm.Normal("effect", mu=prior.improvement_mean, sigma=prior.improvement_sd)
        rho = pm.Uniform("rho", -0.98, 0.99)
        pm.Potential("rho_prior", -0.5 * pt.log(1 - rho**2))  # the same reference prior
        log_sigma = pm.Flat("log_sigma")  # 1/sigma on the innovation SD
        sigma = pt.exp(log_sigma)
        residual = values - intercept - effect * magnesium
        first = pm.Normal.logp(residual[0], 0, sigma / pt.sqrt(1 - rho**2))
        rest = pm.Normal.logp(residual[1:] - rho * residual[:-1], 0, sigma)
        pm.Potential("likelihood", first + rest.sum())
        trace = pm.sample(
            draws=draws, tune=1000, chains=2, cores=1, progressbar=False, random_seed=1
        )
    drawn = trace.posterior["effect"].to_numpy().ravel()
    return {
        "prob_meaningful": float((drawn <= -SMALLEST_MIN).mean()),
        "prob_any_benefit": float((drawn < 0).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    values, magnesium = _nights(args.nights, 3)

    _grid(values, magnesium)  # the first call loads scipy
    started = time.perf_counter()
    grid = _grid(values, magnesium)
    grid_s = time.perf_counter() - started

    started = time.perf_counter()
    sampled = _pymc(values, magnesium, args.draws)
    pymc_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "benchmark": "trial_bayes_vs_pymc",
                "machine": platform.machine(),
                "python": platform.python_version(),
                "nights": args.nights,
                "grid_s": round(grid_s, 4),
                "pymc_nuts_s": round(pymc_s, 2),
                "ratio": round(pymc_s / grid_s, 1),
                "grid": grid,
                "pymc": sampled,
            }
        )
    )


if __name__ == "__main__":
    main()

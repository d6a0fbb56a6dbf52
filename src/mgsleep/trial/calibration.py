"""Does the trial's 95 % interval cover the true effect 95 % of the time? Seeded simulation
of the analysis' own model on a design's nights, for the tests and the README's tables.

Series are simulated in batches that share the nights (so the AR(1) sums are done once per
batch) with a true effect of zero: the interval's coverage does not depend on the effect, as
the model is linear in it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mgsleep.trial import ar1
from mgsleep.trial.power import LAYOUTS, ar1_noise

NIGHT_SD = 10.0


def layout_phases(design: str, steps: int, seed: int = 0) -> NDArray[np.float64]:
    """One trial's nights (0 baseline, 1 magnesium, NaN washout) for a planning layout."""
    return LAYOUTS[design].phases(steps, np.random.default_rng(seed))


def interval_coverage(
    phases: NDArray[np.float64], rho: float, replicates: int, seed: int, *, batch: int = 500
) -> float:
    """The share of simulated series whose 95 % interval holds the true effect (zero)."""
    rng = np.random.default_rng(seed)
    day = np.flatnonzero(np.isfinite(phases))
    magnesium = phases[day]
    switches = int(np.count_nonzero(np.diff(magnesium)))
    design = ar1.design_matrix(magnesium, day.astype(float), with_trend=switches >= 2)
    covered = 0
    done = 0
    while done < replicates:
        size = min(batch, replicates - done)
        values = 35 + NIGHT_SD * ar1_noise(rng, size, len(phases), rho)[:, day]
        nights = ar1.mixture(values, design, day.astype(float))
        if nights is None:
            raise ValueError("the design cannot carry the model")
        above = nights.prob_above(0.0)
        covered += int(np.count_nonzero((above > 0.025) & (above < 0.975)))
        done += size
    return covered / replicates


def table(
    designs: dict[str, int],
    rhos: tuple[float, ...],
    *,
    replicates: int = 4000,
    seed: int = 7,
) -> list[dict[str, float | str]]:
    """Coverage, the false-positive rate of a "better" verdict and the power for one smallest
    change (one night's SD 1.5 changes), per design (name -> steps) and rho: the README's
    tables."""
    from mgsleep.trial.power import LAYOUTS, simulated_power

    rows: list[dict[str, float | str]] = []
    for design, steps in designs.items():
        layout = LAYOUTS[design]
        for rho in rhos:
            phases = layout_phases(design, steps, seed=1)
            rows.append(
                {
                    "design": design,
                    "nights": len(phases),
                    "rho": rho,
                    "coverage": interval_coverage(phases, rho, replicates, seed),
                    "false_positive": simulated_power(
                        layout, steps, 1.5, rho, 0.0, replicates, seed, effect_per_change=0.0
                    ),
                    "power": simulated_power(layout, steps, 1.5, rho, 0.0, replicates, seed),
                }
            )
    return rows

"""How long a power outlook takes: what the trial page and `GET /api/v1/trial/power` work out
for a running trial (six designs and the trial's own chance), the first time and from the
cache. Prints one JSON line.

The baseline, measured in the same run on the same noise: the planner at the statistics'
default of 200 simulated trials a length, the cost a page would pay without its choice of 100.

    python benchmarks/trial_power.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulate import START, diary, protocol

from mgsleep.trial import power


def _cold(call):  # type: ignore[no-untyped-def]
    """One call with every plan cache emptied first."""
    power._design_power.cache_clear()
    power._trial_power.cache_clear()
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    trial = protocol(14)
    nights = diary(5, trial, 42, effect_min=-15, missing=0.1)
    today = START + timedelta(days=20)

    found = power.outlook(trial, nights, today)  # loads scipy and the evidence once
    plan = found.plan
    cold = [_cold(lambda: power.outlook(trial, nights, today)) for _ in range(args.repeats)]
    started = time.perf_counter()
    power.outlook(trial, nights, today)
    warm_s = time.perf_counter() - started
    default = [
        _cold(
            lambda: power.plan_power(
                plan.sd, plan.rho, plan.smallest_change, missing_share=plan.missing_share
            )
        )
        for _ in range(args.repeats)
    ]
    print(
        json.dumps(
            {
                "benchmark": "trial_power_outlook",
                "machine": platform.machine(),
                "python": platform.python_version(),
                "nights_logged": found.nights_used,
                "source": found.source,
                "outlook_first_s_median": round(statistics.median(cold), 3),
                "outlook_first_s_max": round(max(cold), 3),
                "outlook_cached_ms": round(warm_s * 1000, 3),
                "baseline_plan_200_replicates_s_median": round(statistics.median(default), 3),
                "ratio_to_baseline": round(statistics.median(cold) / statistics.median(default), 2),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Seeded simulated diaries and the demo account: six weeks of a trial, filled in.

The simulator is deterministic (random.Random(seed)) so tests, benchmarks and the demo see the
same nights every time; the effect is known, which is what makes it useful for checking the
trial analysis.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from mgsleep.diary.night import NightEntry
from mgsleep.store.db import session_scope
from mgsleep.store.repo import (
    add_response,
    create_account,
    delete_account,
    find_account,
    import_nights,
    save_profile,
    start_trial,
)
from mgsleep.trial.protocol import Phase, TrialProtocol

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-sleep"  # noqa: S105 - the demo account's published password
DEMO_BASELINE_NIGHTS = 14
DEMO_MAGNESIUM_NIGHTS = 28
DEMO_PROFILE: dict[str, Any] = {
    "age": 47,
    "sex": "female",
    "complaints": ["falling_asleep"],
    "symptoms": ["racing_thoughts"],
    "medicines": [{"name": "omeprazol", "times": ["08:00"]}],
    "digestion": "normal",
    "approach": "simple",
    "budget": "medium",
    "bath": True,
    "bedtime": "23:00",
    "region": "eu",
}


def simulated_nights(
    seed: int,
    trial: TrialProtocol,
    nights: int,
    *,
    effect_min: float = 0.0,
    sd_min: float = 10.0,
    phi: float = 0.4,
    baseline_latency_min: float = 35.0,
    missing: float = 0.0,
) -> list[NightEntry]:
    """Sleep onset latency with AR(1) noise; `effect_min` is added on magnesium nights."""
    rng = random.Random(seed)  # noqa: S311 - made-up nights, not a secret
    noise = rng.gauss(0, sd_min)
    innovation_sd = sd_min * (1 - phi**2) ** 0.5
    entries = []
    for offset in range(nights):
        night = trial.baseline_start + timedelta(days=offset)
        noise = phi * noise + rng.gauss(0, innovation_sd)
        if rng.random() < missing:
            continue
        on_magnesium = trial.phase_of(night) is Phase.magnesium
        latency = baseline_latency_min + noise + (effect_min if on_magnesium else 0.0)
        entries.append(
            NightEntry(
                date=night,
                in_bed=time(22, 45),
                lights_out=time(23, 0),
                sleep_latency_min=max(0, min(180, round(latency))),
                awakenings=1,
                waso_min=20,
                final_wake=time(6, 45),
                out_of_bed=time(7, 0),
                quality=3 if latency > 30 else 4,
                magnesium_mg=200 if on_magnesium else None,
                magnesium_form="bisglycinate" if on_magnesium else None,
            )
        )
    return entries


def demo_protocol(today: date) -> TrialProtocol:
    start = today - timedelta(days=DEMO_BASELINE_NIGHTS + DEMO_MAGNESIUM_NIGHTS - 1)
    return TrialProtocol(
        baseline_start=start,
        magnesium_start=start + timedelta(days=DEMO_BASELINE_NIGHTS),
        form="bisglycinate",
        dose_mg=200,
        intake_time=time(22, 0),
    )


def seed_demo(engine: Engine, password_hash: str, today: date) -> str:
    """(Re)create the demo account with a profile, a trial, six weeks of nights and two ISIs."""
    trial = demo_protocol(today)
    with session_scope(engine) as session:
        existing = find_account(session, DEMO_USERNAME)
        if existing is not None:
            delete_account(session, existing.id)
            session.flush()
        account = create_account(session, DEMO_USERNAME, password_hash)
        save_profile(session, account.id, DEMO_PROFILE)
        start_trial(session, account.id, trial)
        nights = simulated_nights(
            2026, trial, DEMO_BASELINE_NIGHTS + DEMO_MAGNESIUM_NIGHTS, effect_min=-14
        )
        import_nights(session, account.id, nights)
        add_response(
            session,
            account.id,
            "isi",
            trial.magnesium_start - timedelta(days=1),
            [3, 2, 1, 3, 1, 2, 2],
            14,
        )
        add_response(session, account.id, "isi", today, [1, 1, 1, 2, 1, 1, 1], 8)
    return DEMO_USERNAME

"""Deterministic simulated diaries with a known effect (seeded), for trial tests and benchmarks."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from mgsleep.diary.night import NightEntry
from mgsleep.trial.protocol import TrialProtocol

START = date(2026, 1, 5)


def protocol(baseline_nights: int = 14, design: str = "ab", **extra: object) -> TrialProtocol:
    return TrialProtocol.model_validate(
        {
            "baseline_start": START,
            "magnesium_start": START + timedelta(days=baseline_nights),
            "design": design,
            "dose_mg": 200,
            "form": "bisglycinate",
            **extra,
        }
    )


def diary(
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
    rng = random.Random(seed)
    noise = rng.gauss(0, sd_min)
    innovation_sd = sd_min * (1 - phi**2) ** 0.5
    entries = []
    for offset in range(nights):
        night = trial.baseline_start + timedelta(days=offset)
        noise = phi * noise + rng.gauss(0, innovation_sd)
        if rng.random() < missing:
            continue
        on_magnesium = (
            trial.phase_of(night) is not None and trial.phase_of(night).value == "magnesium"
        )
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
                quality=3,
                magnesium_mg=200 if on_magnesium else None,
            )
        )
    return entries

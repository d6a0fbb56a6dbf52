"""Test helpers over the seeded simulator in mgsleep.demo."""

from __future__ import annotations

from datetime import date, timedelta

from mgsleep.demo import simulated_nights as diary
from mgsleep.trial.protocol import TrialProtocol

START = date(2026, 1, 5)

__all__ = ["START", "diary", "protocol"]


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

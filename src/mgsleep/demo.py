"""Seeded simulated diaries and the demo account: six weeks of a trial, filled in.

The simulator is deterministic (random.Random(seed)) so tests, benchmarks and the demo see the
same nights every time; the effect is known, which is what makes it useful for checking the
trial analysis.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from mgsleep.clock import today_in, zone_or_default
from mgsleep.diary.night import NightEntry, NightTag, SideEffect
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
# About one night in fifteen goes unlogged in the demo diary, as in a real one.
DEMO_MISSED_SHARE = 0.07
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
    """Sleep onset latency with AR(1) noise; `effect_min` is added on magnesium nights. The
    rest of each night varies as a real person's does (bedtimes, waking in the night, a bath
    most evenings, now and then coffee late or a glass of wine), drawn from a second stream so
    the latencies depend on `seed` alone."""
    rng = random.Random(seed)  # noqa: S311 - made-up nights, not a secret
    detail = random.Random(seed + 1)  # noqa: S311 - made-up nights, not a secret
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
            _simulated_night(detail, night, max(0, min(180, round(latency))), on_magnesium)
        )
    return entries


# The demo person's usual night, in minutes after midnight (lights out the evening before).
USUAL_LIGHTS_OUT_MIN = 23 * 60 - 24 * 60
USUAL_FINAL_WAKE_MIN = 6 * 60 + 45
DEMO_TAGS = (NightTag.caffeine_after_noon, NightTag.alcohol, NightTag.stress, NightTag.late_meal)


def _clock(minutes_after_midnight: int) -> time:
    minutes = minutes_after_midnight % (24 * 60)
    return time(minutes // 60, minutes % 60)


def _simulated_night(
    detail: random.Random, night: date, latency_min: int, on_magnesium: bool
) -> NightEntry:
    lights_out = USUAL_LIGHTS_OUT_MIN + 5 * round(detail.gauss(0, 20) / 5)
    in_bed = lights_out - detail.choice((5, 10, 15, 20, 30))
    awakenings = detail.choice((0, 1, 1, 1, 2, 2, 3))
    waso_min = 0 if awakenings == 0 else max(2, round(awakenings * detail.gauss(12, 6)))
    final_wake = USUAL_FINAL_WAKE_MIN + 5 * round(detail.gauss(0, 15) / 5)
    restless = latency_min + waso_min
    quality = 5 if restless < 25 else 4 if restless < 45 else 3 if restless < 70 else 2
    tags = tuple(tag for tag in DEMO_TAGS if detail.random() < 0.06)
    loose = on_magnesium and detail.random() < 0.04
    return NightEntry(
        date=night,
        in_bed=_clock(in_bed),
        lights_out=_clock(lights_out),
        sleep_latency_min=latency_min,
        awakenings=awakenings,
        waso_min=waso_min,
        final_wake=_clock(final_wake),
        out_of_bed=_clock(final_wake + detail.choice((5, 10, 15, 25))),
        quality=max(1, min(5, quality - (1 if NightTag.alcohol in tags else 0))),
        magnesium_mg=200 if on_magnesium else None,
        magnesium_form="bisglycinate" if on_magnesium else None,
        intake_time=time(22, 0) if on_magnesium else None,
        bath=detail.random() < 0.7,
        side_effects=(SideEffect.loose_stools,) if loose else (),
        tags=tags,
    )


def demo_protocol(today: date) -> TrialProtocol:
    start = today - timedelta(days=DEMO_BASELINE_NIGHTS + DEMO_MAGNESIUM_NIGHTS - 1)
    return TrialProtocol(
        baseline_start=start,
        magnesium_start=start + timedelta(days=DEMO_BASELINE_NIGHTS),
        form="bisglycinate",
        dose_mg=200,
        intake_time=time(22, 0),
    )


def demo_today(at: datetime | None = None) -> date:
    """The demo person's date, in the demo profile's zone: the date the web app shows them.
    On a server whose clock is in UTC the computer's own date is a day behind between 23:00
    and midnight, and the demo would open with last night missing."""
    return today_in(zone_or_default(DEMO_PROFILE.get("timezone")), at)


def seed_demo(engine: Engine, password_hash: str, today: date | None = None) -> str:
    """(Re)create the demo account with a profile, a trial, six weeks of nights and two ISIs;
    `today` is the demo person's date unless given."""
    today = today or demo_today()
    trial = demo_protocol(today)
    with session_scope(engine) as session:
        existing = find_account(session, DEMO_USERNAME)
        if existing is not None:
            delete_account(session, existing.id)
            session.flush()
        account = create_account(session, DEMO_USERNAME, password_hash)
        save_profile(session, account.id, DEMO_PROFILE)
        start_trial(session, account.id, trial)
        # A few nights missed, as real diaries have them.
        nights = simulated_nights(
            2026,
            trial,
            DEMO_BASELINE_NIGHTS + DEMO_MAGNESIUM_NIGHTS,
            effect_min=-14,
            missing=DEMO_MISSED_SHARE,
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

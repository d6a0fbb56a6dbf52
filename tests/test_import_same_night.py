"""A night is the same night whatever the source: one night written in every format.

The night of 9 to 10 February 2026 in Amsterdam: in bed at 23:00, awake from 02:00 to 02:30,
up at 07:00. Every format must give the same time in bed, latency, wake after sleep onset,
total sleep and efficiency; the formats that hold a latency give the same night with 20
minutes to fall asleep too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mgsleep.diary.imports import NightInfo, reader_for
from mgsleep.diary.night import NightEntry, metrics
from mgsleep.diary.sources import SOURCES

DATA = Path(__file__).parent / "data" / "imports" / "same_night"
ZONE = "Europe/Amsterdam"

EVERY_FORMAT = {
    "csv": "diary.csv",
    "fitbit": "fitbit_sleep-2026-02-10.json",
    "oura": "oura_sleep.json",
    "oura_csv": "oura_trends.csv",
    "garmin": "garmin_sleepData.json",
    "sleep_as_android": "sleep-export.csv",
    "apple_health": "export.xml",
    "whoop": "whoop_sleeps.csv",
    "sleep_cycle": "sleepdata.csv",
    "samsung_health": "com.samsung.shealth.sleep.20260212080000.csv",
    "withings": "withings_sleep.csv",
    "health_auto_export": "HealthAutoExport-2026-02-10.json",
}
WITH_LATENCY = {
    "fitbit": "latency_fitbit_sleep-2026-02-10.json",
    "oura": "latency_oura_sleep.json",
    "oura_csv": "latency_oura_trends.csv",
    "apple_health": "latency_export.xml",
    "sleep_cycle": "latency_sleepdata.csv",
    "withings": "latency_withings_sleep.csv",
    "health_auto_export": "latency_HealthAutoExport-2026-02-10.json",
}


def the_night(source: str, name: str) -> NightEntry:
    with (DATA / name).open("rb") as stream:
        items = list(reader_for(source)(stream, ZONE))
    nights = [item for item in items if isinstance(item, NightEntry)]
    assert len(nights) == 1, items
    return nights[0]


def figures(night: NightEntry) -> tuple[float, float, float, float, float]:
    found = metrics(night)
    return (
        found.time_in_bed_min,
        found.sleep_latency_min,
        found.waso_min,
        found.total_sleep_min,
        round(found.sleep_efficiency_pct, 2),
    )


def test_every_source_has_the_night_in_its_format() -> None:
    assert set(EVERY_FORMAT) == set(SOURCES)


@pytest.mark.parametrize(("source", "name"), EVERY_FORMAT.items(), ids=list(EVERY_FORMAT))
def test_the_same_night_gives_the_same_metrics_in_every_format(source: str, name: str) -> None:
    night = the_night(source, name)
    assert night.date.isoformat() == "2026-02-10"
    assert (night.in_bed.isoformat(), night.out_of_bed.isoformat()) == ("23:00:00", "07:00:00")
    # time in bed, latency, WASO, total sleep (min) and efficiency (%)
    assert figures(night) == (480, 0, 30, 450, 93.75)
    assert night.timezone == ZONE


@pytest.mark.parametrize(("source", "name"), WITH_LATENCY.items(), ids=list(WITH_LATENCY))
def test_the_same_night_with_a_latency_gives_the_same_metrics(source: str, name: str) -> None:
    night = the_night(source, name)
    assert figures(night) == (480, 20, 30, 430, 89.58)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        (s, n)
        for s, n in EVERY_FORMAT.items()
        if s not in ("csv", "sleep_cycle", "fitbit", "garmin")
    ],
)
def test_a_file_that_states_its_zone_is_read_in_it_whatever_the_default(
    source: str, name: str
) -> None:
    # The diary CSV, Sleep Cycle, Fitbit and the Garmin export state no zone. Read with New
    # York as the default, a file that states Amsterdam (a zone, or the offset
    # +01:00 that Amsterdam has that night) still dates the night in Amsterdam.
    with (DATA / name).open("rb") as stream:
        items = list(reader_for(source)(stream, "America/New_York"))
    [info] = [item for item in items if isinstance(item, NightInfo)]
    [night] = [item for item in items if isinstance(item, NightEntry)]
    assert info.zone_from_file
    assert (night.in_bed.isoformat(), night.out_of_bed.isoformat()) == ("23:00:00", "07:00:00")
    assert night.timezone in (ZONE, "Etc/GMT-1")

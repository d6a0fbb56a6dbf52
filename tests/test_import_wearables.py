"""Wearable importers: Fitbit (Google Takeout), Oura (API v2 and v1) and Garmin (export, API)."""

from __future__ import annotations

import io
import json
from datetime import date, time
from pathlib import Path

import pytest

from mgsleep.diary.imports import ImportItem, Nap, NightInfo, Reader, Rejected, fitbit, garmin, oura
from mgsleep.diary.night import NightEntry, metrics

DATA = Path(__file__).parent / "data" / "wearables"
ZONE = "Europe/Amsterdam"
FITBIT_MARCH = DATA / "fitbit" / "sleep-2026-03-01.json"
FITBIT_OCTOBER = DATA / "fitbit" / "sleep-2026-10-01.json"
OURA_V2 = DATA / "oura" / "sleep.json"
OURA_V1 = DATA / "oura" / "oura_data.json"
GARMIN_EXPORT = DATA / "garmin" / "2026-01-01_2026-10-31_81726354_sleepData.json"
GARMIN_API = DATA / "garmin" / "dailySleepData_2026-10-25.json"


def read_file(read: Reader, path: Path) -> list[ImportItem]:
    """What a reader yields, without the notes on how each night was made."""
    with path.open("rb") as stream:
        return [item for item in read(stream, ZONE) if not isinstance(item, NightInfo)]


def read_json(read: Reader, document: object) -> list[ImportItem]:
    stream = io.BytesIO(json.dumps(document).encode())
    return [item for item in read(stream, ZONE) if not isinstance(item, NightInfo)]


def nights(items: list[ImportItem]) -> dict[date, NightEntry]:
    return {item.date: item for item in items if isinstance(item, NightEntry)}


def rejected(items: list[ImportItem]) -> list[Rejected]:
    return [item for item in items if isinstance(item, Rejected)]


def time_in_bed(night: NightEntry) -> float:
    return metrics(night).time_in_bed_min


# ---- Fitbit ---------------------------------------------------------------------------------


def test_fitbit_stages_night() -> None:
    night = nights(read_file(fitbit.read, FITBIT_MARCH))[date(2026, 3, 2)]
    assert (night.in_bed, night.out_of_bed) == (time(23, 9), time(7, 34))  # 07:33:30 rounds up
    # The leading 5-minute wake is the latency (Fitbit says 0); the 19.5 minutes awake after
    # the last sleep segment are the morning; the two wakes between (6.5 + 10 min) are WASO.
    assert (night.sleep_latency_min, night.waso_min) == (5, 16)
    assert night.final_wake == time(7, 14)
    assert (night.deep_min, night.light_min, night.rem_min) == (103, 250, 85)
    # Wake entries in levels.data, less the one before falling asleep and the one at the end.
    assert night.awakenings == 2
    assert (night.source, night.timezone) == ("fitbit", ZONE)


def test_fitbit_classic_log_has_no_stages_and_counts_awake_entries() -> None:
    night = nights(read_file(fitbit.read, FITBIT_MARCH))[date(2026, 3, 29)]
    assert (night.deep_min, night.light_min, night.rem_min) == (None, None, None)
    assert (night.sleep_latency_min, night.waso_min, night.awakenings) == (12, 18, 1)


@pytest.mark.parametrize(
    ("path", "day", "minutes"),
    [(FITBIT_MARCH, date(2026, 3, 29), 420), (FITBIT_OCTOBER, date(2026, 10, 25), 540)],
)
def test_fitbit_local_times_across_a_clock_change_give_real_minutes(
    path: Path, day: date, minutes: int
) -> None:
    night = nights(read_file(fitbit.read, path))[day]
    assert (night.in_bed, night.out_of_bed) == (time(23, 30), time(7, 30))
    assert time_in_bed(night) == minutes


def test_fitbit_nap_is_kept_apart() -> None:
    naps = [item for item in read_file(fitbit.read, FITBIT_MARCH) if isinstance(item, Nap)]
    assert len(naps) == 1
    assert naps[0].date == date(2026, 3, 2)
    assert (naps[0].start.time(), naps[0].end.time()) == (time(14, 10), time(14, 55))
    assert naps[0].source == "fitbit"


def test_fitbit_bad_record_is_rejected_and_the_rest_import() -> None:
    items = read_file(fitbit.read, FITBIT_MARCH)
    assert len(items) == 4
    assert rejected(items) == [
        Rejected(position="record 3", reason="startTime: not an ISO 8601 time: 'yesterday evening'")
    ]
    assert set(nights(items)) == {date(2026, 3, 2), date(2026, 3, 29)}


def test_fitbit_without_levels_data_counts_the_summary_wakes() -> None:
    log = json.loads(FITBIT_MARCH.read_text())[0]
    log["levels"]["data"] = []
    [night] = read_json(fitbit.read, [log])
    assert isinstance(night, NightEntry)
    assert night.awakenings == 27


def test_fitbit_empty_day_imports_nothing() -> None:
    assert read_json(fitbit.read, []) == []


# ---- Oura -----------------------------------------------------------------------------------


def test_oura_v2_night() -> None:
    night = nights(read_file(oura.read, OURA_V2))[date(2026, 3, 2)]
    assert (night.in_bed, night.out_of_bed) == (time(23, 12), time(7, 2))
    assert night.final_wake == time(7, 2)
    # latency 600 s; awake 2970 s includes it, leaving 39.5 min awake after falling asleep.
    assert (night.sleep_latency_min, night.waso_min) == (10, 40)
    assert (night.deep_min, night.light_min, night.rem_min) == (75, 250, 95)
    assert night.source == "oura"


@pytest.mark.parametrize(
    ("day", "minutes", "waso"), [(date(2026, 3, 29), 420, 18), (date(2026, 10, 25), 540, 30)]
)
def test_oura_clock_change_nights_give_real_minutes(day: date, minutes: int, waso: int) -> None:
    night = nights(read_file(oura.read, OURA_V2))[day]
    assert (night.in_bed, night.out_of_bed) == (time(23, 30), time(7, 30))
    assert time_in_bed(night) == minutes
    assert night.waso_min == waso


def test_oura_late_nap_is_kept_apart_and_a_bad_record_rejected() -> None:
    items = read_file(oura.read, OURA_V2)
    naps = [item for item in items if isinstance(item, Nap)]
    assert [(n.start.time(), n.end.time()) for n in naps] == [(time(14, 49), time(15, 34))]
    assert rejected(items) == [Rejected(position="record 3", reason="bedtime_end: missing")]
    assert len(nights(items)) == 3


def test_oura_bare_array_and_deleted_periods() -> None:
    period = json.loads(OURA_V2.read_text())["data"][0]
    deleted = period | {"type": "deleted"}
    items = read_json(oura.read, [period, deleted])
    assert len(nights(items)) == 1
    assert rejected(items) == [
        Rejected(position="record 2", reason="type: a sleep period deleted in the Oura app")
    ]


def test_oura_v1_summary_reads_like_v2() -> None:
    [night] = read_file(oura.read, OURA_V1)
    assert isinstance(night, NightEntry)
    v2 = nights(read_file(oura.read, OURA_V2))[date(2026, 3, 2)]
    assert night == v2


def test_oura_v1_shorter_period_is_a_nap() -> None:
    period = json.loads(OURA_V1.read_text())["sleep"][0] | {"is_longest": 0}
    [item] = read_json(oura.read, {"sleep": [period]})
    assert isinstance(item, Nap)


# ---- Garmin ---------------------------------------------------------------------------------


def test_garmin_export_night() -> None:
    night = nights(read_file(garmin.read, GARMIN_EXPORT))[date(2026, 3, 2)]
    # UTC in the file; 23:09 and 07:08 in Amsterdam (CET).
    assert (night.in_bed, night.out_of_bed) == (time(23, 9), time(7, 8))
    assert (night.sleep_latency_min, night.waso_min) == (0, 0)
    assert (night.deep_min, night.light_min, night.rem_min) == (80, 349, 50)
    assert night.source == "garmin"


def test_garmin_export_spring_night_and_nap_and_bad_record() -> None:
    items = read_file(garmin.read, GARMIN_EXPORT)
    spring = nights(items)[date(2026, 3, 29)]
    assert (spring.in_bed, spring.out_of_bed) == (time(23, 30), time(7, 30))
    assert time_in_bed(spring) == 420
    assert spring.waso_min == 20
    naps = [item for item in items if isinstance(item, Nap)]
    assert [(n.start.time(), n.end.time()) for n in naps] == [(time(13, 40), time(15, 10))]
    assert rejected(items) == [
        Rejected(position="record 3", reason="sleepEndTimestampGMT: not an ISO 8601 time: 'n/a'")
    ]


def test_garmin_api_autumn_night_in_epoch_milliseconds() -> None:
    [night] = read_file(garmin.read, GARMIN_API)
    assert isinstance(night, NightEntry)
    assert night.date == date(2026, 10, 25)
    assert (night.in_bed, night.out_of_bed) == (time(23, 30), time(7, 30))
    assert time_in_bed(night) == 540
    assert (night.deep_min, night.light_min, night.rem_min, night.waso_min) == (100, 300, 110, 30)


def test_garmin_api_day_without_sleep_is_rejected() -> None:
    answer = json.loads(GARMIN_API.read_text())
    answer["dailySleepDTO"] |= {"sleepStartTimestampGMT": None, "sleepEndTimestampGMT": None}
    assert read_json(garmin.read, answer) == [
        Rejected(position="record 1", reason="sleepStartTimestampGMT: missing (no sleep recorded)")
    ]


def test_a_sleep_ending_before_it_starts_is_rejected_not_taken_for_a_nap() -> None:
    record = json.loads(GARMIN_EXPORT.read_text())[0]
    record["sleepEndTimestampGMT"] = "2026-03-01T21:00:00.0"
    assert read_json(garmin.read, [record]) == [
        Rejected(
            position="record 1",
            reason="ends (2026-03-01T21:00:00+00:00) before it starts (2026-03-01T22:09:00+00:00)",
        )
    ]


def test_a_night_the_diary_cannot_hold_is_rejected_with_its_reason() -> None:
    # Stage minutes over a day long: the diary's own limit, reported rather than raised.
    record = json.loads(GARMIN_EXPORT.read_text())[0] | {"deepSleepSeconds": 90_000}
    [item] = read_json(garmin.read, [record])
    assert isinstance(item, Rejected)
    assert item.position == "record 1"
    assert "1440" in item.reason


# ---- wrong files ----------------------------------------------------------------------------

READERS: list[Reader] = [fitbit.read, oura.read, garmin.read]


@pytest.mark.parametrize("read", READERS)
def test_not_json_is_one_rejection(read: Reader) -> None:
    stream = io.BytesIO(b'Id,Tz,From,To\n"1606738485202","Europe/London"\n')
    items = list(read(stream, ZONE))
    assert len(items) == 1
    assert isinstance(items[0], Rejected)
    assert items[0].position == "file"
    assert items[0].reason.startswith("not a JSON file")


@pytest.mark.parametrize(
    ("read", "wrong", "source"),
    [
        (fitbit.read, OURA_V2, "Fitbit"),
        (oura.read, GARMIN_EXPORT, "Oura"),
        (garmin.read, FITBIT_MARCH, "Garmin"),
        (oura.read, FITBIT_MARCH, "Oura"),
    ],
)
def test_another_sources_file_is_one_rejection(read: Reader, wrong: Path, source: str) -> None:
    [item] = read_file(read, wrong)
    assert isinstance(item, Rejected)
    assert item.position == "file"
    assert item.reason.startswith(f"not a {source} sleep export") or item.reason.startswith(
        f"not an {source} sleep export"
    )


@pytest.mark.parametrize("read", READERS)
def test_a_json_scalar_is_one_rejection(read: Reader) -> None:
    [item] = read_json(read, "sleep")
    assert isinstance(item, Rejected)
    assert item.position == "file"


@pytest.mark.parametrize("read", READERS)
def test_a_record_that_is_not_an_object_is_rejected_alone(read: Reader) -> None:
    path = {fitbit.read: FITBIT_MARCH, oura.read: OURA_V2, garmin.read: GARMIN_EXPORT}[read]
    document = json.loads(path.read_text())
    records = document["data"] if isinstance(document, dict) else document
    items = read_json(read, [*records, 42])
    assert rejected(items)[-1] == Rejected(
        position=f"record {len(records) + 1}", reason="not a JSON object"
    )
    assert len(items) == len(records) + 1

"""The formats added for real exports: each reads its good file, rejects a malformed record
alone, and refuses an empty file and another kind of file as a whole."""

from __future__ import annotations

import io
import json

import pytest

from mgsleep.diary.imports import ImportItem, Rejected, Skipped, reader_for
from mgsleep.diary.night import NightEntry, metrics
from tests.test_import_same_night import DATA, EVERY_FORMAT, ZONE

# The good file of each format is its file of the night every format writes the same.
ADDED = ("oura_csv", "whoop", "sleep_cycle", "samsung_health", "withings", "health_auto_export")
GOOD = {source: EVERY_FORMAT[source] for source in ADDED}
# A cell of the night made unreadable: (text in the good file, what replaces it).
BROKEN = {
    "oura_csv": ("2026-02-09T23:00:00+01:00", "last night"),
    "whoop": ("2026-02-09 23:00:00", "yesterday"),
    "sleep_cycle": ("2026-02-09 23:00:00", "yesterday"),
    "samsung_health": ("2026-02-09 22:00:00.000", "22h"),
    "withings": ("2026-02-09T23:00:00+01:00", "evening"),
    "health_auto_export": ('"sleepStart": "2026-02-09 23:00:00 +0100"', '"sleepStart": "late"'),
}


def items_of(source: str, content: bytes) -> list[ImportItem]:
    return list(reader_for(source)(io.BytesIO(content), ZONE))


def good(source: str) -> bytes:
    return (DATA / GOOD[source]).read_bytes()


@pytest.mark.parametrize("source", GOOD)
def test_a_good_file_gives_its_night(source: str) -> None:
    items = items_of(source, good(source))
    assert [i.date.isoformat() for i in items if isinstance(i, NightEntry)] == ["2026-02-10"]
    assert not [i for i in items if isinstance(i, Rejected)]


@pytest.mark.parametrize("source", GOOD)
def test_a_malformed_record_is_rejected_alone(source: str) -> None:
    found, broken = BROKEN[source]
    content = good(source).decode()
    assert found in content
    items = items_of(source, content.replace(found, broken, 1).encode())
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert len(rejected) == 1
    assert rejected[0].position != "file"
    assert broken.split('"')[-2 if '"' in broken else 0] in rejected[0].reason


@pytest.mark.parametrize("source", GOOD)
def test_an_empty_file_is_one_rejection(source: str) -> None:
    [item] = items_of(source, b"")
    assert isinstance(item, Rejected)
    assert item.position == "file"


@pytest.mark.parametrize("source", GOOD)
@pytest.mark.parametrize("other", ["garmin_sleepData.json", "sleep-export.csv", "diary.csv"])
def test_another_kind_of_file_is_one_rejection(source: str, other: str) -> None:
    [item] = items_of(source, (DATA / other).read_bytes())
    assert isinstance(item, Rejected)
    assert item.position == "file"
    assert item.reason.startswith("not ")


def test_the_oura_csv_given_as_json_is_named_as_such() -> None:
    [item] = items_of("oura", good("oura_csv"))
    assert isinstance(item, Rejected)
    assert item.reason == "not a JSON file: this is the Oura CSV export; import it as oura_csv"


@pytest.mark.parametrize(
    ("source", "placeholders"),
    [("oura_csv", 1), ("whoop", 1), ("samsung_health", 1)],
)
def test_days_without_measured_sleep_are_placeholders(source: str, placeholders: int) -> None:
    items = items_of(source, good(source))
    assert len([i for i in items if isinstance(i, Skipped)]) == placeholders


def test_whoop_api_records_read_as_the_csv() -> None:
    [api] = [
        i
        for i in items_of("whoop", (DATA / "whoop_sleep.json").read_bytes())
        if isinstance(i, NightEntry)
    ]
    [csv] = [i for i in items_of("whoop", good("whoop")) if isinstance(i, NightEntry)]
    assert api == csv


def test_whoop_nap_flag_and_unscored_records() -> None:
    document = json.loads((DATA / "whoop_sleep.json").read_text())
    record = document["records"][0]
    nap = record | {"nap": True}
    unscored = record | {"score_state": "PENDING_SCORE", "score": None}
    items = items_of("whoop", json.dumps([nap, unscored]).encode())
    assert [type(i).__name__ for i in items] == ["Skipped", "Nap"]


def test_withings_localised_headers_read_the_same() -> None:
    english = good("withings").decode()
    german = english.replace("from,to,light (s),deep (s)", "von,bis,leicht (s),tief (s)", 1)
    assert [i for i in items_of("withings", german.encode()) if isinstance(i, NightEntry)] == [
        i for i in items_of("withings", english.encode()) if isinstance(i, NightEntry)
    ]


def test_health_auto_export_samples_make_the_same_night_as_the_summary() -> None:
    samples = [
        {"startDate": a, "endDate": b, "value": v, "qty": 0, "source": "Jane’s Apple Watch"}
        for a, b, v in [
            ("2026-02-09 23:00:00 +0100", "2026-02-10 02:00:00 +0100", "Core"),
            ("2026-02-10 02:00:00 +0100", "2026-02-10 02:30:00 +0100", "Awake"),
            ("2026-02-10 02:30:00 +0100", "2026-02-10 03:30:00 +0100", "Deep"),
            ("2026-02-10 03:30:00 +0100", "2026-02-10 04:30:00 +0100", "REM"),
            ("2026-02-10 04:30:00 +0100", "2026-02-10 07:00:00 +0100", "Core"),
        ]
    ]
    document = {"data": {"metrics": [{"name": "sleep_analysis", "units": "hr", "data": samples}]}}
    [night] = [
        i
        for i in items_of("health_auto_export", json.dumps(document).encode())
        if isinstance(i, NightEntry)
    ]
    [summary] = [
        i
        for i in items_of("health_auto_export", good("health_auto_export"))
        if isinstance(i, NightEntry)
    ]
    keep = ("date", "in_bed", "out_of_bed", "sleep_latency_min", "waso_min", "deep_min", "rem_min")
    assert {k: getattr(night, k) for k in keep} == {k: getattr(summary, k) for k in keep}


def test_the_diary_csv_round_trips_tags_and_the_blind_guess() -> None:
    from mgsleep.diary.csvio import parse_csv, to_csv
    from mgsleep.diary.night import BlindGuess, NightTag

    night = NightEntry(
        date="2026-02-10",
        in_bed="23:00",
        lights_out="23:10",
        sleep_latency_min=20,
        final_wake="06:40",
        out_of_bed="07:00",
        tags=(NightTag.alcohol, NightTag.stress),
        blind_guess=BlindGuess.placebo,
    )
    text = to_csv([night])
    assert "alcohol;stress" in text
    assert list(parse_csv(text)) == [night]


def test_a_diary_csv_resaved_with_semicolons_and_decimal_commas_imports() -> None:
    from mgsleep.diary.csvio import parse_csv

    text = (
        "date;in_bed;lights_out;sleep_latency_min;final_wake;out_of_bed;magnesium_mg\n"
        "2026-02-10;23:00;23:10;20;06:40;07:00;212,5\n"
    )
    [night] = list(parse_csv(text))
    assert isinstance(night, NightEntry)
    assert night.magnesium_mg == 212.5


def test_a_sleep_cycle_night_across_the_spring_change_counts_real_minutes() -> None:
    """23:00 to 07:00 on the night the clocks go forward is seven real hours: seven of them
    asleep leave no time awake (on the wall clock it would look like an hour awake)."""
    header = (
        "Start;End;Sleep Quality;Time in bed (seconds);Time asleep (seconds);"
        "Time before sleep (seconds)\n"
    )
    row = "2026-03-28 23:00:00;2026-03-29 07:00:00;80%;25200;25200;0\n"
    items = list(reader_for("sleep_cycle")(io.BytesIO((header + row).encode()), "Europe/Amsterdam"))
    [night] = [item for item in items if isinstance(item, NightEntry)]
    assert night.waso_min == 0
    assert metrics(night).total_sleep_min == 420


def test_a_whoop_row_with_one_offset_and_one_without_is_rejected_not_a_crash() -> None:
    csv = (
        "Sleep onset,Wake onset,Asleep duration (min),Nap\n"
        "2026-02-09 23:00:00+01:00,2026-02-10 07:00:00,450,false\n"
        "2026-02-10 23:00:00+01:00,2026-02-11 07:00:00+01:00,450,false\n"
    )
    items = items_of("whoop", csv.encode())
    [rejected] = [i for i in items if isinstance(i, Rejected)]
    assert rejected.position == "row 2"
    assert "no offset" in rejected.reason
    assert [i.date.isoformat() for i in items if isinstance(i, NightEntry)] == ["2026-02-11"]

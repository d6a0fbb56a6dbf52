"""Regression tests for the ways real exports lost or invented nights (issue 14's nine faults),
each on a fixture shaped like the real format."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mgsleep.cli import app
from mgsleep.diary.imports import (
    ImportItem,
    Nap,
    NapReason,
    NightInfo,
    Skipped,
    reader_for,
)
from mgsleep.diary.night import NightEntry, metrics
from mgsleep.errors import InputError
from mgsleep.service.imports import import_file
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import get_nights, local_user_id

DATA = Path(__file__).parent / "data" / "imports" / "faults"
ZONE = "Europe/Amsterdam"
runner = CliRunner()


def read(source: str, name: str, zone: str = ZONE) -> list[ImportItem]:
    with (DATA / name).open("rb") as stream:
        return list(reader_for(source)(stream, zone))


def nights(items: list[ImportItem]) -> list[NightEntry]:
    return [item for item in items if isinstance(item, NightEntry)]


def of_kind(items: list[ImportItem], kind: type) -> list:
    return [item for item in items if isinstance(item, kind)]


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_store(f"sqlite:///{tmp_path / 'faults.db'}")


def imported(engine, source: str, name: str, **options: bool):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session, (DATA / name).open("rb") as stream:
        return import_file(
            session, local_user_id(session), source, stream, timezone=ZONE, **options
        )


# 1 and 7: Sleep as Android, tracking restarted in the night, alarm snoozes, a long nap


def test_two_records_of_one_night_are_one_night_and_a_daytime_sleep_a_nap(engine) -> None:  # type: ignore[no-untyped-def]
    report = imported(engine, "sleep_as_android", "saa_restarted_and_nap.csv")
    assert (report.added, report.merged, report.naps, report.rejected) == (1, 1, 1, [])
    with session_scope(engine) as session:
        [night] = get_nights(session, local_user_id(session))
    assert (night.date, night.in_bed, night.out_of_bed) == (date(2026, 2, 10), time(23), time(7))
    # 15 minutes between the records and 20 awake in the second are wake after sleep onset.
    assert (night.waso_min, night.awakenings) == (35, 2)
    again = imported(engine, "sleep_as_android", "saa_restarted_and_nap.csv", replace=True)
    assert (again.added, again.replaced, again.already_present) == (0, 0, 1)


def test_the_final_awakening_is_the_first_alarm_and_snoozes_are_not_wake_time() -> None:
    [night] = nights(read("sleep_as_android", "saa_restarted_and_nap.csv"))
    # The alarm rang at 06:45 and was snoozed; tracking ran on to 07:00.
    assert night.final_wake == time(6, 45)
    assert metrics(night).terminal_wake_min == 15
    assert night.waso_min == 35


def test_a_long_daytime_nap_is_a_nap_with_its_reason() -> None:
    [nap] = of_kind(read("sleep_as_android", "saa_restarted_and_nap.csv"), Nap)
    assert (nap.start.time(), nap.end.time(), nap.reason) == (
        time(13),
        time(15, 30),
        NapReason.DAYTIME,
    )


# 2: files re-saved by a spreadsheet program


def test_a_file_resaved_by_a_spreadsheet_imports_the_same_nights() -> None:
    original = nights(read("sleep_as_android", "saa_restarted_and_nap.csv"))
    resaved = nights(read("sleep_as_android", "saa_resaved_by_libreoffice.csv"))
    assert resaved == original


def test_a_resaved_file_without_its_times_is_refused_with_the_reason(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as refused:
        imported(engine, "sleep_as_android", "saa_resaved_dates_lost.csv")
    assert refused.value.code == "no_night_readable"
    assert "a spreadsheet re-saving the file rounds it" in refused.value.text("en")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(
        app, ["import", "sleep_as_android", str(DATA / "saa_resaved_dates_lost.csv"), "--db", db]
    )
    assert result.exit_code == 2
    assert "0 nights" not in result.stdout


def test_an_empty_file_is_an_error_not_zero_nights(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "sleep-2026-04-01.json"
    empty.write_text("[]")
    with (
        session_scope(engine) as session,
        empty.open("rb") as stream,
        pytest.raises(InputError) as refused,
    ):
        import_file(session, local_user_id(session), "fitbit", stream, timezone=ZONE)
    assert refused.value.code == "no_sleep_records"


# 3: Apple Health from iOS 8 and 9


def test_ios8_records_with_old_values_source_compact_dates_and_spaced_names() -> None:
    # Exported in London (+0100 in June), without HKTimeZone: dated in the person's zone.
    [night] = nights(read("apple_health", "export_ios8.xml", "Europe/London"))
    assert (night.date, night.in_bed, night.out_of_bed) == (
        date(2015, 6, 2),
        time(23, 15),
        time(6, 50),
    )
    # value="1" from 23:30 and from 04:56 (20 minutes between), no value: in bed.
    assert (night.sleep_latency_min, night.waso_min, night.final_wake) == (15, 20, time(6, 45))


# 4: Fitbit


def test_fitbit_the_spring_forward_night_takes_its_length_from_duration() -> None:
    [night, _] = nights(read("fitbit", "fitbit_sleep-2026-03-28.json"))
    assert (night.date, night.in_bed, night.out_of_bed) == (
        date(2026, 3, 29),
        time(23, 30),
        time(7, 30),
    )
    assert metrics(night).time_in_bed_min == 7 * 60


def test_fitbit_latency_is_the_leading_wake_and_unknown_is_not_sleep() -> None:
    [night, _] = nights(read("fitbit", "fitbit_sleep-2026-03-28.json"))
    assert (night.sleep_latency_min, night.waso_min) == (15, 20)
    assert metrics(night).total_sleep_min == 385  # minutesAsleep


def test_fitbit_classic_awake_time_agrees_with_time_in_bed_less_asleep() -> None:
    [_, night] = nights(read("fitbit", "fitbit_sleep-2026-03-28.json"))
    found = metrics(night)
    assert (found.time_in_bed_min, found.total_sleep_min) == (480, 420)
    assert (found.sleep_latency_min, found.waso_min, found.terminal_wake_min) == (10, 40, 10)


def test_fitbit_web_api_answer_reads_as_the_export() -> None:
    [api] = nights(read("fitbit", "fitbit_web_api_2026-03-30.json"))
    [_, export] = nights(read("fitbit", "fitbit_sleep-2026-03-28.json"))
    assert api == export


# 5: placeholders are not perfect nights


def test_garmin_unconfirmed_and_off_wrist_windows_are_placeholders() -> None:
    items = read("garmin", "garmin_placeholders_sleepData.json")
    assert [s.position for s in of_kind(items, Skipped)] == ["record 2", "record 3"]
    [night] = nights(items)
    # 30 minutes awake and 30 unmeasurable: neither is sleep.
    assert (night.waso_min, metrics(night).total_sleep_min) == (60, 420)


def test_an_oura_period_without_type_or_durations_is_a_placeholder(engine) -> None:  # type: ignore[no-untyped-def]
    items = read("oura", "oura_placeholder_sleep.json")
    assert nights(items) == []
    assert len(of_kind(items, Skipped)) == 1
    report = imported(engine, "oura", "oura_placeholder_sleep.json")
    assert (report.added, report.placeholders) == (0, 1)


# 6: naps by the device's flag or the day's rule, never by duration alone


def test_a_short_bad_night_is_the_night_and_a_long_afternoon_sleep_a_nap() -> None:
    items = read("fitbit", "fitbit_short_night_and_long_nap.json")
    [night] = nights(items)
    assert (night.date, night.in_bed, night.out_of_bed) == (
        date(2026, 2, 15),
        time(2, 40),
        time(4, 50),
    )
    [nap] = of_kind(items, Nap)
    assert nap.reason == NapReason.DAYTIME


# 8: no traceback, ever


def test_a_refused_file_leaves_no_exception_behind(tmp_path: Path) -> None:
    caught: list[object] = []
    previous = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        with (DATA / "export_ios8.xml").open("rb") as stream:
            items = reader_for("sleep_as_android")(stream, ZONE)
            first = next(iter(items))
        del items
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert getattr(first, "position", None) == "file"
    assert caught == []


def test_the_cli_prints_no_traceback_for_a_refused_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "dev",
            "-m",
            "mgsleep",
            "import",
            "sleep_as_android",
            str(DATA / "export_ios8.xml"),
            "--db",
            db,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Exception ignored" not in result.stderr
    assert "Traceback" not in result.stderr


# 9: the zone the file states, and the summary says which


def test_the_summary_names_the_zone_and_whether_the_file_stated_it(engine) -> None:  # type: ignore[no-untyped-def]
    report = imported(engine, "sleep_as_android", "saa_restarted_and_nap.csv")
    assert (report.zones, report.zone_rule, report.default_zone) == ({ZONE: 1}, "file", ZONE)
    fitbit = imported(engine, "fitbit", "fitbit_short_night_and_long_nap.json")
    assert fitbit.zone_rule == "default"


def test_the_import_command_shows_the_summary(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(
        app,
        [
            "import",
            "sleep_as_android",
            str(DATA / "saa_restarted_and_nap.csv"),
            "--json",
            "--db",
            db,
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["merged"], summary["naps"], summary["placeholders"]) == (1, 1, 0)
    assert summary["zones"] == {ZONE: 1}
    assert summary["zone_summary"] == f"{ZONE} (as the file states)"
    text = runner.invoke(
        app,
        [
            "import",
            "garmin",
            str(DATA / "garmin_placeholders_sleepData.json"),
            "--db",
            db,
            "--lang",
            "en",
        ],
    )
    assert text.exit_code == 0, text.stderr
    assert "placeholders skipped" in text.stdout
    assert "your default" in text.stdout


def test_a_reader_note_comes_before_each_night() -> None:
    items = read("sleep_as_android", "saa_restarted_and_nap.csv")
    index = next(i for i, item in enumerate(items) if isinstance(item, NightEntry))
    note = items[index - 1]
    assert isinstance(note, NightInfo)
    assert (note.pieces, note.zone, note.zone_from_file) == (2, ZONE, True)


def test_io_streams_stay_the_callers() -> None:
    stream = io.BytesIO((DATA / "saa_resaved_by_libreoffice.csv").read_bytes())
    list(reader_for("sleep_as_android")(stream, ZONE))
    assert not stream.closed

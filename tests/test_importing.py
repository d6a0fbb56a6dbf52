"""Imports into the diary: one transaction, idempotent, hand entries never overwritten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mgsleep.cli import app
from mgsleep.diary.imports import DeviceSleep, ImportItem, Nap, Rejected, sleep_night
from mgsleep.diary.night import NightEntry, metrics, one_per_night
from mgsleep.errors import InputError
from mgsleep.service.imports import import_items as apply_import
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import add_night, get_nights, local_user_id

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def device_night(day: int, source: str = "fitbit") -> NightEntry:
    start = datetime(2026, 2, day, 22, 0, tzinfo=UTC)
    sleep = DeviceSleep(
        source=source,
        in_bed_start=start,
        in_bed_end=start + timedelta(hours=8),
        sleep_onset=start + timedelta(minutes=12),
        final_wake=start + timedelta(hours=7, minutes=50),
        waso_min=25,
        awakenings=2,
        deep_min=80,
        light_min=240,
        rem_min=90,
        main_sleep=True,
    )
    night = sleep_night(sleep, "Europe/Amsterdam")
    assert isinstance(night, NightEntry)
    return night


def test_a_device_sleep_becomes_a_night_on_the_date_of_waking():
    night = device_night(3)
    assert night.date == date(2026, 2, 4)
    assert (night.in_bed, night.final_wake, night.out_of_bed) == (
        time(23, 0),
        time(6, 50),
        time(7, 0),
    )
    assert night.sleep_latency_min == 12
    assert night.deep_min == 80
    assert metrics(night).total_sleep_min == 7 * 60 + 50 - 12 - 25


def test_a_short_daytime_sleep_is_a_nap():
    start = datetime(2026, 2, 3, 13, 0, tzinfo=UTC)
    nap = sleep_night(
        DeviceSleep(
            source="oura",
            in_bed_start=start,
            in_bed_end=start + timedelta(minutes=40),
            sleep_onset=start,
            final_wake=start + timedelta(minutes=40),
            waso_min=0,
        ),
        "Europe/Amsterdam",
    )
    assert isinstance(nap, Nap)


@pytest.fixture
def engine(tmp_path):
    return open_store(f"sqlite:///{tmp_path / 'imports.db'}")


def count(engine) -> int:
    with session_scope(engine) as session:
        return len(get_nights(session, local_user_id(session)))


def test_reimport_adds_nothing_and_dry_run_writes_nothing(engine):
    nights = [device_night(d) for d in range(1, 8)]
    with session_scope(engine) as session:
        dry = apply_import(session, local_user_id(session), nights, dry_run=True)
    assert (dry.added, count(engine)) == (7, 0)
    with session_scope(engine) as session:
        first = apply_import(session, local_user_id(session), nights)
    with session_scope(engine) as session:
        again = apply_import(session, local_user_id(session), nights)
    assert (first.added, again.added, again.already_present, count(engine)) == (7, 0, 7, 7)


def test_hand_entries_are_kept_beside_device_nights(engine):
    device = device_night(3)
    typed = NightEntry(
        date=device.date,
        in_bed="22:30",
        lights_out="22:45",
        sleep_latency_min=30,
        final_wake="06:30",
        out_of_bed="06:45",
    )
    with session_scope(engine) as session:
        add_night(session, local_user_id(session), typed)
    with session_scope(engine) as session:
        report = apply_import(session, local_user_id(session), [device])
    assert report.beside_hand_entries == 1
    with session_scope(engine) as session:
        stored = get_nights(session, local_user_id(session))
    assert {n.source for n in stored} == {"diary", "fitbit"}
    assert one_per_night(stored) == [typed]  # the hand entry counts in the trial


def test_a_failure_halfway_leaves_the_diary_as_it_was(engine):
    def failing() -> Iterator[ImportItem]:
        for day in range(1, 6):
            yield device_night(day)
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="disk"), session_scope(engine) as session:
        apply_import(session, local_user_id(session), failing())
    assert count(engine) == 0


def test_a_file_level_problem_imports_nothing_and_bad_records_are_reported(engine):
    items: list[ImportItem] = [
        device_night(1),
        Rejected(position="file", reason="truncated at byte 900"),
    ]
    with (
        pytest.raises(InputError, match=r"truncated at byte 900\. Nothing was imported"),
        session_scope(engine) as session,
    ):
        apply_import(session, local_user_id(session), items)
    assert count(engine) == 0
    with session_scope(engine) as session:
        report = apply_import(
            session,
            local_user_id(session),
            [device_night(1), Rejected(position="record 2", reason="no endTime")],
        )
    assert report.added == 1
    assert report.rejected == [Rejected(position="record 2", reason="no endTime")]


def test_the_import_command(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    template = str(ROOT / "examples" / "diary-template.csv")
    result = runner.invoke(app, ["import", "csv", template, "--dry-run", "--json", "--db", db])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 2
    result = runner.invoke(app, ["import", "csv", template, "--db", db])
    assert result.exit_code == 0
    result = runner.invoke(app, ["import", "csv", template, "--json", "--db", db])
    assert json.loads(result.stdout)["already_present"] == 2
    result = runner.invoke(app, ["import", "csv", str(ROOT / "README.md"), "--db", db])
    assert result.exit_code == 2
    assert "nothing was imported" in result.stderr.lower()
    result = runner.invoke(app, ["import", "csv", template, "--timezone", "Mars/Base", "--db", db])
    assert result.exit_code == 2


def test_the_upload_page(tmp_path):
    import re

    from fastapi.testclient import TestClient

    from mgsleep.web.app import create_app
    from mgsleep.web.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", secret_key="x" * 40)
    with TestClient(create_app(settings)) as client:
        page = client.get("/signup")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post(
            "/signup", data={"username": "uploader", "password": "long enough", "csrf_token": token}
        )
        page = client.get("/import?lang=nl")
        assert "Nachten inlezen" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        template = (ROOT / "examples" / "diary-template.csv").read_bytes()
        answer = client.post(
            "/import",
            params={"csrf_token": token},
            data={"source": "csv", "csrf_token": token},
            files={"file": ("diary.csv", template, "text/csv")},
        )
        assert answer.status_code == 200
        assert re.search(r"toegevoegd</th><td>2<", answer.text)
        bad = client.post(
            "/import",
            params={"csrf_token": token},
            data={"source": "fitbit", "csrf_token": token},
            files={"file": ("x.json", b"not json", "application/json")},
        )
        assert bad.status_code == 422
        assert "Er is niets ingelezen" in bad.text
        refused = client.post(
            "/import", data={"source": "csv"}, files={"file": ("diary.csv", template, "text/csv")}
        )
        assert refused.status_code == 403


def test_the_trial_reads_imported_nights_as_typed_ones():
    from mgsleep.trial.analysis import analyse
    from tests.simulate import diary, protocol

    trial = protocol()
    typed = diary(5, trial, 42, effect_min=-15)
    imported = [n.model_copy(update={"source": "fitbit"}) for n in typed]
    last = trial.baseline_start + timedelta(days=41)
    assert (
        analyse(trial, imported, as_of=last).outcomes == analyse(trial, typed, as_of=last).outcomes
    )

"""The diary and trial commands against a real database file, and the all-or-nothing import."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mgsleep.cli import app
from mgsleep.diary.csvio import parse_csv, to_csv
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import get_nights, local_user_id
from tests.simulate import diary, protocol

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'diary.db'}"


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def count_nights(db: str) -> int:
    engine = open_store(db)
    with session_scope(engine) as session:
        return len(get_nights(session, local_user_id(session)))


NIGHT = [
    "--in-bed",
    "22:30",
    "--lights-out",
    "22:45",
    "--sleep-latency-min",
    "20",
    "--final-wake",
    "06:30",
    "--out-of-bed",
    "06:40",
    "--quality",
    "4",
]


def test_add_then_refuse_a_second_entry_unless_replaced(db):
    assert run(db, "diary", "add", "--date", "2026-02-01", *NIGHT)[0] == 0
    code, _, err = run(db, "diary", "add", "--date", "2026-02-01", *NIGHT)
    assert code == 2
    assert "already in the diary" in err
    assert run(db, "diary", "add", "--date", "2026-02-01", *NIGHT, "--replace")[0] == 0
    assert count_nights(db) == 1


def test_list_json_contract(db):
    run(db, "diary", "add", "--date", "2026-02-01", *NIGHT)
    code, out, _ = run(db, "diary", "list", "--json")
    assert code == 0
    night = json.loads(out)[0]
    for key in (
        "date",
        "time_in_bed_min",
        "total_sleep_min",
        "sleep_efficiency_pct",
        "sleep_latency_min",
        "waso_min",
    ):
        assert key in night
    assert night["total_sleep_min"] == 465 - 20


def test_csv_import_is_idempotent_and_exports_back(db, tmp_path):
    template = ROOT / "examples" / "diary-template.csv"
    assert run(db, "diary", "import-csv", str(template))[0] == 0
    _code, out, _ = run(db, "diary", "import-csv", str(template), "--json")
    result = json.loads(out)
    assert {k: result[k] for k in ("added", "replaced", "already_present")} == {
        "added": 0,
        "replaced": 0,
        "already_present": 2,
    }
    exported = tmp_path / "out.csv"
    assert run(db, "diary", "export-csv", str(exported))[0] == 0
    # Every field of a night is written, so the export reads back as the same nights.
    assert list(parse_csv(exported.read_text("utf-8"))) == list(
        parse_csv(template.read_text("utf-8"))
    )
    assert exported.read_text("utf-8").startswith(template.read_text("utf-8").split("\n")[0])


def test_a_bad_row_is_reported_and_the_good_ones_come_in(db, tmp_path):
    text = (ROOT / "examples" / "diary-template.csv").read_text("utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(text + "2026-01-17,22:00,22:30,18,2,30,21:00,21:30,3,,,no,,\n", "utf-8")
    code, out, _err = run(db, "diary", "import-csv", str(bad), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["added"] == 2
    assert [(r["position"], r["code"]) for r in result["rejected"]] == [
        ("row 4", "wake_before_lights_out")
    ]
    assert count_nights(db) == 2


def test_a_conflicting_import_imports_nothing_without_replace(db, tmp_path):
    run(db, "diary", "add", "--date", "2026-01-16", *NIGHT)
    code, _, err = run(db, "diary", "import-csv", str(ROOT / "examples" / "diary-template.csv"))
    assert code == 2
    assert "2026-01-16" in err
    assert count_nights(db) == 1


def _write_locked(database: Path) -> bool:
    connection = sqlite3.connect(database, timeout=0)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()
    return False


@pytest.mark.slow
def test_a_kill_mid_import_leaves_the_diary_as_it_was(tmp_path):
    database = tmp_path / "kill.db"
    url = f"sqlite:///{database}"
    trial = protocol()
    nights = diary(1, trial, 6000)
    big = tmp_path / "big.csv"
    big.write_text(to_csv(nights), "utf-8")
    env = {**os.environ, "MGSLEEP_DATABASE_URL": url}
    command = [sys.executable, "-m", "mgsleep"]
    subprocess.run([*command, "diary", "list"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*command, "diary", "import-csv", str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    # The import holds SQLite's write lock from its first write to its commit (BEGIN
    # IMMEDIATE, WAL mode): while we cannot take the lock ourselves, it is writing.
    while not _write_locked(database) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    time.sleep(0.02)  # inside the write transaction
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the import finished before it could be killed"
    assert count_nights(url) == 0
    # and the same file imports whole afterwards
    subprocess.run(
        [*command, "diary", "import-csv", str(big)], env=env, check=True, capture_output=True
    )
    assert count_nights(url) == len(nights)


def test_trial_start_status_and_report(db, tmp_path):
    trial = protocol()
    nights = diary(3, trial, 42, effect_min=-35)
    csv = tmp_path / "trial.csv"
    csv.write_text(to_csv(nights), "utf-8")
    assert run(db, "diary", "import-csv", str(csv))[0] == 0
    code, _, err = run(
        db,
        "trial",
        "start",
        "--baseline-start",
        trial.baseline_start.isoformat(),
        "--magnesium-start",
        trial.magnesium_start.isoformat(),
    )
    assert code == 0, err
    last = (trial.baseline_start + timedelta(days=41)).isoformat()
    code, out, _ = run(db, "trial", "status", "--as-of", last, "--json")
    status = json.loads(out)
    assert status["nights_by_phase"]["baseline"] == 14
    assert status["nights_by_phase"]["magnesium"] == 28
    code, out, _ = run(db, "trial", "report", "--as-of", last, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["verdict"] == "improved"
    assert set(report["outcomes"]) == {
        "sleep_latency_min",
        "total_sleep_min",
        "sleep_efficiency_pct",
        "waso_min",
        "quality",
    }
    for result in report["outcomes"].values():
        assert set(result) >= {
            "baseline_mean",
            "magnesium_mean",
            "difference",
            "ci_low",
            "ci_high",
            "prob_meaningful",
            "verdict",
        }


def test_trial_start_refuses_a_short_baseline(db):
    code, _, err = run(
        db, "trial", "start", "--baseline-start", "2026-01-01", "--magnesium-start", "2026-01-04"
    )
    assert code == 2
    assert "at least 7 nights" in err


def test_trial_start_from_a_plan(db):
    code, out, err = run(
        db,
        "trial",
        "start",
        "--baseline-start",
        "2026-01-01",
        "--magnesium-start",
        "2026-01-15",
        "--profile",
        str(ROOT / "examples" / "profiles" / "onset-insomnia.yaml"),
        "--json",
    )
    assert code == 0, err
    protocol_json = json.loads(out)
    assert protocol_json["form"] == "bisglycinate"
    assert protocol_json["dose_mg"] == 200
    assert protocol_json["intake_time"] == "22:00"
    code, _, err = run(
        db,
        "trial",
        "start",
        "--baseline-start",
        "2026-01-01",
        "--magnesium-start",
        "2026-01-15",
        "--profile",
        str(ROOT / "examples" / "profiles" / "kidney-disease.yaml"),
    )
    assert code == 2
    assert "no magnesium" in err


def test_trial_commands_without_a_trial(db):
    code, _, err = run(db, "trial", "status")
    assert code == 2
    assert "no trial has been started" in err.lower()


def test_isi_scores_stores_and_compares(db):
    code, out, err = run(db, "isi", "--answers", "3,3,2,3,2,3,3", "--date", "2026-01-05", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["total_points"] == 19
    assert first["change_since_first"] is None
    code, out, _ = run(db, "isi", "--answers", "1,1,1,2,1,1,1", "--date", "2026-02-20", "--json")
    later = json.loads(out)
    assert later["change_since_first"]["points"] == -11
    assert later["change_since_first"]["meaningful"] is True
    code, _, err = run(db, "isi", "--answers", "1,1,1,2,1,1,1", "--date", "2026-02-20")
    assert code == 2
    assert "already stored" in err
    code, _, err = run(db, "isi", "--answers", "1,1,1,9,1,1,1")
    assert code == 2
    assert "answers.4" in err
    code, out, _ = run(
        db, "isi", "--answers", "3,3,2,3,2,3,3", "--date", "2026-01-06", "--lang", "nl"
    )
    assert "punten" in out


def test_trial_power_learns_from_the_trials_nights(db, tmp_path):
    from datetime import date

    from mgsleep.trial.protocol import TrialProtocol

    first = date.today() - timedelta(days=19)
    trial = TrialProtocol(baseline_start=first, magnesium_start=first + timedelta(days=14))
    csv = tmp_path / "trial.csv"
    csv.write_text(to_csv(diary(4, trial, 20)), "utf-8")
    assert run(db, "diary", "import-csv", str(csv))[0] == 0
    code, out, err = run(db, "trial", "power", "--json")
    assert code == 0, err
    before = json.loads(out)
    assert before["trial"] is None  # no trial yet: the plan for one, from the nights
    assert before["source"] == "recent_nights"
    start = [
        "--baseline-start",
        first.isoformat(),
        "--magnesium-start",
        trial.magnesium_start.isoformat(),
    ]
    assert run(db, "trial", "start", *start)[0] == 0
    code, out, err = run(db, "trial", "power", "--json")
    assert code == 0, err
    during = json.loads(out)
    assert (during["source"], during["nights_used"]) == ("trial_nights", 20)
    assert during["trial"]["nights"] == 42
    assert 0 <= during["trial"]["power"] <= 1
    code, out, _ = run(db, "trial", "power", "--lang", "en")
    assert (
        f"Your trial as planned (42 nights) has a {round(100 * during['trial']['power'])}% chance"
        in " ".join(out.split())
    )
    assert "20 nights in this trial varied" in " ".join(out.split())


def test_a_database_given_as_a_path_is_a_sqlite_file(tmp_path):
    path = tmp_path / "sleep.db"
    result = runner.invoke(app, ["diary", "add", "--date", "2026-01-10", *NIGHT, "--db", str(path)])
    assert result.exit_code == 0, result.stderr
    assert count_nights(f"sqlite:///{path}") == 1


def test_a_database_mgsleep_cannot_open_is_refused_with_its_reason():
    result = runner.invoke(app, ["diary", "list", "--db", "mysql://me:secret@host/sleep"])
    assert result.exit_code == 2
    assert "Not a database mgsleep can open" in result.stderr
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr + result.stdout

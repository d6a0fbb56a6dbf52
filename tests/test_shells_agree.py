"""One use case, one answer: the CLI, the API and the pages give the same result for the same
input, because each calls the same service function."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from mgsleep import clock
from mgsleep.cli import app as cli
from mgsleep.label import MAX_LABEL_BYTES
from tests.test_api import Person
from tests.test_api import app as app

ROOT = Path(__file__).resolve().parent.parent
CSV = (
    "date,in_bed,lights_out,sleep_latency_min,final_wake,out_of_bed,quality\n"
    "2026-01-15,22:30,22:45,20,06:30,07:00,3\n"
    "2026-01-16,22:30,22:00,20,06:30,07:00,3\n"
    "2026-01-17,22:30,22:45,20,06:30,07:00,9\n"
    "2026-01-18,23:00,23:05,10,07:00,07:10,4\n"
)
PROFILE_FILE = ROOT / "examples" / "profiles" / "onset-insomnia.yaml"


@pytest.fixture
def anna(app: FastAPI) -> Person:
    person = Person(app)
    assert person.signup("anna").status_code == 201
    return person


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _summary(result: dict[str, Any]) -> tuple[Any, ...]:
    rejected = [(r["position"], r["field"], r["code"]) for r in result["rejected"]]
    return result["added"], result["already_present"], rejected


def test_a_diary_csv_imports_the_same_everywhere(tmp_path: Path, anna: Person) -> None:
    csv = tmp_path / "diary.csv"
    csv.write_text(CSV, "utf-8")
    by_diary_command = cli_json(
        "diary", "import-csv", str(csv), "--db", f"sqlite:///{tmp_path}/a.db"
    )
    by_import_command = cli_json("import", "csv", str(csv), "--db", f"sqlite:///{tmp_path}/b.db")
    by_api = anna.post("/nights/import", files={"file": ("d.csv", CSV.encode(), "text/csv")})
    assert by_api.status_code == 200
    expected = (
        2,
        0,
        [("row 3", "lights_out", "lights_out_before_bed"), ("row 4", "quality", "less_than_equal")],
    )
    assert (
        _summary(by_diary_command)
        == _summary(by_import_command)
        == _summary(by_api.json())
        == expected
    )

    page = anna.client.post(
        "/diary/import",
        params={"csrf_token": anna.token, "lang": "en"},
        data={"csrf_token": anna.token},
        files={"file": ("d.csv", CSV.encode(), "text/csv")},
    )
    # The page imports the same way: the nights are already there, the two bad rows listed.
    assert page.status_code == 200
    assert "0 nights added, 0 replaced, 2 already present." in page.text
    assert page.text.count("<li>Row ") == 2


def test_the_account_export_is_one_document(anna: Person) -> None:
    anna.post(
        "/nights",
        json={
            "date": "2026-01-15",
            "in_bed": "22:30",
            "lights_out": "22:45",
            "sleep_latency_min": 20,
            "final_wake": "06:30",
            "out_of_bed": "07:00",
        },
    )
    anna.post("/isi", json={"answers": [2, 2, 1, 2, 1, 2, 2], "date": "2026-01-16"})
    from_api = anna.get("/export").json()
    from_page = json.loads(anna.client.get("/account/export.json").text)
    for export in (from_api, from_page):
        export.pop("exported_at")
    assert from_api == from_page
    assert from_api["nights"][0]["date"] == "2026-01-15"


@pytest.fixture
def far_east(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """11:30 UTC on 1 March: already 2 March on Kiritimati (UTC+14)."""
    moment = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    return moment


def test_today_is_the_persons_date_in_every_shell(anna: Person, far_east: datetime) -> None:
    profile = {"age": 40, "sex": "female", "timezone": "Pacific/Kiritimati"}
    assert anna.put("/profile", json=profile).status_code == 200
    trial = {"baseline_start": "2026-02-01", "magnesium_start": "2026-02-15"}
    assert anna.post("/trial", json=trial).status_code == 201
    status = anna.get("/trial/report").json()
    assert status["analysis"]["as_of"] == "2026-03-02"
    isi = anna.post("/isi", json={"answers": [1] * 7})
    assert isi.json()["date"] == "2026-03-02"
    plan = anna.get("/plan").json()
    assert plan["timeline"][0]["start"].startswith("2026-03-02")
    page = anna.client.get("/diary")
    assert 'value="2026-03-02"' in page.text


def test_a_trial_from_the_plan_takes_the_same_dose_everywhere(tmp_path: Path, anna: Person) -> None:
    import yaml

    profile = yaml.safe_load(PROFILE_FILE.read_text("utf-8"))
    assert anna.put("/profile", json=profile).status_code == 200
    dates = {"baseline_start": "2026-02-01", "magnesium_start": "2026-02-15"}
    by_api = anna.post("/trial", json={**dates, "from_plan": True}).json()
    by_cli = cli_json(
        "trial",
        "start",
        "--baseline-start",
        "2026-02-01",
        "--magnesium-start",
        "2026-02-15",
        "--profile",
        str(PROFILE_FILE),
        "--db",
        f"sqlite:///{tmp_path}/t.db",
    )
    keys = ("form", "dose_mg", "intake_time")
    assert {k: by_api[k] for k in keys} == {k: by_cli[k] for k in keys}
    assert by_api["dose_mg"] is not None


def test_the_label_upload_limit_is_the_same_for_the_api_and_the_page(anna: Person) -> None:
    too_big = b"name: x\n" + b"#" * MAX_LABEL_BYTES
    api = anna.post("/label/upload", files={"file": ("label.yaml", too_big, "text/yaml")})
    page = anna.client.post(
        "/label",
        params={"csrf_token": anna.token},
        data={"csrf_token": anna.token},
        files={"document": ("label.yaml", too_big, "text/yaml")},
    )
    assert api.status_code == 413
    assert page.status_code == 422
    assert f"{MAX_LABEL_BYTES // 1000} kB" in page.text


def test_an_isi_scores_the_same_in_the_cli_and_the_api(tmp_path: Path, anna: Person) -> None:
    answers = [3, 2, 1, 3, 2, 2, 3]
    by_cli = cli_json(
        "isi",
        "--answers",
        ",".join(map(str, answers)),
        "--date",
        "2026-01-10",
        "--db",
        f"sqlite:///{tmp_path}/i.db",
        "--lang",
        "en",
    )
    by_api = anna.post(
        "/isi", json={"answers": answers, "date": "2026-01-10"}, params={"lang": "en"}
    ).json()
    assert by_cli == by_api
    assert date.fromisoformat(by_api["date"]) == date(2026, 1, 10)

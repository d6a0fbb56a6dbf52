"""The `mgsleep` command as a person and a script use it."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from mgsleep.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> object:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_dose_json_reproduces_the_articles_row():
    data = run_json("dose", "--form", "bisglycinate", "--elemental", "200")
    assert isinstance(data, dict)
    for key in (
        "form",
        "elemental_mg",
        "compound_mg",
        "glycine_mg",
        "absorbed_mg_low",
        "absorbed_mg_high",
        "upper_limit_share_eu",
        "upper_limit_share_us",
    ):
        assert key in data
    assert data["compound_mg"] == pytest.approx(1419, abs=1)  # "about 1.4 g"
    assert data["glycine_mg"] == pytest.approx(1235, abs=1)  # "about 1.2 g"


def test_oxide_500_gives_the_abbasi_compound_mass():
    data = run_json("dose", "--form", "magnesiumoxide", "--elemental", "500")
    assert isinstance(data, dict)
    assert data["compound_mg"] == pytest.approx(828, rel=0.01)
    assert data["glycine_mg"] is None


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["dose", "--form", "glycinaatt", "--elemental", "200"], "did you mean"),
        (["dose", "--form", "oxide", "--elemental", "50000"], "from 1 to 2000 mg"),
        (["dose", "--form", "oxide", "--elemental", "-3"], "elemental_mg"),
        (["dose", "--form", "oxide"], "no amount given"),
        (["form", "unobtainium"], "valid:"),
        (["evidence", "astrology"], "valid:"),
        (["label", "no-such-file.yaml"], "no such file"),
        (
            ["plan", str(EXAMPLES / "profiles" / "onset-insomnia.yaml"), "--bedtime", "25:00"],
            "--bedtime",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, needle):
    code, out, err = run(*args)
    assert code == 2
    assert needle.lower() in err.lower()
    assert "Traceback" not in out + err


def test_a_malformed_label_names_line_and_field(tmp_path):
    label = tmp_path / "label.yaml"
    label.write_text(
        "name: x\ningredients:\n  - name: oxide\n    amount_mg: 0\n    basis: elemental\n"
    )
    code, _, err = run("label", str(label))
    assert code == 2
    assert "Line 4" in err
    assert "ingredients.0.amount_mg" in err


def test_label_examples_analyse():
    data = run_json("label", str(EXAMPLES / "labels" / "japanese-hybrid.json"))
    assert isinstance(data, dict)
    assert data["elemental_mg"] == pytest.approx(100)
    assert "gaba_a" in data["pathways"]
    code, out, _ = run(
        "label", str(EXAMPLES / "labels" / "buffered-glycinate.yaml"), "--lang", "nl"
    )
    assert code == 0
    assert "andere magnesiumbron" in out


def test_forms_and_form_in_both_languages():
    code, out, _ = run("forms", "--lang", "nl")
    assert code == 0
    assert "Magnesiumvormen" in out
    code, out, _ = run("form", "oxide", "--lang", "en")
    assert code == 0
    assert "The research found" in out
    forms = run_json("forms")
    assert isinstance(forms, list)
    assert len(forms) == 12


def test_evidence_topics_and_a_topic():
    topics = run_json("evidence")
    assert isinstance(topics, dict)
    assert topics["glycine"] >= 2
    data = run_json("evidence", "glycine")
    assert isinstance(data, dict)
    keys = {r["key"] for r in data["references"]}
    assert {"yamadera2007", "bannai2012"} <= keys
    code, out, _ = run("evidence", "bath", "--lang", "nl")
    assert code == 0
    assert "Oordeel" in out or "Het artikel zegt" in out


def test_screen_with_a_stop_finding_exits_0():
    data = run_json("screen", str(EXAMPLES / "profiles" / "kidney-disease.yaml"))
    assert isinstance(data, dict)
    severities = {f["severity"] for f in data["findings"]}
    assert "stop" in severities
    for finding in data["findings"]:
        assert set(finding) >= {"severity", "code", "message", "management", "citations"}


def test_plan_json_contract(tmp_path):
    ics = tmp_path / "evening.ics"
    data = run_json(
        "plan",
        str(EXAMPLES / "profiles" / "onset-insomnia.yaml"),
        "--start",
        "2026-03-28",
        "--ics",
        str(ics),
    )
    assert isinstance(data, dict)
    for key in (
        "findings",
        "verdict",
        "form",
        "elemental_mg",
        "compound_mg",
        "glycine_mg_total",
        "glycine_topup_mg",
        "companions",
        "timeline",
        "citations",
    ):
        assert key in data
    assert data["verdict"] == "go"
    assert data["form"] == "bisglycinate"
    assert all({"start", "end", "what"} <= set(e) for e in data["timeline"])
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    events = [e for e in calendar.walk("VEVENT") if e.get("status") != "CANCELLED"]
    assert events
    assert all(e.get("rrule") for e in events)


def test_plan_with_a_stop_has_no_dose():
    data = run_json("plan", str(EXAMPLES / "profiles" / "kidney-disease.yaml"))
    assert isinstance(data, dict)
    assert data["verdict"] == "stop"
    assert data["elemental_mg"] is None
    assert not [e for e in data["timeline"] if e["kind"] in {"magnesium", "glycine", "companion"}]


def test_plan_text_in_dutch_shows_findings_first():
    code, out, _ = run("plan", str(EXAMPLES / "profiles" / "ciprofloxacin.yaml"), "--lang", "nl")
    assert code == 0
    assert out.index("LET OP") < out.index("Vanavond")


def test_unknown_profile_keys_are_named(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("age: 40\nsex: female\nfavourite_colour: blue\nshoe_size: 38\n")
    code, _, err = run("screen", str(profile))
    assert code == 2
    assert "favourite_colour" in err
    assert "shoe_size" in err


@pytest.mark.parametrize("name", sorted(p.name for p in (EXAMPLES / "profiles").iterdir()))
def test_every_example_profile_plans(name):
    code, _, err = run("plan", str(EXAMPLES / "profiles" / name), "--lang", "en")
    assert code == 0, err


def test_every_command_has_help_and_a_readme_line():
    readme = (ROOT / "README.md").read_text("utf-8")
    for command in app.registered_commands:
        name = command.name
        assert name is not None
        code, _out, _ = run(name, "--help")
        assert code == 0
        assert f"mgsleep {name}" in readme, name


def test_plan_json_has_the_headline_the_start_and_what_a_typo_was_read_as(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "age: 40\nsex: female\nmedicines:\n"
        "  - {name: Ciproflaxacine, times: ['20:00'], course_end: '2026-12-05'}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["plan", str(profile), "--start", "2026-12-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["start_date"] == "2026-12-06"
    assert data["paused_until"] == "2026-12-05"
    assert "2026-12-06" in data["headline"]
    [read_as] = [f for f in data["findings"] if f["code"] == "medicine.read_as"]
    assert read_as["read_as"] == ["ciprofloxacine"]
    [rule] = [f for f in data["findings"] if f["code"] == "interaction.fluoroquinolones"]
    assert rule["separation"] == {"medicine_before_mg_h": 2, "medicine_after_mg_h": 6}
    assert rule["substance"] == "ciprofloxacin"

"""The CLI as a person meets it: it starts without the heavy parts, speaks the language asked
for, reads at 80 columns, and says a mistake in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mgsleep.cli import app

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "matplotlib", "fastapi", "sqlalchemy", "alembic", "uvicorn", "numpy")


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    probe = (
        "import sys, json, mgsleep.cli; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def run(*args: str, columns: int = 200) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "LANG": "C"})
    return result.exit_code, result.stdout, result.stderr


def test_errors_follow_the_language_asked_for(tmp_path: Path) -> None:
    code, _, english = run("dose", "--form", "bisglycinate", "--lang", "en")
    assert code == 2
    assert "No amount given." in english
    code, _, dutch = run("dose", "--form", "bisglycinate", "--lang", "nl")
    assert code == 2
    assert "Er is geen hoeveelheid opgegeven." in dutch
    assert "No amount" not in dutch


def test_an_unknown_profile_key_suggests_the_one_meant(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("age: 40\nsexe: female\n", "utf-8")
    code, _, err = run("plan", str(profile))
    assert code == 2
    assert "sexe" in err
    assert "did you mean sex?" in err
    code, _, dutch = run("plan", str(profile), "--lang", "nl")
    assert "bedoelt u sex?" in dutch


def test_a_bad_option_value_is_one_line_not_a_box() -> None:
    code, out, err = run("forms", "--lang", "de")
    assert code == 2
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "'de' is not one of" in lines[0]
    assert "╭" not in out + err


def test_no_message_repeats_the_value(tmp_path: Path) -> None:
    code, _, err = run("form", "unobtainium")
    assert code == 2
    assert err.count("unobtainium") == 1


@pytest.mark.parametrize("columns", [80, 120])
def test_the_forms_table_keeps_every_form_apart(columns: int) -> None:
    from mgsleep.evidence import load_evidence

    code, out, _ = run("forms", "--lang", "en", columns=columns)
    assert code == 0
    assert all(len(line) <= columns for line in out.splitlines())
    first_cells = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    keys = [form.key for form in load_evidence().forms]
    # A key wraps onto the next line rather than being cut: every key is there in full.
    text = " ".join(first_cells).replace(" ", "")
    for key in keys:
        assert key.replace(" ", "") in text, key

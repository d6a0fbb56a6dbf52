"""The README as a person reads it: every command, route, setting and file it names is real,
and everything there is, is in it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from mgsleep.cli import app
from mgsleep.diary.sources import SOURCES
from mgsleep.web.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
# Paths the README shows in `code`: a folder of the repository, then more.
REPOSITORY_PATH = re.compile(r"`((?:src|tests|examples|benchmarks|scripts|\.ci)/[^`\s]*)`")


def test_the_generated_references_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _commands(group: TyperGroup, prefix: str) -> list[str]:
    found = []
    for name in group.list_commands(None):  # type: ignore[arg-type]
        command = group.get_command(None, name)  # type: ignore[arg-type]
        if isinstance(command, TyperGroup):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_command_is_in_the_readme() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    commands = _commands(group, "mgsleep")
    assert len(commands) >= 17
    for command in commands:
        assert f"`{command}" in README, command


def test_the_import_help_names_every_source() -> None:
    result = CliRunner().invoke(app, ["import", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for source in SOURCES:
        assert source in result.output, source


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"MGSLEEP_{name.upper()}" in README, name


def test_every_api_route_is_in_the_readme() -> None:
    from mgsleep.web.app import create_app

    schema = create_app(Settings(database_url="sqlite://", secret_key="x" * 32)).openapi()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert f"| `{method.upper()}` | `{path}` |" in README, (method, path)


def test_the_readme_names_only_files_that_are_in_the_repository() -> None:
    named = set(REPOSITORY_PATH.findall(README))
    assert named, "the pattern found nothing: the check would pass on any README"
    missing = [path for path in sorted(named) if not list(ROOT.glob(path.rstrip("/")))]
    assert missing == []
    assert "../shared" not in README


def test_the_development_section_draws_the_layout() -> None:
    section = README.split("## Development", 1)[1]
    for folder in ("service/", "cli/", "web/api/", "web/pages/", "public.py", "errors.py"):
        assert folder in section, folder

"""How long a command takes to start and answer, and its peak memory, next to a minimal Typer
app run the same way in the same environment. Prints one JSON line.

Each command runs --runs times in its own process; the figures are medians. "cold" is the
first run with an empty cache folder (the evidence base read and checked afresh); the others
find it kept from the run before, as a person's second command does.

    python -m benchmarks.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "examples" / "profiles" / "onset-insomnia.yaml"
MINIMAL_APP = '''
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(name)
@app.command()
def bye() -> None:
    """Say bye."""
app()
'''


def _once(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} failed: {process.stderr.read() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss  # kilobytes on Linux


def measure(command: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    cold_s, _ = _once(command, env)
    results = [_once(command, env) for _ in range(runs)]
    return {
        "cold_s": round(cold_s, 3),
        "median_s": round(statistics.median(r[0] for r in results), 3),
        "peak_rss_mib": round(statistics.median(r[1] for r in results) / 1024, 1),
    }


def run(runs: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp())
    minimal = folder / "minimal.py"
    minimal.write_text(MINIMAL_APP, "utf-8")
    mgsleep = [sys.executable, "-m", "mgsleep"]
    db = f"sqlite:///{folder / 'diary.db'}"
    env = {**os.environ, "MGSLEEP_CACHE_DIR": str(folder / "cache"), "COLUMNS": "100"}
    # Python keeps compiled modules beside their source, as on any installed machine; an
    # environment that forbids it would time the compiler, not the program.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {
        "minimal_typer_help": [sys.executable, str(minimal), "--help"],
        "help": [*mgsleep, "--help"],
        "forms": [*mgsleep, "forms"],
        "dose": [*mgsleep, "dose", "--form", "bisglycinate", "--elemental", "200"],
        "plan": [*mgsleep, "plan", str(PROFILE)],
        "diary_list": [*mgsleep, "diary", "list", "--db", db],
    }
    figures = {name: measure(command, runs, env) for name, command in commands.items()}
    baseline = figures["minimal_typer_help"]["median_s"]
    return {
        "benchmark": "startup",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "runs": runs,
        **figures,
        "ratio_to_minimal": {
            name: round(f["median_s"] / baseline, 2)
            for name, f in figures.items()
            if name != "minimal_typer_help"
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    print(json.dumps(run(parser.parse_args().runs)))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Installs everything the tests need (Debian's chromium and postgresql included) and runs the
# whole suite: lint, types, the installed CLI without test extras, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
# WeasyPrint draws the trial report's PDF with pango (which brings cairo, harfbuzz, fontconfig).
ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so" || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qi "dejavu" || missing+=(fonts-dejavu-core)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pip repeats a warning for every local package index it skips; keep the real messages.
pip_install() {
  "$1" -m pip install -q "${@:2}" 2> >(grep -v '^WARNING: Location' >&2)
}

python3 -m venv .venv
pip_install .venv/bin/python --upgrade pip
pip_install .venv/bin/python -e '.[test]'

# The CLI must run from a plain install, without the test extras.
python3 -m venv .venv-plain
pip_install .venv-plain/bin/python .
.venv-plain/bin/mgsleep --help >/dev/null
.venv-plain/bin/mgsleep dose --form bisglycinate --elemental 200 --json >/dev/null

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# The storage tests must run against a real PostgreSQL here, not be skipped.
export MGSLEEP_REQUIRE_POSTGRES=1
# The browser tests drive Debian's Chromium; they must run here, not be skipped.
export MGSLEEP_REQUIRE_BROWSER=1
# Nor anything else: a skipped test fails here (a missing catalog, library or server).
export MGSLEEP_NO_SKIPS=1
# The property tests at their full size: 1,500 random profiles a safety invariant.
export MGSLEEP_THOROUGH=1
# -m "" lifts the fast tier's marker filter (pyproject's addopts): the whole suite runs.
.venv/bin/python -m pytest -m "" "$@"

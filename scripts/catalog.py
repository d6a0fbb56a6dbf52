"""Refresh the Dutch catalog from the source: `python scripts/catalog.py [--check]`.

Extracts every marked sentence (`_()`, `N_()`, `both()`), adds new ones to the `.po` with an
empty translation, drops ones no longer used, keeps every existing translation, and lists
what still needs Dutch. With --check it changes nothing and exits 1 when anything is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "mgsleep"
PO_FILE = SOURCE / "locale" / "nl" / "LC_MESSAGES" / "mgsleep.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "both": None, "fmt": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def extracted() -> Catalog:
    template = Catalog(project="mgsleep", locale="nl")
    for filename, lineno, message, _comments, _context in extract_from_dir(
        SOURCE,
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"**.html": {"extensions": "jinja2.ext.do"}},
    ):
        template.add(message, locations=[(filename, lineno)])
    return template


def existing() -> Catalog:
    if not PO_FILE.exists():
        return Catalog(project="mgsleep", locale="nl")
    with PO_FILE.open("rb") as handle:
        return read_po(handle, locale="nl")


def missing_translations(catalog: Catalog) -> list[str]:
    return [str(m.id) for m in catalog if m.id and not m.string]


def main(argv: list[str]) -> int:
    current = existing()
    before = {str(m.id) for m in current if m.id}
    wanted = {str(m.id) for m in extracted() if m.id}
    current.update(extracted(), no_fuzzy_matching=True)
    # Obsolete messages are dropped: a catalog that grows forever hides what is really used.
    current.obsolete.clear()
    missing = missing_translations(current)
    if "--check" in argv:
        stale = before != wanted
        for message in missing:
            print(f"no Dutch for: {message!r}")
        if stale:
            print("the catalog is out of date: run python scripts/catalog.py")
        return 1 if missing or stale else 0
    PO_FILE.parent.mkdir(parents=True, exist_ok=True)
    with PO_FILE.open("wb") as handle:
        write_po(handle, current, omit_header=False, sort_output=True, width=100)
    for message in missing:
        print(f"no Dutch yet: {message!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

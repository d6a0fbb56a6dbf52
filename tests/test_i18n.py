from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mgsleep.i18n import Text, both, default_lang, parse_lang

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_has_dutch_and_the_catalog_is_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "catalog.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_both_fills_placeholders_per_language():
    text = both(
        "Only {share:.0%} of this magnesium comes from {form}; the rest is from the "
        "cheaper salt it is blended with.",
        share=0.52,
        form=Text(nl="glycinaat", en="glycinate"),
    )
    assert text.en.startswith("Only 52% of this magnesium comes from glycinate")
    assert text.nl.startswith("Maar 52% van dit magnesium komt uit glycinaat")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nl_NL.UTF-8", "nl"),
        ("nl-BE,nl;q=0.9,en;q=0.8", "nl"),
        ("en_GB", "en"),
        ("de_DE", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_lang(value, expected):
    assert parse_lang(value) == expected


def test_default_lang_reads_the_locale_and_falls_back_to_english():
    assert default_lang({"LANG": "nl_NL.UTF-8"}) == "nl"
    assert default_lang({"MGSLEEP_LANG": "en", "LANG": "nl_NL.UTF-8"}) == "en"
    assert default_lang({"LANG": "C.UTF-8"}) == "en"
    assert default_lang({}) == "en"

"""Every page in Dutch: no English left. A page fails on an English word from the list of
ones that slipped through before, and on any sentence of the catalog left untranslated."""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from mgsleep.security import hash_password
from mgsleep.web.app import create_app
from mgsleep.web.pages.questionnaire_steps import STEPS
from mgsleep.web.settings import Settings
from tests.test_pages_plan import csrf

CATALOG = Path(__file__).resolve().parents[1] / "src/mgsleep/locale/nl/LC_MESSAGES/mgsleep.po"

# Words that are English and not Dutch, found on Dutch pages so far or likely to slip in.
# ("plan", "is", "in", "of" and "test" are Dutch too, so they are not here.)
ENGLISH_WORDS = frozenset(
    {
        "the", "and", "your", "you", "with", "without", "which", "what", "when", "this", "that",
        "cup", "cups", "sources", "unknown", "publisher", "publisher's", "editorial", "night",
        "nights", "tonight", "morning", "evening", "before", "after", "take", "taken", "sleep",
        "trial", "diary", "baseline", "washout", "improved", "worse", "unclear", "none",
        "minutes", "hours", "daily", "weekly", "should", "would", "could", "not", "yes",
        "save", "saved", "delete", "import", "export", "back", "next", "more", "log", "logged",
    }
)  # fmt: skip
# Text on a page that is not ours to translate: names of people, journals and products (an
# app's English name is marked lang="en", as its words are English, not a slip).
UNTRANSLATED_AREAS = re.compile(
    r'<(script|style|code|cite|i)\b.*?</\1>|<li id="ref-.*?</li>'
    r'|<(a|span|option) [^>]*lang="en".*?</\2>',
    re.S,
)
# Sentences shorter than this are often the same in both languages ("Magnesium", "Privacy").
MIN_MSGID_WORDS = 4


def dutch_text(page: str) -> str:
    without = UNTRANSLATED_AREAS.sub(" ", page)
    text = re.sub(r"<[^>]+>", " ", without)
    return re.sub(r"\s+", " ", html_module.unescape(text))


@cache
def english_sentences() -> tuple[str, ...]:
    """Catalog sentences whose Dutch differs: the English must never show on a Dutch page.
    Only the part before the first placeholder, which a page shows as it is."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    found = set()
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        fixed = re.split(r"\{|%\(", message.id)[0].strip()
        if len(fixed.split()) >= MIN_MSGID_WORDS:
            found.add(fixed)
    return tuple(sorted(found))


def english_in(text: str) -> list[str]:
    words = {w.casefold() for w in re.findall(r"[A-Za-z][A-Za-z']+", text)}
    slips = sorted(words & ENGLISH_WORDS)
    slips += [sentence for sentence in english_sentences() if sentence in text]
    return slips


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("dutch")
    app = create_app(Settings(database_url=f"sqlite:///{folder}/nl.db", secret_key="x" * 40))
    with TestClient(app) as client:
        seed_demo(app.state.engine, hash_password(DEMO_PASSWORD))
        client.get("/?lang=nl")
        token = csrf(client.get("/login").text)
        data = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 303
        yield client


LOGGED_IN_PAGES = [
    "/",
    "/plan",
    "/plan/print",
    "/plan/sources",
    "/diary",
    "/isi",
    "/import",
    "/account",
    "/privacy",
    "/label",
    "/evidence",
    "/evidence/forms/bisglycinate",
    "/no-such-page",
    *[f"/profile?step={step.number}" for step in STEPS],
]


def test_the_word_list_and_the_catalog_catch_english() -> None:
    assert english_in("Neem vanavond 200 mg before bed") == ["before"]
    assert "Fill in your sleep diary for last night" in english_in(
        "Vandaag: Fill in your sleep diary for last night"
    )
    assert english_in("Vanavond geen magnesium. Vul morgenochtend uw slaapdagboek in.") == []


@pytest.mark.parametrize("path", LOGGED_IN_PAGES)
def test_a_dutch_page_has_no_english(demo: TestClient, path: str) -> None:
    response = demo.get(path, params={"lang": "nl"})
    assert response.status_code in {200, 404}
    assert response.headers["content-type"].startswith("text/html")
    assert english_in(dutch_text(response.text)) == []


def test_the_diary_pages_of_a_night_have_no_english(demo: TestClient) -> None:
    diary = demo.get("/diary", params={"lang": "nl"}).text
    first = re.search(r'href="(/diary/\d{4}-\d{2}-\d{2})"', diary)
    assert first is not None
    page = demo.get(first.group(1), params={"lang": "nl"}).text
    assert english_in(dutch_text(page)) == []

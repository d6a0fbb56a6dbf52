"""Every page of the app, logged out and as the demo, in both languages on a phone and a
desktop: a screenshot of each under test-output/screenshots/ and axe-core's check, which fails
on any serious or critical violation (all of them listed, page by page, at the end)."""

from __future__ import annotations

from typing import Any

import pytest

from mgsleep.evidence import load_evidence
from mgsleep.evidence.lookup import topics
from mgsleep.web.pages.questionnaire_steps import LAST_STEP
from tests.e2e.conftest import (
    SCREENSHOTS,
    accessibility,
    describe,
    log_in_as_demo,
    new_page,
)

pytestmark = pytest.mark.browser

COMBINATIONS = [(v, lang) for v in ("phone", "desktop") for lang in ("en", "nl")]
# Every form page and every topic page is one of two templates: the phone, where a long word
# or a table breaks first, visits every form and the topics with the most and the fewest
# studies; the desktop a sample.
SAMPLE_FORMS = ("bisglycinate", "oxide")
SAMPLE_TOPICS = ("interactions", "n_of_1")
PHONE_TOPICS = ("interactions", "safety", "companions", "n_of_1", "netherlands", "cbt_i", "iron")
# Violations found and reported, not yet fixed: (page, viewport, rule) -> where. Each is set
# aside only where it was found, and the test fails once it is gone, so the entry is removed
# with the fix. Anything else serious or critical fails at once.
KNOWN_VIOLATIONS: dict[tuple[str, str, str], str] = {}

LOGGED_OUT = [
    ("home", "/"),
    ("signup", "/signup"),
    ("login", "/login"),
    ("privacy", "/privacy"),
    ("label", "/label"),
    ("evidence", "/evidence"),
]
LOGGED_IN = [
    ("today", "/"),
    ("plan", "/plan"),
    ("plan-print", "/plan/print"),
    ("plan-sources", "/plan/sources"),
    *[(f"profile-step{n}", f"/profile?step={n}") for n in range(1, LAST_STEP + 1)],
    ("diary", "/diary"),
    ("trial", "/trial"),
    ("trial-report", "/trial/report.html"),
    ("import", "/import"),
    ("isi", "/isi"),
    ("account", "/account"),
    ("privacy-logged-in", "/privacy"),
]


def _evidence_pages(viewport: str) -> list[tuple[str, str]]:
    if viewport == "phone":
        ev = load_evidence()
        forms: tuple[str, ...] = tuple(form.key for form in ev.forms)
        subjects: tuple[str, ...] = tuple(key for key in PHONE_TOPICS if key in topics(ev))
    else:
        forms, subjects = SAMPLE_FORMS, SAMPLE_TOPICS
    return [(f"evidence-form-{key}", f"/evidence/forms/{key}") for key in forms] + [
        (f"evidence-topic-{key}", f"/evidence/topics/{key}") for key in subjects
    ]


class Tour:
    """One person's walk through the pages: each page is screenshot and checked, and what
    axe finds is collected, so one run lists every page's violations at once."""

    def __init__(self, page: Any, server: str, lang: str) -> None:
        self.page, self.server, self.lang = page, server, lang
        self.found: list[str] = []
        self.known_seen: set[tuple[str, str, str]] = set()

    def see(self, name: str, path: str, status: int = 200) -> None:
        separator = "&" if "?" in path else "?"
        response = self.page.goto(f"{self.server}{path}{separator}lang={self.lang}")
        assert response is not None
        assert response.status == status, (path, response.status)
        assert self.page.locator("html").get_attribute("lang") == self.lang, path
        full = f"{name}-{self.lang}"
        if self.page.viewport_name == "phone":  # the width most people use it at
            self.page.screenshot(
                path=str(SCREENSHOTS / f"{full}-{self.page.viewport_name}.png"), full_page=True
            )
        violations = []
        for violation in accessibility(self.page, full):
            known = (name, self.page.viewport_name, violation["id"])
            if known in KNOWN_VIOLATIONS:
                self.known_seen.add(known)
            else:
                violations.append(violation)
        if violations:
            self.found.append(describe(full, path, violations))

    def first_link(self, prefix: str) -> str | None:
        links = self.page.locator(f"main a[href^='{prefix}']")
        return links.first.get_attribute("href") if links.count() else None


@pytest.mark.parametrize(("viewport", "lang"), COMBINATIONS)
def test_every_page_passes_the_accessibility_check(
    server: str, browser: Any, viewport: str, lang: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, viewport, lang)
    try:
        tour = Tour(page, server, lang)
        for name, path in [*LOGGED_OUT, *_evidence_pages(viewport)]:
            tour.see(name, path)
        tour.see("not-found", "/no-such-page", status=404)
        log_in_as_demo(page, server, lang)
        for name, path in LOGGED_IN:
            tour.see(name, path)
            if name == "diary":
                night = tour.first_link("/diary/20")
                assert night is not None, "the demo's diary lists no night to edit"
                tour.see("diary-night", night.split("?")[0])
        assert not tour.found, "\n".join(tour.found)
        expected = {key for key in KNOWN_VIOLATIONS if key[1] == viewport}
        fixed = expected - tour.known_seen
        assert not fixed, f"fixed now, remove from KNOWN_VIOLATIONS: {sorted(fixed)}"
    finally:
        page.context.close()

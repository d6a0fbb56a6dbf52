"""The pages in a real browser: log in as the demo, switch language."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in_as_demo, shot, t

pytestmark = pytest.mark.browser


def test_home_and_language_switch(server, page):
    page.goto(f"{server}/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "home-en")
    page.get_by_role("link", name="Nederlands").click()
    assert page.locator("html").get_attribute("lang") == "nl"
    shot(page, "home-nl")


def test_demo_login(server, page):
    log_in_as_demo(page, server, "en")
    assert page.get_by_role("link", name=t("en", "Diary"), exact=True).is_visible()
    assert page.locator("#tonight").is_visible()

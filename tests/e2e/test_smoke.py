"""The pages in a real browser: log in as the demo, switch language."""

from __future__ import annotations

import pytest

from mgsleep.demo import DEMO_PASSWORD, DEMO_USERNAME
from tests.e2e.conftest import shot

pytestmark = pytest.mark.browser


def test_home_and_language_switch(server, page):
    page.goto(f"{server}/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "home-en")
    page.get_by_role("link", name="Nederlands").click()
    assert page.locator("html").get_attribute("lang") == "nl"
    shot(page, "home-nl")


def test_demo_login(server, page):
    page.goto(f"{server}/login?lang=en")
    page.get_by_label("User name").fill(DEMO_USERNAME)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/")
    assert page.get_by_role("link", name="Diary", exact=True).is_visible()

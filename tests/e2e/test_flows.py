"""The main flows in a real headless Chromium, in both languages, on a phone and a desktop.

Each test saves screenshots of the pages it passes under test-output/screenshots/.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in_as_demo, shot, sign_up, t

pytestmark = pytest.mark.browser


def fill_profile(page, server, lang, *, heart_block=False):
    """Walk the six steps of the profile with a few answers; the rest keeps its defaults."""
    page.get_by_label(t(lang, "Age")).fill("44")
    page.locator("#sex-female").check()
    shot(page, f"profile-step1-{lang}")
    page.get_by_role("button", name=t(lang, "Save and go on")).click()
    page.locator("#kidney_disease-no").check()
    if heart_block:
        page.locator("#heart_block").check()
    page.get_by_role("button", name=t(lang, "Save and go on")).click()
    for _ in range(3):  # medicines, supplements, sleep
        page.get_by_role("button", name=t(lang, "Save and go on")).click()
    shot(page, f"profile-last-{lang}")
    page.get_by_role("button", name=t(lang, "Save and see your plan")).click()
    page.wait_for_url(f"{server}/plan**")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_sign_up_profile_and_a_go_plan(server, page, lang):
    sign_up(page, server, lang)
    fill_profile(page, server, lang)
    assert page.locator("html").get_attribute("lang") == lang
    body = page.locator("main").inner_text()
    assert "200 mg" in body
    shot(page, f"plan-go-{lang}")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_stop_finding_comes_first_and_there_is_no_dose(server, page, lang):
    sign_up(page, server, lang)
    fill_profile(page, server, lang, heart_block=True)
    first = page.locator(".finding").first
    assert "stop" in (first.get_attribute("class") or "")
    assert "200 mg" not in page.locator("main").inner_text()
    shot(page, f"plan-stop-{lang}")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_demos_diary_trial_and_isi(server, page, lang):
    # Saving a night, and reading it back, is in test_daily_loop.py.
    log_in_as_demo(page, server, lang)
    page.goto(f"{server}/diary?lang={lang}")
    assert page.locator("#diary-entry form").count() == 1
    shot(page, f"diary-{lang}")
    page.goto(f"{server}/trial?lang={lang}")
    assert page.locator("svg.chart").count() >= 2
    shot(page, f"trial-{lang}")
    page.goto(f"{server}/isi?lang={lang}")
    shot(page, f"isi-{lang}")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_export_and_delete_account(server, page, lang):
    sign_up(page, server, lang)
    page.goto(f"{server}/account?lang={lang}")
    shot(page, f"account-{lang}")
    with page.expect_download() as download:
        page.locator("a[href='/account/export.json']").click()
    assert download.value.suggested_filename.endswith(".json")
    page.locator("input[type=checkbox]").first.check()
    page.locator("button.danger").click()
    page.wait_for_url(f"{server}/**")
    page.goto(f"{server}/diary")
    assert "/login" in page.url


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_label_and_evidence_logged_out(server, page, lang):
    page.goto(f"{server}/label?lang={lang}")
    shot(page, f"label-{lang}")
    page.goto(f"{server}/evidence?lang={lang}")
    shot(page, f"evidence-{lang}")
    page.goto(f"{server}/evidence/forms/oxide?lang={lang}")
    assert "22" in page.locator("main").inner_text()  # 22.8 % in the same study as glycinate
    shot(page, f"evidence-oxide-{lang}")

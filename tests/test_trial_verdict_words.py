"""Every verdict has a word and an explanation in both languages; the thresholds are said."""

from __future__ import annotations

import pytest

from mgsleep.trial.kinds import Verdict
from mgsleep.trial.labels import verdict_explanation, verdict_name


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_verdict_has_a_word_and_an_explanation(lang):
    for verdict in Verdict:
        assert verdict_name(verdict.value, lang)
        assert verdict_explanation(verdict.value, lang)


def test_the_explanations_state_the_thresholds():
    assert "80%" in verdict_explanation("improved", "en")
    assert "95%" in verdict_explanation("possibly_improved", "en")
    assert "choose another" in verdict_name("no_information", "en")

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mgsleep.dose import dose_report, form_facts
from mgsleep.errors import InputError
from mgsleep.evidence import load_evidence


def test_bisglycinate_200_mg_is_the_articles_row(ev):
    report = dose_report(ev, ev.form("bisglycinate"), elemental_mg=200)
    assert report.compound_mg == pytest.approx(1419, abs=1)
    assert report.glycine_mg == pytest.approx(1235, abs=1)
    assert report.glycine_gap_mg == pytest.approx(3000 - 1235, abs=1)
    assert report.upper_limit_share_eu == pytest.approx(200 / 250)
    assert report.upper_limit_share_us == pytest.approx(200 / 350)


def test_absorbed_range_comes_from_measured_figures(ev):
    oxide = dose_report(ev, ev.form("oxide"), elemental_mg=500)
    assert oxide.absorbed_mg_low == pytest.approx(500 * 0.04)
    assert oxide.absorbed_mg_high == pytest.approx(500 * 0.228)
    assert "schuette1994" in oxide.citations
    assert "firoz2001" in oxide.citations


def test_unmeasured_forms_have_no_absorbed_estimate(ev):
    report = dose_report(ev, ev.form("citrate"), elemental_mg=200)
    assert report.absorbed_mg_low is None
    assert report.absorbed_mg_high is None


def test_compound_input_gives_elemental(ev):
    report = dose_report(ev, ev.form("oxide"), compound_mg=828)
    assert report.elemental_mg == pytest.approx(499, abs=1)
    assert report.glycine_mg is None


def test_bath_salts_have_no_upper_limit_share(ev):
    report = dose_report(ev, ev.form("sulfate"), compound_mg=10000)
    assert report.upper_limit_share_eu is None
    assert ev.bath.verdict in report.notes


def test_buffered_needs_both_amounts(ev):
    with pytest.raises(InputError, match="blend"):
        dose_report(ev, ev.form("bisglycinate_buffered"), elemental_mg=200)
    report = dose_report(ev, ev.form("bisglycinate_buffered"), elemental_mg=200, compound_mg=1000)
    assert report.magnesium_from_main_form_share == pytest.approx(1 - 0.39, abs=0.01)


@pytest.mark.parametrize(
    ("elemental", "compound", "field"),
    [
        (0, None, "elemental_mg"),
        (-5, None, "elemental_mg"),
        (50000, None, "elemental_mg"),
        (None, 500000, "compound_mg"),
        (None, None, "elemental_mg"),
        (200, 1000, "compound_mg"),
    ],
)
def test_bad_amounts_name_the_field(ev, elemental, compound, field):
    with pytest.raises(InputError) as caught:
        dose_report(ev, ev.form("bisglycinate"), elemental_mg=elemental, compound_mg=compound)
    assert caught.value.field == field


def test_form_facts_per_100_mg(ev):
    facts = form_facts(ev, ev.form("bisglycinate"))
    assert facts.compound_mg_per_100mg_elemental == pytest.approx(709, abs=1)
    assert facts.glycine_mg_per_100mg_elemental == pytest.approx(617, abs=1)


@given(
    key=st.sampled_from([f.key for f in load_evidence().forms if f.blend_with is None]),
    elemental_mg=st.floats(min_value=1, max_value=2000),
)
def test_dose_invariants(key, elemental_mg):
    ev = load_evidence()
    report = dose_report(ev, ev.form(key), elemental_mg=elemental_mg)
    assert 0 < report.elemental_fraction < 1
    if report.absorbed_mg_low is not None:
        assert 0 <= report.absorbed_mg_low <= report.absorbed_mg_high <= elemental_mg
    if report.upper_limit_share_eu is not None:
        assert report.upper_limit_share_eu == pytest.approx(elemental_mg / 250)

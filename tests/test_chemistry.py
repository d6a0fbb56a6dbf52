"""Chemistry from formulas: the research's stoichiometry table and the article's glycine table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mgsleep import chemistry
from mgsleep.errors import InputError
from mgsleep.evidence import load_evidence

# Molar mass (g/mol) and % Mg as published in the research notes (molmass, cross-checked).
STOICHIOMETRY = {
    "bisglycinate": (172.42, 14.10),
    "oxide": (40.30, 60.30),
    "citrate": (451.12, 16.16),
    "threonate": (294.50, 8.25),
    "taurate": (272.58, 8.92),
    "chloride": (203.30, 11.96),
    "sulfate": (246.47, 9.86),
    "malate": (156.38, 15.54),
    "lactate": (202.45, 12.01),
    "carbonate": (84.31, 28.83),
    "hydroxide": (58.32, 41.68),
}

# The article's table, recomputed exactly in the research notes (elemental -> compound, glycine).
ARTICLE_TABLE = [(200, 1419, 1235), (250, 1774, 1544), (500, 3547, 3089)]

FORMS = [f.key for f in load_evidence().forms if f.blend_with is None]


@pytest.mark.parametrize(("key", "expected"), STOICHIOMETRY.items())
def test_molar_mass_and_fraction_match_the_research(ev, key, expected):
    form = ev.form(key)
    mass, percent = expected
    assert chemistry.molar_mass_g_per_mol(form) == pytest.approx(mass, abs=0.01)
    assert chemistry.elemental_fraction(form) * 100 == pytest.approx(percent, abs=0.01)


@pytest.mark.parametrize(("elemental_mg", "compound_mg", "glycine_mg"), ARTICLE_TABLE)
def test_article_glycine_table_comes_out_of_the_formula(ev, elemental_mg, compound_mg, glycine_mg):
    form = ev.form("bisglycinate")
    compound = chemistry.compound_from_elemental_mg(form, elemental_mg)
    assert compound == pytest.approx(compound_mg, abs=1)
    assert chemistry.glycine_from_compound_mg(form, compound) == pytest.approx(glycine_mg, abs=1)


def test_oxide_500_mg_elemental_is_the_abbasi_dose(ev):
    # Abbasi 2012: 500 mg elemental Mg as 414 mg MgO twice a day.
    compound = chemistry.compound_from_elemental_mg(ev.form("oxide"), 500)
    assert compound == pytest.approx(2 * 414, rel=0.01)


def test_three_grams_of_glycine_needs_about_486_mg_magnesium(ev):
    form = ev.form("bisglycinate")
    compound = 3000 / chemistry.glycine_fraction(form)
    assert chemistry.elemental_from_compound_mg(form, compound) == pytest.approx(486, abs=1)


@pytest.mark.parametrize(
    ("label_pct", "oxide_share"),
    [(14.1, 0.0), (16.0, 0.16), (18.0, 0.28), (20.0, 0.39), (25.0, 0.57)],
)
def test_buffered_blend_share_matches_the_research(ev, label_pct, oxide_share):
    blend = chemistry.analyse_blend(
        ev.form("bisglycinate"), ev.form("oxide"), elemental_mg=label_pct * 10, compound_mg=1000
    )
    assert 1 - blend.main_share_of_magnesium == pytest.approx(oxide_share, abs=0.01)


def test_retail_blend_82_18(ev):
    """82% glycinate + 18% oxide: 22.4% Mg, 48% of it from oxide, 637 mg glycine per 200 mg."""
    glycinate, oxide = ev.form("bisglycinate"), ev.form("oxide")
    elemental = 820 * chemistry.elemental_fraction(glycinate) + 180 * chemistry.elemental_fraction(
        oxide
    )
    blend = chemistry.analyse_blend(glycinate, oxide, elemental_mg=elemental, compound_mg=1000)
    assert blend.label_elemental_pct == pytest.approx(22.4, abs=0.05)
    assert 1 - blend.main_share_of_magnesium == pytest.approx(0.48, abs=0.01)
    assert blend.glycine_mg * 200 / elemental == pytest.approx(637, abs=2)


def test_blend_share_outside_both_salts_is_refused(ev):
    with pytest.raises(InputError, match="cannot come from"):
        chemistry.analyse_blend(ev.form("bisglycinate"), ev.form("oxide"), 700, 1000)


def test_amount_bounds_name_the_field_and_range():
    with pytest.raises(InputError) as caught:
        chemistry.check_amount("elemental_mg", 50000, chemistry.ELEMENTAL_MG_RANGE)
    assert caught.value.field == "elemental_mg"
    assert "2000" in str(caught.value)


@given(key=st.sampled_from(FORMS), elemental_mg=st.floats(min_value=1, max_value=2000))
def test_elemental_compound_round_trip(key, elemental_mg):
    form = load_evidence().form(key)
    compound = chemistry.compound_from_elemental_mg(form, elemental_mg)
    assert compound >= elemental_mg
    assert chemistry.elemental_from_compound_mg(form, compound) == pytest.approx(elemental_mg)


@given(key=st.sampled_from(FORMS))
def test_fractions_lie_between_zero_and_one(key):
    form = load_evidence().form(key)
    assert 0 < chemistry.elemental_fraction(form) < 1
    assert 0 <= chemistry.glycine_fraction(form) < 1
    # Free glycine released counts the hydrogen taken up on hydrolysis, so it is compared
    # with the glycinate moiety rather than summed with magnesium to 1.
    moiety = 1 - chemistry.elemental_fraction(form)
    if form.glycine_per_formula_unit:
        assert moiety < chemistry.glycine_fraction(form) < moiety * 1.03


@given(
    glycinate_mg=st.floats(min_value=0, max_value=5000),
    oxide_mg=st.floats(min_value=0, max_value=5000),
)
def test_blend_analysis_recovers_its_make_up(glycinate_mg, oxide_mg):
    ev = load_evidence()
    glycinate, oxide = ev.form("bisglycinate"), ev.form("oxide")
    total = glycinate_mg + oxide_mg
    if total < 1:
        return
    elemental = chemistry.elemental_from_compound_mg(glycinate, glycinate_mg)
    elemental += chemistry.elemental_from_compound_mg(oxide, oxide_mg)
    blend = chemistry.analyse_blend(glycinate, oxide, elemental, total)
    assert blend.main_compound_mg == pytest.approx(glycinate_mg, abs=1e-6 * total + 1e-6)
    assert 0 <= blend.main_share_of_magnesium <= 1


@given(glycine_mg=st.floats(min_value=0, max_value=10000))
def test_glycine_gap_is_never_negative(glycine_mg):
    gap = chemistry.glycine_gap_mg(glycine_mg, 3000)
    assert gap >= 0
    assert gap + glycine_mg >= 3000 - 1e-9

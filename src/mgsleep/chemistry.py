"""Dose chemistry computed from chemical formulas (molmass), never from typed-in percentages."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from molmass import Formula

from mgsleep.errors import InputError
from mgsleep.evidence import Evidence
from mgsleep.evidence.schema import Form, Quantity

GLYCINE_FORMULA = "C2H5NO2"
WATER_FORMULA = "H2O"

# Bounds for one intake: below 1 mg is a typo, above these no supplement or trial goes
# (the largest sleep trial used 729 mg elemental a day; Epsom salt for a bath is weighed in cups).
ELEMENTAL_MG_RANGE = (1.0, 2000.0)
COMPOUND_MG_RANGE = (1.0, 25000.0)


@functools.cache
def _formula_mass(formula: str) -> float:
    return float(Formula(formula).mass)


@functools.cache
def _magnesium_fraction(formula: str) -> float:
    return float(Formula(formula).composition()["Mg"].fraction)


def magnesium_fraction_of(formula: str) -> float:
    """Mass fraction of magnesium in any formula molmass reads ('MgO', 'MgSO4.7H2O')."""
    return _magnesium_fraction(formula)


def full_formula(form: Form) -> str:
    """The formula as sold: the anhydrous salt with its water of hydration."""
    if form.water_of_hydration:
        return f"{form.formula}.{form.water_of_hydration}{WATER_FORMULA}"
    return form.formula


def molar_mass_g_per_mol(form: Form) -> float:
    return _formula_mass(full_formula(form))


def elemental_fraction(form: Form) -> float:
    """Mass fraction of magnesium in the compound as sold (0..1)."""
    return _magnesium_fraction(full_formula(form))


def glycine_molar_mass_g_per_mol() -> float:
    return _formula_mass(GLYCINE_FORMULA)


def glycine_fraction(form: Form) -> float:
    """Mass of free glycine released per mass of compound (0..1); 0 for forms without glycine."""
    if not form.glycine_per_formula_unit:
        return 0.0
    glycine_mass = form.glycine_per_formula_unit * glycine_molar_mass_g_per_mol()
    return glycine_mass / molar_mass_g_per_mol(form)


def check_amount(field: str, amount_mg: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if not low <= amount_mg <= high:
        raise InputError(field, "amount_out_of_range", value=amount_mg, low=low, high=high)
    return amount_mg


def compound_from_elemental_mg(form: Form, elemental_mg: float) -> float:
    return elemental_mg / elemental_fraction(form)


def elemental_from_compound_mg(form: Form, compound_mg: float) -> float:
    return compound_mg * elemental_fraction(form)


def glycine_from_compound_mg(form: Form, compound_mg: float) -> float:
    return compound_mg * glycine_fraction(form)


def _percent_bounds(quantity: Quantity) -> list[float]:
    return [v for v in (quantity.value, quantity.low, quantity.high) if v is not None]


def absorption_percent_range(ev: Evidence, form: Form) -> tuple[float, float] | None:
    """The lowest and highest measured fractional absorption for a form (and its blend partner).

    None where no study measured the form: an honest blank beats a borrowed figure.
    """
    forms = [form] + ([ev.form(form.blend_with)] if form.blend_with else [])
    percents = [p for f in forms for a in f.absorption for p in _percent_bounds(a.percent)]
    if not percents:
        return None
    return min(percents), max(percents)


def absorbed_range_mg(ev: Evidence, form: Form, elemental_mg: float) -> tuple[float, float] | None:
    percent_range = absorption_percent_range(ev, form)
    if percent_range is None:
        return None
    low_pct, high_pct = percent_range
    return elemental_mg * low_pct / 100, elemental_mg * high_pct / 100


def absorption_citations(ev: Evidence, form: Form) -> list[str]:
    forms = [form] + ([ev.form(form.blend_with)] if form.blend_with else [])
    return sorted({key for f in forms for a in f.absorption for key in a.percent.cite})


def glycine_gap_mg(glycine_mg: float, target_mg: float) -> float:
    """How much glycine powder tops a dose up to the evidence dose (never negative)."""
    return max(0.0, target_mg - glycine_mg)


@dataclass(frozen=True)
class BlendAnalysis:
    """What a label of a blend (e.g. 'buffered' bisglycinate cut with oxide) really contains."""

    elemental_mg: float
    compound_mg: float
    label_elemental_pct: float
    main_compound_mg: float
    partner_compound_mg: float
    main_elemental_mg: float
    partner_elemental_mg: float
    main_share_of_magnesium: float
    glycine_mg: float


def analyse_blend(
    main: Form, partner: Form, elemental_mg: float, compound_mg: float
) -> BlendAnalysis:
    """Split a blend's label (elemental and total compound mass) into its two salts.

    Two equations, two unknowns: main + partner = compound; fm*main + fp*partner = elemental.
    """
    fraction_main = elemental_fraction(main)
    fraction_partner = elemental_fraction(partner)
    label_fraction = elemental_mg / compound_mg
    low, high = sorted((fraction_main, fraction_partner))
    if not low - 1e-9 <= label_fraction <= high + 1e-9:
        raise InputError(
            "elemental_mg",
            "share_impossible",
            value=elemental_mg,
            share=label_fraction,
            main=main.key,
            partner=partner.key,
            low=low,
            high=high,
        )
    main_mg = (fraction_partner * compound_mg - elemental_mg) / (fraction_partner - fraction_main)
    main_mg = min(max(main_mg, 0.0), compound_mg)
    partner_mg = compound_mg - main_mg
    main_elemental = main_mg * fraction_main
    return BlendAnalysis(
        elemental_mg=elemental_mg,
        compound_mg=compound_mg,
        label_elemental_pct=label_fraction * 100,
        main_compound_mg=main_mg,
        partner_compound_mg=partner_mg,
        main_elemental_mg=main_elemental,
        partner_elemental_mg=elemental_mg - main_elemental,
        main_share_of_magnesium=main_elemental / elemental_mg,
        glycine_mg=glycine_from_compound_mg(main, main_mg),
    )

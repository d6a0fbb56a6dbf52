"""One dose of one form: compound, elemental, glycine, absorbed, share of the upper limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mgsleep import chemistry
from mgsleep.errors import InputError
from mgsleep.evidence import Evidence
from mgsleep.evidence.schema import Form, Region, Route, Text
from mgsleep.intakes import upper_limit_mg

GLYCINE_KEY = "glycine"


class DoseReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    form: str
    route: Route
    elemental_mg: float
    compound_mg: float
    molar_mass_g_per_mol: float
    elemental_fraction: float
    glycine_mg: float | None
    glycine_target_mg: float | None
    glycine_gap_mg: float | None
    absorbed_mg_low: float | None
    absorbed_mg_high: float | None
    upper_limit_mg_eu: float | None
    upper_limit_mg_us: float | None
    upper_limit_share_eu: float | None
    upper_limit_share_us: float | None
    magnesium_from_main_form_share: float | None
    notes: list[Text]
    citations: list[str]


def glycine_target(ev: Evidence) -> tuple[float | None, list[str]]:
    dose = ev.companion(GLYCINE_KEY).evidence_dose_mg
    return (None, []) if dose is None else (dose.value, list(dose.cite))


def _share(elemental_mg: float, limit_mg: float | None, route: Route) -> float | None:
    # A bath salt is not swallowed; the upper limit is about what is taken by mouth.
    if limit_mg is None or route is Route.bath:
        return None
    return elemental_mg / limit_mg


def dose_report(
    ev: Evidence,
    form: Form,
    *,
    elemental_mg: float | None = None,
    compound_mg: float | None = None,
    age_y: float = 30.0,
) -> DoseReport:
    """From either amount (or both, for a blend) to every figure a person needs."""
    elemental_mg, compound_mg, blend = _amounts(ev, form, elemental_mg, compound_mg)
    glycine_mg = None
    if form.glycine_per_formula_unit:
        glycine_mg = (
            blend.glycine_mg
            if blend is not None
            else chemistry.glycine_from_compound_mg(form, compound_mg)
        )
    target_mg, target_cite = glycine_target(ev)
    gap = (
        chemistry.glycine_gap_mg(glycine_mg, target_mg)
        if glycine_mg is not None and target_mg is not None
        else None
    )
    absorbed = chemistry.absorbed_range_mg(ev, form, elemental_mg)
    limits = {region: upper_limit_mg(ev, region, age_y) for region in Region}
    limit_cite = [key for row in ev.intakes.upper_limits for key in row.cite]
    notes = [form.absorption_comparability]
    if form.route is Route.bath:
        notes.append(ev.bath.verdict)
    return DoseReport(
        form=form.key,
        route=form.route,
        elemental_mg=elemental_mg,
        compound_mg=compound_mg,
        molar_mass_g_per_mol=chemistry.molar_mass_g_per_mol(form),
        elemental_fraction=elemental_mg / compound_mg,
        glycine_mg=glycine_mg,
        glycine_target_mg=target_mg if glycine_mg is not None else None,
        glycine_gap_mg=gap,
        absorbed_mg_low=None if absorbed is None else absorbed[0],
        absorbed_mg_high=None if absorbed is None else absorbed[1],
        upper_limit_mg_eu=limits[Region.eu],
        upper_limit_mg_us=limits[Region.us],
        upper_limit_share_eu=_share(elemental_mg, limits[Region.eu], form.route),
        upper_limit_share_us=_share(elemental_mg, limits[Region.us], form.route),
        magnesium_from_main_form_share=None if blend is None else blend.main_share_of_magnesium,
        notes=notes,
        citations=sorted(
            {*chemistry.absorption_citations(ev, form), *target_cite, *limit_cite, *form.cite}
        ),
    )


def _amounts(
    ev: Evidence, form: Form, elemental_mg: float | None, compound_mg: float | None
) -> tuple[float, float, chemistry.BlendAnalysis | None]:
    if elemental_mg is not None:
        chemistry.check_amount("elemental_mg", elemental_mg, chemistry.ELEMENTAL_MG_RANGE)
    if compound_mg is not None:
        chemistry.check_amount("compound_mg", compound_mg, chemistry.COMPOUND_MG_RANGE)
    if form.blend_with is not None:
        if elemental_mg is None or compound_mg is None:
            raise InputError(
                "form", "blend_unknown_make_up", hint="give_label_amounts", form=form.key
            )
        blend = chemistry.analyse_blend(form, ev.form(form.blend_with), elemental_mg, compound_mg)
        return elemental_mg, compound_mg, blend
    if elemental_mg is not None and compound_mg is not None:
        raise InputError("compound_mg", "elemental_or_compound", hint="blend_only")
    if elemental_mg is not None:
        compound_mg = chemistry.compound_from_elemental_mg(form, elemental_mg)
        return elemental_mg, compound_mg, None
    if compound_mg is not None:
        elemental = chemistry.elemental_from_compound_mg(form, compound_mg)
        chemistry.check_amount("elemental_mg", elemental, chemistry.ELEMENTAL_MG_RANGE)
        return elemental, compound_mg, None
    raise InputError("elemental_mg", "no_amount", hint="give_amount")


REFERENCE_ELEMENTAL_MG = 100.0


class FormFacts(BaseModel):
    """A form's chemistry, computed, beside what the evidence base says about it."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: Text
    formula: str
    molar_mass_g_per_mol: float
    elemental_fraction: float
    compound_mg_per_100mg_elemental: float
    glycine_mg_per_100mg_elemental: float | None
    absorption_percent_low: float | None
    absorption_percent_high: float | None
    blend_with: str | None
    route: Route
    gi_tolerance: str
    laxative_tendency: str
    price_class: str
    pathways: list[str]
    best_for: Text
    consider: Text
    absorption_comparability: Text
    citations: list[str]


def form_facts(ev: Evidence, form: Form) -> FormFacts:
    compound_mg = chemistry.compound_from_elemental_mg(form, REFERENCE_ELEMENTAL_MG)
    absorption = chemistry.absorption_percent_range(ev, form)
    return FormFacts(
        key=form.key,
        name=form.name,
        formula=chemistry.full_formula(form),
        molar_mass_g_per_mol=chemistry.molar_mass_g_per_mol(form),
        elemental_fraction=chemistry.elemental_fraction(form),
        compound_mg_per_100mg_elemental=compound_mg,
        glycine_mg_per_100mg_elemental=(
            chemistry.glycine_from_compound_mg(form, compound_mg)
            if form.glycine_per_formula_unit
            else None
        ),
        absorption_percent_low=None if absorption is None else absorption[0],
        absorption_percent_high=None if absorption is None else absorption[1],
        blend_with=form.blend_with,
        route=form.route,
        gi_tolerance=form.gi_tolerance.value,
        laxative_tendency=form.laxative_tendency.value,
        price_class=form.price_class.value,
        pathways=list(form.pathways),
        best_for=form.best_for,
        consider=form.consider,
        absorption_comparability=form.absorption_comparability,
        citations=sorted({*form.cite, *chemistry.absorption_citations(ev, form)}),
    )

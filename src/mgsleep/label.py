"""A supplement label, analysed: magnesium, glycine, pathways, evidence doses, limits, cost."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mgsleep import chemistry
from mgsleep.dose import GLYCINE_KEY, DoseReport, dose_report
from mgsleep.errors import problem
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.lookup import ingredient_index, match_ingredient
from mgsleep.evidence.schema import Form, Region
from mgsleep.i18n import Text, both
from mgsleep.intakes import upper_limit_mg
from mgsleep.names import closest

# A label file is a few hundred bytes; anything past this is not one.
MAX_LABEL_BYTES = 200_000

Basis = Literal["elemental", "compound"]

# A pure salt's label share may differ from the formula by rounding; beyond this the label
# says there is another magnesium source in the capsule.
LABEL_SHARE_TOLERANCE = 0.03


class LabelIngredient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    amount_mg: float = Field(gt=0, le=chemistry.COMPOUND_MG_RANGE[1])
    basis: Basis | None = Field(
        default=None, description="for magnesium: is amount_mg elemental Mg or the compound?"
    )
    elemental_mg: float | None = Field(
        default=None,
        gt=0,
        le=chemistry.ELEMENTAL_MG_RANGE[1],
        description="the elemental amount, where the label states it beside the compound",
    )
    other: bool = Field(
        default=False, description="not magnesium and not a companion: listed, not analysed"
    )

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str) -> str:
        return name.strip()

    @model_validator(mode="after")
    def _resolvable(self) -> LabelIngredient:
        if self.other:
            return self
        ev = load_evidence()
        match = match_ingredient(self.name, ev)
        if match is None:
            valid = [*(f.key for f in ev.forms), *(c.key for c in ev.companions)]
            close = closest(ingredient_index(ev), self.name)
            names = " / ".join(repr(c) for c in close)
            raise problem(
                "name",
                "unknown_ingredient_close" if close else "unknown_ingredient",
                f"unknown ingredient {{name}}; {f'did you mean {names}? ' if close else ''}"
                "valid: {valid}; mark it `other: true` if it is neither magnesium nor a sleep "
                "companion",
                name=repr(self.name),
                closest=names,
                valid=", ".join(sorted(valid)),
            )
        if match[0] == "form" and self.basis is None:
            raise problem(
                "basis",
                "basis_missing",
                "say whether amount_mg is elemental magnesium or the compound: "
                "basis: elemental | compound",
            )
        if self.elemental_mg is not None and self.basis != "compound":
            raise problem(
                "elemental_mg",
                "elemental_needs_compound",
                "elemental_mg goes with basis: compound (the label states both)",
            )
        return self


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    serving: str | None = Field(default=None, description="e.g. '2 capsules'")
    servings_per_container: int | None = Field(default=None, ge=1, le=2000)
    price: float | None = Field(default=None, gt=0, le=100000)
    currency: str = Field(default="EUR", min_length=1, max_length=8)
    ingredients: list[LabelIngredient] = Field(min_length=1)


class IngredientReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["form", "companion", "other"]
    key: str | None
    amount_mg: float
    elemental_mg: float | None = None
    compound_mg: float | None = None
    glycine_mg: float | None = None
    absorbed_mg_low: float | None = None
    absorbed_mg_high: float | None = None
    evidence_dose_mg: float | None = None
    share_of_evidence_dose: float | None = None
    pathways: list[str] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)


class LabelReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    serving: str | None
    ingredients: list[IngredientReport]
    elemental_mg: float
    glycine_mg: float
    absorbed_mg_low: float | None
    absorbed_mg_high: float | None
    absorption_complete: bool
    pathways: list[str]
    upper_limit_mg_eu: float | None
    upper_limit_mg_us: float | None
    upper_limit_share_eu: float | None
    upper_limit_share_us: float | None
    currency: str
    cost_per_serving: float | None
    cost_per_100mg_elemental: float | None
    cost_per_100mg_absorbed_low: float | None
    cost_per_100mg_absorbed_high: float | None
    notes: list[Text]
    citations: list[str]


def analyse_label(label: Label, ev: Evidence | None = None) -> LabelReport:
    ev = ev or load_evidence()
    reports = [_ingredient_report(ev, ingredient) for ingredient in label.ingredients]
    elemental = sum(r.elemental_mg or 0.0 for r in reports)
    glycine = sum(r.glycine_mg or 0.0 for r in reports)
    magnesium = [r for r in reports if r.kind == "form"]
    complete = all(r.absorbed_mg_low is not None for r in magnesium)
    absorbed_low = sum(r.absorbed_mg_low or 0.0 for r in magnesium) if magnesium else None
    absorbed_high = sum(r.absorbed_mg_high or 0.0 for r in magnesium) if magnesium else None
    limits = {region: upper_limit_mg(ev, region) for region in Region}
    per_serving = _cost_per_serving(label)
    notes = _label_notes(ev, elemental, limits)
    return LabelReport(
        name=label.name,
        serving=label.serving,
        ingredients=reports,
        elemental_mg=elemental,
        glycine_mg=glycine,
        absorbed_mg_low=absorbed_low,
        absorbed_mg_high=absorbed_high,
        absorption_complete=complete,
        pathways=sorted({p for r in reports for p in r.pathways}),
        upper_limit_mg_eu=limits[Region.eu],
        upper_limit_mg_us=limits[Region.us],
        upper_limit_share_eu=_share(elemental, limits[Region.eu]),
        upper_limit_share_us=_share(elemental, limits[Region.us]),
        currency=label.currency,
        cost_per_serving=per_serving,
        cost_per_100mg_elemental=_cost_per_100(per_serving, elemental),
        # The most-absorbed estimate gives the lowest cost per absorbed mg, and vice versa.
        cost_per_100mg_absorbed_low=_cost_per_100(per_serving, absorbed_high if complete else None),
        cost_per_100mg_absorbed_high=_cost_per_100(per_serving, absorbed_low if complete else None),
        notes=notes,
        citations=sorted(
            {c for r in reports for c in r.citations}
            | {c for row in ev.intakes.upper_limits for c in row.cite}
        ),
    )


def _share(elemental_mg: float, limit_mg: float | None) -> float | None:
    if limit_mg is None or elemental_mg == 0:
        return None
    return elemental_mg / limit_mg


def _cost_per_serving(label: Label) -> float | None:
    if label.price is None or label.servings_per_container is None:
        return None
    return label.price / label.servings_per_container


def _cost_per_100(per_serving: float | None, amount_mg: float | None) -> float | None:
    if per_serving is None or not amount_mg:
        return None
    return per_serving / amount_mg * 100


def _label_notes(
    ev: Evidence, elemental_mg: float, limits: dict[Region, float | None]
) -> list[Text]:
    notes: list[Text] = []
    for region in Region:
        limit = limits[region]
        if limit is not None and elemental_mg > limit:
            notes.append(
                both(
                    "One serving gives {amount:.0f} mg magnesium, above the {region} upper limit "
                    "for supplements of {limit:.0f} mg a day; above it loose stools become likely.",
                    amount=elemental_mg,
                    region=region.value.upper(),
                    limit=limit,
                )
            )
    if notes:
        notes.append(ev.intakes.upper_limit_basis)
    return notes


def _ingredient_report(ev: Evidence, ingredient: LabelIngredient) -> IngredientReport:
    match = None if ingredient.other else match_ingredient(ingredient.name, ev)
    if match is None:
        return IngredientReport(
            name=ingredient.name, kind="other", key=None, amount_mg=ingredient.amount_mg
        )
    kind, key = match
    if kind == "form":
        return _form_report(ev, ingredient, key)
    return _companion_report(ev, ingredient, key)


def _form_report(ev: Evidence, ingredient: LabelIngredient, key: str) -> IngredientReport:
    form = ev.form(key)
    stated_mg = ingredient.elemental_mg
    notes: list[Text] = []
    if ingredient.basis == "elemental":
        report = dose_report(ev, form, elemental_mg=ingredient.amount_mg)
    elif stated_mg is None:
        report = dose_report(ev, form, compound_mg=ingredient.amount_mg)
    else:
        pure = (
            dose_report(ev, form, compound_mg=ingredient.amount_mg) if not form.blend_with else None
        )
        if pure is not None:
            notes.extend(_stated_share_notes(form, pure, stated_mg))
        # The label's elemental figure is what is declared and swallowed; where it exceeds the
        # pure salt, the capsule is a blend and is analysed as one.
        blend = form if form.blend_with else (_blend_variant(ev, form) if notes else None)
        report = (
            dose_report(ev, blend, elemental_mg=stated_mg, compound_mg=ingredient.amount_mg)
            if blend is not None
            else dose_report(ev, form, elemental_mg=stated_mg)
        )
    if report.magnesium_from_main_form_share is not None:
        notes.append(
            both(
                "Only {share:.0%} of this magnesium comes from {form}; the rest is from the "
                "cheaper salt it is blended with.",
                share=report.magnesium_from_main_form_share,
                form=form.name,
            )
        )
    return IngredientReport(
        name=ingredient.name,
        kind="form",
        key=report.form,
        amount_mg=ingredient.amount_mg,
        elemental_mg=report.elemental_mg,
        compound_mg=ingredient.amount_mg if ingredient.basis == "compound" else report.compound_mg,
        glycine_mg=report.glycine_mg,
        absorbed_mg_low=report.absorbed_mg_low,
        absorbed_mg_high=report.absorbed_mg_high,
        pathways=list(form.pathways),
        notes=notes,
        citations=list(report.citations),
    )


def _blend_variant(ev: Evidence, form: Form) -> Form | None:
    """The blend form built on this salt (bisglycinate -> bisglycinate_buffered), if any."""
    return next((f for f in ev.forms if f.blend_with and f.formula == form.formula), None)


def _stated_share_notes(form: Form, report: DoseReport, stated_mg: float) -> list[Text]:
    """A label whose elemental share beats the pure salt's has another Mg source inside."""
    if stated_mg <= report.elemental_mg * (1 + LABEL_SHARE_TOLERANCE):
        return []
    return [
        both(
            "The label states {stated:.0f} mg magnesium in {compound:.0f} mg of {form}, "
            "{stated_pct:.1f}% by weight; pure {form} holds at most {pure_pct:.1f}%, so "
            "another magnesium source (often oxide) is in the mix.",
            stated=stated_mg,
            compound=report.compound_mg,
            form=form.name,
            stated_pct=stated_mg / report.compound_mg * 100,
            pure_pct=report.elemental_fraction * 100,
        )
    ]


def _companion_report(ev: Evidence, ingredient: LabelIngredient, key: str) -> IngredientReport:
    companion = ev.companion(key)
    dose = companion.evidence_dose_mg
    evidence_mg = None if dose is None else dose.value
    notes: list[Text] = []
    if not companion.recommended:
        notes.append(companion.effect)
    return IngredientReport(
        name=ingredient.name,
        kind="companion",
        key=key,
        amount_mg=ingredient.amount_mg,
        glycine_mg=ingredient.amount_mg if key == GLYCINE_KEY else None,
        evidence_dose_mg=evidence_mg,
        share_of_evidence_dose=None if not evidence_mg else ingredient.amount_mg / evidence_mg,
        pathways=list(companion.pathways),
        notes=notes,
        citations=sorted({*companion.cite, *([] if dose is None else dose.cite)}),
    )

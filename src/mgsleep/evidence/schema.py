"""Strict models for the evidence base.

Every number a person will read lives in a model that carries `cite` (citation keys into
`references.yaml`); the loader refuses a dangling key and a test refuses a number without
a source. People-facing text is always a `Text` with Dutch and English side by side.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mgsleep.i18n import Lang as Lang
from mgsleep.i18n import Text as Text

KEY_PATTERN = r"^[a-z0-9][a-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Citations = list[str]


class Level(StrEnum):
    """A rating; `unknown` where no source rates the form, rather than a neutral guess."""

    low = "low"
    moderate = "moderate"
    high = "high"
    unknown = "unknown"


class Severity(StrEnum):
    stop = "stop"
    caution = "caution"
    info = "info"


class EvidenceStrength(StrEnum):
    very_low = "very_low"
    low = "low"
    moderate = "moderate"
    high = "high"


class Route(StrEnum):
    oral = "oral"
    bath = "bath"


class Quantity(Strict):
    """A cited amount. `value` None means the source names the thing but not the amount."""

    value: float | None = Field(default=None, ge=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)
    unit: str = Field(min_length=1)
    cite: Citations = Field(min_length=1)
    verified: bool = True
    note: Text | None = None

    def point(self) -> float | None:
        """The single figure to plan with: the value, else the lower bound of the range."""
        if self.value is not None:
            return self.value
        return self.low if self.low is not None else self.high

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Quantity:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self


# --- references -------------------------------------------------------------------------


class Reference(Strict):
    """A study, review, label, guideline or fact sheet. It is its own source."""

    key: str = Field(pattern=KEY_PATTERN)
    authors: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    title: str = Field(min_length=1)
    journal: str = Field(min_length=1, description="journal, publisher or regulator")
    pmid: str | None = Field(default=None, pattern=r"^[0-9]+$")
    doi: str | None = Field(default=None, pattern=r"^10\.")
    url: str | None = None
    citation: str | None = Field(default=None, description="volume, issue and pages")
    design: str = Field(min_length=1, description="e.g. RCT, meta-analysis, label, fact sheet")
    n: int | None = Field(default=None, ge=1)
    population: Text | None = None
    key_figures: list[Text] = Field(default_factory=list)
    summary: Text
    verdict: Text | None = Field(
        default=None, description="one line, where the source article overstates this source"
    )
    verified: bool = Field(description="bibliographic details confirmed in a primary source")
    cited_by_article: bool = False
    topics: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _identifiable(self) -> Reference:
        if self.verified and not (self.pmid or self.doi or self.url or self.citation):
            raise ValueError(f"{self.key}: a verified reference needs a PMID, DOI, URL or citation")
        return self


# --- pathways, forms, companions ----------------------------------------------------------


class Pathway(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    description: Text
    cite: Citations = Field(min_length=1)


class Absorption(Strict):
    """One measured fractional absorption, with what it was measured in."""

    percent: Quantity
    population: Text
    dose_mg: Quantity | None = None
    method: Text


class Correction(Strict):
    """Where the source article says one thing and the research found another."""

    key: str = Field(pattern=KEY_PATTERN)
    topic: str = Field(pattern=KEY_PATTERN)
    article_says: Text
    research_found: Text
    subjects: list[str] = Field(
        default_factory=list, description="keys of the forms, companions or conditions concerned"
    )
    cite: Citations = Field(min_length=1)


class Form(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    aliases: list[str] = Field(default_factory=list, description="names on labels, nl and en")
    formula: str = Field(min_length=2, description="molmass formula of the anhydrous salt")
    water_of_hydration: int = Field(default=0, ge=0, le=12)
    glycine_per_formula_unit: int = Field(
        default=0, ge=0, description="glycine molecules a formula unit releases"
    )
    blend_with: str | None = Field(
        default=None, description="form key of a second magnesium source in a blend"
    )
    route: Route
    absorption: list[Absorption] = Field(default_factory=list)
    absorption_comparability: Text
    gi_tolerance: Level
    laxative_tendency: Level
    price_class: Level
    best_for: Text
    consider: Text
    pathways: list[str] = Field(default_factory=list)
    cite: Citations = Field(min_length=1)


class CompanionCaution(Strict):
    medicine_classes: list[str] = Field(default_factory=list)
    substances: list[str] = Field(default_factory=list, description="medicine keys")
    severity: Severity
    message: Text
    management: Text
    cite: Citations = Field(min_length=1)

    @model_validator(mode="after")
    def _targets_something(self) -> CompanionCaution:
        if not self.medicine_classes and not self.substances:
            raise ValueError("a companion caution names no medicine class and no substance")
        return self


class Companion(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    aliases: list[str] = Field(default_factory=list)
    formula: str | None = None
    evidence_dose_mg: Quantity | None = Field(
        description="the dose the trials used; None where no dose is recommended"
    )
    pathways: list[str] = Field(default_factory=list)
    evidence_strength: EvidenceStrength
    effect: Text
    timing: Text
    recommended: bool = Field(description="False for what mgsleep never proposes (melatonin)")
    cautions: list[CompanionCaution] = Field(default_factory=list)
    cite: Citations = Field(min_length=1)


# --- reference intakes ---------------------------------------------------------------------


class LifeStage(StrEnum):
    none = "none"
    pregnant = "pregnant"
    lactating = "lactating"


class Sex(StrEnum):
    any = "any"
    female = "female"
    male = "male"


class Region(StrEnum):
    eu = "eu"
    us = "us"


class Intake(Strict):
    """A recommended intake (RDA or AI) for one age band, sex and life stage."""

    age_from_y: float = Field(ge=0)
    age_to_y: float | None = Field(default=None, gt=0, description="exclusive; None = no end")
    sex: Sex
    stage: LifeStage = LifeStage.none
    kind: Literal["rda", "ai"]
    region: Region
    amount_mg: float = Field(gt=0)
    cite: Citations = Field(min_length=1)


class UpperLimit(Strict):
    """Tolerable upper intake for supplemental magnesium. None = no limit set for that band."""

    region: Region
    age_from_y: float = Field(ge=0)
    age_to_y: float | None = Field(default=None, gt=0)
    limit_mg: float | None = Field(default=None, gt=0)
    cite: Citations = Field(min_length=1)


class Intakes(Strict):
    recommended: list[Intake] = Field(min_length=1)
    upper_limits: list[UpperLimit] = Field(min_length=1)
    upper_limit_scope: Text
    upper_limit_basis: Text
    cite: Citations = Field(min_length=1)


# --- medicines, interactions, conditions ---------------------------------------------------


class MedicineClass(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    atc_prefixes: list[str] = Field(min_length=1)
    short_course: bool = Field(
        default=False, description="usually a course of days (antibiotics): pausing is simplest"
    )


class Brand(Strict):
    """A name printed on the box, and where it is sold under that name."""

    name: str = Field(min_length=2)
    countries: list[Literal["nl", "be", "de", "uk", "us"]] = Field(default_factory=list)
    oral: bool = Field(
        default=True, description="False for eye drops, creams, injections: no gut interaction"
    )


class MagnesiumSalt(Strict):
    """A substance that is itself magnesium; its formula gives the elemental share."""

    formula: str = Field(min_length=2, description="molmass formula of the anhydrous salt")
    water_of_hydration: int = Field(default=0, ge=0, le=12)
    form: str | None = Field(default=None, description="the form key, where mgsleep has one")


class Medicine(Strict):
    """One active substance: its generic spellings, its brands, its ATC code and classes."""

    key: str = Field(pattern=KEY_PATTERN)
    names: list[str] = Field(min_length=1, description="generic names: nl, en, de, fr spellings")
    brands: list[Brand] = Field(default_factory=list)
    atc: str = Field(
        pattern=r"^[A-Z][0-9]{2}[A-Z]{2}([0-9]{2})?$",
        description="the substance's code; a group code (B03AA) for a group people name as one",
    )
    classes: list[str] = Field(
        default_factory=list, description="empty: no interaction with magnesium is known"
    )
    magnesium: MagnesiumSalt | None = None
    cite: Citations = Field(default_factory=list, description="for brands and spellings")


PreparationKind = Literal[
    "medicine", "antacid", "laxative", "bowel_prep", "magnesium", "multivitamin", "supplement"
]


class Preparation(Strict):
    """A product sold under one name: a combination of substances, a magnesium medicine, a
    multivitamin. Every substance it contains is checked; its magnesium counts."""

    key: str = Field(pattern=KEY_PATTERN)
    names: list[str] = Field(min_length=1, description="as printed on the box")
    countries: list[Literal["nl", "be", "de", "uk", "us"]] = Field(default_factory=list)
    kind: PreparationKind
    substances: list[str] = Field(default_factory=list, description="medicine keys")
    other_substances: list[str] = Field(
        default_factory=list, description="parts mgsleep does not know: treated as unknown"
    )
    magnesium_mg_per_unit: Quantity | None = Field(
        default=None, description="elemental magnesium per tablet, sachet or dose, from the label"
    )
    unit: Text | None = None
    magnesium_varies: bool = Field(
        default=False, description="versions differ: ask for the amount on the label"
    )
    cite: Citations = Field(min_length=1)


class Separation(Strict):
    """Hours between a medicine and magnesium. Either may be None where no rule applies."""

    medicine_before_mg_h: float | None = Field(default=None, ge=0)
    medicine_after_mg_h: float | None = Field(default=None, ge=0)
    cite: Citations = Field(min_length=1)


class Interaction(Strict):
    """A rule between magnesium and medicines, by class or by substance.

    `separations` gives a substance its own timing where its label differs from the class's
    (moxifloxacin within the fluoroquinolones); the class's `separation` covers the rest.
    """

    key: str = Field(pattern=KEY_PATTERN)
    medicine_classes: list[str] = Field(default_factory=list)
    substances: list[str] = Field(default_factory=list)
    severity: Severity
    message: Text
    management: Text
    separation: Separation | None = None
    separations: dict[str, Separation] = Field(default_factory=dict)
    excludes: list[str] = Field(
        default_factory=list, description="substances of the classes that have a rule of their own"
    )
    pause_for_course: bool = Field(
        default=False, description="pausing magnesium during a short course is the advice"
    )
    verified: bool = True
    cite: Citations = Field(min_length=1)

    @model_validator(mode="after")
    def _targets_something(self) -> Interaction:
        if not self.medicine_classes and not self.substances:
            raise ValueError(f"{self.key}: names no medicine class and no substance")
        return self

    def separation_for(self, substance: str) -> Separation | None:
        return self.separations.get(substance, self.separation)


class Condition(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    severity: Severity
    message: Text
    management: Text
    names: list[str] = Field(
        default_factory=list, description="what people type for it, nl and en, with synonyms"
    )
    egfr_below: Quantity | None = Field(
        default=None, description="the threshold where the condition applies (kidney only)"
    )
    verified: bool = True
    cite: Citations = Field(min_length=1)


class ConditionTerm(Strict):
    """A condition people type that needs no finding of its own, so it is read, not flagged."""

    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    names: list[str] = Field(min_length=1)
    note: Text | None = Field(default=None, description="what it means for magnesium, if any")
    cite: Citations = Field(min_length=1)


# --- bath, products, claims -----------------------------------------------------------------


class BathSalt(Strict):
    form: str
    amount: Quantity
    purpose: Text


class BathProtocol(Strict):
    before_bed_min: Quantity
    water_temperature_c: Quantity
    duration_min: Quantity
    salts: list[BathSalt] = Field(min_length=1)
    mechanism: Text
    verdict: Text
    cite: Citations = Field(min_length=1)


class ProductIngredient(Strict):
    name: Text
    form: str | None = Field(default=None, description="form key, for magnesium")
    companion: str | None = Field(default=None, description="companion key")
    amount: Quantity


class Product(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str
    maker: str | None = None
    approach: Literal["simple", "multi_pathway"]
    ingredients: list[ProductIngredient] = Field(min_length=1)
    why_the_article_chose_it: Text
    note: Text
    cite: Citations = Field(min_length=1)


class Claim(Strict):
    """A headline fact the product states, e.g. the pooled effect of magnesium on sleep."""

    key: str = Field(pattern=KEY_PATTERN)
    text: Text
    figure: Quantity | None = None
    cite: Citations = Field(min_length=1)


class Advice(Strict):
    """What mgsleep says about a situation the person describes; `{name}` is filled in."""

    key: str = Field(pattern=KEY_PATTERN)
    message: Text
    management: Text | None = None
    cite: Citations = Field(min_length=1)


# --- questionnaires --------------------------------------------------------------------------


class QuestionnaireItem(Strict):
    """One item, described in our own words; never the instrument's published wording."""

    key: str = Field(pattern=KEY_PATTERN)
    text: Text
    anchors: list[Text] = Field(
        min_length=2, description="one label per score, from item_min to item_max"
    )


class ScoreBand(Strict):
    """A range of totals, both ends inclusive, with what the source calls it."""

    low: int = Field(ge=0)
    high: int = Field(ge=0)
    key: str = Field(pattern=KEY_PATTERN)
    label: Text
    cite: Citations = Field(min_length=1)


class Questionnaire(Strict):
    """A self-report instrument whose total is the sum of its items; higher is more severe."""

    key: str = Field(pattern=KEY_PATTERN)
    name: Text
    recall: Text = Field(description="the period the answers are about")
    item_min: int = Field(ge=0)
    item_max: int = Field(ge=1)
    items: list[QuestionnaireItem] = Field(min_length=1)
    bands: list[ScoreBand] = Field(min_length=1)
    meaningful_change: Quantity = Field(description="the smallest drop in the total that matters")
    remission_below: Quantity
    response_drop: Quantity | None = Field(
        default=None, description="a drop in the total at least this large counts as a response"
    )
    case_cutoff: Quantity = Field(description="a total at or above this counts as a case")
    licence_note: Text
    cite: Citations = Field(min_length=1)

    @property
    def total_min(self) -> int:
        return self.item_min * len(self.items)

    @property
    def total_max(self) -> int:
        return self.item_max * len(self.items)

    @model_validator(mode="after")
    def _consistent(self) -> Questionnaire:
        problems = [*self._anchor_problems(), *self._band_problems(), *self._threshold_problems()]
        if problems:
            raise ValueError(f"{self.key}: " + "; ".join(problems))
        return self

    def _anchor_problems(self) -> list[str]:
        wanted = self.item_max - self.item_min + 1
        return [
            f"item {item.key} has {len(item.anchors)} anchors, expected {wanted}"
            for item in self.items
            if len(item.anchors) != wanted
        ]

    def _band_problems(self) -> list[str]:
        bands = sorted(self.bands, key=lambda band: band.low)
        problems = [
            f"band {b.key} runs from {b.low} down to {b.high}" for b in bands if b.low > b.high
        ]
        expected_low = self.total_min
        for band in bands:
            if band.low != expected_low:
                problems.append(f"band {band.key} starts at {band.low}, expected {expected_low}")
            expected_low = band.high + 1
        if expected_low != self.total_max + 1:
            problems.append(f"the bands end at {expected_low - 1}, expected {self.total_max}")
        return problems

    def _threshold_problems(self) -> list[str]:
        thresholds = {
            "meaningful_change": self.meaningful_change,
            "remission_below": self.remission_below,
            "case_cutoff": self.case_cutoff,
        }
        return [f"{name} needs a value" for name, q in thresholds.items() if q.value is None]

"""The evidence base: data files inside the package, validated once and cached."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from mgsleep.evidence.schema import (
    Advice,
    BathProtocol,
    Claim,
    Companion,
    Condition,
    ConditionTerm,
    Correction,
    Form,
    Intakes,
    Interaction,
    Medicine,
    MedicineClass,
    Pathway,
    Preparation,
    Product,
    Questionnaire,
    Reference,
    Strict,
)
from mgsleep.names import build_index, fold
from mgsleep.warm import digest, warm

__all__ = ["Evidence", "EvidenceError", "load_evidence"]

_Keyed = TypeVar("_Keyed", bound=BaseModel)

DATA_FILES: dict[str, str] = {
    "references": "references.yaml",
    "pathways": "pathways.yaml",
    "forms": "forms.yaml",
    "companions": "companions.yaml",
    "intakes": "intakes.yaml",
    "medicine_classes": "medicines.yaml",
    "medicines": "medicines.yaml",
    "preparations": "preparations.yaml",
    "interactions": "interactions.yaml",
    "conditions": "conditions.yaml",
    "condition_terms": "conditions.yaml",
    "bath": "bath.yaml",
    "products": "products.yaml",
    "claims": "claims.yaml",
    "corrections": "claims.yaml",
    "questionnaires": "questionnaires.yaml",
    "advice": "advice.yaml",
}


class EvidenceError(ValueError):
    """The shipped evidence data is inconsistent; a bug in the data, never user input."""


class Evidence(Strict):
    references: list[Reference] = Field(min_length=1)
    pathways: list[Pathway] = Field(min_length=1)
    forms: list[Form] = Field(min_length=1)
    companions: list[Companion] = Field(min_length=1)
    intakes: Intakes
    medicine_classes: list[MedicineClass] = Field(min_length=1)
    medicines: list[Medicine] = Field(min_length=1)
    preparations: list[Preparation] = Field(min_length=1)
    interactions: list[Interaction] = Field(min_length=1)
    conditions: list[Condition] = Field(min_length=1)
    condition_terms: list[ConditionTerm] = Field(min_length=1)
    bath: BathProtocol
    products: list[Product] = Field(min_length=1)
    claims: list[Claim] = Field(min_length=1)
    corrections: list[Correction] = Field(min_length=1)
    questionnaires: list[Questionnaire] = Field(min_length=1)
    advice: list[Advice] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Evidence:
        problems = list(_cross_reference_problems(self))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # Name indexes, built once per Evidence: what people type -> keys.
    @functools.cached_property
    def form_index(self) -> dict[str, str]:
        return build_index((f.key, (f.name.nl, f.name.en, *f.aliases)) for f in self.forms)

    @functools.cached_property
    def companion_index(self) -> dict[str, str]:
        return build_index((c.key, (c.name.nl, c.name.en, *c.aliases)) for c in self.companions)

    @functools.cached_property
    def medicine_index(self) -> dict[str, str]:
        return build_index((m.key, m.names) for m in self.medicines)

    @functools.cached_property
    def medicines_by_key(self) -> dict[str, Medicine]:
        return {m.key: m for m in self.medicines}

    # Lookups: the lists are small, so a scan keeps the model immutable and simple.
    def reference(self, key: str) -> Reference:
        return _by_key(self.references, key)

    def form(self, key: str) -> Form:
        return _by_key(self.forms, key)

    def companion(self, key: str) -> Companion:
        return _by_key(self.companions, key)

    def pathway(self, key: str) -> Pathway:
        return _by_key(self.pathways, key)

    def medicine_class(self, key: str) -> MedicineClass:
        return _by_key(self.medicine_classes, key)

    def condition(self, key: str) -> Condition:
        return _by_key(self.conditions, key)

    def medicine(self, key: str) -> Medicine:
        return self.medicines_by_key[key]

    def preparation(self, key: str) -> Preparation:
        return _by_key(self.preparations, key)

    def interaction(self, key: str) -> Interaction:
        return _by_key(self.interactions, key)

    def claim(self, key: str) -> Claim:
        return _by_key(self.claims, key)

    def product(self, key: str) -> Product:
        return _by_key(self.products, key)

    def questionnaire(self, key: str) -> Questionnaire:
        return _by_key(self.questionnaires, key)

    def advice_for(self, key: str) -> Advice:
        return _by_key(self.advice, key)


def _by_key(items: list[_Keyed], key: str) -> _Keyed:
    for item in items:
        if getattr(item, "key", None) == key:
            return item
    raise KeyError(key)


def all_citations(node: Any) -> Iterator[str]:
    """Every citation key anywhere below `node` (a model, list or dict)."""
    if isinstance(node, BaseModel):
        node = node.model_dump()
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "cite" and isinstance(value, list):
                yield from value
            else:
                yield from all_citations(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_citations(item)


def _cross_reference_problems(ev: Evidence) -> Iterator[str]:
    for name in DATA_FILES:
        items = getattr(ev, name)
        if isinstance(items, list):
            keys = [getattr(item, "key", None) for item in items]
            duplicates = {k for k in keys if k is not None and keys.count(k) > 1}
            if duplicates:
                yield f"{name}: duplicate keys {sorted(duplicates)}"
    reference_keys = {r.key for r in ev.references}
    for name in DATA_FILES:
        if name == "references":
            continue
        for key in all_citations(getattr(ev, name)):
            if key not in reference_keys:
                yield f"{name}: dangling citation key {key!r}"
    pathway_keys = {p.key for p in ev.pathways}
    form_keys = {f.key for f in ev.forms}
    companion_keys = {c.key for c in ev.companions}
    class_keys = {c.key for c in ev.medicine_classes}
    for form in ev.forms:
        yield from _unknown(f"form {form.key} pathways", form.pathways, pathway_keys)
        if form.blend_with is not None:
            yield from _unknown(f"form {form.key} blend_with", [form.blend_with], form_keys)
    for companion in ev.companions:
        yield from _unknown(f"companion {companion.key}", companion.pathways, pathway_keys)
        for caution in companion.cautions:
            yield from _unknown(
                f"companion {companion.key} caution", caution.medicine_classes, class_keys
            )
    medicine_keys = {m.key for m in ev.medicines}
    for medicine in ev.medicines:
        yield from _unknown(f"medicine {medicine.key}", medicine.classes, class_keys)
        if medicine.magnesium is not None and medicine.magnesium.form is not None:
            yield from _unknown(f"medicine {medicine.key}", [medicine.magnesium.form], form_keys)
    for preparation in ev.preparations:
        yield from _unknown(f"preparation {preparation.key}", preparation.substances, medicine_keys)
    for interaction in ev.interactions:
        where = f"interaction {interaction.key}"
        yield from _unknown(where, interaction.medicine_classes, class_keys)
        yield from _unknown(
            where, [*interaction.substances, *interaction.separations], medicine_keys
        )
    for companion in ev.companions:
        for caution in companion.cautions:
            yield from _unknown(f"companion {companion.key}", caution.substances, medicine_keys)
    for salt in ev.bath.salts:
        yield from _unknown("bath salt", [salt.form], form_keys)
    for product in ev.products:
        for ingredient in product.ingredients:
            if ingredient.form is not None:
                yield from _unknown(f"product {product.key}", [ingredient.form], form_keys)
            if ingredient.companion is not None:
                yield from _unknown(
                    f"product {product.key}", [ingredient.companion], companion_keys
                )
    yield from _clashing_medicine_names(ev)


def _unknown(where: str, used: list[str], known: set[str]) -> Iterator[str]:
    for key in used:
        if key not in known:
            yield f"{where}: unknown key {key!r}"


def _clashing_medicine_names(ev: Evidence) -> Iterator[str]:
    """A name on a box must mean one thing; a brand that differs by country is a preparation
    that lists every substance, so the stricter rule applies."""
    owner: dict[str, str] = {}
    named: list[tuple[str, str]] = []
    for medicine in ev.medicines:
        named += [(name, medicine.key) for name in medicine.names]
        named += [(brand.name, medicine.key) for brand in medicine.brands]
    for preparation in ev.preparations:
        named += [(name, f"preparation {preparation.key}") for name in preparation.names]
    for name, key in named:
        folded = fold(name)
        if owner.setdefault(folded, key) != key:
            yield f"medicine name {name!r} belongs to {owner[folded]} and {key}"


def _data_bytes() -> dict[str, bytes]:
    folder = resources.files("mgsleep.evidence")
    return {
        name: folder.joinpath("data", name).read_bytes()
        for name in sorted(set(DATA_FILES.values()))
    }


def _code_bytes() -> list[bytes]:
    # The evidence is as much the code that reads it as the files: a new schema, a new key.
    folder = resources.files("mgsleep.evidence")
    return [folder.joinpath(name).read_bytes() for name in ("__init__.py", "schema.py")]


def _document(data: bytes) -> Any:
    # The C loader reads the same YAML in a tenth of the time; start-up is felt on every command.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data.decode("utf-8"), Loader=loader)  # noqa: S506 - a SafeLoader


def data_document(filename: str) -> Any:
    """One data file as read (before validation)."""
    return _document(resources.files("mgsleep.evidence").joinpath("data", filename).read_bytes())


def _parsed(files: dict[str, bytes]) -> Evidence:
    documents = {name: _document(data) for name, data in files.items()}
    # Each data file is a mapping whose top-level keys are Evidence field names.
    raw = {field: documents[filename].get(field) for field, filename in DATA_FILES.items()}
    try:
        return Evidence.model_validate(raw)
    except ValidationError as error:
        raise EvidenceError(f"the evidence data is invalid:\n{error}") from error


@functools.cache
def evidence_digest() -> str:
    """A key for the evidence base as this program reads it (its files and its code)."""
    files = _data_bytes()
    return digest([*(name.encode() + data for name, data in files.items()), *_code_bytes()])


@functools.cache
def load_evidence() -> Evidence:
    """Load and validate every data file once per process (and, kept in the cache folder,
    once per version of the data and the program)."""
    return warm("evidence", evidence_digest(), lambda: _parsed(_data_bytes()), Evidence)

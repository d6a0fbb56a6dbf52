"""Names people type -> keys of the evidence base (forms, companions, medicines)."""

from __future__ import annotations

from typing import Literal

from mgsleep.evidence import Evidence, all_citations, load_evidence
from mgsleep.evidence.schema import Companion, Correction, Form, Medicine, Reference
from mgsleep.names import fold, lookup, resolve

IngredientKind = Literal["form", "companion"]


def find_form(name: str, ev: Evidence | None = None, *, field: str = "form") -> Form:
    ev = ev or load_evidence()
    key = resolve(ev.form_index, name, field=field, valid=(f.key for f in ev.forms))
    return ev.form(key)


def find_companion(name: str, ev: Evidence | None = None, *, field: str = "name") -> Companion:
    ev = ev or load_evidence()
    key = resolve(ev.companion_index, name, field=field, valid=(c.key for c in ev.companions))
    return ev.companion(key)


def match_ingredient(name: str, ev: Evidence) -> tuple[IngredientKind, str] | None:
    """A label ingredient is a magnesium form or a companion, tried in that order."""
    form_key = lookup(ev.form_index, name)
    if form_key is not None:
        return "form", form_key
    companion_key = lookup(ev.companion_index, name)
    if companion_key is not None:
        return "companion", companion_key
    return None


def ingredient_index(ev: Evidence) -> dict[str, str]:
    return {**ev.companion_index, **ev.form_index}


def match_medicine(name: str, ev: Evidence | None = None) -> Medicine | None:
    ev = ev or load_evidence()
    key = lookup(ev.medicine_index, name)
    return None if key is None else next(m for m in ev.medicines if m.key == key)


def topics(ev: Evidence | None = None) -> dict[str, int]:
    """Every topic a person can ask about, with how many references it has."""
    ev = ev or load_evidence()
    counts: dict[str, int] = {}
    for reference in ev.references:
        for topic in reference.topics:
            counts[topic] = counts.get(topic, 0) + 1
    subjects: list[Form | Companion] = [*ev.forms, *ev.companions]
    for subject in subjects:
        counts[subject.key] = len(_subject_citations(ev, subject.key))
    return dict(sorted(counts.items()))


def _subject_citations(ev: Evidence, key: str) -> set[str]:
    subjects: list[Form | Companion] = [*ev.forms, *ev.companions]
    subject = next((s for s in subjects if s.key == key), None)
    return set() if subject is None else set(all_citations(subject))


def resolve_topic(topic: str, ev: Evidence | None = None) -> str:
    """A topic, form or companion name as typed -> its key, or an error listing the valid ones."""
    ev = ev or load_evidence()
    known = topics(ev)
    index = {fold(t): t for t in known} | ev.form_index | ev.companion_index
    return resolve(index, topic, field="topic", valid=known)


def references_for(key: str, ev: Evidence | None = None) -> list[Reference]:
    """The references behind a topic, a form or a companion (by key), newest first."""
    ev = ev or load_evidence()
    cited = _subject_citations(ev, key)
    found = [r for r in ev.references if key in r.topics or r.key in cited]
    return sorted(found, key=lambda r: (-r.year, r.key))


def corrections_for(key: str, ev: Evidence | None = None) -> list[Correction]:
    ev = ev or load_evidence()
    return [c for c in ev.corrections if key == c.topic or key in c.subjects]

"""The evidence browser: forms, topics and their studies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mgsleep.dose import form_facts
from mgsleep.errors import InputError
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.lookup import (
    corrections_for,
    find_form,
    references_for,
    resolve_topic,
    topics,
)
from mgsleep.i18n import Lang, translations
from mgsleep.web.deps import LocaleDep, OptionalUser
from mgsleep.web.pages.common import N_, formatters, references_for_keys, render

router = APIRouter()


TOPIC_LABELS = {
    "absorption": N_("Absorption"),
    "bath": N_("Bath"),
    "chemistry": N_("Chemistry"),
    "companions": N_("Companions"),
    "diary": N_("Sleep diary"),
    "guidelines": N_("Guidelines"),
    "intakes": N_("Intakes and upper limits"),
    "interactions": N_("Interactions with medicines"),
    "magnesium_sleep": N_("Magnesium and sleep"),
    "n_of_1": N_("Trials in one person"),
    "questionnaires": N_("Questionnaires"),
    "regulation": N_("Rules and regulation"),
    "safety": N_("Safety"),
    "antibiotics": N_("Antibiotics"),
    "bathing": N_("Bathing"),
    "cardiac": N_("Heart"),
    "cardiovascular": N_("Heart and blood vessels"),
    "cbt_i": N_("Cognitive behavioural therapy for insomnia"),
    "cramps": N_("Muscle cramps"),
    "dosing": N_("Dosing"),
    "efficacy": N_("Does it work"),
    "guideline": N_("Guidelines"),
    "heat": N_("Heat"),
    "herbal": N_("Herbal products"),
    "hiv": N_("HIV medicines"),
    "insomnia": N_("Insomnia"),
    "iron": N_("Iron"),
    "netherlands": N_("The Netherlands"),
    "older_adults": N_("Older people"),
    "outcomes": N_("Outcomes"),
    "pregnancy": N_("Pregnancy"),
    "psychiatry": N_("Medicines for the mind"),
    "renal": N_("Kidneys"),
    "restless_legs": N_("Restless legs"),
    "serotonin_syndrome": N_("Serotonin syndrome"),
    "sleep": N_("Sleep"),
    "supplements": N_("Supplements"),
    "thyroid": N_("Thyroid"),
    "transplant": N_("Transplant"),
}


def _topic_title(key: str, ev: Evidence, lang: Lang) -> str:
    names = {f.key: f.name for f in ev.forms} | {c.key: c.name for c in ev.companions}
    if key in names:
        return names[key].get(lang)
    label = TOPIC_LABELS.get(key)
    return translations(lang).gettext(label) if label else key.replace("_", " ")


def _evidence_context(lang: Lang) -> dict[str, Any]:
    ev = load_evidence()
    facts = [form_facts(ev, form) for form in ev.forms]
    counts = topics(ev)
    cited = {c for f in facts for c in f.citations} | {c for x in ev.companions for c in x.cite}
    return {
        "ev": ev,
        "facts": facts,
        "topic_list": [(key, _topic_title(key, ev, lang), n) for key, n in counts.items()],
        "sources": references_for_keys(cited, ev),
        "topic": None,
        "missing": None,
        **formatters(lang),
    }


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, lang: LocaleDep, user: OptionalUser) -> Response:
    return render(request, "evidence.html", lang, user, **_evidence_context(lang))


@router.get("/evidence/forms/{name}", response_class=HTMLResponse)
def evidence_form(request: Request, lang: LocaleDep, user: OptionalUser, name: str) -> Response:
    ev = load_evidence()
    try:
        form = find_form(name, ev)
    except InputError:
        context = {**_evidence_context(lang), "missing": name}
        return render(request, "evidence.html", lang, user, status_code=404, **context)
    facts = form_facts(ev, form)
    return render(
        request,
        "evidence_form.html",
        lang,
        user,
        ev=ev,
        form=form,
        facts=facts,
        corrections=corrections_for(form.key, ev),
        sources=references_for_keys(facts.citations, ev),
        **formatters(lang),
    )


@router.get("/evidence/topics/{name}", response_class=HTMLResponse)
def evidence_topic(request: Request, lang: LocaleDep, user: OptionalUser, name: str) -> Response:
    ev = load_evidence()
    try:
        key = resolve_topic(name, ev)
    except InputError:
        context = {**_evidence_context(lang), "missing": name}
        return render(request, "evidence.html", lang, user, status_code=404, **context)
    return render(
        request,
        "evidence.html",
        lang,
        user,
        ev=ev,
        topic=key,
        topic_title=_topic_title(key, ev, lang),
        is_form=key in {f.key for f in ev.forms},
        references=references_for(key, ev),
        corrections=corrections_for(key, ev),
        missing=None,
        **formatters(lang),
    )

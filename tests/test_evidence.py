"""The evidence base: complete, cited, bilingual, and its guards really guard."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from mgsleep.evidence import DATA_FILES, Evidence, all_citations, data_document
from mgsleep.evidence.lookup import find_form, match_medicine
from mgsleep.i18n import Text

FORMS = {
    "bisglycinate",
    "bisglycinate_buffered",
    "oxide",
    "citrate",
    "threonate",
    "taurate",
    "chloride",
    "sulfate",
    "malate",
    "lactate",
    "carbonate",
    "hydroxide",
}
COMPANIONS = {
    "glycine",
    "gaba",
    "l_theanine",
    "l_tryptophan",
    "melatonin",
    "five_htp",
    "st_johns_wort",
}
PATHWAYS = {"gaba_a", "nmda_block", "melatonin_synthesis", "cortisol", "thermoregulation"}
ARTICLE_SOURCES = {
    "abbasi2012",
    "mr2025_insomnia",
    "yamadera2007",
    "bannai2012",
    "grober2017",
    "tai2021",
    "nih_ods_magnesium",
    "schuette1994",
    "proksch2005",
}
RESEARCH_SOURCES = {
    "mah2021",
    "firoz2001",
    "walker2003",
    "kappeler2017",
    "fine1991",
    "kawai2015",
    "hidese2019",
    "byun2018",
    "haghayegh2019",
    "iom1997",
    "efsa2015",
    "scf_efsa2006",
    "cipro_label",
    "nix1989",
    "fda_ppi_2011",
    "esrs2023",
    "carney2012",
    "morin2011",
}
# Generic names the issue lists, Dutch and English, with the ATC code each must carry.
MEDICINES = {
    "ciprofloxacine": "J01MA02",
    "ciprofloxacin": "J01MA02",
    "doxycycline": "J01AA02",
    "alendroninezuur": "M05BA04",
    "alendronic acid": "M05BA04",
    "furosemide": "C03CA01",
    "hydrochloorthiazide": "C03AA03",
    "hydrochlorothiazide": "C03AA03",
    "spironolacton": "C03DA01",
    "spironolactone": "C03DA01",
    "omeprazol": "A02BC01",
    "omeprazole": "A02BC01",
    "pantoprazol": "A02BC02",
    "levothyroxine": "H03AA01",
    "temazepam": "N05CD07",
    "zolpidem": "N05CF02",
    "gabapentine": "N03AX12",
}
CONDITIONS = {"ckd", "heart_block", "bradycardia", "myasthenia_gravis", "pregnancy", "lactation"}
# Counts fixed by chemistry, and a questionnaire's answer scale (its cited bands and thresholds
# carry their sources), not by a source.
STRUCTURAL_NUMBERS = {"water_of_hydration", "glycine_per_formula_unit", "item_min", "item_max"}


def _raw() -> dict[str, Any]:
    files = {name: data_document(name) for name in set(DATA_FILES.values())}
    return {field: files[filename][field] for field, filename in DATA_FILES.items()}


def test_every_form_companion_and_pathway_is_there(ev):
    assert {f.key for f in ev.forms} == FORMS
    assert {c.key for c in ev.companions} == COMPANIONS
    assert {p.key for p in ev.pathways} == PATHWAYS


def test_the_article_and_research_sources_are_there(ev):
    keys = {r.key for r in ev.references}
    assert keys >= ARTICLE_SOURCES | RESEARCH_SOURCES
    assert all(ev.reference(k).cited_by_article for k in ARTICLE_SOURCES)


def test_unverified_sources_are_flagged(ev):
    assert not ev.reference("mr2025_insomnia").verified
    assert ev.reference("abbasi2012").pmid == "23853635"


@pytest.mark.parametrize(("name", "atc"), MEDICINES.items())
def test_medicines_match_by_dutch_and_english_names(ev, name, atc):
    medicine = match_medicine(name, ev)
    assert medicine is not None, name
    assert medicine.atc == atc


def test_every_medicine_class_has_an_interaction_or_a_companion_caution(ev):
    used = {c for i in ev.interactions for c in i.medicine_classes}
    used |= {
        c for comp in ev.companions for caution in comp.cautions for c in caution.medicine_classes
    }
    assert {c.key for c in ev.medicine_classes} <= used


def test_conditions_are_there_with_kidney_threshold(ev):
    assert {c.key for c in ev.conditions} >= CONDITIONS
    assert ev.condition("ckd").egfr_below is not None
    assert ev.condition("ckd").egfr_below.value == 30


def test_products_keep_unknown_amounts_unknown(ev):
    assert len(ev.products) == 3
    amounts = [i.amount.value for p in ev.products for i in p.ingredients]
    assert None in amounts  # the article names ingredients without amounts
    assert 420 in amounts  # Dreamin's L-tryptophan, the one amount the article states


def test_upper_limits_both_regions(ev):
    adult = {u.region.value: u.limit_mg for u in ev.intakes.upper_limits if u.age_to_y is None}
    assert adult == {"eu": 250, "us": 350}


def test_form_names_resolve_in_both_languages(ev):
    assert find_form("magnesiumglycinaat", ev).key == "bisglycinate"
    assert find_form("Magnesium Oxide", ev).key == "oxide"
    assert find_form("Epsomzout", ev).key == "sulfate"


def _numbers_without_source(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        has_cite = bool(node.get("cite"))
        for key, value in node.items():
            where = f"{path}.{key}"
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if is_number and not has_cite and key not in STRUCTURAL_NUMBERS:
                found.append(where)
            found += _numbers_without_source(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _numbers_without_source(item, f"{path}[{index}]")
    return found


def test_every_number_has_a_source_beside_it(ev):
    dumped = ev.model_dump(mode="json")
    dumped.pop("references")  # a reference is its own source (year, n)
    assert _numbers_without_source(dumped) == []


def _texts(node: Any) -> list[Any]:
    if isinstance(node, Text):
        return [node]
    if isinstance(node, BaseModel):
        return [t for name in type(node).model_fields for t in _texts(getattr(node, name))]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def test_every_text_has_both_languages_and_they_differ(ev):
    texts = _texts(ev)
    assert len(texts) > 200
    assert all(t.nl.strip() and t.en.strip() for t in texts)
    # A Dutch field holding the English sentence would pass a presence check; catch copies.
    copies = [t.en for t in texts if t.nl == t.en and len(t.en) > 30]
    assert copies == []


def test_every_reference_is_used_or_listed_by_the_article(ev):
    used = set(all_citations(ev.model_dump(exclude={"references"})))
    unused = {r.key for r in ev.references} - used
    assert unused <= {
        r.key
        for r in ev.references
        if r.cited_by_article
        or "n_of_1" in r.topics
        or "diary" in r.topics
        or "questionnaires" in r.topics
    }


def test_a_dangling_citation_key_is_refused():
    raw = _raw()
    raw["forms"][0]["cite"] = ["no_such_study"]
    with pytest.raises(ValueError, match="dangling citation key 'no_such_study'"):
        Evidence.model_validate(raw)


def test_a_missing_language_is_refused():
    raw = _raw()
    del raw["forms"][0]["best_for"]["en"]
    with pytest.raises(ValueError, match=r"best_for\.en"):
        Evidence.model_validate(raw)


def test_a_number_without_a_source_is_refused():
    raw = copy.deepcopy(_raw())
    raw["bath"]["water_temperature_c"]["cite"] = []
    with pytest.raises(ValueError, match="cite"):
        Evidence.model_validate(raw)


def test_data_files_are_plain_yaml_mappings():
    for filename in set(DATA_FILES.values()):
        assert isinstance(yaml.safe_load(yaml.safe_dump(data_document(filename))), dict)

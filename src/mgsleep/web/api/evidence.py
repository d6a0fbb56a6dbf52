"""/label and /evidence: a supplement label analysed, and the evidence base behind it all."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, UploadFile
from pydantic import BaseModel, Field

from mgsleep.documents import parse_document
from mgsleep.dose import FormFacts, form_facts
from mgsleep.errors import InputError, NotFound
from mgsleep.evidence import load_evidence
from mgsleep.evidence.lookup import corrections_for, find_form, references_for, resolve_topic
from mgsleep.evidence.lookup import topics as topic_counts
from mgsleep.evidence.schema import Absorption, Companion, Correction, Reference
from mgsleep.label import MAX_LABEL_BYTES, Label, LabelReport, analyse_label
from mgsleep.web.api.common import documented, guarded_router, read_text_upload

guarded = guarded_router()


@guarded.post("/label", tags=["label"], responses=documented(422))
def analyse_label_json(label: Label) -> LabelReport:
    """A supplement label: magnesium, glycine, pathways, evidence doses, limits, cost."""
    return analyse_label(label)


@guarded.post("/label/upload", tags=["label"], responses=documented(413, 422))
def analyse_label_file(
    file: Annotated[UploadFile, File(description="a label written as YAML or JSON")],
) -> LabelReport:
    """The same for a label file; a problem names its line."""
    return analyse_label(parse_document(read_text_upload(file, MAX_LABEL_BYTES), Label))


class FormDetail(FormFacts):
    absorption: list[Absorption]
    corrections: list[Correction] = Field(description="where the article is corrected")


class TopicCount(BaseModel):
    topic: str
    references: int


class TopicEvidence(BaseModel):
    topic: str
    references: list[Reference] = Field(description="newest first")
    corrections: list[Correction]


@guarded.get("/evidence/forms", tags=["evidence"])
def list_forms() -> list[FormFacts]:
    """The magnesium forms: chemistry, measured absorption, tolerance, price."""
    ev = load_evidence()
    return [form_facts(ev, form) for form in ev.forms]


def _not_found(error: InputError) -> NotFound:
    return NotFound.of(error.problem, value=error.value)


@guarded.get("/evidence/forms/{key}", tags=["evidence"], responses=documented(404))
def read_form(key: str) -> FormDetail:
    """One form in full; `key` may also be a name such as 'magnesiumglycinaat'."""
    ev = load_evidence()
    try:
        form = find_form(key, ev, field="key")
    except InputError as error:
        raise _not_found(error) from error
    return FormDetail.model_validate(
        {
            **form_facts(ev, form).model_dump(),
            "absorption": form.absorption,
            "corrections": corrections_for(form.key, ev),
        }
    )


@guarded.get("/evidence/companions", tags=["evidence"])
def list_companions() -> list[Companion]:
    """What may go with magnesium (glycine, L-theanine, …), with its evidence."""
    return load_evidence().companions


@guarded.get("/evidence/topics", tags=["evidence"])
def list_topics() -> list[TopicCount]:
    """The topics of the evidence base, with how many references each has."""
    return [TopicCount(topic=t, references=n) for t, n in topic_counts(load_evidence()).items()]


@guarded.get("/evidence/topics/{topic}", tags=["evidence"], responses=documented(404))
def read_topic(topic: str) -> TopicEvidence:
    """The studies behind a topic, form or companion, and the article's corrections."""
    ev = load_evidence()
    try:
        key = resolve_topic(topic, ev)
    except InputError as error:
        raise _not_found(error) from error
    return TopicEvidence(
        topic=key, references=references_for(key, ev), corrections=corrections_for(key, ev)
    )

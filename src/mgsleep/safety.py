"""The safety screen: a profile against the evidence base -> findings, each cited.

Nothing is skipped silently: a medicine or supplement the evidence base does not know is a
finding of its own, and every condition the profile can state is looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time

from pydantic import BaseModel, ConfigDict, Field

from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.lookup import match_ingredient, match_medicine
from mgsleep.evidence.schema import Condition, Separation, Severity
from mgsleep.i18n import Text, both
from mgsleep.intakes import upper_limit_mg
from mgsleep.profile import Profile

SEVERITY_ORDER = {Severity.stop: 0, Severity.caution: 1, Severity.info: 2}
ADULT_AGE_Y = 18
# From 9 years the upper limit is the adult one (IOM 1997); below it the limits differ by age.
CHILD_AGE_Y = 9


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: str
    subject: str | None = Field(default=None, description="the medicine or supplement as typed")
    message: Text
    management: Text
    citations: list[str] = Field(min_length=1)
    separation: Separation | None = None
    medicine_times: list[time] = Field(default_factory=list)


def verdict(findings: list[Finding]) -> Severity | None:
    """The gravest severity among the findings; None means nothing stands in the way (go)."""
    if not findings:
        return None
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__)


def screen(profile: Profile, ev: Evidence | None = None) -> list[Finding]:
    """Every finding for this person, gravest first."""
    ev = ev or load_evidence()
    findings = [
        *_condition_findings(profile, ev),
        *_medicine_findings(profile, ev),
        *_supplement_findings(profile, ev),
        *_age_findings(profile, ev),
    ]
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


def _from_condition(condition: Condition, code: str | None = None) -> Finding:
    return Finding(
        severity=condition.severity,
        code=code or f"condition.{condition.key}",
        message=condition.message,
        management=condition.management,
        citations=list(condition.cite),
    )


def _condition_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    yield from _kidney_findings(profile, ev)
    flags = {
        "heart_block": profile.heart_block,
        "bradycardia": profile.bradycardia,
        "myasthenia_gravis": profile.myasthenia_gravis,
        "pregnancy": profile.pregnant,
        "lactation": profile.breastfeeding,
    }
    for key, present in flags.items():
        if present:
            yield _from_condition(ev.condition(key))


def _kidney_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    ckd = ev.condition("ckd")
    threshold = ckd.egfr_below.value if ckd.egfr_below is not None else None
    low_egfr = profile.egfr is not None and threshold is not None and profile.egfr < threshold
    if profile.kidney_disease is True or low_egfr:
        yield _from_condition(ckd)
    elif profile.kidney_disease == "unknown":
        yield Finding(
            severity=Severity.caution,
            code="condition.ckd_unknown",
            message=both(
                "Your kidney function is not known. Kidneys remove extra magnesium; when they "
                "work poorly, magnesium can build up."
            ),
            management=both(
                "Ask your GP whether your kidney function (eGFR) should be checked before you "
                "start."
            ),
            citations=list(ckd.cite),
        )


def _medicine_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    for entry in profile.medicines:
        medicine = match_medicine(entry.name, ev)
        if medicine is None:
            magnesium = match_ingredient(entry.name, ev)
            if magnesium is not None and magnesium[0] == "form":
                yield _magnesium_medicine(entry.name, ev)
            else:
                yield _unrecognised(entry.name, "medicine", ev)
            continue
        for interaction in ev.interactions:
            if set(interaction.medicine_classes) & set(medicine.classes):
                yield Finding(
                    severity=interaction.severity,
                    code=f"interaction.{interaction.key}",
                    subject=entry.name,
                    message=interaction.message,
                    management=interaction.management,
                    citations=list(interaction.cite),
                    separation=interaction.separation,
                    medicine_times=list(entry.times),
                )


def _unrecognised(name: str, kind: str, ev: Evidence) -> Finding:
    return Finding(
        severity=Severity.caution if kind == "medicine" else Severity.info,
        code=f"{kind}.not_recognised",
        subject=name,
        message=both(
            "{name} is not recognised, so mgsleep cannot check it against magnesium.", name=name
        ),
        management=both(
            "Ask your pharmacist whether {name} can be combined with magnesium and how many "
            "hours apart to take them.",
            name=name,
        ),
        citations=["nih_ods_magnesium"],
    )


def _magnesium_medicine(name: str, ev: Evidence) -> Finding:
    return Finding(
        severity=Severity.caution,
        code="medicine.contains_magnesium",
        subject=name,
        message=both(
            "{name} is itself magnesium (as a laxative or antacid). It counts towards the upper "
            "limit for supplements.",
            name=name,
        ),
        management=both(
            "Do not add a magnesium supplement on top without asking your doctor or pharmacist."
        ),
        citations=list(ev.intakes.cite),
    )


def supplemental_magnesium_mg(profile: Profile, ev: Evidence) -> float:
    """Magnesium the person already takes as supplements (elemental mg a day)."""
    total = 0.0
    for supplement in profile.supplements:
        match = match_ingredient(supplement.name, ev)
        if match is not None and match[0] == "form" and supplement.dose_mg is not None:
            total += supplement.dose_mg
    return total


def taken_companions(profile: Profile, ev: Evidence) -> dict[str, float | None]:
    """Companion key -> dose the person already takes (None when the dose is not given)."""
    taken: dict[str, float | None] = {}
    for supplement in profile.supplements:
        match = match_ingredient(supplement.name, ev)
        if match is not None and match[0] == "companion":
            taken[match[1]] = supplement.dose_mg
    return taken


def medicine_classes(profile: Profile, ev: Evidence) -> set[str]:
    classes: set[str] = set()
    for entry in profile.medicines:
        medicine = match_medicine(entry.name, ev)
        if medicine is not None:
            classes.update(medicine.classes)
    return classes


def upper_limit_finding(
    profile: Profile, ev: Evidence, total_mg: float, *, planned: bool
) -> Finding | None:
    """A caution when supplemental magnesium from all sources exceeds the applicable limit."""
    limit = upper_limit_mg(ev, profile.region, profile.age)
    if limit is None or total_mg <= limit:
        return None
    values = {"total": total_mg, "region": profile.region.value.upper(), "limit": limit}
    message = (
        both(
            "With this plan you would take {total:.0f} mg magnesium a day from supplements, "
            "above the {region} upper limit of {limit:.0f} mg.",
            **values,
        )
        if planned
        else both(
            "You already take {total:.0f} mg magnesium a day from supplements, above the "
            "{region} upper limit of {limit:.0f} mg.",
            **values,
        )
    )
    return Finding(
        severity=Severity.caution,
        code="intake.above_upper_limit",
        message=message,
        management=both(
            "{basis} Lower the dose, or take it under a doctor's supervision.",
            basis=ev.intakes.upper_limit_basis,
        ),
        citations=sorted({c for row in ev.intakes.upper_limits for c in row.cite}),
    )


def _supplement_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    classes = medicine_classes(profile, ev)
    for supplement in profile.supplements:
        match = match_ingredient(supplement.name, ev)
        if match is None:
            yield _unrecognised(supplement.name, "supplement", ev)
            continue
        kind, key = match
        if kind != "companion":
            continue
        for caution in ev.companion(key).cautions:
            if classes & set(caution.medicine_classes):
                yield Finding(
                    severity=caution.severity,
                    code=f"companion.{key}",
                    subject=supplement.name,
                    message=caution.message,
                    management=caution.management,
                    citations=list(caution.cite),
                )
    existing = upper_limit_finding(
        profile, ev, supplemental_magnesium_mg(profile, ev), planned=False
    )
    if existing is not None:
        yield existing


def _age_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    """mgsleep plans for adults; children have other limits and need a doctor's advice."""
    if profile.age >= ADULT_AGE_Y:
        return
    limit = upper_limit_mg(ev, profile.region, profile.age)
    yield Finding(
        severity=Severity.stop if profile.age < CHILD_AGE_Y else Severity.caution,
        code="age.child" if profile.age < CHILD_AGE_Y else "age.teenager",
        message=both(
            "The advice in mgsleep is written for adults. At {age} the upper limit for "
            "supplements is {limit}.",
            age=profile.age,
            limit=both("not set") if limit is None else f"{limit:.0f} mg",
        ),
        management=both("Let a doctor decide about magnesium for a child or teenager."),
        citations=sorted({c for row in ev.intakes.upper_limits for c in row.cite}),
    )

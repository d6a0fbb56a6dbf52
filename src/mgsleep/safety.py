"""The safety screen: a profile against the evidence base -> findings, each cited.

It reads what people really type (brands, combinations, typos, free-text conditions) through
`recognition`, and it is conservative where it does not know:

- a medicine it cannot read gets no magnesium within 4 hours of any of its doses, and the
  verdict is at least a caution that says why;
- a name read as the nearest known one is reported ("read as X: check this"); where it was a
  typo, both the nearest name's rules and the 4-hour rule apply;
- magnesium already taken counts from every source (supplements, laxatives, antacids,
  multivitamins); where the amount is not known, mgsleep asks for it and adds nothing;
- every condition typed as free text is matched, or reported by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, time

from pydantic import BaseModel, ConfigDict, Field

from mgsleep import chemistry
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.schema import (
    Condition,
    Interaction,
    LifeStage,
    Medicine,
    Preparation,
    Separation,
    Severity,
)
from mgsleep.evidence.schema import Sex as IntakeSex
from mgsleep.i18n import Text, both, fill
from mgsleep.intakes import recommended_intake, upper_limit_mg
from mgsleep.profile import MedicineEntry, Profile, Sex, SupplementEntry, Symptom
from mgsleep.recognition import How, Recognition, recognise

SEVERITY_ORDER = {Severity.stop: 0, Severity.caution: 1, Severity.info: 2}
ADULT_AGE_Y = 18
# Below 12 mgsleep gives no plan at all: children's sleep problems are for the GP or the
# child health clinic. From 9 the upper limit is the adult one (IOM 1997).
CHILD_AGE_Y = 12
# From this age an unstated kidney function is asked for: kidney function falls with age.
KIDNEY_CHECK_AGE_Y = 65
# An unrecognised medicine: no magnesium this many hours either side of any of its doses.
UNKNOWN_MEDICINE_GAP_H = 4.0
UNKNOWN_CITATIONS = ["oral_magnesium_smpc", "magnaspartate_smpc", "mgsleep_conventions"]
# Insomnia lasting this long is chronic (ESRS 2023, AASM): CBT-I is the first treatment.
CHRONIC_INSOMNIA_MONTHS = 3.0
KIDNEY_RISK_CLASSES = {"loop_diuretics", "thiazide_diuretics", "potassium_sparing_diuretics"}
KIDNEY_RISK_CONDITIONS = {"heart_failure", "diabetes"}
MAGNESIUM_KINDS = {"laxative", "bowel_prep", "magnesium"}


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
    substance: str | None = Field(default=None, description="the substance key it is about")
    read_as: list[str] = Field(
        default_factory=list, description="the names an unclear entry was read as"
    )
    pause_until: date | None = Field(
        default=None, description="magnesium pauses until the day after this (a short course)"
    )


def verdict(findings: list[Finding]) -> Severity | None:
    """The gravest severity among the findings; None means nothing stands in the way (go)."""
    if not findings:
        return None
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__)


# --- what the person takes ------------------------------------------------------------------

Entry = MedicineEntry | SupplementEntry


@dataclass(frozen=True)
class Taken:
    """One line of what the person takes, read: its substances, companions and magnesium."""

    entry: Entry
    is_medicine: bool
    recognition: Recognition
    substances: tuple[Medicine, ...]
    preparations: tuple[Preparation, ...]
    companions: tuple[str, ...]
    magnesium_forms: tuple[str, ...]
    multivitamin: bool
    oral: bool
    unknown_parts: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def times(self) -> list[time]:
        return list(self.entry.times)

    @property
    def recognised(self) -> bool:
        return self.recognition.recognised

    @property
    def has_magnesium(self) -> bool:
        if self.magnesium_forms or self.multivitamin or self._named_magnesium:
            return True
        if any(s.magnesium is not None for s in self.substances):
            return True
        return any(
            p.kind in MAGNESIUM_KINDS or p.magnesium_mg_per_unit is not None or p.magnesium_varies
            for p in self.preparations
        )

    @property
    def _named_magnesium(self) -> bool:
        return any(t.kind == "magnesium" for t in self.recognition.targets)

    @property
    def is_magnesium(self) -> bool:
        """A medicine that is magnesium itself (a laxative, a magnesium medicine); an antacid
        that contains some magnesium is not, it only counts."""
        if not self.is_medicine or any(p.kind == "antacid" for p in self.preparations):
            return False
        return (
            bool(self.magnesium_forms)
            or self._named_magnesium
            or any(s.magnesium is not None for s in self.substances)
            or any(p.kind in MAGNESIUM_KINDS for p in self.preparations)
        )

    @property
    def magnesium_mg_a_day(self) -> float | None:
        """Elemental magnesium a day from this line, where the person said how much."""
        if self.entry.magnesium_mg is not None:
            return self.entry.magnesium_mg
        if isinstance(self.entry, SupplementEntry) and self.entry.dose_mg is not None:
            return self.entry.dose_mg if self._plain_magnesium else None
        return None

    @property
    def _plain_magnesium(self) -> bool:
        """A supplement that is only magnesium: its dose_mg is elemental magnesium."""
        return (
            bool(self.magnesium_forms)
            or self._named_magnesium
            or any(p.kind == "magnesium" for p in self.preparations)
        )

    def magnesium_per_unit_mg(self, ev: Evidence) -> float | None:
        """From the product's label, or a strength typed after a magnesium salt's name."""
        for preparation in self.preparations:
            quantity = preparation.magnesium_mg_per_unit
            if quantity is not None and quantity.value is not None:
                return quantity.value
        salt = next((s for s in self.substances if s.magnesium is not None), None)
        strength = self.recognition.strength_mg
        if salt is not None and salt.magnesium is not None and strength is not None:
            formula = salt.magnesium.formula
            if salt.magnesium.water_of_hydration:
                formula = f"{formula}.{salt.magnesium.water_of_hydration}H2O"
            return strength * chemistry.magnesium_fraction_of(formula)
        return None


def read_intake(entry: Entry, ev: Evidence, *, is_medicine: bool) -> Taken:
    recognition = recognise(entry.name, ev)
    substances: dict[str, Medicine] = {}
    preparations: dict[str, Preparation] = {}
    oral_flags: list[bool] = []
    for target in recognition.targets:
        oral_flags.append(target.oral)
        if target.kind == "medicine" and target.oral:
            substances[target.key] = ev.medicine(target.key)
        elif target.kind == "preparation":
            preparation = ev.preparation(target.key)
            preparations[preparation.key] = preparation
            for key in preparation.substances:
                substances.setdefault(key, ev.medicine(key))
    unknown = list(recognition.unread)
    for preparation in preparations.values():
        unknown += preparation.other_substances
    return Taken(
        entry=entry,
        is_medicine=is_medicine,
        recognition=recognition,
        substances=tuple(substances.values()),
        preparations=tuple(preparations.values()),
        companions=tuple(recognition.keys("companion")),
        magnesium_forms=tuple(recognition.keys("form")),
        multivitamin=bool(recognition.keys("multivitamin"))
        or any(p.kind == "multivitamin" for p in preparations.values()),
        oral=not oral_flags or any(oral_flags),
        unknown_parts=tuple(unknown),
    )


def everything_taken(profile: Profile, ev: Evidence) -> list[Taken]:
    return [
        *(read_intake(m, ev, is_medicine=True) for m in profile.medicines),
        *(read_intake(s, ev, is_medicine=False) for s in profile.supplements),
    ]


def supplemental_magnesium_mg(profile: Profile, ev: Evidence) -> float:
    """Magnesium the person already takes from every source whose amount is known (mg a day)."""
    return sum(
        t.magnesium_mg_a_day or 0.0 for t in everything_taken(profile, ev) if t.has_magnesium
    )


def unknown_magnesium(profile: Profile, ev: Evidence) -> list[Taken]:
    """What brings magnesium in an amount the person has not given."""
    return [
        t
        for t in everything_taken(profile, ev)
        if t.has_magnesium and not t.is_magnesium and t.magnesium_mg_a_day is None
    ]


def magnesium_medicines(profile: Profile, ev: Evidence) -> list[Taken]:
    return [t for t in everything_taken(profile, ev) if t.is_magnesium]


def medicine_classes(profile: Profile, ev: Evidence) -> set[str]:
    return {c for t in everything_taken(profile, ev) for s in t.substances for c in s.classes}


def substance_keys(profile: Profile, ev: Evidence) -> set[str]:
    return {s.key for t in everything_taken(profile, ev) for s in t.substances}


def taken_companions(profile: Profile, ev: Evidence) -> dict[str, float | None]:
    """Companion key -> dose the person already takes (None when the dose is not given)."""
    taken: dict[str, float | None] = {}
    for line in everything_taken(profile, ev):
        for key in line.companions:
            dose = line.entry.dose_mg if isinstance(line.entry, SupplementEntry) else None
            taken[key] = dose
    return taken


# --- the person's circumstances, from the flags and from what they typed --------------------


@dataclass(frozen=True)
class Circumstances:
    pregnant: bool
    breastfeeding: bool
    conditions: frozenset[str]
    terms: tuple[tuple[str, str], ...] = ()
    unread_conditions: tuple[str, ...] = ()
    read_as: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def special_group(self) -> bool:
        return self.pregnant or self.breastfeeding


def circumstances(profile: Profile, ev: Evidence) -> Circumstances:
    conditions: set[str] = set()
    terms: list[tuple[str, str]] = []
    unread: list[str] = []
    read_as: list[tuple[str, tuple[str, ...]]] = []
    for typed in profile.other_conditions:
        recognition = recognise(typed, ev, "conditions")
        if not recognition.readings:
            unread.append(typed)
            continue
        for reading in recognition.readings:
            if reading.how is not How.exact:
                read_as.append((typed, reading.read_as))
            for target in reading.targets:
                if target.kind == "condition":
                    conditions.add(target.key)
                else:
                    terms.append((typed, target.key))
    return Circumstances(
        pregnant=profile.pregnant or "pregnancy" in conditions,
        breastfeeding=profile.breastfeeding or "lactation" in conditions,
        conditions=frozenset(conditions),
        terms=tuple(terms),
        unread_conditions=tuple(unread),
        read_as=tuple(read_as),
    )


def no_add_ons(profile: Profile, ev: Evidence) -> bool:
    """Pregnancy, breastfeeding and under 18: no companion or glycine powder is proposed."""
    return profile.age < ADULT_AGE_Y or circumstances(profile, ev).special_group


# --- the screen -----------------------------------------------------------------------------


def screen(profile: Profile, ev: Evidence | None = None) -> list[Finding]:
    """Every finding for this person, gravest first."""
    ev = ev or load_evidence()
    taken = everything_taken(profile, ev)
    facts = circumstances(profile, ev)
    findings = [
        *_condition_findings(profile, ev, facts, taken),
        *_intake_findings(taken, ev),
        *_companion_findings(taken, ev),
        *_magnesium_findings(profile, ev, taken),
        *_age_findings(profile, ev),
        *_sleep_findings(profile, ev),
    ]
    return sorted(_unique(findings), key=lambda f: SEVERITY_ORDER[f.severity])


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str | None, str | None, tuple[time, ...]]] = set()
    kept = []
    for finding in findings:
        # The same name twice with other times is two sets of doses to keep apart from.
        key = (finding.code, finding.subject, finding.substance, tuple(finding.medicine_times))
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def _from_condition(condition: Condition, subject: str | None = None) -> Finding:
    return Finding(
        severity=condition.severity,
        code=f"condition.{condition.key}",
        subject=subject,
        message=condition.message,
        management=condition.management,
        citations=list(condition.cite),
    )


def _condition_findings(
    profile: Profile, ev: Evidence, facts: Circumstances, taken: list[Taken]
) -> Iterator[Finding]:
    yield from _kidney_findings(profile, ev, facts, taken)
    flags = {
        "heart_block": profile.heart_block,
        "bradycardia": profile.bradycardia,
        "myasthenia_gravis": profile.myasthenia_gravis,
        "pregnancy": facts.pregnant,
        "lactation": facts.breastfeeding,
    }
    kidney = {"ckd", "ckd_moderate", "ckd_known", "ckd_unknown", "ckd_stage_unknown"}
    typed = facts.conditions - kidney
    for key in sorted({k for k, present in flags.items() if present} | typed):
        yield _from_condition(ev.condition(key))
    for typed_text, term_key in facts.terms:
        term = next(t for t in ev.condition_terms if t.key == term_key)
        if term.note is not None:
            yield Finding(
                severity=Severity.info,
                code=f"condition_term.{term.key}",
                subject=typed_text,
                message=both("{name}: noted.", name=term.name),
                management=term.note,
                citations=list(term.cite),
            )
    for typed_text, names in facts.read_as:
        yield _read_as_finding(typed_text, names, "condition")
    for typed_text in facts.unread_conditions:
        yield Finding(
            severity=Severity.caution,
            code="condition.not_recognised",
            subject=typed_text,
            message=both(
                "mgsleep does not recognise the condition '{name}', so it cannot check it "
                "against magnesium.",
                name=typed_text,
            ),
            management=both(
                "Ask your GP or pharmacist whether magnesium is safe with {name} before you start.",
                name=typed_text,
            ),
            citations=["magnaspartate_smpc"],
        )


def _kidney_findings(
    profile: Profile, ev: Evidence, facts: Circumstances, taken: list[Taken]
) -> Iterator[Finding]:
    """By stage: below 30 or dialysis stop; 30 to 60 a caution; unstated asked for at risk."""
    typed = facts.conditions
    severe_limit = _egfr_limit(ev, "ckd", 30.0)
    moderate_limit = _egfr_limit(ev, "ckd_moderate", 60.0)
    egfr = profile.egfr
    has_disease = profile.kidney_disease is True or bool(typed & {"ckd_known", "ckd_moderate"})
    if "ckd" in typed or (egfr is not None and egfr < severe_limit):
        yield _from_condition(ev.condition("ckd"))
    elif egfr is not None and egfr < moderate_limit:
        yield _from_condition(ev.condition("ckd_moderate"))
    elif has_disease and egfr is None:
        # Kidney disease of an unknown stage: as grave as the gravest stage until it is known.
        yield _from_condition(ev.condition("ckd_stage_unknown"))
    elif has_disease:
        yield _from_condition(ev.condition("ckd_known"))
    elif egfr is None and _kidney_status_needed(profile, facts, taken):
        yield _from_condition(ev.condition("ckd_unknown"))


def _egfr_limit(ev: Evidence, key: str, default: float) -> float:
    threshold = ev.condition(key).egfr_below
    return threshold.value if threshold is not None and threshold.value is not None else default


def _kidney_status_needed(profile: Profile, facts: Circumstances, taken: list[Taken]) -> bool:
    if profile.kidney_disease == "unknown":
        return True
    if profile.kidney_disease is False:
        return False
    classes = {c for t in taken for s in t.substances for c in s.classes}
    return (
        profile.age >= KIDNEY_CHECK_AGE_Y
        or bool(classes & KIDNEY_RISK_CLASSES)
        or bool(facts.conditions & KIDNEY_RISK_CONDITIONS)
    )


# --- medicines and supplements --------------------------------------------------------------


def interactions_for(substance: Medicine, ev: Evidence) -> list[Interaction]:
    return [
        i
        for i in ev.interactions
        if substance.key in i.substances
        or (set(i.medicine_classes) & set(substance.classes) and substance.key not in i.excludes)
    ]


def _intake_findings(taken: list[Taken], ev: Evidence) -> Iterator[Finding]:
    for line in taken:
        yield from _guess_findings(line)
        if not line.oral:
            yield _not_by_mouth(line)
            continue
        if not line.recognised or (line.unknown_parts and line.is_medicine):
            yield _unrecognised(line)
        elif line.is_medicine and any(r.how is How.close for r in line.recognition.readings):
            yield _unrecognised(line, typo=True)
        for substance in line.substances:
            for interaction in interactions_for(substance, ev):
                yield _interaction_finding(line, substance, interaction)


def _guess_findings(line: Taken) -> Iterator[Finding]:
    for reading in line.recognition.guessed:
        if reading.read_as:
            yield _read_as_finding(line.name, reading.read_as, "intake")


def _read_as_finding(typed: str, names: Iterable[str], kind: str) -> Finding:
    shown = " / ".join(names)
    return Finding(
        severity=Severity.info,
        code=f"{'condition' if kind == 'condition' else 'medicine'}.read_as",
        subject=typed,
        message=both("mgsleep read '{typed}' as {names}: check this.", typed=typed, names=shown),
        management=both(
            "If that is not what you take, correct the name as it is printed on the box."
        ),
        citations=["mgsleep_conventions"],
        read_as=list(names),
    )


def _not_by_mouth(line: Taken) -> Finding:
    return Finding(
        severity=Severity.info,
        code="medicine.not_by_mouth",
        subject=line.name,
        message=both(
            "{name} is not taken by mouth (drops, a cream or an injection), so it does not meet "
            "magnesium in the gut.",
            name=line.name,
        ),
        management=both("If you take it as tablets as well, enter the tablets by their name."),
        citations=["magnaspartate_smpc"],
    )


def _unrecognised(line: Taken, *, typo: bool = False) -> Finding:
    if not line.is_medicine:
        return Finding(
            severity=Severity.info,
            code="supplement.not_recognised",
            subject=line.name,
            message=both(
                "{name} is not recognised, so mgsleep cannot check it against magnesium.",
                name=line.name,
            ),
            management=both(
                "Ask your pharmacist whether {name} can be combined with magnesium.",
                name=line.name,
            ),
            citations=["nih_ods_magnesium"],
        )
    gap = Separation(
        medicine_before_mg_h=UNKNOWN_MEDICINE_GAP_H,
        medicine_after_mg_h=UNKNOWN_MEDICINE_GAP_H,
        cite=UNKNOWN_CITATIONS,
    )
    if typo:
        message = both(
            "mgsleep is not sure what '{name}' is (it may be a typo), so it keeps magnesium at "
            "least 4 hours away from every dose of it, on top of the rules of the medicine it "
            "was read as.",
            name=line.name,
        )
    elif line.recognised:
        message = both(
            "mgsleep does not recognise '{unknown}' in {name}, so it cannot check it against "
            "magnesium. To be safe, magnesium is kept at least 4 hours away from every dose of "
            "it.",
            unknown=", ".join(line.unknown_parts),
            name=line.name,
        )
    else:
        message = both(
            "{name} is not recognised, so mgsleep cannot check it against magnesium. To be "
            "safe, magnesium is kept at least 4 hours away from every dose of it.",
            name=line.name,
        )
    return Finding(
        severity=Severity.caution,
        code="medicine.not_recognised",
        subject=line.name,
        message=message,
        management=both(
            "Check the name on the box, or ask your pharmacist whether {name} can be combined "
            "with magnesium and how many hours apart. Give the times you take it, so the "
            "evening can be planned around it.",
            name=line.name,
        ),
        citations=UNKNOWN_CITATIONS,
        separation=gap,
        medicine_times=line.times,
    )


def _interaction_finding(line: Taken, substance: Medicine, interaction: Interaction) -> Finding:
    separation = interaction.separation_for(substance.key)
    management = interaction.management
    if separation is not None:
        management = _joined(management, timing_text(substance.names[0], separation))
    course_end = getattr(line.entry, "course_end", None)
    pause = course_end if interaction.pause_for_course else None
    return Finding(
        severity=interaction.severity,
        code=f"interaction.{interaction.key}",
        subject=line.name,
        message=interaction.message,
        management=management,
        citations=sorted({*interaction.cite, *(separation.cite if separation else [])}),
        separation=separation,
        medicine_times=line.times,
        substance=substance.key,
        pause_until=pause,
    )


def hours_text(hours: float) -> Text:
    return both("{n:g} hour", n=hours) if hours == 1 else both("{n:g} hours", n=hours)


def timing_text(name: str, separation: Separation) -> Text:
    """The rule in words, from the numbers: never typed twice, so it cannot drift."""
    before = separation.medicine_before_mg_h
    after = separation.medicine_after_mg_h
    if before and after:
        return both(
            "Take {name} at least {before} before magnesium, or at least {after} after it.",
            name=name,
            before=hours_text(before),
            after=hours_text(after),
        )
    if after:
        return both(
            "Take {name} at least {after} after magnesium.", name=name, after=hours_text(after)
        )
    if before:
        return both(
            "Take magnesium at least {before} after {name}.", name=name, before=hours_text(before)
        )
    return both("No fixed gap in hours is needed.")


def _joined(first: Text, second: Text) -> Text:
    return Text(nl=f"{first.nl} {second.nl}", en=f"{first.en} {second.en}")


# --- companions the person takes ------------------------------------------------------------


def _companion_findings(taken: list[Taken], ev: Evidence) -> Iterator[Finding]:
    classes = {c for t in taken for s in t.substances for c in s.classes}
    substances = {s.key for t in taken for s in t.substances}
    for line in taken:
        for key in line.companions:
            for caution in ev.companion(key).cautions:
                if classes & set(caution.medicine_classes) or substances & set(caution.substances):
                    yield Finding(
                        severity=caution.severity,
                        code=f"companion.{key}",
                        subject=line.name,
                        message=caution.message,
                        management=caution.management,
                        citations=list(caution.cite),
                    )


# --- magnesium already taken ----------------------------------------------------------------


def _magnesium_findings(profile: Profile, ev: Evidence, taken: list[Taken]) -> Iterator[Finding]:
    for line in taken:
        if line.is_magnesium:
            yield _is_magnesium(line, ev)
        elif line.has_magnesium and line.magnesium_mg_a_day is None:
            yield _amount_needed(line, ev)
    existing = upper_limit_finding(
        profile, ev, supplemental_magnesium_mg(profile, ev), planned=False
    )
    if existing is not None:
        yield existing


def _per_unit_text(line: Taken, ev: Evidence) -> Text | None:
    per_unit = line.magnesium_per_unit_mg(ev)
    if per_unit is None:
        return None
    return both("That is about {mg:.0f} mg magnesium per unit.", mg=per_unit)


def _is_magnesium(line: Taken, ev: Evidence) -> Finding:
    return _magnesium_finding(
        line,
        ev,
        code="medicine.is_magnesium",
        message=both(
            "{name} is itself magnesium (a laxative or a magnesium medicine). mgsleep adds no "
            "magnesium supplement on top of it.",
            name=line.name,
        ),
        management=both(
            "Ask the doctor who prescribed it, or your pharmacist, whether the magnesium you "
            "already take can be taken in the evening for your sleep, instead of adding more."
        ),
    )


def _amount_needed(line: Taken, ev: Evidence) -> Finding:
    return _magnesium_finding(
        line,
        ev,
        code="medicine.contains_magnesium",
        message=both(
            "{name} contains magnesium, but mgsleep does not know how much you take a day. It "
            "counts towards the upper limit for supplements.",
            name=line.name,
        ),
        management=both(
            "Look on the label for the mg of magnesium per tablet or dose, multiply by how many "
            "you take a day, and enter that amount. Until then mgsleep proposes no extra "
            "magnesium."
        ),
    )


def _magnesium_finding(
    line: Taken, ev: Evidence, *, code: str, message: Text, management: Text
) -> Finding:
    per_unit = _per_unit_text(line, ev)
    return Finding(
        severity=Severity.caution,
        code=code,
        subject=line.name,
        message=message if per_unit is None else _joined(message, per_unit),
        management=management,
        citations=sorted({*ev.intakes.cite, "magnesium_product_labels"}),
    )


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
            "You already take {total:.0f} mg magnesium a day from supplements and medicines, "
            "above the {region} upper limit of {limit:.0f} mg.",
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


# --- age, sleep and diet ----------------------------------------------------------------------


def _age_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    """mgsleep plans for adults; a child gets no plan, a teenager a caution and no add-ons."""
    if profile.age >= ADULT_AGE_Y:
        return
    limit = upper_limit_mg(ev, profile.region, profile.age)
    limit_text = (
        both("not set") if limit is None else Text(nl=f"{limit:.0f} mg", en=f"{limit:.0f} mg")
    )
    cite = sorted({c for row in ev.intakes.upper_limits for c in row.cite})
    if profile.age < CHILD_AGE_Y:
        yield Finding(
            severity=Severity.stop,
            code="age.child",
            message=both(
                "mgsleep is written for adults, not for a child of {age}. At this age the upper "
                "limit for supplements is {limit}.",
                age=profile.age,
                limit=limit_text,
            ),
            management=both(
                "Let the GP or the child health clinic decide about a child's sleep and about "
                "magnesium."
            ),
            citations=cite,
        )
        return
    yield Finding(
        severity=Severity.caution,
        code="age.teenager",
        message=both(
            "mgsleep is written for adults. At {age} the upper limit for supplements is {limit}, "
            "and no other sleep supplements are proposed: there are no safety data for them at "
            "this age.",
            age=profile.age,
            limit=limit_text,
        ),
        management=both("Talk to your GP about your sleep, and about magnesium, first."),
        citations=cite,
    )


def _sleep_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    months = profile.insomnia_months
    if months is not None:
        key = "insomnia_chronic" if months >= CHRONIC_INSOMNIA_MONTHS else "insomnia_short"
        yield advice_finding(ev, key, f"insomnia.{key.removeprefix('insomnia_')}", months=months)
    if Symptom.muscle_cramps in profile.symptoms:
        yield advice_finding(ev, "muscle_cramps", "symptom.muscle_cramps")
    if Symptom.restless_legs in profile.symptoms:
        yield advice_finding(ev, "restless_legs", "symptom.restless_legs")
    yield from _diet_findings(profile, ev)


def advice_finding(ev: Evidence, key: str, code: str, **values: object) -> Finding:
    advice = ev.advice_for(key)
    return Finding(
        severity=Severity.info,
        code=code,
        message=fill(advice.message, **values),
        management=fill(advice.management or advice.message, **values),
        citations=list(advice.cite),
    )


def _diet_findings(profile: Profile, ev: Evidence) -> Iterator[Finding]:
    if profile.dietary_magnesium_mg is None:
        return
    sex = {Sex.female: IntakeSex.female, Sex.male: IntakeSex.male}.get(profile.sex, IntakeSex.any)
    stage = (
        LifeStage.pregnant
        if profile.pregnant
        else LifeStage.lactating
        if profile.breastfeeding
        else LifeStage.none
    )
    intake = recommended_intake(ev, profile.region, profile.age, sex, stage)
    if intake is None and sex is IntakeSex.any:
        intake = recommended_intake(ev, profile.region, profile.age, IntakeSex.female, stage)
    if intake is None:
        return
    values = {"diet": profile.dietary_magnesium_mg, "rda": intake.amount_mg}
    enough = profile.dietary_magnesium_mg >= intake.amount_mg
    yield Finding(
        severity=Severity.info,
        code="intake.diet_enough" if enough else "intake.diet_low",
        message=(
            both(
                "Your food gives about {diet:.0f} mg magnesium a day, at or above the "
                "recommended {rda:.0f} mg. The sleep trials that found an effect were done in "
                "people who got too little: a supplement is less likely to help you.",
                **values,
            )
            if enough
            else both(
                "Your food gives about {diet:.0f} mg magnesium a day, below the recommended "
                "{rda:.0f} mg. The trials that found an effect were done in people who got too "
                "little.",
                **values,
            )
        ),
        management=(
            both("If you try magnesium anyway, judge it by your own nights in a trial.")
            if enough
            else both(
                "Food comes first: nuts, seeds, legumes, whole grains and green vegetables are "
                "rich in magnesium."
            )
        ),
        citations=sorted({*intake.cite, "abbasi2012"}),
    )

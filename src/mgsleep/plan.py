"""The personal plan: the article's tiered approach, decided per person, with its reasons.

Every sentence carries citations; a `stop` finding means no dose at all, only what to ask
the doctor.
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from mgsleep import chemistry
from mgsleep.dose import GLYCINE_KEY
from mgsleep.evidence import Evidence, load_evidence
from mgsleep.evidence.schema import EvidenceStrength, Form, Region, Severity
from mgsleep.i18n import Text, both, fill, lower_first
from mgsleep.intakes import upper_limit_mg
from mgsleep.profile import Approach, Budget, Complaint, Digestion, Profile
from mgsleep.safety import (
    Finding,
    circumstances,
    magnesium_medicines,
    medicine_classes,
    no_add_ons,
    screen,
    substance_keys,
    supplemental_magnesium_mg,
    taken_companions,
    unknown_magnesium,
    upper_limit_finding,
    verdict,
)


class Verdict(StrEnum):
    go = "go"
    caution = "caution"
    stop = "stop"


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: Text
    citations: list[str] = Field(min_length=1)


class Alternative(BaseModel):
    model_config = ConfigDict(frozen=True)

    form: str
    name: Text
    reason: Reason


class FormChoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    form: str
    name: Text
    reasons: list[Reason]
    alternatives: list[Alternative]


class MagnesiumDose(BaseModel):
    model_config = ConfigDict(frozen=True)

    elemental_mg: float
    compound_mg: float
    ceiling_elemental_mg: float
    units: int | None = Field(description="capsules or scoops of the person's product")
    glycine_mg: float
    reasons: list[Reason]


class GlycineTopUp(BaseModel):
    model_config = ConfigDict(frozen=True)

    target_mg: float
    from_magnesium_mg: float
    already_taken_mg: float
    topup_mg: float
    reason: Reason


class CompanionItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: Text
    dose_mg: float
    pathways: list[str]
    evidence_strength: EvidenceStrength
    timing: Text
    reason: Reason


class ExcludedCompanion(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: Text
    reason: Reason


class BathRitual(BaseModel):
    model_config = ConfigDict(frozen=True)

    before_bed_min_low: float
    before_bed_min_high: float
    temperature_c_low: float
    temperature_c_high: float
    duration_min: float
    duration_is_maximum: bool = Field(
        default=False, description="True: at most this long (pregnancy); else at least"
    )
    salts: list[Reason]
    verdict: Reason
    safety: list[Reason] = Field(default_factory=list, description="care for this person")


class Expectations(BaseModel):
    model_config = ConfigDict(frozen=True)

    start_date: date
    evaluate_after_weeks: int
    evaluation_date: date
    track: list[str]
    reason: Reason


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    headline: Text = Field(description="the verdict in one sentence: what to do, and from when")
    start_date: date | None = Field(
        default=None, description="the first evening with magnesium (after a short course)"
    )
    paused_until: date | None = Field(
        default=None, description="no magnesium up to and including this day (a short course)"
    )
    findings: list[Finding]
    region: Region
    bedtime: time
    timezone: str
    form: str | None
    elemental_mg: float | None
    compound_mg: float | None
    glycine_mg_total: float | None
    glycine_topup_mg: float | None
    form_choice: FormChoice | None
    dose: MagnesiumDose | None
    glycine: GlycineTopUp | None
    companions: list[CompanionItem]
    excluded_companions: list[ExcludedCompanion]
    bath: BathRitual | None
    expectations: Expectations | None
    doctor_questions: list[Reason]
    context: list[Reason]
    citations: list[str]

    def reasons(self) -> list[Reason]:
        """Every cited statement in the plan, for checks and for rendering sources."""
        found: list[Reason] = [*self.doctor_questions, *self.context]
        if self.form_choice is not None:
            found += self.form_choice.reasons + [a.reason for a in self.form_choice.alternatives]
        if self.dose is not None:
            found += self.dose.reasons
        if self.glycine is not None:
            found.append(self.glycine.reason)
        found += [c.reason for c in self.companions] + [c.reason for c in self.excluded_companions]
        if self.bath is not None:
            found += [*self.bath.salts, self.bath.verdict, *self.bath.safety]
        if self.expectations is not None:
            found.append(self.expectations.reason)
        return found


TRACKED_OUTCOMES = ["sleep_latency_min", "total_sleep_min", "quality", "side_effects"]
# Tryptophan is left out: the AASM guideline advises against it for chronic insomnia.
MULTI_PATHWAY_COMPANIONS = ("l_theanine", "gaba")


def make_plan(profile: Profile, ev: Evidence | None = None, *, start: date | None = None) -> Plan:
    """The plan for this person; `start` is the first evening (defaults to 1 Jan of no year:
    callers pass today, the core reads no clock)."""
    ev = ev or load_evidence()
    start = start or date(2000, 1, 1)
    findings = screen(profile, ev)
    context = _context(ev)
    if verdict(findings) is Severity.stop:
        return _stop_plan(profile, ev, findings, context)
    choice = choose_form(profile, ev)
    form = ev.form(choice.form)
    dose = _dose(profile, ev, form)
    if dose is None:
        findings = [*findings, *_no_room_finding(profile, ev)]
    else:
        total = supplemental_magnesium_mg(profile, ev) + dose.ceiling_elemental_mg
        extra = upper_limit_finding(profile, ev, total, planned=True)
        if extra is not None and all(f.code != extra.code for f in findings):
            findings = [*findings, extra]
    first_evening, paused_for = _first_evening(findings, start)
    glycine = _glycine(profile, ev, dose)
    companions, excluded = _companions(profile, ev)
    plan = Plan(
        verdict=_verdict(findings),
        headline=_headline(_verdict(findings), dose is not None, first_evening, start, paused_for),
        start_date=first_evening if dose is not None else None,
        paused_until=(
            first_evening - timedelta(days=1) if first_evening > start and dose else None
        ),
        findings=findings,
        region=profile.region,
        bedtime=profile.bedtime,
        timezone=profile.timezone,
        form=form.key if dose is not None else None,
        elemental_mg=None if dose is None else dose.elemental_mg,
        compound_mg=None if dose is None else dose.compound_mg,
        glycine_mg_total=_glycine_total(dose, glycine),
        glycine_topup_mg=None if glycine is None else glycine.topup_mg,
        form_choice=choice,
        dose=dose,
        glycine=glycine,
        companions=companions,
        excluded_companions=excluded,
        bath=_bath(profile, ev) if profile.bath else None,
        expectations=_expectations(ev, first_evening),
        doctor_questions=_doctor_questions(profile, ev),
        context=context,
        citations=[],
    )
    return _with_citations(plan)


def _first_evening(findings: list[Finding], start: date) -> tuple[date, list[str]]:
    """Magnesium pauses for a short course: it starts the day after the last tablet."""
    first = start
    paused_for: list[str] = []
    for finding in findings:
        if finding.pause_until is not None and finding.pause_until >= start:
            first = max(first, finding.pause_until + timedelta(days=1))
            if finding.subject is not None and finding.subject not in paused_for:
                paused_for.append(finding.subject)
    return first, paused_for


def _headline(
    verdict_: Verdict, has_dose: bool, first: date, start: date, paused_for: list[str]
) -> Text:
    if verdict_ is Verdict.stop:
        return both("Do not start magnesium on your own: talk to your doctor first.")
    if not has_dose:
        return both("mgsleep proposes no extra magnesium for now: see the findings first.")
    if first > start:
        return both(
            "Pause: start magnesium on {day}, the day after your course of {medicines} ends.",
            day=Text(nl=first.isoformat(), en=first.isoformat()),
            medicines=", ".join(paused_for),
        )
    if verdict_ is Verdict.caution:
        return both("You can start, but read the cautions first and follow their timing.")
    return both("Nothing in your answers stands in the way: you can start tonight.")


def _doctor_questions(profile: Profile, ev: Evidence) -> list[Reason]:
    return [
        Reason(
            text=both(
                "You already take {name}, which is magnesium. Ask whoever prescribed it whether "
                "it can be taken in the evening for your sleep, instead of adding a supplement.",
                name=line.name,
            ),
            citations=sorted(ev.intakes.cite),
        )
        for line in magnesium_medicines(profile, ev)
    ]


def _verdict(findings: list[Finding]) -> Verdict:
    gravest = verdict(findings)
    return Verdict.go if gravest in (None, Severity.info) else Verdict(gravest.value)


def _with_citations(plan: Plan) -> Plan:
    keys = {c for r in plan.reasons() for c in r.citations}
    keys |= {c for f in plan.findings for c in f.citations}
    return plan.model_copy(update={"citations": sorted(keys)})


def _stop_plan(
    profile: Profile, ev: Evidence, findings: list[Finding], context: list[Reason]
) -> Plan:
    questions = [
        Reason(text=f.management, citations=f.citations)
        for f in findings
        if f.severity is Severity.stop
    ]
    plan = Plan(
        verdict=Verdict.stop,
        headline=_headline(Verdict.stop, False, date(2000, 1, 1), date(2000, 1, 1), []),
        findings=findings,
        region=profile.region,
        bedtime=profile.bedtime,
        timezone=profile.timezone,
        form=None,
        elemental_mg=None,
        compound_mg=None,
        glycine_mg_total=None,
        glycine_topup_mg=None,
        form_choice=None,
        dose=None,
        glycine=None,
        companions=[],
        excluded_companions=[],
        bath=None,
        expectations=None,
        doctor_questions=questions,
        context=context,
        citations=[],
    )
    return _with_citations(plan)


# --- form ----------------------------------------------------------------------------------


def choose_form(profile: Profile, ev: Evidence) -> FormChoice:
    """First choice bisglycinate; oxide on a low budget; citrate only for constipation."""
    loose = profile.digestion in (Digestion.loose_stools, Digestion.sensitive)
    if profile.digestion is Digestion.constipation:
        key, why = (
            "citrate",
            both(
                "You mention constipation: citrate loosens stools more than other forms, which "
                "here helps."
            ),
        )
    elif profile.budget is Budget.low and not loose:
        key, why = (
            "oxide",
            both(
                "On a low budget oxide is the cheapest. The Abbasi trial used it for 8 weeks; give "
                "it time and take it every evening."
            ),
        )
    else:
        key, why = (
            "bisglycinate",
            both(
                "Bisglycinate is gentle on the stomach and brings glycine, which has its own sleep "
                "studies."
            ),
        )
    form = ev.form(key)
    reasons = [Reason(text=why, citations=_form_citations(ev, form))]
    if loose and key == "bisglycinate":
        reasons.append(
            Reason(
                text=both(
                    "With a sensitive gut or loose stools, a form that loosens stools less is "
                    "the better start."
                ),
                citations=list(form.cite),
            )
        )
    return FormChoice(
        form=key,
        name=form.name,
        reasons=reasons,
        alternatives=[_alternative(profile, ev, f) for f in ev.forms if _considered(f, key)],
    )


def _considered(form: Form, chosen: str) -> bool:
    return form.route.value == "oral" and form.key != chosen


def _form_citations(ev: Evidence, form: Form) -> list[str]:
    keys = set(form.cite)
    if form.key == "oxide":
        keys.add("abbasi2012")
    return sorted(keys & {r.key for r in ev.references})


def _alternative(profile: Profile, ev: Evidence, form: Form) -> Alternative:
    loose = profile.digestion in (Digestion.loose_stools, Digestion.sensitive)
    if form.key == "citrate" and loose:
        text = both("Not citrate: it loosens stools, which you already have.")
    elif form.key == "citrate":
        text = both("Citrate only where constipation is a complaint: it loosens stools.")
    elif form.key == "oxide" and loose:
        text = both("Not oxide: at higher doses it can cause loose stools.")
    elif form.key == "oxide":
        text = both(
            "Oxide is the cheapest and was used in the Abbasi trial, but needs weeks of patience."
        )
    elif form.key == "bisglycinate":
        text = both("Bisglycinate is gentler and brings glycine, but costs more.")
    else:
        text = both("{form}: {consider}", form=form.name, consider=form.consider)
    return Alternative(
        form=form.key,
        name=form.name,
        reason=Reason(text=text, citations=_form_citations(ev, form)),
    )


# --- dose ----------------------------------------------------------------------------------


def room_mg(profile: Profile, ev: Evidence) -> float | None:
    """How much supplemental magnesium fits under the applicable limit; None: no limit set."""
    limit = upper_limit_mg(ev, profile.region, profile.age)
    if limit is None:
        return None
    return limit - supplemental_magnesium_mg(profile, ev)


def _dose(profile: Profile, ev: Evidence, form: Form) -> MagnesiumDose | None:
    if unknown_magnesium(profile, ev) or magnesium_medicines(profile, ev):
        # Counted over every source, or not at all: an unknown amount could already be the limit.
        return None
    start_claim = ev.claim("start_dose")
    start_mg = start_claim.figure.point() if start_claim.figure else None
    room = room_mg(profile, ev)
    if start_mg is None or room is None or room < chemistry.ELEMENTAL_MG_RANGE[0]:
        return None
    ceiling = room
    elemental = min(start_mg, ceiling)
    units = None
    if profile.product_elemental_mg_per_unit is not None:
        units = math.floor(elemental / profile.product_elemental_mg_per_unit + 1e-9)
        if units == 0:
            return None
        elemental = units * profile.product_elemental_mg_per_unit
    compound = chemistry.compound_from_elemental_mg(form, elemental)
    limit_cite = sorted({c for row in ev.intakes.upper_limits for c in row.cite})
    reasons = [
        Reason(
            text=both(
                "Start with {start:.0f} mg magnesium ({compound:.2f} g of {form}) each evening "
                "and keep it the same for the whole trial, so the result means something.",
                start=elemental,
                compound=compound / 1000,
                form=lower_first(form.name),
            ),
            citations=list(start_claim.cite),
        ),
        Reason(
            text=both(
                "Do not go above {ceiling:.0f} mg a day from supplements: that is the "
                "{region} upper limit, less what you already take.",
                ceiling=ceiling,
                region=profile.region.value.upper(),
            ),
            citations=limit_cite,
        ),
    ]
    if form.key == "oxide":
        trials = ev.claim("ul_exceeded_in_trials")
        reasons.append(Reason(text=trials.text, citations=list(trials.cite)))
    return MagnesiumDose(
        elemental_mg=elemental,
        compound_mg=compound,
        ceiling_elemental_mg=ceiling,
        units=units,
        glycine_mg=chemistry.glycine_from_compound_mg(form, compound),
        reasons=reasons,
    )


def _no_room_finding(profile: Profile, ev: Evidence) -> list[Finding]:
    if unknown_magnesium(profile, ev) or magnesium_medicines(profile, ev):
        return []  # the finding that asks for the amount, or names the medicine, says why
    limit_cite = sorted({c for row in ev.intakes.upper_limits for c in row.cite})
    return [
        Finding(
            severity=Severity.caution,
            code="plan.no_room_for_magnesium",
            message=both(
                "mgsleep proposes no extra magnesium: what you already take, or one unit of "
                "your product, leaves no room under the {region} upper limit.",
                region=profile.region.value.upper(),
            ),
            management=both(
                "Keep to what you take now, or choose a product with less magnesium per "
                "capsule; ask your pharmacist."
            ),
            citations=limit_cite,
        )
    ]


# --- glycine and companions ---------------------------------------------------------------


def _glycine(profile: Profile, ev: Evidence, dose: MagnesiumDose | None) -> GlycineTopUp | None:
    """Top glycine up to the trials' 3 g when falling asleep is the complaint."""
    if Complaint.falling_asleep not in profile.complaints or no_add_ons(profile, ev):
        return None
    glycine = ev.companion(GLYCINE_KEY)
    if _caution_applies(profile, ev, GLYCINE_KEY) is not None:
        return None
    target = glycine.evidence_dose_mg.point() if glycine.evidence_dose_mg else None
    if target is None or glycine.evidence_dose_mg is None:
        return None
    from_magnesium = 0.0 if dose is None else dose.glycine_mg
    already = taken_companions(profile, ev).get(GLYCINE_KEY) or 0.0
    topup = chemistry.glycine_gap_mg(from_magnesium + already, target)
    text = both(
        "Glycine: the sleep studies used {target:.0f} mg at bedtime. Your magnesium and "
        "supplements bring {from_mg:.0f} mg; add {topup:.0f} mg of glycine powder, weighed or "
        "with the scoop on the pack.",
        target=target,
        from_mg=from_magnesium + already,
        topup=topup,
    )
    return GlycineTopUp(
        target_mg=target,
        from_magnesium_mg=from_magnesium,
        already_taken_mg=already,
        topup_mg=topup,
        reason=Reason(text=text, citations=list(glycine.evidence_dose_mg.cite)),
    )


def _glycine_total(dose: MagnesiumDose | None, glycine: GlycineTopUp | None) -> float | None:
    if glycine is not None:
        return glycine.from_magnesium_mg + glycine.already_taken_mg + glycine.topup_mg
    return None if dose is None else dose.glycine_mg


def _companions(
    profile: Profile, ev: Evidence
) -> tuple[list[CompanionItem], list[ExcludedCompanion]]:
    """Companions only for the multi-pathway route, and only where safety allows."""
    if profile.approach is not Approach.multi_pathway:
        return [], []
    if no_add_ons(profile, ev):
        no_data = _advice_reason(ev, "no_add_ons")
        return [], [
            ExcludedCompanion(key=c.key, name=c.name, reason=no_data)
            for c in ev.companions
            if c.key != GLYCINE_KEY
        ]
    classes = medicine_classes(profile, ev)
    chosen: list[CompanionItem] = []
    excluded: list[ExcludedCompanion] = []
    for companion in ev.companions:
        if companion.key == GLYCINE_KEY:
            continue
        reason = _exclusion(profile, ev, companion.key, classes)
        dose = companion.evidence_dose_mg
        if reason is not None or dose is None or dose.point() is None:
            excluded.append(
                ExcludedCompanion(
                    key=companion.key,
                    name=companion.name,
                    reason=reason or Reason(text=companion.effect, citations=list(companion.cite)),
                )
            )
            continue
        chosen.append(
            CompanionItem(
                key=companion.key,
                name=companion.name,
                dose_mg=dose.point() or 0.0,
                pathways=list(companion.pathways),
                evidence_strength=companion.evidence_strength,
                timing=companion.timing,
                reason=Reason(
                    text=companion.effect, citations=sorted({*companion.cite, *dose.cite})
                ),
            )
        )
    return chosen, excluded


def _caution_applies(profile: Profile, ev: Evidence, key: str) -> Reason | None:
    """The first of a companion's cautions that this person's medicines trigger."""
    classes = medicine_classes(profile, ev)
    substances = substance_keys(profile, ev)
    for caution in ev.companion(key).cautions:
        if classes & set(caution.medicine_classes) or substances & set(caution.substances):
            return Reason(text=caution.message, citations=list(caution.cite))
    return None


def _exclusion(profile: Profile, ev: Evidence, key: str, classes: set[str]) -> Reason | None:
    companion = ev.companion(key)
    if not companion.recommended or key not in MULTI_PATHWAY_COMPANIONS:
        return Reason(text=companion.effect, citations=list(companion.cite))
    caution = _caution_applies(profile, ev, key)
    if caution is not None:
        return caution
    return None


# --- bath, expectations, context ----------------------------------------------------------


def _bath(profile: Profile, ev: Evidence) -> BathRitual:
    bath = ev.bath
    salts = [
        Reason(
            text=both(
                "{form}: {amount} {unit} in the bath, if you like. {purpose}",
                form=ev.form(salt.form).name,
                amount=_range_text(salt.amount.low, salt.amount.high, salt.amount.value),
                unit=_unit_text(salt.amount.unit),
                purpose=salt.purpose,
            ),
            citations=list(salt.amount.cite),
        )
        for salt in bath.salts
    ]
    ritual = BathRitual(
        before_bed_min_low=_low(bath.before_bed_min.low, bath.before_bed_min.value),
        before_bed_min_high=_low(bath.before_bed_min.high, bath.before_bed_min.value),
        temperature_c_low=_low(bath.water_temperature_c.low, bath.water_temperature_c.value),
        temperature_c_high=_low(bath.water_temperature_c.high, bath.water_temperature_c.value),
        duration_min=bath.duration_min.point() or 0.0,
        salts=salts,
        verdict=Reason(text=bath.verdict, citations=list(bath.cite)),
    )
    if circumstances(profile, ev).pregnant:
        return _pregnancy_bath(ritual, ev)
    if profile.age >= OLDER_BATHER_AGE_Y:
        return ritual.model_copy(update={"safety": [_advice_reason(ev, "older_bather")]})
    return ritual


# Core temperature in pregnancy must stay below about 38.9 °C (hyperthermia and neural-tube
# defects): a warm bath of at most 10 minutes, not the studies' 40–42.5 °C.
PREGNANCY_BATH_MAX_C = 38.0
PREGNANCY_BATH_MAX_MIN = 10.0
OLDER_BATHER_AGE_Y = 65


def _pregnancy_bath(ritual: BathRitual, ev: Evidence) -> BathRitual:
    advice = ev.advice_for("pregnancy_bath")
    reason = Reason(
        text=fill(advice.message, max_c=PREGNANCY_BATH_MAX_C, minutes=PREGNANCY_BATH_MAX_MIN),
        citations=list(advice.cite),
    )
    return ritual.model_copy(
        update={
            "temperature_c_low": min(ritual.temperature_c_low, PREGNANCY_BATH_MAX_C - 2),
            "temperature_c_high": PREGNANCY_BATH_MAX_C,
            "duration_min": PREGNANCY_BATH_MAX_MIN,
            "duration_is_maximum": True,
            "salts": [],
            "safety": [reason],
        }
    )


def _advice_reason(ev: Evidence, key: str) -> Reason:
    advice = ev.advice_for(key)
    return Reason(text=advice.message, citations=list(advice.cite))


def _unit_text(unit: str) -> Text:
    # The data keeps the unit as the article wrote it; the person reads it in their language.
    return both("cups") if unit == "cup" else Text(nl=unit, en=unit)


def _low(bound: float | None, value: float | None) -> float:
    return bound if bound is not None else (value or 0.0)


def _range_text(low: float | None, high: float | None, value: float | None) -> Text:
    """'0.5–1' in English, '0,5–1' in Dutch."""
    if value is not None:
        return both("{value:g}", value=value)
    if high is not None:
        return both("{low:g}–{high:g}", low=low, high=high)
    return both("{low:g}", low=low)


def _expectations(ev: Evidence, start: date) -> Expectations:
    heuristic = ev.claim("trial_length_heuristic")
    weeks = int(heuristic.figure.point() or 4) if heuristic.figure else 4
    return Expectations(
        start_date=start,
        evaluate_after_weeks=weeks,
        evaluation_date=start + timedelta(weeks=weeks),
        track=TRACKED_OUTCOMES,
        reason=Reason(text=heuristic.text, citations=list(heuristic.cite)),
    )


def _context(ev: Evidence) -> list[Reason]:
    keys = ["pooled_sleep_onset", "cbt_i_first_line", "disclaimer"]
    return [Reason(text=ev.claim(k).text, citations=list(ev.claim(k).cite)) for k in keys]

"""Invariants over random profiles: what must hold for anyone, whatever they type."""

from __future__ import annotations

from datetime import date, time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgsleep.evidence import load_evidence
from mgsleep.evidence.lookup import match_ingredient, match_medicine
from mgsleep.evidence.schema import Region, Severity
from mgsleep.intakes import upper_limit_mg
from mgsleep.plan import make_plan
from mgsleep.profile import (
    Approach,
    Budget,
    Complaint,
    Digestion,
    MedicineEntry,
    Profile,
    Sex,
    SupplementEntry,
    Symptom,
)
from mgsleep.safety import supplemental_magnesium_mg
from mgsleep.schedule import evening

EV = load_evidence()
KNOWN_MEDICINES = sorted({name for m in EV.medicines for name in m.names})
SUPPLEMENT_NAMES = [
    "magnesium citrate",
    "magnesiumoxide",
    "glycine",
    "melatonine",
    "L-tryptofaan",
    "GABA",
    "vitamine D",
    "ashwagandha",
]

clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
medicine = st.builds(
    MedicineEntry,
    name=st.one_of(
        st.sampled_from(KNOWN_MEDICINES), st.text(min_size=1, max_size=20).filter(str.strip)
    ),
    times=st.lists(clock, max_size=3),
)
supplement = st.builds(
    SupplementEntry,
    name=st.sampled_from(SUPPLEMENT_NAMES),
    dose_mg=st.one_of(st.none(), st.floats(min_value=1, max_value=1000)),
)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    sex = draw(st.sampled_from(Sex))
    return Profile(
        age=draw(st.integers(1, 100)),
        sex=sex,
        pregnant=sex is Sex.female and draw(st.booleans()),
        breastfeeding=draw(st.booleans()),
        kidney_disease=draw(st.sampled_from([True, False, "unknown"])),
        egfr=draw(st.one_of(st.none(), st.floats(min_value=5, max_value=120))),
        heart_block=draw(st.booleans()),
        bradycardia=draw(st.booleans()),
        myasthenia_gravis=draw(st.booleans()),
        medicines=draw(st.lists(medicine, max_size=4)),
        supplements=draw(st.lists(supplement, max_size=3)),
        complaints=draw(st.lists(st.sampled_from(Complaint), max_size=3, unique=True)),
        symptoms=draw(st.lists(st.sampled_from(Symptom), max_size=3, unique=True)),
        digestion=draw(st.sampled_from(Digestion)),
        approach=draw(st.sampled_from(Approach)),
        budget=draw(st.sampled_from(Budget)),
        product_elemental_mg_per_unit=draw(
            st.one_of(st.none(), st.sampled_from([50, 100, 150, 300]))
        ),
        bath=draw(st.booleans()),
        bedtime=draw(clock),
        region=draw(st.sampled_from(Region)),
    )


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(profile=profiles())
def test_a_stop_finding_means_no_dose_and_no_intake(profile):
    plan = make_plan(profile, EV, start=date(2026, 3, 28))
    if any(f.severity is Severity.stop for f in plan.findings):
        assert plan.verdict.value == "stop"
        assert plan.dose is None
        assert plan.elemental_mg is None
        assert plan.companions == []
        assert not evening(plan, night=date(2026, 3, 28), ev=EV).has_intake()


@SETTINGS
@given(profile=profiles())
def test_never_above_the_upper_limit_without_a_caution(profile):
    plan = make_plan(profile, EV)
    limit = upper_limit_mg(EV, profile.region, profile.age)
    planned = plan.dose.ceiling_elemental_mg if plan.dose else 0.0
    total = supplemental_magnesium_mg(profile, EV) + planned
    if limit is not None and total > limit:
        assert any(
            f.code == "intake.above_upper_limit" and f.severity is Severity.caution
            for f in plan.findings
        )
    if plan.dose is not None and limit is not None:
        assert plan.dose.elemental_mg <= plan.dose.ceiling_elemental_mg <= limit


@SETTINGS
@given(profile=profiles())
def test_every_finding_and_plan_item_is_cited_with_real_keys(profile):
    plan = make_plan(profile, EV)
    keys = {r.key for r in EV.references}
    for finding in plan.findings:
        assert finding.citations
        assert set(finding.citations) <= keys
    for reason in plan.reasons():
        assert reason.citations
        assert set(reason.citations) <= keys


@SETTINGS
@given(profile=profiles())
def test_every_medicine_is_matched_or_reported(profile):
    plan = make_plan(profile, EV)
    reported = {f.subject for f in plan.findings if f.subject is not None}
    for entry in profile.medicines:
        known = match_medicine(entry.name, EV) is not None
        magnesium = (match_ingredient(entry.name, EV) or ("", ""))[0] == "form"
        assert known or magnesium or entry.name in reported


@SETTINGS
@given(profile=profiles(), night=st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_timeline_is_ordered_and_intake_precedes_bed(profile, night):
    plan = make_plan(profile, EV)
    timeline = evening(plan, night=night, ev=EV)
    starts = [e.start for e in timeline.entries]
    assert starts == sorted(starts)
    for entry in timeline.entries:
        assert entry.end >= entry.start
        if entry.kind in {"magnesium", "glycine", "companion", "bath"}:
            assert entry.end <= timeline.bedtime

"""Invariants over random profiles: what must hold for anyone, whatever they type.

The medicines are drawn from the whole evidence base (generic names, brands, products), with
typed strengths and forms, invented names and random times, so the screen meets what real
people type. The checks below are written independently of the schedule's own arithmetic.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgsleep.evidence import load_evidence
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
from mgsleep.recognition import recognise
from mgsleep.safety import everything_taken, supplemental_magnesium_mg, unknown_magnesium
from mgsleep.schedule import evening

EV = load_evidence()
NIGHT = date(2026, 3, 28)  # the night before the spring clock change
KNOWN_NAMES = sorted(
    {name for m in EV.medicines for name in m.names}
    | {b.name for m in EV.medicines for b in m.brands}
    | {name for p in EV.preparations for name in p.names}
)
SUPPLEMENT_NAMES = [
    "magnesium citrate",
    "magnesiumoxide",
    "Magnesium complex",
    "glycine",
    "melatonine",
    "L-tryptofaan",
    "GABA",
    "5-HTP",
    "sint-janskruid",
    "vitamine D",
    "Centrum",
    "multivitamine",
    "Rennie",
    "ashwagandha",
]
SUFFIXES = ["", " 500 mg", " 20mg", " tablet", " mga", " 1dd1", " retard"]

clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 5, 15, 30, 45]))
# Invented names: consonant clusters no real medicine has, so they must stay unknown.
invented = st.text(alphabet="qxzjkvw", min_size=6, max_size=10).map(lambda s: "Qx" + s)
medicine_name = st.one_of(
    st.builds(lambda n, s: n + s, st.sampled_from(KNOWN_NAMES), st.sampled_from(SUFFIXES)),
    invented,
)
medicine = st.builds(
    MedicineEntry,
    name=medicine_name,
    times=st.lists(clock, max_size=4),
    magnesium_mg=st.one_of(st.none(), st.floats(min_value=0, max_value=600)),
    course_end=st.one_of(st.none(), st.dates(date(2026, 3, 20), date(2026, 4, 10))),
)
supplement = st.builds(
    SupplementEntry,
    name=st.sampled_from(SUPPLEMENT_NAMES),
    dose_mg=st.one_of(st.none(), st.floats(min_value=1, max_value=1000)),
    magnesium_mg=st.one_of(st.none(), st.floats(min_value=0, max_value=400)),
)
conditions = st.lists(
    st.sampled_from(
        ["hemodialyse", "hartfalen", "diabetes type 2", "hoge bloeddruk", "zwanger", "Qxzzy"]
    ),
    max_size=2,
)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    sex = draw(st.sampled_from(Sex))
    return Profile(
        age=draw(st.integers(1, 100)),
        sex=sex,
        pregnant=sex is Sex.female and draw(st.booleans()),
        breastfeeding=draw(st.booleans()),
        kidney_disease=draw(st.sampled_from([True, False, "unknown", None])),
        egfr=draw(st.one_of(st.none(), st.floats(min_value=5, max_value=120))),
        heart_block=draw(st.booleans()),
        bradycardia=draw(st.booleans()),
        myasthenia_gravis=draw(st.booleans()),
        other_conditions=draw(conditions),
        medicines=draw(st.lists(medicine, max_size=4)),
        supplements=draw(st.lists(supplement, max_size=3)),
        complaints=draw(st.lists(st.sampled_from(Complaint), max_size=3, unique=True)),
        symptoms=draw(st.lists(st.sampled_from(Symptom), max_size=3, unique=True)),
        insomnia_months=draw(st.one_of(st.none(), st.floats(min_value=0, max_value=120))),
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


# Thousands of profiles: the screen's promises must hold for anyone, not for our examples.
# The whole run (scripts/test.sh) draws 1,500 (and 300) profiles a property; a plain
# `pytest`, the quick check while working, a fifth of that.
THOROUGH = os.environ.get("MGSLEEP_THOROUGH") == "1"
MANY = settings(
    max_examples=1500 if THOROUGH else 300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SOME = settings(
    max_examples=300 if THOROUGH else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _doses(times: list[time], zone: ZoneInfo) -> list[datetime]:
    return [
        datetime.combine(NIGHT + timedelta(days=offset), clock_time, tzinfo=zone).astimezone(UTC)
        for offset in (-1, 0, 1)
        for clock_time in times
    ]


def _kept_apart(
    start: datetime, end: datetime, dose: datetime, before_h: float, after_h: float
) -> bool:
    """Medicine at least `before_h` before magnesium, or at least `after_h` after it."""
    return start >= dose + timedelta(hours=before_h) or dose >= end + timedelta(hours=after_h)


@MANY
@given(profile=profiles())
def test_no_magnesium_window_breaks_a_separation_or_the_four_hour_rule(profile):
    plan = make_plan(profile, EV, start=NIGHT)
    timeline = evening(plan, night=NIGHT, ev=EV)
    zone = ZoneInfo(profile.timezone)
    intakes = [e for e in timeline.entries if e.kind == "magnesium"]
    for entry in intakes:
        start, end = entry.start.astimezone(UTC), entry.end.astimezone(UTC)
        for finding in plan.findings:
            if finding.separation is None:
                continue
            before = finding.separation.medicine_before_mg_h or 0.0
            after = finding.separation.medicine_after_mg_h or 0.0
            for dose in _doses(finding.medicine_times, zone):
                assert _kept_apart(start, end, dose, before, after), (finding.code, dose)
        # Independently of the findings: a medicine nobody can read is kept 4 hours away.
        for line in profile.medicines:
            if recognise(line.name, EV).readings:
                continue
            for dose in _doses(list(line.times), zone):
                assert _kept_apart(start, end, dose, 4, 4), (line.name, dose)


@MANY
@given(profile=profiles())
def test_no_plan_goes_above_the_upper_limit_counted_over_every_source(profile):
    plan = make_plan(profile, EV, start=NIGHT)
    limit = upper_limit_mg(EV, profile.region, profile.age)
    if plan.elemental_mg is None:
        return
    assert limit is None or plan.elemental_mg + supplemental_magnesium_mg(profile, EV) <= limit
    taken = everything_taken(profile, EV)
    assert not unknown_magnesium(profile, EV), "a dose beside magnesium of unknown amount"
    assert not any(t.is_magnesium for t in taken), "a dose on top of a magnesium medicine"


@MANY
@given(profile=profiles())
def test_no_add_ons_in_pregnancy_breastfeeding_or_under_eighteen(profile):
    plan = make_plan(profile, EV, start=NIGHT)
    pregnant = profile.pregnant or "zwanger" in profile.other_conditions
    if pregnant or profile.breastfeeding or profile.age < 18:
        assert plan.companions == []
        assert plan.glycine is None
        assert plan.glycine_topup_mg is None
        timeline = evening(plan, night=NIGHT, ev=EV)
        assert not [e for e in timeline.entries if e.kind in {"glycine", "companion"}]


@MANY
@given(profile=profiles())
def test_a_stop_finding_means_no_dose_and_no_intake(profile):
    plan = make_plan(profile, EV, start=NIGHT)
    if any(f.severity is Severity.stop for f in plan.findings):
        assert plan.verdict.value == "stop"
        assert plan.dose is None
        assert plan.elemental_mg is None
        assert plan.companions == []
        assert not evening(plan, night=NIGHT, ev=EV).has_intake()


@SOME
@given(profile=profiles())
def test_every_unreadable_medicine_makes_at_least_a_caution(profile):
    plan = make_plan(profile, EV, start=NIGHT)
    unread = [m for m in profile.medicines if not recognise(m.name, EV).readings]
    if unread:
        assert plan.verdict.value in {"caution", "stop"}
        reported = {f.subject for f in plan.findings if f.code == "medicine.not_recognised"}
        assert {m.name for m in unread} <= reported


@SOME
@given(profile=profiles())
def test_a_paused_course_has_no_magnesium_before_it_ends(profile):
    plan = make_plan(profile, EV, start=NIGHT)
    if plan.paused_until is None:
        return
    assert plan.start_date == plan.paused_until + timedelta(days=1)
    for offset in range((plan.paused_until - NIGHT).days + 1):
        night = NIGHT + timedelta(days=offset)
        assert not [e for e in evening(plan, night=night, ev=EV).entries if e.kind == "magnesium"]


@SOME
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


@SOME
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

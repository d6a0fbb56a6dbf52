"""What the program answers to other programs: one family of output schemas for the JSON API
and for every `--json` of the CLI.

These are contracts people script against: keys are added, never renamed or dropped.
Sentences come in the reader's language (`lang`) where the answer composes them (findings,
timeline, ISI bands); the core's own models inside (the plan, the analysis) carry both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mgsleep.diary.imports import ImportReport, Rejected
from mgsleep.diary.night import NightEntry, metrics
from mgsleep.diary.questionnaires import Direction, IsiRecord, IsiResult
from mgsleep.evidence.schema import EvidenceStrength, Severity
from mgsleep.i18n import Lang
from mgsleep.plan import Plan
from mgsleep.plan import Verdict as PlanVerdict
from mgsleep.safety import Finding, verdict
from mgsleep.schedule import EntryKind, Timeline
from mgsleep.trial.kinds import Verdict as TrialVerdict
from mgsleep.trial.protocol import TrialProtocol

# ---- screen and plan ---------------------------------------------------------------------------


class SeparationPublic(BaseModel):
    medicine_before_mg_h: float | None = Field(description="the medicine this long before")
    medicine_after_mg_h: float | None = Field(description="or this long after magnesium")


class FindingPublic(BaseModel):
    severity: Severity
    code: str
    subject: str | None = Field(description="the medicine or supplement as typed")
    message: str
    management: str
    citations: list[str]
    substance: str | None = Field(default=None, description="the substance it is about")
    read_as: list[str] = Field(
        default_factory=list, description="the names an unclear entry was read as: check them"
    )
    separation: SeparationPublic | None = None
    pause_until: dt.date | None = Field(
        default=None, description="magnesium pauses until the day after (a short course)"
    )


def finding_public(finding: Finding, lang: Lang) -> FindingPublic:
    separation = finding.separation
    return FindingPublic(
        severity=finding.severity,
        code=finding.code,
        subject=finding.subject,
        message=finding.message.get(lang),
        management=finding.management.get(lang),
        citations=finding.citations,
        substance=finding.substance,
        read_as=finding.read_as,
        separation=None
        if separation is None
        else SeparationPublic(
            medicine_before_mg_h=separation.medicine_before_mg_h,
            medicine_after_mg_h=separation.medicine_after_mg_h,
        ),
        pause_until=finding.pause_until,
    )


class ScreenResult(BaseModel):
    gravest: Severity | None = Field(description="the gravest finding; null: nothing found")
    findings: list[FindingPublic] = Field(description="gravest first")


def screen_result(findings: list[Finding], lang: Lang) -> ScreenResult:
    return ScreenResult(
        gravest=verdict(findings), findings=[finding_public(f, lang) for f in findings]
    )


class TimelineEntryPublic(BaseModel):
    start: dt.datetime
    end: dt.datetime
    kind: EntryKind
    what: str
    citations: list[str]


class PlannedCompanion(BaseModel):
    key: str
    dose_mg: float
    pathways: list[str]
    evidence_strength: EvidenceStrength


class PlanPublic(BaseModel):
    verdict: PlanVerdict
    headline: str = Field(default="", description="the verdict in one sentence")
    start_date: dt.date | None = Field(default=None, description="the first evening with magnesium")
    paused_until: dt.date | None = Field(default=None, description="no magnesium up to this day")
    findings: list[FindingPublic]
    form: str | None
    elemental_mg: float | None
    compound_mg: float | None
    glycine_mg_total: float | None
    glycine_topup_mg: float | None
    companions: list[PlannedCompanion]
    timeline: list[TimelineEntryPublic] = Field(description="the first evening")
    conflicts: list[str]
    notes: list[str]
    citations: list[str]
    plan: Plan = Field(description="the whole plan, with its reasons in both languages")


def plan_public(plan: Plan, timeline: Timeline, lang: Lang) -> PlanPublic:
    return PlanPublic(
        verdict=plan.verdict,
        headline=plan.headline.get(lang),
        start_date=plan.start_date,
        paused_until=plan.paused_until,
        findings=[finding_public(f, lang) for f in plan.findings],
        form=plan.form,
        elemental_mg=plan.elemental_mg,
        compound_mg=plan.compound_mg,
        glycine_mg_total=plan.glycine_mg_total,
        glycine_topup_mg=plan.glycine_topup_mg,
        companions=[
            PlannedCompanion(
                key=c.key,
                dose_mg=c.dose_mg,
                pathways=c.pathways,
                evidence_strength=c.evidence_strength,
            )
            for c in plan.companions
        ],
        timeline=[
            TimelineEntryPublic(
                start=e.start, end=e.end, kind=e.kind, what=e.what.get(lang), citations=e.citations
            )
            for e in timeline.entries
        ],
        conflicts=[c.message.get(lang) for c in timeline.conflicts],
        notes=[n.get(lang) for n in timeline.notes],
        citations=plan.citations,
        plan=plan,
    )


# ---- nights ------------------------------------------------------------------------------------


class NightPublic(NightEntry):
    """A stored night: what was entered (clock times as HH:MM) and the diary metrics."""

    time_in_bed_min: float
    time_trying_min: float
    total_sleep_min: float
    sleep_efficiency_pct: float
    terminal_wake_min: float


def night_public(entry: NightEntry) -> NightPublic:
    derived = metrics(entry)
    # Built without validating again: the entry was checked when it was made.
    return NightPublic.model_construct(
        **dict(entry),
        time_in_bed_min=derived.time_in_bed_min,
        time_trying_min=derived.time_trying_min,
        total_sleep_min=derived.total_sleep_min,
        sleep_efficiency_pct=derived.sleep_efficiency_pct,
        terminal_wake_min=derived.terminal_wake_min,
    )


class RejectedPublic(BaseModel):
    position: str = Field(description='where in the file: "row 3", "record 12", "file"')
    reason: str
    code: str = Field(default="refused", description="the reason as a code, for programs")
    field: str = Field(default="", description="the record's field that is wrong, if one is")


class ImportResult(BaseModel):
    """What an import did (a dry run: what it would do)."""

    added: int
    replaced: int
    already_present: int
    replaced_dates: list[dt.date] = Field(description="nights that differed and were replaced")
    nights_found: int = 0
    beside_hand_entries: int = Field(default=0, description="device nights on a typed night")
    naps: int = Field(default=0, description="kept apart from the nights")
    rejected: list[RejectedPublic] = Field(default_factory=list)
    dry_run: bool = False
    merged: int = Field(default=0, description="nights made of several records of the file")
    placeholders: int = Field(default=0, description="records without measured sleep, skipped")
    zones: dict[str, int] = Field(
        default_factory=dict, description="time zone -> nights dated in it"
    )
    zone_rule: str = Field(
        default="default",
        description='"file": the file stated every night\'s zone; "default": none; "both"',
    )
    default_zone: str = Field(default="", description="the zone where the file states none")
    zone_summary: str = Field(default="", description="the zone used, in a sentence")


def _rejected_public(rejected: Rejected) -> RejectedPublic:
    return RejectedPublic(
        position=rejected.position,
        reason=rejected.reason,
        code=rejected.code,
        field=rejected.field,
    )


def import_result(report: ImportReport) -> ImportResult:
    from mgsleep.service.imports import zone_summary

    return ImportResult(
        added=report.added,
        replaced=report.replaced,
        already_present=report.already_present,
        replaced_dates=report.replaced_dates,
        nights_found=report.nights_found,
        beside_hand_entries=report.beside_hand_entries,
        naps=report.naps,
        rejected=[_rejected_public(r) for r in report.rejected],
        dry_run=report.dry_run,
        merged=report.merged,
        placeholders=report.placeholders,
        zones=dict(report.zones),
        zone_rule=report.zone_rule,
        default_zone=report.default_zone,
        zone_summary=zone_summary(report, "en"),
    )


# ---- the ISI -----------------------------------------------------------------------------------


class IsiPublic(BaseModel):
    date: dt.date
    answers: list[int]
    total_points: int
    band: str
    band_label: str
    remission: bool
    above_case_cutoff: bool
    instrument: str = "isi"


class IsiChange(BaseModel):
    points: int = Field(description="this total minus the first one")
    meaningful: bool
    direction: Direction
    text: str


class IsiCreated(IsiPublic):
    change_since_first: IsiChange | None


def isi_public(record: IsiRecord, lang: Lang) -> IsiPublic:
    result = record.score
    return IsiPublic(
        date=record.taken_on,
        answers=list(record.answers),
        total_points=result.total_points,
        band=result.band,
        band_label=result.band_label.get(lang),
        remission=result.remission,
        above_case_cutoff=result.above_case_cutoff,
        instrument=result.instrument,
    )


def isi_created(result: IsiResult, lang: Lang) -> IsiCreated:
    since = result.since_first
    return IsiCreated(
        **isi_public(result.record, lang).model_dump(),
        change_since_first=None
        if since is None
        else IsiChange(
            points=since.points,
            meaningful=since.meaningful,
            direction=since.direction,
            text=since.text.get(lang),
        ),
    )


# ---- the trial ---------------------------------------------------------------------------------


class TrialPublic(TrialProtocol):
    verdict_due_on: dt.date = Field(description="the first morning a verdict can be given")
    planned_end: dt.date | None = Field(
        default=None, description="the first night after the trial (none: open-ended A-B)"
    )
    registration_hash: str | None = Field(
        default=None, description="SHA-256 of the protocol frozen when the trial started"
    )
    allocation_sealed: bool = Field(
        default=False, description="blinded, and the allocation not yet open"
    )
    allocation_opens_on: dt.date | None = Field(
        default=None, description="blinded: the morning the allocation is revealed"
    )
    pair_orders: list[str] | None = Field(
        default=None,
        description="randomised: each pair's order (ab: control first); none while sealed",
    )
    allocation_seed: int | None = Field(
        default=None,
        description="randomised: the seed the allocation was drawn from; none while sealed",
    )


def trial_public(protocol: TrialProtocol) -> TrialPublic:
    from mgsleep.trial.registration import registration_hash

    orders = protocol.allocation
    return TrialPublic.model_validate(
        {
            **protocol.model_dump(),
            "verdict_due_on": protocol.verdict_due(),
            "planned_end": protocol.scheduled_end(),
            "registration_hash": (
                None if protocol.registered_at is None else registration_hash(protocol)
            ),
            "allocation_sealed": protocol.sealed,
            "allocation_opens_on": protocol.opens_on(),
            "pair_orders": None if orders is None else list(orders),
            "allocation_seed": protocol.seed,
        }
    )


class TrialStatus(BaseModel):
    nights_by_phase: dict[str, int]
    missing_nights: int
    adherence_pct: float | None
    more_nights_needed: int
    verdict_due: dt.date
    verdict: TrialVerdict
    nights_logged: int | None = Field(default=None, description="nights logged in the trial")
    allocation_sealed: bool = Field(
        default=False, description="blinded, and the allocation not yet open"
    )
    allocation_opens_on: dt.date | None = Field(
        default=None, description="blinded: the morning the allocation is revealed"
    )
    precision_cost_pct: float | None = Field(
        default=None,
        description="how much wider the primary outcome's interval is for the missing nights",
    )


def trial_status(analysis: Any) -> TrialStatus:
    """`analysis` is a TrialAnalysis (typed loosely: the statistics load only when needed)."""
    return TrialStatus(
        nights_by_phase=analysis.nights_by_phase,
        missing_nights=analysis.missing_nights,
        adherence_pct=analysis.adherence_pct,
        more_nights_needed=analysis.more_nights_needed,
        verdict_due=analysis.protocol.verdict_due(),
        verdict=analysis.verdict,
        precision_cost_pct=analysis.outcomes[analysis.primary_outcome.value].precision_cost_pct,
    )


# ---- everything of one person ------------------------------------------------------------------


class AccountExport(BaseModel):
    """Everything stored about one person."""

    username: str
    exported_at: dt.datetime
    profile: dict[str, Any] | None = Field(description="as entered")
    nights: list[NightPublic]
    isi: list[IsiPublic]
    trial: TrialPublic | None = Field(description="the running trial")
    earlier_trials: list[TrialProtocol]


# ---- today -----------------------------------------------------------------------------------


class PhaseProgressPublic(BaseModel):
    phase: str
    logged: int
    so_far: int = Field(description="the phase's nights up to this morning")
    planned: int | None = Field(description="all the phase's nights; null while open-ended")


class TodayPublic(BaseModel):
    """What the home page shows: tonight as the plan and the running trial have it, last
    night, the trial's progress and the trial nights of the past week not in the diary."""

    today: dt.date
    instruction: str | None = Field(
        description="what the trial asks of tonight (outside, diary_only, magnesium, ...); "
        "null without a trial"
    )
    tonight: list[TimelineEntryPublic] = Field(description="empty until the profile is done")
    notes: list[str]
    last_night: dt.date
    last_night_logged: bool
    trial_phases: list[PhaseProgressPublic]
    verdict_due: dt.date | None
    missing_nights: list[dt.date]
    trial_departures: list[str] = Field(
        description="what the plan now proposes differently from the running trial"
    )


def today_public(view: Any, lang: Lang) -> TodayPublic:
    """`view` is a service.today.Today."""
    timeline = None if view.planned is None else view.planned.evening
    entries = [] if timeline is None else timeline.entries
    return TodayPublic(
        today=view.today,
        instruction=None if view.instruction is None else str(view.instruction),
        tonight=[
            TimelineEntryPublic(
                start=e.start, end=e.end, kind=e.kind, what=e.what.get(lang), citations=e.citations
            )
            for e in entries
        ],
        notes=[] if timeline is None else [n.get(lang) for n in timeline.notes],
        last_night=view.last_night,
        last_night_logged=view.last_night_logged,
        trial_phases=[]
        if view.trial is None
        else [
            PhaseProgressPublic(
                phase=str(p.phase), logged=p.logged, so_far=p.so_far, planned=p.planned
            )
            for p in view.trial.phases
        ],
        verdict_due=None if view.trial is None else view.trial.verdict_due,
        missing_nights=list(view.missing),
        trial_departures=list(view.departures),
    )

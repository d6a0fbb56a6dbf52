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


def _rejected_public(rejected: Rejected) -> RejectedPublic:
    return RejectedPublic(
        position=rejected.position,
        reason=rejected.reason,
        code=rejected.code,
        field=rejected.field,
    )


def import_result(report: ImportReport) -> ImportResult:
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


def trial_public(protocol: TrialProtocol) -> TrialPublic:
    return TrialPublic.model_validate(
        {**protocol.model_dump(), "verdict_due_on": protocol.verdict_due()}
    )


class TrialStatus(BaseModel):
    nights_by_phase: dict[str, int]
    missing_nights: int
    adherence_pct: float | None
    more_nights_needed: int
    verdict_due: dt.date
    verdict: TrialVerdict


def trial_status(analysis: Any) -> TrialStatus:
    """`analysis` is a TrialAnalysis (typed loosely: the statistics load only when needed)."""
    return TrialStatus(
        nights_by_phase=analysis.nights_by_phase,
        missing_nights=analysis.missing_nights,
        adherence_pct=analysis.adherence_pct,
        more_nights_needed=analysis.more_nights_needed,
        verdict_due=analysis.protocol.verdict_due(),
        verdict=analysis.verdict,
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

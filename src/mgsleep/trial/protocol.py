"""The N-of-1 protocol: phases by date, what is taken, and what is measured.

A-B: a baseline phase (A) from `baseline_start`, then magnesium (B) from `magnesium_start`
until `end` (open when not given). A-B-A-B: the baseline's length sets the length of every
phase, with a washout after each magnesium phase that counts for neither (Held 2002 used
20-day periods and a 2-week washout; washouts long enough beat modelling carry-over).
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mgsleep.clock import ClockTime, SaneDate, parse_clock_field
from mgsleep.errors import problem
from mgsleep.trial.kinds import Design, Evening, Outcome, Phase, Verdict

__all__ = [
    "DEFAULT_WASHOUT_DAYS",
    "IDEAL_BASELINE_NIGHTS",
    "MIN_BASELINE_NIGHTS",
    "MIN_MAGNESIUM_NIGHTS",
    "Design",
    "Evening",
    "Outcome",
    "Phase",
    "TrialProtocol",
    "Verdict",
]

MIN_BASELINE_NIGHTS = 7
IDEAL_BASELINE_NIGHTS = 14
MIN_MAGNESIUM_NIGHTS = 28
DEFAULT_WASHOUT_DAYS = 14


class TrialProtocol(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_start: SaneDate
    magnesium_start: SaneDate
    end: SaneDate | None = None
    design: Design = Design.ab
    washout_days: int = Field(default=DEFAULT_WASHOUT_DAYS, ge=0, le=60)
    form: str | None = None
    dose_mg: float | None = Field(default=None, gt=0, le=2000, description="elemental")
    intake_time: ClockTime | None = None
    primary_outcome: Outcome = Outcome.sleep_latency_min

    @field_validator("intake_time", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        return parse_clock_field(value)

    @model_validator(mode="after")
    def _phases_make_sense(self) -> TrialProtocol:
        baseline_nights = (self.magnesium_start - self.baseline_start).days
        if baseline_nights < MIN_BASELINE_NIGHTS:
            raise problem(
                "magnesium_start",
                "baseline_too_short",
                "the baseline needs at least {nights} nights (ideally {ideal}); it has {has}",
                nights=MIN_BASELINE_NIGHTS,
                ideal=IDEAL_BASELINE_NIGHTS,
                has=baseline_nights,
            )
        if self.end is not None and self.end <= self.magnesium_start:
            raise problem(
                "end", "end_before_magnesium", "the trial must end after magnesium starts"
            )
        if self.design is Design.abab and 2 * baseline_nights < MIN_MAGNESIUM_NIGHTS:
            raise problem(
                "magnesium_start",
                "abab_baseline_too_short",
                "in A-B-A-B each phase is as long as the baseline; two magnesium phases need at "
                "least {total} nights together, so the baseline needs at least {nights} nights",
                total=MIN_MAGNESIUM_NIGHTS,
                nights=MIN_MAGNESIUM_NIGHTS // 2,
            )
        return self

    @property
    def period_days(self) -> int:
        return (self.magnesium_start - self.baseline_start).days

    def scheduled_end(self) -> date | None:
        """The last night that counts (exclusive bound); open-ended A-B has none."""
        if self.design is Design.abab:
            return self.baseline_start + timedelta(days=4 * self.period_days + self.washout_days)
        return self.end

    def verdict_due(self) -> date:
        """The morning the verdict can first be given, if every night is logged."""
        end = self.scheduled_end()
        if self.design is Design.abab and end is not None:
            return end - timedelta(days=1)
        return self.magnesium_start + timedelta(days=MIN_MAGNESIUM_NIGHTS - 1)

    def phase_of(self, night: date) -> Phase | None:
        """The phase a night (by its morning date) belongs to; None outside the trial."""
        if night < self.baseline_start:
            return None
        end = self.scheduled_end()
        if end is not None and night >= end:
            return None
        offset = (night - self.baseline_start).days
        if self.design is Design.ab:
            return Phase.baseline if offset < self.period_days else Phase.magnesium
        period = self.period_days
        blocks = [
            (period, Phase.baseline),
            (period, Phase.magnesium),
            (self.washout_days, Phase.washout),
            (period, Phase.baseline),
            (period, Phase.magnesium),
        ]
        for length, phase in blocks:
            if offset < length:
                return phase
            offset -= length
        return None

    def evening(self, evening_date: date) -> Evening:
        """What to do on the evening of `evening_date` (its night ends the next morning)."""
        phase = self.phase_of(evening_date + timedelta(days=1))
        if phase is None:
            return Evening.outside
        if phase is Phase.magnesium:
            return Evening.magnesium
        return Evening.diary_only

"""The N-of-1 protocol: phases by date, what is taken, and what is measured.

A-B: a baseline phase (A) from `baseline_start`, then magnesium (B) from `magnesium_start`
until `end` (open when not given). It is the weakest design: anything that changes sleep over
the weeks looks like an effect. A-B-A-B: the baseline's length sets the length of every
phase, with a washout after each magnesium phase that counts for neither (Held 2002 used
20-day periods and a 2-week washout; washouts long enough beat modelling carry-over).

Randomised pairs: after an optional run-in from `baseline_start` (diary only, not analysed,
so the always-first run-in cannot stand in for a control period), `pairs` pairs of periods of
`period_nights` nights each from `magnesium_start`, each pair one control and one magnesium
period in an order drawn from `seed` (see `allocation`). Washout nights, if any, follow every
period but the last: after each one, not only after magnesium, so the schedule itself gives
nothing away in a blinded trial. A blinded trial replaces the control periods by a placebo
that a helper prepares; its protocol, as stored, carries no seed until the trial has ended
(`sealed`), so nothing that reads it can learn the allocation early.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mgsleep.clock import ClockTime, SaneDate, parse_clock_field
from mgsleep.errors import problem
from mgsleep.trial.allocation import PairOrder, fingerprint, pair_orders
from mgsleep.trial.kinds import Design, Evening, Outcome, Phase, Verdict

__all__ = [
    "DEFAULT_PAIRS",
    "DEFAULT_PERIOD_NIGHTS",
    "DEFAULT_WASHOUT_DAYS",
    "IDEAL_BASELINE_NIGHTS",
    "MIN_BASELINE_NIGHTS",
    "MIN_MAGNESIUM_NIGHTS",
    "PERIOD_NIGHTS_CHOICES",
    "RANDOMISED_DESIGNS",
    "Design",
    "Evening",
    "Outcome",
    "Period",
    "Phase",
    "TrialProtocol",
    "Verdict",
]

MIN_BASELINE_NIGHTS = 7
IDEAL_BASELINE_NIGHTS = 14
MIN_MAGNESIUM_NIGHTS = 28
DEFAULT_WASHOUT_DAYS = 14
RANDOMISED_DESIGNS = frozenset({Design.pairs, Design.abba})
PERIOD_NIGHTS_CHOICES = (7, 10, 14)
DEFAULT_PERIOD_NIGHTS = 7
MIN_PAIRS = 2
MAX_PAIRS = 12
DEFAULT_PAIRS = 4  # four pairs of 7 nights: 28 magnesium nights, as many as A-B asks for
MAX_RUN_IN_NIGHTS = 60


class _Slot(StrEnum):
    """What a stretch of nights in a randomised schedule is."""

    run_in = "run_in"
    washout = "washout"
    control = "control"
    magnesium = "magnesium"
    sealed = "sealed"  # a control or magnesium period, which one not known to this protocol


_SLOT_PHASE = {
    _Slot.run_in: Phase.washout,
    _Slot.washout: Phase.washout,
    _Slot.control: Phase.baseline,
    _Slot.magnesium: Phase.magnesium,
    _Slot.sealed: None,
}


@dataclass(frozen=True)
class Period:
    """One period of a randomised schedule: its nights (by morning date) and its place."""

    first_night: date
    nights: int
    pair: int  # from 1
    phase: Phase | None  # None while the allocation is sealed

    @property
    def last_night(self) -> date:
        return self.first_night + timedelta(days=self.nights - 1)


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
    period_nights: int | None = Field(
        default=None, description="randomised designs: nights per period (7, 10 or 14)"
    )
    pairs: int | None = Field(
        default=None, ge=MIN_PAIRS, le=MAX_PAIRS, description="randomised designs"
    )
    blinded: bool = Field(default=False, description="a helper prepares magnesium and placebo")
    # The allocation's seed. Never written out with the protocol: a blinded trial's protocol
    # has none until the trial has ended, and the shells show it only through `allocation`.
    seed: int | None = Field(default=None, ge=0, exclude=True, repr=False)
    allocation_fingerprint: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of seed and allocation"
    )
    registered_at: datetime | None = Field(
        default=None, description="when the protocol was frozen (pre-registration)"
    )
    smallest_change: float | None = Field(
        default=None, gt=0, description="the primary outcome's smallest change that matters"
    )
    analysis_method: str | None = Field(default=None, max_length=40)

    @field_validator("intake_time", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        return parse_clock_field(value)

    @model_validator(mode="before")
    @classmethod
    def _randomised_defaults(cls, data: Any) -> Any:
        """A randomised design's own defaults: periods of a week, four pairs, no washout
        (a two-week washout after every week would triple the trial)."""
        if not isinstance(data, dict) or data.get("design") not in RANDOMISED_DESIGNS:
            return data
        filled = dict(data)
        for name, default in (
            ("period_nights", DEFAULT_PERIOD_NIGHTS),
            ("pairs", DEFAULT_PAIRS),
            ("washout_days", 0),
        ):
            if filled.get(name) is None:
                filled[name] = default
        return filled

    @model_validator(mode="after")
    def _phases_make_sense(self) -> TrialProtocol:
        if self.randomised:
            return self._randomised_make_sense()
        if self.blinded:
            raise problem(
                "blinded",
                "blinding_needs_randomising",
                "only a randomised design can be blinded: in a fixed order you would know "
                "which capsules hold magnesium",
            )
        if self.period_nights is not None or self.pairs is not None:
            raise problem(
                "period_nights",
                "periods_need_randomising",
                "periods and pairs belong to the randomised designs",
            )
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

    def _randomised_make_sense(self) -> TrialProtocol:
        run_in = (self.magnesium_start - self.baseline_start).days
        if not 0 <= run_in <= MAX_RUN_IN_NIGHTS:
            raise problem(
                "magnesium_start",
                "run_in_range",
                "the first period starts from 0 to {most} nights after the first night",
                most=MAX_RUN_IN_NIGHTS,
            )
        if self.period_nights not in PERIOD_NIGHTS_CHOICES:
            raise problem(
                "period_nights",
                "period_nights_choice",
                "a period lasts {choices} nights",
                choices=", ".join(str(n) for n in PERIOD_NIGHTS_CHOICES),
            )
        if self.design is Design.abba and (self.pairs or 0) % 2:
            raise problem(
                "pairs", "abba_even_pairs", "counterbalanced pairs come two by two: an even number"
            )
        if self.end is not None and self.end != self.scheduled_end():
            raise problem(
                "end",
                "end_set_by_design",
                "the periods set the end of a randomised trial: {end}",
                end=str(self.scheduled_end()),
            )
        stored = self.allocation_fingerprint
        if self.seed is not None and stored is not None and stored != self._fingerprint():
            raise problem(
                "seed",
                "seed_not_fingerprint",
                "the seed does not give the allocation the fingerprint was made of",
            )
        return self

    def _fingerprint(self) -> str | None:
        if self.seed is None:
            return None
        return fingerprint(self.seed, self.allocation_from(self.seed))

    # --- the schedule --------------------------------------------------------------------

    @property
    def randomised(self) -> bool:
        return self.design in RANDOMISED_DESIGNS

    @property
    def sealed(self) -> bool:
        """A blinded trial whose allocation this protocol does not carry (not yet opened)."""
        return self.blinded and self.seed is None

    @property
    def period_days(self) -> int:
        """A-B and A-B-A-B: the baseline's length; randomised: one period's."""
        if self.randomised:
            return self.period_nights or DEFAULT_PERIOD_NIGHTS
        return (self.magnesium_start - self.baseline_start).days

    @property
    def run_in_nights(self) -> int:
        """Randomised designs: the diary-only nights before the first period."""
        return (self.magnesium_start - self.baseline_start).days if self.randomised else 0

    def allocation_from(self, seed: int) -> tuple[PairOrder, ...]:
        return pair_orders(self.design, self.pairs or 0, seed)

    @property
    def allocation(self) -> tuple[PairOrder, ...] | None:
        """The order of each pair; None for a fixed design or while sealed."""
        if not self.randomised or self.seed is None:
            return None
        return self.allocation_from(self.seed)

    def _slots(self) -> tuple[tuple[int, _Slot], ...]:
        return _randomised_slots(
            self.run_in_nights,
            self.period_days,
            self.washout_days,
            self.allocation or ("",) * (self.pairs or 0),
        )

    def periods(self) -> list[Period]:
        """The periods of a randomised schedule in date order (empty for a fixed design)."""
        if not self.randomised:
            return []
        found: list[Period] = []
        night = self.baseline_start
        for nights, slot in self._slots():
            if slot in (_Slot.control, _Slot.magnesium, _Slot.sealed):
                found.append(Period(night, nights, len(found) // 2 + 1, _SLOT_PHASE[slot]))
            night += timedelta(days=nights)
        return found

    def scheduled_end(self) -> date | None:
        """The first night after the trial (exclusive bound); open-ended A-B has none."""
        if self.randomised:
            total = sum(nights for nights, _slot in self._slots())
            return self.baseline_start + timedelta(days=total)
        if self.design is Design.abab:
            return self.baseline_start + timedelta(days=4 * self.period_days + self.washout_days)
        return self.end

    def opens_on(self) -> date | None:
        """A blinded trial: the morning its allocation is revealed, the day after its last
        night's morning, so the last night's guess is made blind too."""
        return self.scheduled_end() if self.blinded else None

    def includes(self, night: date) -> bool:
        """Whether a night (by its morning date) falls within the trial, in any phase."""
        end = self.scheduled_end()
        return self.baseline_start <= night and (end is None or night < end)

    def last_planned_night(self) -> date:
        """The trial's last night; an open-ended A-B's: the morning its verdict is due."""
        end = self.scheduled_end()
        return self.verdict_due() if end is None else end - timedelta(days=1)

    def verdict_due(self) -> date:
        """The morning the verdict can first be given, if every night is logged."""
        end = self.scheduled_end()
        if self.blinded and end is not None:
            return end
        if self.design is not Design.ab and end is not None:
            return end - timedelta(days=1)
        return self.magnesium_start + timedelta(days=MIN_MAGNESIUM_NIGHTS - 1)

    def planned_nights(self) -> int | None:
        end = self.scheduled_end()
        return None if end is None else (end - self.baseline_start).days

    def phase_of(self, night: date) -> Phase | None:
        """The phase a night (by its morning date) belongs to; None outside the trial, and
        for a night in a period of a sealed blinded trial."""
        slot = self._slot_of(night)
        if slot is None:
            return None
        if isinstance(slot, Phase):
            return slot
        return _SLOT_PHASE[slot]

    def _slot_of(self, night: date) -> Phase | _Slot | None:
        if night < self.baseline_start:
            return None
        end = self.scheduled_end()
        if end is not None and night >= end:
            return None
        offset = (night - self.baseline_start).days
        if self.design is Design.ab:
            return Phase.baseline if offset < self.period_days else Phase.magnesium
        if self.randomised:
            for length, slot in self._slots():
                if offset < length:
                    return slot
                offset -= length
            return None
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
        """What to do on the evening of `evening_date` (its night ends the next morning).
        In a blinded trial every period evening is the same: the dose numbered for it."""
        slot = self._slot_of(evening_date + timedelta(days=1))
        if slot is None:
            return Evening.outside
        if self.blinded and slot in (_Slot.control, _Slot.magnesium, _Slot.sealed):
            return Evening.sealed_dose
        if slot in (Phase.magnesium, _Slot.magnesium):
            return Evening.magnesium
        return Evening.diary_only

    def sealed_copy(self) -> TrialProtocol:
        """The protocol without its seed: what every shell sees of a blinded trial until it
        has ended."""
        return self.model_copy(update={"seed": None}) if self.blinded else self


@functools.lru_cache(maxsize=1024)
def _randomised_slots(
    run_in: int, period: int, washout: int, orders: tuple[str, ...]
) -> tuple[tuple[int, _Slot], ...]:
    """The stretches of nights of a randomised schedule, in order ("" orders: sealed)."""
    slots: list[tuple[int, _Slot]] = []
    if run_in:
        slots.append((run_in, _Slot.run_in))
    periods = [
        _Slot.sealed if not order else (_Slot.control if arm == "a" else _Slot.magnesium)
        for order in orders
        for arm in (order or "--")
    ]
    for index, slot in enumerate(periods):
        slots.append((period, slot))
        if washout and index < len(periods) - 1:
            slots.append((washout, _Slot.washout))
    return tuple(slots)

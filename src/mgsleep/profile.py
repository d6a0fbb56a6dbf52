"""A person, described once: what the safety screen and the plan decide from.

The YAML/JSON keys are a contract shared with the web form and the API; unknown keys are
an error that names them.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mgsleep.clock import (
    DEFAULT_TIMEZONE,
    ClockTime,
    Name,
    SaneDate,
    TimeZoneName,
    parse_clock,
)
from mgsleep.errors import problem
from mgsleep.evidence.schema import Region


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"


class Complaint(StrEnum):
    falling_asleep = "falling_asleep"
    staying_asleep = "staying_asleep"
    early_waking = "early_waking"
    unrefreshing = "unrefreshing"


class Symptom(StrEnum):
    racing_thoughts = "racing_thoughts"
    anxiety = "anxiety"
    muscle_cramps = "muscle_cramps"
    muscle_tension = "muscle_tension"
    restless_legs = "restless_legs"
    stress = "stress"


class Digestion(StrEnum):
    normal = "normal"
    sensitive = "sensitive"
    loose_stools = "loose_stools"
    constipation = "constipation"


class Approach(StrEnum):
    simple = "simple"
    multi_pathway = "multi_pathway"


class Budget(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Preparation(StrEnum):
    capsules = "capsules"
    powder = "powder"
    either = "either"


KidneyStatus = bool | Literal["unknown"]


def _clock_list(value: object) -> list[time]:
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [parse_clock(item) for item in value]


class MedicineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    times: list[ClockTime] = Field(default_factory=list, max_length=12)
    magnesium_mg: float | None = Field(
        default=None, ge=0, le=25000, description="elemental magnesium it gives a day, if any"
    )
    course_end: SaneDate | None = Field(
        default=None, description="the last day of a short course, such as an antibiotic"
    )

    @field_validator("times", mode="before")
    @classmethod
    def _clock_times(cls, value: object) -> list[time]:
        return _clock_list(value)


class SupplementEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    dose_mg: float | None = Field(
        default=None, gt=0, le=25000, description="for magnesium: elemental mg a day"
    )
    magnesium_mg: float | None = Field(
        default=None,
        ge=0,
        le=25000,
        description="elemental magnesium it gives a day (a multivitamin's label)",
    )
    times: list[ClockTime] = Field(default_factory=list, max_length=12)

    @field_validator("times", mode="before")
    @classmethod
    def _clock_times(cls, value: object) -> list[time]:
        return _clock_list(value)


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    age: int = Field(ge=1, le=120, description="years")
    sex: Sex
    pregnant: bool = False
    breastfeeding: bool = False
    weight_kg: float | None = Field(default=None, gt=2, le=400)
    kidney_disease: KidneyStatus | None = Field(
        default=None, description="null: not stated (asked for where age or medicines need it)"
    )
    egfr: float | None = Field(default=None, gt=0, le=200, description="mL/min/1.73m2")
    heart_block: bool = False
    bradycardia: bool = False
    myasthenia_gravis: bool = False
    other_conditions: list[Name] = Field(default_factory=list, max_length=30)
    medicines: list[MedicineEntry] = Field(default_factory=list, max_length=50)
    supplements: list[SupplementEntry] = Field(default_factory=list, max_length=50)
    complaints: list[Complaint] = Field(default_factory=list)
    symptoms: list[Symptom] = Field(default_factory=list)
    insomnia_months: float | None = Field(default=None, ge=0, le=1200)
    digestion: Digestion = Digestion.normal
    approach: Approach = Approach.simple
    budget: Budget = Budget.medium
    preparation: Preparation = Preparation.either
    product_elemental_mg_per_unit: float | None = Field(
        default=None, gt=0, le=1000, description="magnesium per capsule or scoop, from the label"
    )
    bath: bool = False
    bedtime: ClockTime = time(22, 30)
    region: Region = Region.eu
    timezone: TimeZoneName = DEFAULT_TIMEZONE
    dietary_magnesium_mg: float | None = Field(default=None, ge=0, le=2000)

    @field_validator("bedtime", mode="before")
    @classmethod
    def _bedtime_clock(cls, value: object) -> time:
        return parse_clock(value)

    @field_validator("kidney_disease", mode="before")
    @classmethod
    def _kidney(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"unknown", "onbekend"}:
            return "unknown"
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Profile:
        if self.pregnant and self.sex is Sex.male:
            raise problem("pregnant", "pregnant_male", "pregnant is set for sex male")
        return self

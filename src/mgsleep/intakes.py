"""Reference intakes and upper limits for a person, from the evidence base."""

from __future__ import annotations

from mgsleep.evidence import Evidence
from mgsleep.evidence.schema import Intake, LifeStage, Region, Sex, UpperLimit

ADULT_AGE_Y = 30.0


def _in_band(age_y: float, age_from_y: float, age_to_y: float | None) -> bool:
    return age_from_y <= age_y and (age_to_y is None or age_y < age_to_y)


def upper_limit(ev: Evidence, region: Region, age_y: float = ADULT_AGE_Y) -> UpperLimit | None:
    """The row that applies; its `limit_mg` is None where the authority set no limit."""
    for row in ev.intakes.upper_limits:
        if row.region == region and _in_band(age_y, row.age_from_y, row.age_to_y):
            return row
    return None


def upper_limit_mg(ev: Evidence, region: Region, age_y: float = ADULT_AGE_Y) -> float | None:
    row = upper_limit(ev, region, age_y)
    return None if row is None else row.limit_mg


def recommended_intake(
    ev: Evidence,
    region: Region,
    age_y: float,
    sex: Sex,
    stage: LifeStage = LifeStage.none,
) -> Intake | None:
    """The region's own figure where it has one, else the US figure (the fuller table)."""
    for wanted_region in (region, Region.us):
        for row in ev.intakes.recommended:
            if (
                row.region == wanted_region
                and row.stage == stage
                and row.sex in (sex, Sex.any)
                and _in_band(age_y, row.age_from_y, row.age_to_y)
            ):
                return row
    return None

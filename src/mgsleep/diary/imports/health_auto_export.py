"""Health Auto Export (iOS): the `sleep_analysis` metric of its JSON export, written to a file
or pushed by its REST automation.

The document is `{"data": {"metrics": [{"name": "sleep_analysis", "units": "hr", "data":
[...]}]}}`; other metrics beside it are ignored.

Quirks, each handled here:

- With "summarize data" on (the default) each entry is one night: `inBedStart`/`inBedEnd`,
  `sleepStart`/`sleepEnd`, and `asleep` (or `totalSleep`), `core`, `deep`, `rem`, `awake`,
  `inBed` in the metric's `units` (`hr` or `min`). The latency is `sleepStart` less
  `inBedStart`; the time awake is what is left of the sleep window after the time asleep.
  An entry without in-bed times (a Watch alone records none) is in bed from `sleepStart`.
- With it off, each entry is one Apple Health sample (`startDate`, `endDate`, `value`:
  `In Bed`, `Asleep`, `Core`, `Deep`, `REM`, `Awake`): they make nights by the same rules as
  the Apple Health export.
- Dates are `2026-03-02 07:01:00 +0100`: the offset dates the night.
- An entry with no time asleep is a placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO

from mgsleep.diary.imports import (
    DeviceSleep,
    ImportItem,
    Rejected,
    Skipped,
    assemble,
    awake_min,
    zone_of_offsets,
)
from mgsleep.diary.imports._json import (
    Placeholder,
    Record,
    RecordError,
    each_record,
    found_in_json,
    number,
    text,
)

if TYPE_CHECKING:
    from mgsleep.diary.imports.apple_health import SleepRecord

SOURCE = "health_auto_export"
SHAPE = 'a Health Auto Export JSON ({"data": {"metrics": [...]}} with a sleep_analysis metric)'
METRIC = "sleep_analysis"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
MINUTES_PER_UNIT = {"hr": 60.0, "h": 60.0, "min": 1.0}
SAMPLE_STAGES = {
    "in bed": "InBed",
    "inbed": "InBed",
    "asleep": "AsleepUnspecified",
    "unspecified": "AsleepUnspecified",
    "core": "AsleepCore",
    "deep": "AsleepDeep",
    "rem": "AsleepREM",
    "awake": "Awake",
}


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    return assemble(_sleeps(stream, timezone), timezone)


def _sleeps(stream: BinaryIO, timezone: str) -> Iterator[DeviceSleep | Rejected | Skipped]:
    metric = found_in_json(stream.read(), _sleep_metric, SHAPE)
    if isinstance(metric, Rejected):
        yield metric
        return
    unit = metric.get("units", "hr")
    per_unit = MINUTES_PER_UNIT.get(unit if isinstance(unit, str) else "")
    if per_unit is None:
        yield Rejected(position="file", reason=f"units: not hr or min: {unit!r}")
        return
    entries = metric.get("data")
    if not isinstance(entries, list):
        yield Rejected(position="file", reason=f"not {SHAPE}")
        return
    if any(isinstance(e, dict) and "startDate" in e for e in entries):
        yield from _from_samples(entries, per_unit)
        return

    def summary_sleep(entry: Record, position: str) -> DeviceSleep:
        return replace(_summary_sleep(entry, per_unit, timezone), position=position)

    yield from each_record(entries, "sleep_analysis entry", summary_sleep)


def _sleep_metric(document: object) -> Mapping[str, object] | None:
    data = document.get("data") if isinstance(document, dict) else None
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, list):
        return None
    found = [m for m in metrics if isinstance(m, dict) and m.get("name") == METRIC]
    return found[0] if found else ({"data": []} if metrics else None)


def _moment(record: Record, key: str) -> datetime:
    value = text(record, key)
    try:
        return datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            expected = "a date like 2026-03-02 07:01:00 +0100"
            raise RecordError(f"{key}: not {expected}: {value!r}") from None
    if moment.tzinfo is None:
        raise RecordError(f"{key}: no offset: {value!r}")
    return moment


def _optional_moment(record: Record, key: str) -> datetime | None:
    return _moment(record, key) if record.get(key) else None


def _summary_sleep(entry: Record, per_unit: float, timezone: str) -> DeviceSleep:
    def minutes(key: str) -> float | None:
        value = number(entry, key)
        return None if value is None else value * per_unit

    asleep = minutes("totalSleep") or minutes("asleep")
    stages = [minutes(key) for key in ("deep", "core", "rem")]
    if not asleep:
        asleep = sum(stage or 0 for stage in stages)
    if not asleep:
        raise Placeholder("no time asleep (asleep, totalSleep and the stages are 0)")
    sleep_start, sleep_end = _moment(entry, "sleepStart"), _moment(entry, "sleepEnd")
    bed_start = _optional_moment(entry, "inBedStart") or sleep_start
    bed_end = _optional_moment(entry, "inBedEnd") or sleep_end
    start, end = min(bed_start, sleep_start), max(bed_end, sleep_end)
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=start,
        in_bed_end=end,
        sleep_onset=sleep_start,
        final_wake=sleep_end,
        waso_min=awake_min(sleep_start, sleep_end, asleep),
        deep_min=stages[0],
        light_min=stages[1],
        rem_min=stages[2],
        zone=zone_of_offsets(start, end, timezone),
    )


def _from_samples(
    entries: list[object], per_unit: float
) -> Iterator[DeviceSleep | Rejected | Skipped]:
    """Unsummarised samples, as Apple Health records, through the Apple Health rules."""
    from mgsleep.diary.imports import apple_health as ah

    records = []
    samples = each_record(
        entries, "sleep_analysis sample", lambda entry, _: _sample_record(entry, per_unit)
    )
    for item in samples:
        if isinstance(item, ah.SleepRecord):
            records.append(item)
        else:
            yield item
    for found in ah.device_sleeps(records):
        if isinstance(found, DeviceSleep):
            yield replace(found, source=SOURCE)
        else:
            yield found


def _sample_record(entry: Record, per_unit: float) -> SleepRecord:
    """One sample as the Apple Health record it copies."""
    from mgsleep.diary.imports import apple_health as ah

    value = text(entry, "value").strip().lower()
    stage = SAMPLE_STAGES.get(value)
    if stage is None:
        raise RecordError(f"value: not a sleep stage: {value!r}")
    start = _moment(entry, "startDate")
    end = _optional_moment(entry, "endDate") or start + timedelta(
        minutes=(number(entry, "qty") or 0) * per_unit
    )
    source = entry.get("source")
    attributes = {
        "value": ah.VALUE_PREFIX + stage,
        "startDate": start.strftime(ah.DATE_FORMAT),
        "endDate": end.strftime(ah.DATE_FORMAT),
        "sourceName": source if isinstance(source, str) and source else SOURCE,
    }
    try:
        return ah.record_from_attributes(attributes)
    except ah.RecordError as error:
        raise RecordError(str(error)) from None

"""How fast the Apple Health importer reads a large export, and how much memory it needs.
Prints one JSON line.

A synthetic export of about the chosen size is written into a temporary folder, shaped like
a real one: the XML declaration and internal DTD of HealthKit Export Version 14,
`<HealthData>`, `<ExportDate>`, `<Me>`, then the records grouped by type as Apple writes
them: heart rate, active energy and step counts (the bulk, some with metadata), years of
sleep from two overlapping sources (an iPhone writing in-bed time, a Watch writing stages,
both with HKTimeZone), workouts and activity summaries. It is seeded, so a size always gives
the same file.

Each reader runs in its own process, which reports its wall time over the file and its own
peak resident memory (VmHWM, the high-water mark of that process alone):
- ours: `mgsleep.diary.imports.apple_health.read`, counting nights, naps and rejections;
- the baseline, measured in the same run on the same file: a plain `lxml.etree.iterparse`
  pass that only counts sleep records, freeing elements as it goes, the practical ceiling
  for a Python XML parser;
- `healthkit-to-sqlite` (`--xml`), only when it is installed.
With `--zip` the export is also written as `export.zip` (the XML deflated as
`apple_health_export/export.xml`) and both Python readers run again straight from the zip.
Sizes are in MB of 10^6 bytes, rates in MB of XML per second.

    python benchmarks/import_apple_health.py [--size-mb 100] [--zip]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

MB = 10**6
TIMEZONE = "Europe/Amsterdam"
ZONE = ZoneInfo(TIMEZONE)
LAST_DAY = date(2024, 12, 31)
# A Watch wearer's export holds about 1.25 MB of records a day (about 3,000 records), so a
# 1 GB export spans over two years, with some 19,000 sleep records.
DAYS_PER_MB = 0.8
MIN_DAYS = 14
# watchOS 9 (iOS 16) brought sleep stages; before it the Watch wrote plain "asleep", which
# exports made since then call AsleepUnspecified.
STAGES_FROM = date(2022, 9, 12)
# The bulk, by share of the bytes left after the header, sleep, workouts and summaries.
QUANTITY_SHARES = {"heart_rate": 0.42, "active_energy": 0.38, "steps": 0.20}
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
SLEEP_VALUE = "HKCategoryValueSleepAnalysis"
XML_MEMBER = "apple_health_export/export.xml"
CHUNK = 1 << 20

WATCH = "Jane’s Apple Watch"
IPHONE = "Jane’s iPhone"
WATCH_DEVICE = (
    "&lt;&lt;HKDevice: 0x3012772a0&gt;, name:Apple Watch, manufacturer:Apple Inc., "
    "model:Watch, hardware:Watch6,7, software:{version}&gt;"
)
IPHONE_DEVICE = (
    "&lt;&lt;HKDevice: 0x30235fe80&gt;, name:iPhone, manufacturer:Apple Inc., "
    "model:iPhone, hardware:iPhone14,5, software:{version}&gt;"
)
# (first day, watchOS, iOS): the versions the two devices wrote from that day on.
VERSIONS = (
    (date(2000, 1, 1), "8.7", "15.6"),
    (date(2022, 9, 12), "9.0", "16.0"),
    (date(2023, 3, 27), "9.4", "16.4.1"),
    (date(2023, 9, 18), "10.0", "17.0.2"),
    (date(2024, 1, 22), "10.3", "17.3"),
    (date(2024, 9, 16), "11.0", "18.0.1"),
)

HEADER = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|\
ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex               CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType         CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level \
records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics|\
WorkoutActivity)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((WorkoutEvent|WorkoutStatistics|MetadataEntry)*)>
<!ATTLIST WorkoutActivity
  uuid                  CDATA #REQUIRED
  startDate             CDATA #REQUIRED
  endDate               CDATA #IMPLIED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
>
<!ELEMENT WorkoutEvent (MetadataEntry?)>
<!ATTLIST WorkoutEvent
  type                  CDATA #REQUIRED
  date                  CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type                  CDATA #REQUIRED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
  average               CDATA #IMPLIED
  minimum               CDATA #IMPLIED
  maximum               CDATA #IMPLIED
  sum                   CDATA #IMPLIED
  unit                  CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT ClinicalRecord EMPTY>
<!ATTLIST ClinicalRecord
  type              CDATA #REQUIRED
  identifier        CDATA #REQUIRED
  sourceName        CDATA #REQUIRED
  sourceURL         CDATA #REQUIRED
  fhirVersion       CDATA #REQUIRED
  receivedDate      CDATA #REQUIRED
  resourceFilePath  CDATA #REQUIRED
>
<!ELEMENT Audiogram ((SensitivityPoint|MetadataEntry)*)>
<!ATTLIST Audiogram
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT SensitivityPoint EMPTY>
<!ATTLIST SensitivityPoint
  frequencyValue   CDATA #REQUIRED
  frequencyUnit    CDATA #REQUIRED
  leftEarValue     CDATA #IMPLIED
  leftEarUnit      CDATA #IMPLIED
  rightEarValue    CDATA #IMPLIED
  rightEarUnit     CDATA #IMPLIED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
<!ELEMENT RightEye EMPTY>
<!ATTLIST RightEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
>
<!ELEMENT LeftEye EMPTY>
<!ATTLIST LeftEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
>
<!ELEMENT Attachment EMPTY>
<!ATTLIST Attachment
  identifier       CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="{export_date}"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1984-03-11" \
HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" \
HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" \
HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" \
HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
"""
FOOTER = "</HealthData>\n"
CDA = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Health Data</title></ClinicalDocument>\n'
)

_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]


# --- Writing the export -------------------------------------------------------------------


class _Counted:
    """A text file that counts the bytes and records written to it."""

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self.bytes = 0
        self.records = 0
        self.sleep_records = 0

    def write(self, text: str, records: int = 0) -> int:
        self.file.write(text)
        size = len(text.encode())
        self.bytes += size
        self.records += records
        return size


def _versions(day: date) -> tuple[str, str]:
    watch, iphone = VERSIONS[0][1:]
    for since, watch_version, iphone_version in VERSIONS:
        if day >= since:
            watch, iphone = watch_version, iphone_version
    return watch, iphone


def _offset(day: date) -> str:
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZONE).strftime("%z")


def _moment(instant: datetime) -> str:
    return instant.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S %z")


def _days(size_mb: float) -> list[date]:
    count = max(MIN_DAYS, round(size_mb * DAYS_PER_MB))
    return [LAST_DAY - timedelta(days=count - 1 - i) for i in range(count)]


def _sleep_record(
    out: _Counted,
    source: str,
    version: str,
    device: str,
    stage: str,
    start: datetime,
    end: datetime,
) -> None:
    created = end + timedelta(seconds=47)
    out.write(
        f' <Record type="{SLEEP_TYPE}" sourceName="{source}" sourceVersion="{version}" '
        f'device="{device}" creationDate="{_moment(created)}" startDate="{_moment(start)}" '
        f'endDate="{_moment(end)}" value="{SLEEP_VALUE}{stage}">\n'
        f'  <MetadataEntry key="HKTimeZone" value="{TIMEZONE}"/>\n </Record>\n',
        records=1,
    )
    out.sleep_records += 1


def _watch_stages(rng: random.Random, onset: datetime, wake: datetime) -> Iterator[tuple]:
    """The Watch's segments of one night: cycles of core, deep and REM with brief wakings."""
    at = onset
    cycle = 0
    while at < wake:
        early = cycle < 2
        plan = [
            ("AsleepCore", rng.randint(15, 40)),
            ("AsleepDeep", rng.randint(15, 35) if early else rng.randint(0, 12)),
            ("AsleepCore", rng.randint(5, 20)),
            ("AsleepREM", rng.randint(5, 15) if early else rng.randint(15, 35)),
        ]
        if rng.random() < 0.5:
            plan.append(("Awake", rng.randint(1, 6)))
        for stage, minutes in plan:
            if minutes == 0 or at >= wake:
                continue
            end = min(at + timedelta(minutes=minutes, seconds=rng.randint(0, 59)), wake)
            yield stage, at, end
            at = end
        cycle += 1


def _unstaged(rng: random.Random, onset: datetime, wake: datetime) -> Iterator[tuple]:
    """Before watchOS 9: long blocks of plain sleep, split by brief wakings."""
    at = onset
    while at < wake:
        end = min(at + timedelta(minutes=rng.randint(40, 150)), wake)
        yield "AsleepUnspecified", at, end
        at = end + timedelta(minutes=rng.randint(2, 9))


def _write_sleep(out: _Counted, rng: random.Random, days: list[date]) -> None:
    """An iPhone in-bed record every night and the Watch's sleep most nights, overlapping;
    now and then a nap."""
    for wake_day in days[1:]:
        watch_version, iphone_version = _versions(wake_day)
        watch_device = WATCH_DEVICE.format(version=watch_version)
        iphone_device = IPHONE_DEVICE.format(version=iphone_version)
        evening = wake_day - timedelta(days=1)
        bed_local = datetime(evening.year, evening.month, evening.day, 22, 30, tzinfo=ZONE)
        bed = bed_local.astimezone(UTC) + timedelta(minutes=rng.gauss(15, 40))
        rise = bed + timedelta(minutes=rng.gauss(470, 40))
        _sleep_record(out, IPHONE, iphone_version, iphone_device, "InBed", bed, rise)
        if rng.random() < 0.94:  # the other nights the Watch was charging
            onset = bed + timedelta(minutes=rng.randint(4, 30), seconds=rng.randint(0, 59))
            wake = rise - timedelta(minutes=rng.randint(0, 15), seconds=rng.randint(0, 59))
            segments = _watch_stages if wake_day >= STAGES_FROM else _unstaged
            for stage, start, end in segments(rng, onset, wake):
                _sleep_record(out, WATCH, watch_version, watch_device, stage, start, end)
        if rng.random() < 0.04:
            nap_local = datetime(wake_day.year, wake_day.month, wake_day.day, 14, tzinfo=ZONE)
            start = nap_local.astimezone(UTC) + timedelta(minutes=rng.randint(0, 120))
            end = start + timedelta(minutes=rng.randint(18, 50))
            stage = "AsleepCore" if wake_day >= STAGES_FROM else "AsleepUnspecified"
            _sleep_record(out, WATCH, watch_version, watch_device, stage, start, end)


def _route_time(start: datetime) -> str:
    """As the Health app names a route's file: route_2024-05-04_6.12pm.gpx."""
    local = start.astimezone(ZONE)
    hour = local.hour % 12 or 12
    return f"{local:%Y-%m-%d}_{hour}.{local:%M}{'am' if local.hour < 12 else 'pm'}"


def _write_workouts(out: _Counted, rng: random.Random, days: list[date]) -> None:
    for day in days:
        if rng.random() >= 0.35:
            continue
        watch_version, _ = _versions(day)
        device = WATCH_DEVICE.format(version=watch_version)
        local = datetime(day.year, day.month, day.day, 17, tzinfo=ZONE)
        start = local.astimezone(UTC) + timedelta(minutes=rng.randint(0, 150))
        minutes = rng.uniform(20, 75)
        end = start + timedelta(minutes=minutes)
        pause = start + timedelta(minutes=minutes / 2)
        kind = rng.choice(("Running", "Walking", "Cycling", "TraditionalStrengthTraining"))
        a, b, e = _moment(start), _moment(end), _moment(end + timedelta(seconds=12))
        energy = minutes * rng.uniform(6, 11)
        out.write(
            f' <Workout workoutActivityType="HKWorkoutActivityType{kind}" '
            f'duration="{minutes:.13f}" durationUnit="min" sourceName="{WATCH}" '
            f'sourceVersion="{watch_version}" device="{device}" creationDate="{e}" '
            f'startDate="{a}" endDate="{b}">\n'
            f'  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
            f'  <MetadataEntry key="HKTimeZone" value="{TIMEZONE}"/>\n'
            f'  <MetadataEntry key="HKAverageMETs" value="{rng.uniform(4, 9):.5f} '
            f'kcal/hr·kg"/>\n'
            f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{_moment(pause)}"/>\n'
            f'  <WorkoutEvent type="HKWorkoutEventTypeResume" '
            f'date="{_moment(pause + timedelta(seconds=rng.randint(20, 200)))}"/>\n'
            f'  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" '
            f'startDate="{a}" endDate="{b}" sum="{energy:.4f}" unit="kcal"/>\n'
            f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="{a}" '
            f'endDate="{b}" average="{rng.uniform(110, 150):.4f}" '
            f'minimum="{rng.randint(75, 100)}" maximum="{rng.randint(150, 182)}" '
            f'unit="count/min"/>\n'
            f'  <WorkoutRoute sourceName="{WATCH}" sourceVersion="{watch_version}" '
            f'creationDate="{e}" startDate="{a}" endDate="{b}">\n'
            f'   <MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>\n'
            f'   <FileReference path="/workout-routes/route_{_route_time(start)}.gpx"/>\n'
            f"  </WorkoutRoute>\n </Workout>\n"
        )
    for day in days:
        out.write(
            f' <ActivitySummary dateComponents="{day.isoformat()}" '
            f'activeEnergyBurned="{rng.uniform(250, 800):.3f}" activeEnergyBurnedGoal="500" '
            f'activeEnergyBurnedUnit="Cal" appleMoveTime="0" appleMoveTimeGoal="0" '
            f'appleExerciseTime="{rng.randint(5, 90)}" appleExerciseTimeGoal="30" '
            f'appleStandHours="{rng.randint(6, 14)}" appleStandHoursGoal="12"/>\n'
        )


def _day(day: date) -> tuple[str, str, str, str, str, str]:
    """What the records of one day share: the date, the UTC offset, the two devices."""
    watch_version, iphone_version = _versions(day)
    return (
        day.isoformat() + " ",
        _offset(day),
        watch_version,
        WATCH_DEVICE.format(version=watch_version),
        iphone_version,
        IPHONE_DEVICE.format(version=iphone_version),
    )


def _quantity(kind: str, rng: random.Random, day: tuple[str, ...], at: int) -> str:
    """One quantity record as the Watch or the iPhone writes it."""
    prefix, offset, watch_version, watch_device, iphone_version, iphone_device = day
    if kind == "heart_rate":
        stamp = f"{prefix}{_CLOCK[at]} {offset}"
        created = f"{prefix}{_CLOCK[min(at + rng.randint(1, 400), 86_399)]} {offset}"
        head = (
            f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="{WATCH}" '
            f'sourceVersion="{watch_version}" device="{watch_device}" unit="count/min" '
            f'creationDate="{created}" startDate="{stamp}" endDate="{stamp}" '
            f'value="{rng.randint(52, 118)}"'
        )
        if rng.random() < 0.3:
            return (
                f'{head}>\n  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" '
                f'value="{rng.randint(0, 2)}"/>\n </Record>\n'
            )
        return head + "/>\n"
    if kind == "active_energy":
        end = min(at + rng.randint(40, 90), 86_399)
        return (
            f' <Record type="HKQuantityTypeIdentifierActiveEnergyBurned" sourceName="{WATCH}" '
            f'sourceVersion="{watch_version}" device="{watch_device}" unit="kcal" '
            f'creationDate="{prefix}{_CLOCK[min(end + 30, 86_399)]} {offset}" '
            f'startDate="{prefix}{_CLOCK[at]} {offset}" endDate="{prefix}{_CLOCK[end]} {offset}" '
            f'value="{rng.uniform(0.05, 2.5):.3f}"/>\n'
        )
    end = min(at + rng.randint(60, 600), 86_399)
    span = f'startDate="{prefix}{_CLOCK[at]} {offset}" endDate="{prefix}{_CLOCK[end]} {offset}"'
    created = f'creationDate="{prefix}{_CLOCK[min(end + 600, 86_399)]} {offset}"'
    if rng.random() < 0.25:
        return (
            f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="{WATCH}" '
            f'sourceVersion="{watch_version}" device="{watch_device}" unit="count" {created} '
            f'{span} value="{rng.randint(5, 900)}"/>\n'
        )
    return (
        f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName="{IPHONE}" '
        f'sourceVersion="{iphone_version}" device="{iphone_device}" unit="count" {created} '
        f'{span} value="{rng.randint(5, 1400)}">\n'
        f'  <MetadataEntry key="HKMetadataKeyAppleDeviceCalibrated" value="1"/>\n </Record>\n'
    )


def _write_quantities(out: _Counted, rng: random.Random, days: list[date], budget: int) -> None:
    """Each type in turn, day by day, as many records a day as spread its share of the bytes
    evenly over the days left (adjusting as the records turn out longer or shorter)."""
    for kind, share in QUANTITY_SHARES.items():
        left = budget * share
        average = 400.0
        for index, day in enumerate(days):
            count = max(0, round(left / (len(days) - index) / average))
            shared = _day(day)
            written = 0
            for at in sorted(rng.randrange(86_400) for _ in range(count)):
                written += out.write(_quantity(kind, rng, shared, at), records=1)
            if count:
                left -= written
                average = 0.9 * average + 0.1 * written / count


def generate(folder: Path, size_mb: float, seed: int) -> tuple[Path, int, int]:
    """Write the export; return its path, its number of records and of sleep records."""
    rng = random.Random(seed)
    days = _days(size_mb)
    export_date = _moment(datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 21, tzinfo=ZONE))
    tail_path = folder / "tail.xml"
    with tail_path.open("w", encoding="utf-8", newline="\n") as tail_file:
        tail = _Counted(tail_file)
        _write_sleep(tail, rng, days)
        _write_workouts(tail, rng, days)
    path = folder / "export.xml"
    with path.open("w", encoding="utf-8", newline="\n") as file:
        out = _Counted(file)
        out.write(HEADER.replace("{export_date}", export_date))
        budget = int(size_mb * MB) - out.bytes - tail.bytes - len(FOOTER)
        _write_quantities(out, rng, days, budget)
        file.flush()
        with tail_path.open("rb") as source:
            shutil.copyfileobj(source, file.buffer, CHUNK)
        file.write(FOOTER)
    tail_path.unlink()
    return path, out.records + tail.records, tail.sleep_records


def zipped(xml: Path) -> Path:
    """The export as the Health app shares it, the XML deflated while it is copied in."""
    path = xml.with_name("export.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        member = zipfile.ZipInfo(XML_MEMBER, date_time=(2024, 12, 31, 8, 10, 4))
        member.compress_type = zipfile.ZIP_DEFLATED
        member.file_size = xml.stat().st_size  # decides whether the member needs ZIP64
        with xml.open("rb") as source, archive.open(member, "w") as target:
            shutil.copyfileobj(source, target, CHUNK)
        archive.writestr("apple_health_export/export_cda.xml", CDA)
    return path


# --- Measuring, each reader in a process of its own ---------------------------------------


def _peak_rss_mb() -> float:
    """This process's own peak resident memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / MB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MB if sys.platform == "darwin" else peak * 1024 / MB


def _open_xml(path: Path):  # type: ignore[no-untyped-def]
    if path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        return archive.open(XML_MEMBER)
    return path.open("rb")


def _measure_ours(path: Path) -> dict[str, float | int]:
    from mgsleep.diary.imports import Nap, Rejected
    from mgsleep.diary.imports.apple_health import read
    from mgsleep.diary.night import NightEntry

    counts = {"nights": 0, "naps": 0, "rejected": 0}
    started = time.perf_counter()
    with path.open("rb") as stream:
        for item in read(stream, TIMEZONE):
            if isinstance(item, NightEntry):
                counts["nights"] += 1
            elif isinstance(item, Nap):
                counts["naps"] += 1
            elif isinstance(item, Rejected):
                counts["rejected"] += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **counts}


def _measure_iterparse(path: Path) -> dict[str, float | int]:
    from lxml import etree

    sleep = 0
    started = time.perf_counter()
    with _open_xml(path) as stream:
        for _, element in etree.iterparse(
            stream,
            events=("start",),
            tag="Record",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        ):
            if element.get("type") == SLEEP_TYPE:
                sleep += 1
            # The siblings before this record are complete: drop them, and their children.
            parent = element.getparent()
            while element.getprevious() is not None:
                del parent[0]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "sleep_records": sleep}


MEASURES = {"ours": _measure_ours, "iterparse": _measure_iterparse}


def _in_child(measure: str, path: Path) -> dict[str, float | int]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", measure, str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring {measure} failed:\n{done.stderr}")
    result: dict[str, float | int] = json.loads(done.stdout)
    return result


def _healthkit_to_sqlite(xml: Path) -> dict[str, float] | None:
    """healthkit-to-sqlite on the same XML, its peak memory from the kernel's account of it."""
    command = shutil.which("healthkit-to-sqlite")
    if command is None:
        return None
    database = xml.with_name("healthkit.db")
    started = time.perf_counter()
    process = subprocess.Popen(
        [command, str(xml), str(database), "--xml", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    database.unlink(missing_ok=True)
    if process.returncode != 0:
        raise RuntimeError(f"healthkit-to-sqlite exited with {process.returncode}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB, 1)}


def _rated(result: dict[str, float | int], size: int) -> dict[str, float | int]:
    seconds = float(result["seconds"])
    rated: dict[str, float | int] = {
        "seconds": round(seconds, 2),
        "mb_per_s": round(size / MB / seconds, 1),
        "peak_rss_mb": round(float(result["peak_rss_mb"]), 1),
    }
    rated.update({k: v for k, v in result.items() if k not in ("seconds", "peak_rss_mb")})
    return rated


CRAFTED_RECORD = (
    b'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" '
    b'startDate="2024-01-01 01:00:00 +0100" endDate="2024-01-01 02:00:00 +0100" '
    b'value="HKCategoryValueSleepAnalysisAsleepCore">\n'
)


def crafted(sizes_mb: tuple[int, ...] = (1, 2, 4, 8)) -> dict[str, object]:
    """Hostile input: sleep records opened and never closed. The time per MB must stay flat
    (linear); the baseline is the same reader on a real export of the same size."""
    from mgsleep.diary.imports.apple_health import read

    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
    rows = []
    for size in sizes_mb:
        data = head + CRAFTED_RECORD * (size * MB // len(CRAFTED_RECORD)) + b"</HealthData>\n"
        started = time.perf_counter()
        for _item in read(io.BytesIO(data), "Europe/Amsterdam"):
            pass
        rows.append({"size_mb": size, "seconds": round(time.perf_counter() - started, 3)})
    per_mb = [row["seconds"] / row["size_mb"] for row in rows]
    return {
        "crafted_unclosed_records": rows,
        "seconds_per_mb_first_last": [round(per_mb[0], 3), round(per_mb[-1], 3)],
        "growth_of_time_per_mb": round(per_mb[-1] / per_mb[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument(
        "--crafted", action="store_true", help="measure hostile input (unclosed records) only"
    )
    parser.add_argument("--zip", action="store_true", help="also read it from export.zip")
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("file", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(MEASURES[args.measure](args.file)))
        return
    if args.crafted:
        print(json.dumps({"benchmark": "import_apple_health_crafted", **crafted()}))
        return

    with tempfile.TemporaryDirectory(prefix="mgsleep-bench-") as folder:
        started = time.perf_counter()
        xml, records, sleep_records = generate(Path(folder), args.size_mb, round(args.size_mb))
        generate_s = time.perf_counter() - started
        size = xml.stat().st_size
        ours = _rated(_in_child("ours", xml), size)
        iterparse = _rated(_in_child("iterparse", xml), size)
        if iterparse["sleep_records"] != sleep_records:
            raise RuntimeError(f"iterparse found {iterparse['sleep_records']} sleep records")
        healthkit = _healthkit_to_sqlite(xml)
        line: dict[str, object] = {
            "benchmark": "import_apple_health",
            "machine": platform.machine(),
            "python": platform.python_version(),
            "size_mb": round(size / MB, 1),
            "records": records,
            "sleep_records": sleep_records,
            "generate_s": round(generate_s, 1),
            "ours": ours,
            "iterparse": iterparse,
            "healthkit_to_sqlite": healthkit,
        }
        if healthkit is None:
            line["healthkit_to_sqlite_note"] = "not installed"
        line["speedup_vs_iterparse"] = round(iterparse["seconds"] / ours["seconds"], 2)
        if args.zip:
            archive = zipped(xml)
            zip_size = archive.stat().st_size
            xml.unlink()
            ours_zip = _rated(_in_child("ours", archive), size)
            iterparse_zip = _rated(_in_child("iterparse", archive), size)
            line["zip"] = {
                "zip_mb": round(zip_size / MB, 1),
                "ours": ours_zip,
                "iterparse": iterparse_zip,
                "speedup_vs_iterparse": round(iterparse_zip["seconds"] / ours_zip["seconds"], 2),
            }
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()

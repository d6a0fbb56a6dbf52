"""Apple Health: the sleep records of `export.zip` or `export.xml`, found by their bytes.

An export is mostly heart rate, steps and energy; sleep is a fraction of a percent of it.
So the XML is scanned in chunks for the bytes that name the sleep type, each such `Record`
element is cut out, and only its attributes are read, with a small pattern. Everything else
passes at the speed of a byte search. The DTD is never parsed, which is what keeps the
broken DTD of iOS 16 exports (an `<!ATTLIST` left unclosed) harmless; a file that declares
entities of its own, or uses one on a sleep record, is refused outright, because Apple never
writes either and they are how entity expansion (billion laughs) and external entities work.

Records of one source that follow each other with gaps under two hours make one sleep. When
several sources (an iPhone, a Watch, a third-party app) cover the same night, one source is
chosen for it, never added up: the one with sleep stages (a Watch) wins, then the one with
the most time asleep, then the first by name.

Quirks of the format's history, each handled here:

- iOS 8 and 9 wrote `value="1"` (asleep), `value="0"` or no value at all (in bed), and
  `value="2"` (awake); later versions write the names (`…InBed`, `…Asleep` before iOS 16,
  `…AsleepUnspecified`, `…AsleepCore`, `…AsleepDeep`, `…AsleepREM`, `…Awake`).
- iOS 8 wrote `source=` where later versions write `sourceName=`, compact dates such as
  `20150602043558+0100`, and attributes whose names hold spaces (metadata of other apps);
  the byte-level reader takes the attributes it needs from such a tag all the same.
- The offsets on the dates are those of the phone when the export was made, not of the
  night: a record's `HKTimeZone` metadata is the zone it was recorded in, and dates the
  night; without it (third-party apps), the person's zone does.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from itertools import chain, pairwise
from typing import BinaryIO

from mgsleep.diary.imports import (
    DeviceSleep,
    ImportItem,
    Rejected,
    assemble,
    zip_member_refusal,
    zone_name,
)

SOURCE = "apple_health"
FILE = "file"
SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
# Apple writes `type` first, but the search is for the type's name alone, so a record whose
# attributes come in another order is found too; the enclosing tag is then checked.
NEEDLE = SLEEP_TYPE.encode()
CHUNK = 1 << 20
# A sleep record with its metadata is a few hundred bytes; one this long is not a record.
MAX_ELEMENT = 1 << 16
# Apple's DTD is about 15 kB; the root element must start well within this.
MAX_PROLOGUE = 1 << 20
ROOT = b"<HealthData"
END_OF_DOCUMENT = b"</HealthData>"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
MAX_MEMBER_BYTES = 20 * 10**9
# Exports compress about tenfold; deflate cannot pass about 1000, so 200 leaves room for
# real files while a bomb built for size is caught.
SAME_SLEEP_GAP = timedelta(hours=2)
MIN_AWAKENING = timedelta(minutes=1)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
COMPACT_DATE_FORMAT = "%Y%m%d%H%M%S%z"  # iOS 8
VALUE_PREFIX = "HKCategoryValueSleepAnalysis"
ENTITIES_REFUSED = (
    "the file declares XML entities in its DTD, which Apple Health exports never do; "
    "refused, since entities are how entity-expansion (billion laughs) and external-entity "
    "attacks work"
)

# An attribute name is one word, or (iOS 8) several words separated by spaces.
_START_TAG = re.compile(
    rb"<Record(?P<attributes>(?:\s+[^\s=/>\"'<]+(?:\s+[^\s=/>\"'<]+)*\s*=\s*"
    rb"(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(?P<empty>/?)>"
)
_TIME_ZONE = re.compile(rb"<MetadataEntry\s+key=\"HKTimeZone\"\s+value=\"([^\"<]{1,64})\"")
_ATTRIBUTE = re.compile(rb"([^\s=]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ENTITY_REFERENCE = re.compile(rb"&([^\s&;#][^\s&;]*);")
_PREDEFINED = {b"lt", b"gt", b"amp", b"quot", b"apos"}
_REFERENCE = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
# XML turns a line break or tab inside an attribute into a space.
_ATTRIBUTE_WHITESPACE = re.compile(r"\r\n|[\t\n\r]")
# Characters XML 1.0 does not allow, which iOS 16 exports hold anyway (\x0b above all).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Stage(Enum):
    IN_BED = "in bed"
    ASLEEP = "asleep"  # asleep, stage not measured
    CORE = "core"
    DEEP = "deep"
    REM = "rem"
    AWAKE = "awake"


STAGES = {
    "InBed": Stage.IN_BED,
    "Asleep": Stage.ASLEEP,  # before iOS 16
    "AsleepUnspecified": Stage.ASLEEP,
    "AsleepCore": Stage.CORE,
    "AsleepDeep": Stage.DEEP,
    "AsleepREM": Stage.REM,
    "Awake": Stage.AWAKE,
}
# iOS 8 and 9 wrote the raw values; no value at all was in bed.
RAW_STAGES = {
    "0": Stage.IN_BED,
    "1": Stage.ASLEEP,
    "2": Stage.AWAKE,
    "3": Stage.CORE,
    "4": Stage.DEEP,
    "5": Stage.REM,
}
ASLEEP = {Stage.ASLEEP, Stage.CORE, Stage.DEEP, Stage.REM}
MEASURED_STAGES = {Stage.CORE, Stage.DEEP, Stage.REM}


@dataclass(frozen=True)
class SleepRecord:
    source_name: str
    stage: Stage
    start: datetime
    end: datetime
    zone: str | None = None  # HKTimeZone, where the record has it


class RecordError(ValueError):
    """A sleep record that cannot be read; the message is the reason shown to the person."""


class _FileError(Exception):
    """The whole file is unusable; the message is the reason, and nothing is imported."""


def read(stream: BinaryIO, timezone: str) -> Iterator[ImportItem]:
    """The nights and naps of an Apple Health export, with every record it had to reject."""
    return assemble(_sleeps_of(stream), timezone)


def _sleeps_of(stream: BinaryIO) -> Iterator[DeviceSleep | Rejected]:
    records: list[SleepRecord] = []
    for item in sleep_records(stream):
        if isinstance(item, Rejected):
            yield item
            if item.position == FILE:
                return
        else:
            records.append(item)
    yield from device_sleeps(records)


# --- Finding the sleep records ------------------------------------------------------------


def sleep_records(stream: BinaryIO) -> Iterator[SleepRecord | Rejected]:
    """Every sleep record of the export in file order, or a rejection with its position."""
    try:
        scan = _Scan(_xml_chunks(stream))
        for number, (offset, element) in enumerate(_sleep_elements(scan), start=1):
            position = f"sleep record {number} (byte {offset})"
            try:
                record = record_from_attributes(_attributes(element))
                zone = _TIME_ZONE.search(element)
                if zone is not None:
                    record = replace(record, zone=zone_name(zone.group(1).decode(errors="replace")))
                yield record
            except RecordError as error:
                yield Rejected(position=position, reason=str(error))
    except _FileError as problem:
        yield Rejected(position=FILE, reason=str(problem))


def _xml_chunks(stream: BinaryIO) -> Iterator[bytes]:
    head = stream.read(4)
    if head in ZIP_MAGIC:
        if stream.seekable():
            stream.seek(-len(head), io.SEEK_CUR)
            return _zip_chunks(stream)
        return _zip_chunks(io.BytesIO(head + stream.read()))
    return chain([head], iter(lambda: stream.read(CHUNK), b""))


def _zip_chunks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        size = stream.seek(0, io.SEEK_END)
        raise _FileError(
            f"truncated after {size} bytes; the zip archive has no directory at its end "
            "(cut short while copying, or damaged)"
        ) from None
    try:
        member = _export_member(archive)
        refusal = member_refusal(member)
        if refusal is not None:
            raise _FileError(refusal)
    except _FileError:
        archive.close()
        raise
    return _member_chunks(archive, member)


def _export_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The export's XML, by its ending rather than its name, which localised exports change;
    the clinical-records document beside it (`export_cda.xml`, localised alike) is not it."""
    candidates = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and info.filename.lower().endswith(".xml")
        and not info.filename.lower().endswith("_cda.xml")
    ]
    if not candidates:
        raise _FileError("the zip holds no Apple Health export (no .xml file besides the CDA)")
    return max(candidates, key=lambda info: info.file_size)


def member_refusal(member: zipfile.ZipInfo) -> str | None:
    return zip_member_refusal(member, MAX_MEMBER_BYTES)


def _member_chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    done = 0
    with archive, archive.open(member) as xml:
        try:
            while chunk := xml.read(CHUNK):
                done += len(chunk)
                yield chunk
        except (zipfile.BadZipFile, EOFError, zlib.error) as error:
            raise _FileError(
                f"truncated after {done} bytes of {member.filename}; the zip is damaged ({error})"
            ) from None


class _Scan:
    """A window on the XML: the bytes not yet looked at, and how much has been read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.buffer = b""
        self.base = 0  # where `buffer` starts in the XML
        self.read_bytes = 0
        self.at_end = False
        self._tail = b""

    def more(self) -> bool:
        chunk = next(self._chunks, b"")
        if not chunk:
            self.at_end = True
            return False
        self.buffer += chunk
        self.read_bytes += len(chunk)
        self._tail = (self._tail + chunk)[-64:]
        return True

    def forget(self, upto: int) -> None:
        self.base += upto
        self.buffer = self.buffer[upto:]

    def complete(self) -> bool:
        return self._tail.rstrip().endswith(END_OF_DOCUMENT)

    def truncated(self, where: str) -> _FileError:
        return _FileError(
            f"truncated after {self.read_bytes} bytes; the export ends {where} "
            "(cut short while exporting or copying?)"
        )


def _sleep_elements(scan: _Scan) -> Iterator[tuple[int, bytes]]:
    """Each sleep `Record` element with its offset in the XML, read straight off the bytes."""
    position = _skip_prologue(scan)
    while True:
        hit = scan.buffer.find(NEEDLE, position)
        if hit < 0:
            scan.forget(_resume_point(scan.buffer, position))
            position = 0
            if not scan.more():
                break
            continue
        start = scan.buffer.rfind(b"<", position, hit)
        if start < 0 or not scan.buffer.startswith(b"<Record", start):
            position = hit + len(NEEDLE)  # the name inside another element: not a record
            continue
        end = _element_end(scan.buffer, start)
        if end is None:
            if len(scan.buffer) - start <= MAX_ELEMENT and not scan.at_end:
                scan.forget(start)
                position = 0
                scan.more()
                continue
            if scan.at_end and not scan.complete():
                raise scan.truncated("inside a sleep record")
            yield scan.base + start, scan.buffer[start : hit + len(NEEDLE)]
            position = hit + len(NEEDLE)
            continue
        element = scan.buffer[start:end]
        if _is_sleep(element):
            yield scan.base + start, element
        position = end
    if not scan.complete():
        raise scan.truncated(f"without closing {END_OF_DOCUMENT.decode()}")


def _skip_prologue(scan: _Scan) -> int:
    """Where the root element starts, after a look at the prologue for what it must not hold."""
    while (root := scan.buffer.find(ROOT)) < 0:
        if len(scan.buffer) > MAX_PROLOGUE or not scan.more():
            raise _FileError(_not_an_export(scan))
    if b"<!ENTITY" in scan.buffer[:root]:
        raise _FileError(ENTITIES_REFUSED)
    return root


def _not_an_export(scan: _Scan) -> str:
    head = scan.buffer.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "the file is empty"
    if not head.startswith(b"<"):
        return "not an Apple Health export: neither a zip archive nor an XML file"
    if scan.at_end and b"HealthData" in head:
        return str(scan.truncated("inside its header"))
    return "an XML file, but not an Apple Health export (it has no <HealthData> element)"


def _resume_point(buffer: bytes, position: int) -> int:
    """How much of the buffer can go: all but a tag that may continue in the next chunk."""
    last_tag = buffer.rfind(b"<", position)
    if last_tag >= 0 and len(buffer) - last_tag <= MAX_ELEMENT:
        return last_tag
    return max(position, len(buffer) - len(NEEDLE))


def _element_end(buffer: bytes, start: int) -> int | None:
    """Where the Record element at `start` ends, or None when the buffer does not hold it
    whole (yet, or ever: a malformed tag never matches)."""
    # Every search stops MAX_ELEMENT bytes on: an unclosed record must not make each later
    # one search to the end of the buffer, which turned crafted files quadratic.
    limit = start + MAX_ELEMENT
    tag = _START_TAG.match(buffer, start, limit)
    if tag is None:
        return None
    if tag.group("empty"):
        return tag.end()
    close = buffer.find(b"</Record>", tag.end(), limit)
    if close < 0 or buffer.find(b"<Record", tag.end(), close) >= 0:
        return None
    return close + len(b"</Record>")


def _is_sleep(element: bytes) -> bool:
    tag = _START_TAG.match(element)
    if tag is None:
        return False
    for match in _ATTRIBUTE.finditer(tag.group("attributes")):
        if match.group(1) == b"type":
            return (match.group(2) or match.group(3)) == NEEDLE
    return False


# --- Reading one record -------------------------------------------------------------------


def _attributes(element: bytes) -> dict[str, str]:
    """The start tag's attributes, decoded as XML would, minus stray control characters."""
    _refuse_entities(element)
    tag = _START_TAG.match(element)
    if tag is None:
        raise RecordError("not a well-formed Record element")
    attributes = {}
    for match in _ATTRIBUTE.finditer(tag.group("attributes")):
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        try:
            name, value = match.group(1).decode(), raw.decode()
        except UnicodeDecodeError:
            raise RecordError("not UTF-8 text") from None
        value = _REFERENCE.sub(_referenced, _ATTRIBUTE_WHITESPACE.sub(" ", value))
        attributes[name] = _CONTROL.sub("", value)
    return attributes


def _referenced(reference: re.Match[str]) -> str:
    name = reference.group(1)
    if not name.startswith("#"):
        return _CHARACTERS[name]
    try:
        return chr(int(name[2:], 16) if name.startswith("#x") else int(name[1:]))
    except (ValueError, OverflowError):
        raise RecordError(f"&{name};: not a character") from None


def _refuse_entities(element: bytes) -> None:
    for match in _ENTITY_REFERENCE.finditer(element):
        if match.group(1) not in _PREDEFINED:
            name = match.group(1).decode(errors="replace")
            raise _FileError(
                f"a sleep record uses the entity &{name};, which Apple Health exports never "
                "do; refused, since entities are how entity-expansion (billion laughs) and "
                "external-entity attacks work"
            )


def record_from_attributes(attributes: Mapping[str, str]) -> SleepRecord:
    """A sleep record from its attributes as written (the same for any XML reader)."""
    value = attributes.get("value", "")
    if value.startswith(VALUE_PREFIX):
        stage = STAGES.get(value.removeprefix(VALUE_PREFIX))
    else:
        stage = RAW_STAGES.get(value or "0")
    if stage is None:
        raise RecordError(f"value: not a sleep value Apple Health writes: {value!r}")
    start = _moment(attributes, "startDate")
    end = _moment(attributes, "endDate")
    if end < start:
        raise RecordError(f"endDate {end} is before startDate {start}")
    source = attributes.get("sourceName") or _required(attributes, "source")
    return SleepRecord(source, stage, start, end)


def _required(attributes: Mapping[str, str], name: str) -> str:
    value = attributes.get(name)
    if not value:
        raise RecordError(f"{name}: missing")
    return value


def _moment(attributes: Mapping[str, str], name: str) -> datetime:
    value = _required(attributes, name)
    for pattern in (DATE_FORMAT, COMPACT_DATE_FORMAT):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise RecordError(f"{name}: not a date like 2024-01-01 03:27:53 +0200: {value!r}")


# --- From records to nights ---------------------------------------------------------------


@dataclass(frozen=True)
class _Sleep:
    """One source's sleep: its records that follow each other with short gaps."""

    source_name: str
    records: tuple[SleepRecord, ...]

    @property
    def start(self) -> datetime:
        return min(r.start for r in self.records)

    @property
    def end(self) -> datetime:
        return max(r.end for r in self.records)

    @property
    def asleep(self) -> list[tuple[datetime, datetime]]:
        return _merged((r.start, r.end) for r in self.records if r.stage in ASLEEP)

    @property
    def asleep_min(self) -> float:
        return sum(_minutes(end - start) for start, end in self.asleep)

    @property
    def staged(self) -> bool:
        return any(r.stage in MEASURED_STAGES for r in self.records)

    @property
    def position(self) -> str:
        return f"sleep from {self.source_name}, {self.start:%Y-%m-%d %H:%M %z}"


def nights(records: Iterable[SleepRecord], timezone: str) -> Iterator[ImportItem]:
    """One night or nap per sleep, each from the one source chosen for it."""
    return assemble(device_sleeps(records), timezone)


def device_sleeps(records: Iterable[SleepRecord]) -> Iterator[DeviceSleep | Rejected]:
    """One sleep per group of overlapping records, from the one source chosen for it."""
    for overlapping in _overlapping(_sleeps(records)):
        candidates = [sleep for sleep in overlapping if sleep.asleep]
        if not candidates:
            for sleep in overlapping:
                yield Rejected(sleep.position, "no time asleep recorded (in bed or awake only)")
            continue
        chosen = _chosen_source(candidates)
        for sleep in candidates:
            if sleep.source_name == chosen:
                yield _device_sleep(sleep)


def _sleeps(records: Iterable[SleepRecord]) -> list[_Sleep]:
    by_source: dict[str, list[SleepRecord]] = {}
    for record in records:
        by_source.setdefault(record.source_name, []).append(record)
    sleeps = []
    for source_name, own in by_source.items():
        own.sort(key=lambda r: (r.start, r.end))
        current = [own[0]]
        reach = own[0].end
        for record in own[1:]:
            if record.start - reach >= SAME_SLEEP_GAP:
                sleeps.append(_Sleep(source_name, tuple(current)))
                current = []
            current.append(record)
            reach = max(reach, record.end)
        sleeps.append(_Sleep(source_name, tuple(current)))
    return sleeps


def _overlapping(sleeps: list[_Sleep]) -> Iterator[list[_Sleep]]:
    """The sleeps in groups that overlap in time, whatever their source: one night each."""
    ordered = sorted(sleeps, key=lambda s: (s.start, s.source_name))
    if not ordered:
        return
    group = [ordered[0]]
    reach = ordered[0].end
    for sleep in ordered[1:]:
        if sleep.start >= reach:
            yield group
            group, reach = [], sleep.end
        group.append(sleep)
        reach = max(reach, sleep.end)
    yield group


def _chosen_source(candidates: list[_Sleep]) -> str:
    """The rule for overlapping sources: stages measured (a Watch) first, then the most time
    asleep in this night, then the first name, so the same file always gives the same night."""
    asleep: dict[str, float] = {}
    staged: dict[str, bool] = {}
    for sleep in candidates:
        asleep[sleep.source_name] = asleep.get(sleep.source_name, 0) + sleep.asleep_min
        staged[sleep.source_name] = staged.get(sleep.source_name, False) or sleep.staged
    return min(asleep, key=lambda name: (not staged[name], -asleep[name], name))


def _device_sleep(sleep: _Sleep) -> DeviceSleep:
    asleep = sleep.asleep
    onset, wake = asleep[0][0], asleep[-1][1]
    # In bed from the source's first record to its last: its in-bed span where it recorded
    # one, and awake before falling asleep (a Watch) is time in bed too, as sleep latency.
    bed_start, bed_end = min(onset, sleep.start), max(wake, sleep.end)
    gaps = [later[0] - earlier[1] for earlier, later in pairwise(asleep)]
    return DeviceSleep(
        source=SOURCE,
        in_bed_start=bed_start,
        in_bed_end=bed_end,
        sleep_onset=onset,
        final_wake=wake,
        # Awake segments lie in the gaps between asleep ones, so the gaps count them once.
        waso_min=sum(_minutes(gap) for gap in gaps),
        awakenings=sum(1 for gap in gaps if gap >= MIN_AWAKENING),
        deep_min=_stage_min(sleep, Stage.DEEP),
        light_min=_stage_min(sleep, Stage.CORE),
        rem_min=_stage_min(sleep, Stage.REM),
        zone=next((r.zone for r in sleep.records if r.zone), None),
        position=sleep.position,
    )


def _stage_min(sleep: _Sleep, stage: Stage) -> float | None:
    if not sleep.staged:
        return None
    return sum(_minutes(r.end - r.start) for r in sleep.records if r.stage is stage)


def _merged(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _minutes(span: timedelta) -> float:
    return span.total_seconds() / 60

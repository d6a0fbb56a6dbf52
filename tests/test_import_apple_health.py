"""Apple Health import: sleep found by its bytes, the breakage that sank other parsers survived."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import pytest

from mgsleep.diary.imports import ImportItem, Nap, NightInfo, Rejected
from mgsleep.diary.imports import apple_health as ah
from mgsleep.diary.night import NightEntry, metrics

DATA = Path(__file__).resolve().parent / "data" / "apple_health"
ZONE = "Europe/Amsterdam"
# Well-formed XML that a strict parser reads too. `tricky.xml` adds records written unlike
# Apple's: attributes in another order and single-quoted, references of every kind, a line
# break inside an attribute, and the sleep type's name where it is not a sleep record.
WELL_FORMED = ["watch_and_iphone.xml", "before_ios16.xml", "dst_spring_forward.xml", "tricky.xml"]


def read_bytes(content: bytes) -> list[ImportItem]:
    """What the reader yields, without the notes on how each night was made."""
    items = ah.read(io.BytesIO(content), ZONE)
    return [item for item in items if not isinstance(item, NightInfo)]


def read_fixture(name: str) -> list[ImportItem]:
    return read_bytes((DATA / name).read_bytes())


def only(items: list[ImportItem], kind: type) -> list:
    return [item for item in items if isinstance(item, kind)]


def file_rejection(items: list[ImportItem]) -> str:
    assert not only(items, NightEntry)
    assert isinstance(items[-1], Rejected)
    assert items[-1].position == "file"
    return items[-1].reason


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_watch_stages_win_over_the_iphone_in_bed_time_one_night_not_two():
    items = read_fixture("watch_and_iphone.xml")
    assert len(items) == 1, items
    night = items[0]
    assert isinstance(night, NightEntry)
    assert night.date == date(2024, 1, 10)
    assert night.source == "apple_health"
    # The Watch's own records, from the first to the last: its awake minutes after 06:45
    # are in bed, after the final awakening.
    assert (night.in_bed, night.final_wake, night.out_of_bed) == (
        clock(23, 32),
        clock(6, 45),
        clock(6, 58),
    )
    assert (night.waso_min, night.awakenings) == (12, 1)
    assert (night.deep_min, night.light_min, night.rem_min) == (50, 291, 80)
    assert metrics(night).total_sleep_min == 50 + 291 + 80


def test_before_ios16_values_a_nap_a_third_party_app_and_one_bad_record():
    items = read_fixture("before_ios16.xml")
    [bad] = only(items, Rejected)
    assert bad.position.startswith("sleep record 5 (byte ")
    assert "HKCategoryValueSleepAnalysisSnoring" in bad.reason
    watch, autosleep = only(items, NightEntry)
    # The iPhone wrote only its in-bed time; the Watch's plain "Asleep" makes the night.
    assert (watch.date, watch.in_bed, watch.final_wake) == (
        date(2022, 6, 15),
        clock(23, 10),
        clock(6, 30),
    )
    assert (watch.waso_min, watch.awakenings) == (20, 1)
    assert watch.deep_min is None
    [nap] = only(items, Nap)
    assert (nap.start.time(), nap.end.time()) == (clock(14, 10), clock(14, 55))
    # AutoSleep writes no MetadataEntry at all; its in-bed time gives the latency.
    assert (autosleep.date, autosleep.in_bed, autosleep.sleep_latency_min) == (
        date(2022, 6, 16),
        clock(23, 0),
        20,
    )
    assert autosleep.out_of_bed == clock(7, 0)


def test_the_night_the_clocks_go_forward_counts_real_minutes():
    [night] = read_fixture("dst_spring_forward.xml")
    assert isinstance(night, NightEntry)
    assert (night.date, night.in_bed, night.out_of_bed) == (
        date(2024, 3, 31),
        clock(23, 0),
        clock(7, 0),
    )
    assert metrics(night).time_in_bed_min == 7 * 60
    assert (night.deep_min, night.light_min, night.rem_min) == (60, 270, 90)


def test_the_ios16_export_with_its_broken_dtd_and_vertical_tabs_imports():
    content = (DATA / "ios16_broken_dtd.xml").read_bytes()
    assert b"\x0b" in content
    [night] = read_bytes(content)
    assert isinstance(night, NightEntry)
    assert (night.in_bed, night.sleep_latency_min, night.waso_min) == (clock(23, 0), 15, 5)
    names = {
        r.source_name
        for r in ah.sleep_records(io.BytesIO(content))
        if isinstance(r, ah.SleepRecord)
    }
    assert names == {"Jane’s Apple Watch"}  # the tab gone, the typographic apostrophe kept
    etree = pytest.importorskip("lxml.etree")
    with pytest.raises(etree.XMLSyntaxError):  # where a strict parser stops
        etree.fromstring(content)


def test_a_localised_zip_is_read_from_its_xml_member():
    content = (DATA / "watch_and_iphone.xml").read_bytes()
    archive = zipped(
        {
            "apple_health_export/导出.xml": content,
            "apple_health_export/导出_cda.xml": b'<?xml version="1.0"?><ClinicalDocument/>',
            "apple_health_export/workout-routes/route_2024-01-10_6.08pm.gpx": b"<gpx/>",
        }
    )
    assert read_bytes(archive) == read_bytes(content)


def test_a_zip_from_a_stream_that_cannot_seek():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    content = (DATA / "dst_spring_forward.xml").read_bytes()
    stream = io.BufferedReader(Pipe(zipped({"apple_health_export/export.xml": content})))
    assert not stream.seekable()
    assert list(ah.read(stream, ZONE)) == list(ah.read(io.BytesIO(content), ZONE))


def test_a_billion_laughs_file_is_refused_fast():
    began = time.perf_counter()
    reason = file_rejection(read_fixture("billion_laughs.xml"))
    assert time.perf_counter() - began < 0.5
    assert "declares XML entities" in reason


def test_an_entity_used_on_a_sleep_record_refuses_the_file():
    content = (DATA / "watch_and_iphone.xml").read_bytes()
    hostile = content.replace("Jane’s Apple Watch".encode(), b"&xxe;")
    reason = file_rejection(read_bytes(hostile))
    assert "&xxe;" in reason


def test_a_zip_bomb_is_refused_by_its_ratio():
    bomb = zipped({"apple_health_export/export.xml": b" " * (4 << 20)})
    assert len(bomb) < 40_000
    reason = file_rejection(read_bytes(bomb))
    assert "zip bomb" in reason
    assert "times its packed size" in reason


def test_a_zip_member_too_large_is_refused_by_its_size():
    member = zipfile.ZipInfo("apple_health_export/export.xml")
    member.file_size, member.compress_size = 21 * 10**9, 2 * 10**9
    reason = ah.member_refusal(member)
    assert reason is not None
    assert "would unpack to 21000000000 bytes" in reason
    member.file_size = 2 * 10**9
    assert ah.member_refusal(member) is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither a zip archive nor an XML file"),
        (b'[{"logId": 1, "dateOfSleep": "2019-04-28"}]', "neither a zip archive nor an XML file"),
        (b'<?xml version="1.0"?>\n<gpx version="1.1"><trk/></gpx>', "not an Apple Health export"),
        (b"", "the file is empty"),
        (zipped({"sleep-export.csv": b"Id,Tz,From\n"}), "no Apple Health export"),
    ],
    ids=["png", "json", "gpx", "empty", "zip-without-xml"],
)
def test_a_file_of_the_wrong_kind_is_named_as_such(content, expected):
    assert expected in file_rejection(read_bytes(content))


@pytest.mark.parametrize(
    "marker",
    [b"HKCategoryValueSleepAnalysisAsleepDeep", b"HKQuantityTypeIdentifierStepCount", b"<Workout"],
    ids=["mid-sleep-record", "mid-quantity-record", "after-the-sleep-records"],
)
def test_a_truncated_export_imports_nothing(marker):
    content = (DATA / "watch_and_iphone.xml").read_bytes()
    cut = content.index(marker) + 5
    reason = file_rejection(read_bytes(content[:cut]))
    assert reason.startswith(f"truncated after {cut} bytes; ")


def test_a_truncated_zip_imports_nothing():
    archive = zipped(
        {"apple_health_export/export.xml": (DATA / "watch_and_iphone.xml").read_bytes()}
    )
    cut = len(archive) * 2 // 3
    assert file_rejection(read_bytes(archive[:cut])).startswith(f"truncated after {cut} bytes; ")


def test_a_night_with_only_in_bed_time_is_reported_not_invented():
    start = datetime.fromisoformat("2024-02-01T23:00:00+01:00")
    record = ah.SleepRecord("Jane’s iPhone", ah.Stage.IN_BED, start, start + timedelta(hours=8))
    [rejected] = ah.nights([record], ZONE)
    assert isinstance(rejected, Rejected)
    assert rejected.position == "sleep from Jane’s iPhone, 2024-02-01 23:00 +0100"
    assert "no time asleep" in rejected.reason


def test_without_stages_the_source_with_most_sleep_wins_then_the_name():
    start = datetime.fromisoformat("2024-02-01T23:00:00+01:00")

    def asleep(source: str, minutes: int) -> ah.SleepRecord:
        return ah.SleepRecord(source, ah.Stage.ASLEEP, start, start + timedelta(minutes=minutes))

    [_, night] = ah.nights([asleep("AutoSleep", 400), asleep("Pillow", 420)], ZONE)
    assert isinstance(night, NightEntry)
    assert night.final_wake == clock(6, 0)
    [_, night] = ah.nights([asleep("Pillow", 420), asleep("AutoSleep", 420)], ZONE)
    assert isinstance(night, NightEntry)
    assert night.final_wake == clock(6, 0)


# --- The byte scan against a full XML parse -------------------------------------------------


def full_parse(content: bytes) -> list[ah.SleepRecord | str]:
    """What lxml finds, with entities off and the DTD unread, read by the same record rules."""
    etree = pytest.importorskip("lxml.etree")
    found: list[ah.SleepRecord | str] = []
    for _, element in etree.iterparse(
        io.BytesIO(content), tag="Record", resolve_entities=False, no_network=True, load_dtd=False
    ):
        if element.get("type") == ah.SLEEP_TYPE:
            try:
                record = ah.record_from_attributes(dict(element.attrib))
                zones = [
                    entry.get("value")
                    for entry in element.iter("MetadataEntry")
                    if entry.get("key") == "HKTimeZone"
                ]
                found.append(replace(record, zone=zones[0] if zones else None))
            except ah.RecordError as error:
                found.append(str(error))
        element.clear()
    return found


def byte_scan(content: bytes) -> list[ah.SleepRecord | str]:
    return [
        item.reason if isinstance(item, Rejected) else item
        for item in ah.sleep_records(io.BytesIO(content))
    ]


@pytest.mark.parametrize("chunk", [7, 100, 4096, ah.CHUNK])
@pytest.mark.parametrize("name", WELL_FORMED)
def test_the_byte_scan_finds_what_a_full_parse_finds(name, chunk, monkeypatch):
    monkeypatch.setattr(ah, "CHUNK", chunk)
    content = (DATA / name).read_bytes()
    expected = full_parse(content)
    assert expected
    assert byte_scan(content) == expected
    assert byte_scan(zipped({"apple_health_export/export.xml": content})) == expected


def test_the_tricky_records_read_as_xml_reads_them():
    found = byte_scan((DATA / "tricky.xml").read_bytes())
    records = [r for r in found if isinstance(r, ah.SleepRecord)]
    assert records[-1].source_name == "Sleep & Co’s ‘app’"
    assert records[-1].stage is ah.Stage.ASLEEP
    assert "endDate" in found[-1]


def test_an_unclosed_record_never_makes_the_scan_look_past_one_element():
    """A crafted file of sleep records that never close stays linear: each search for a
    record's end stops MAX_ELEMENT bytes on (benchmarks/import_apple_health.py --crafted)."""
    record = (
        b'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" '
        b'startDate="2024-01-01 01:00:00 +0100" endDate="2024-01-01 02:00:00 +0100" '
        b'value="HKCategoryValueSleepAnalysisAsleepCore">'
    )
    far_close = record + b" " * (ah.MAX_ELEMENT + 10) + b"</Record>"
    assert ah._element_end(far_close, 0) is None
    near_close = record + b"</Record>"
    assert ah._element_end(near_close, 0) == len(near_close)
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n'
    crafted = head + (record + b"\n") * 20_000 + b"</HealthData>\n"
    items = list(ah.read(io.BytesIO(crafted), "Europe/Amsterdam"))
    assert items  # read to the end, record by record, without hanging or raising

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mgsleep.diary.imports import ImportItem, Nap, NightInfo, Rejected
from mgsleep.diary.imports.sleep_as_android import NOT_AN_EXPORT, read
from mgsleep.diary.night import NightEntry, minutes_between, place

DATA = Path(__file__).parent / "data" / "sleep_as_android"
ZONE = "Europe/Amsterdam"

HEADER = (
    "Id,Tz,From,To,Sched,Hours,Rating,Comment,Framerate,Snore,Noise,Cycles,DeepSleep,"
    'LenAdjust,Geo,"7:00"'
)


def _manual(rating: str = "0.0", deep: str = "-1.0", tz: str = ZONE) -> bytes:
    """One record shaped like the app's own, 17 Jan 2026 23:00 to 18 Jan 07:00 in Amsterdam."""
    data = (
        f'"1768687200000","{tz}","17. 01. 2026 23:00","18. 01. 2026 7:00",'
        f'"18. 01. 2026 7:00","8.000","{rating}","Manually added","10007","-1","-1.0","-1",'
        f'"{deep}","0","","0.0"'
    )
    return f"{HEADER}\n{data}\n".encode()


def _read(content: bytes) -> list[ImportItem]:
    """What the reader yields, without the notes on how each night was made."""
    return [item for item in read(io.BytesIO(content), ZONE) if not isinstance(item, NightInfo)]


def _read_file(name: str) -> list[ImportItem]:
    with (DATA / name).open("rb") as stream:
        return [item for item in read(stream, ZONE) if not isinstance(item, NightInfo)]


def _nights(items: list[ImportItem]) -> dict[date, NightEntry]:
    return {item.date: item for item in items if isinstance(item, NightEntry)}


def _only_night(items: list[ImportItem]) -> NightEntry:
    assert len(items) == 1
    night = items[0]
    assert isinstance(night, NightEntry)
    return night


def test_a_tracked_night_with_its_awakenings_and_deep_sleep() -> None:
    night = _nights(_read_file("sleep-export.csv"))[date(2026, 1, 15)]
    assert (night.in_bed, night.lights_out) == (time(23, 10), time(23, 10))
    assert (night.final_wake, night.out_of_bed) == (time(7, 10), time(7, 10))
    assert night.sleep_latency_min == 0
    assert (night.waso_min, night.awakenings) == (30, 2)
    # 20 % of the 450 minutes asleep (480 in bed less 30 awake)
    assert night.deep_min == 90
    assert night.quality == 4
    assert (night.source, night.timezone) == ("sleep_as_android", ZONE)


def test_every_record_is_read_and_the_noise_line_is_no_record() -> None:
    with (DATA / "sleep-export.csv").open("rb") as stream:
        items = list(read(stream, ZONE))
    # Five records: three nights (one of them two records) and a nap.
    pieces = [item.pieces for item in items if isinstance(item, NightInfo)]
    assert sorted(pieces) == [1, 1, 2]
    assert len([item for item in items if isinstance(item, Nap)]) == 1
    assert not [item for item in items if isinstance(item, Rejected)]


@pytest.mark.parametrize(
    ("night_of", "real_minutes"),
    [
        pytest.param(date(2026, 3, 29), 7 * 60, id="clocks forward 29 March"),
        pytest.param(date(2026, 10, 25), 9 * 60, id="clocks back 25 October"),
    ],
)
def test_a_night_across_a_clock_change_keeps_its_real_minutes(
    night_of: date, real_minutes: int
) -> None:
    night = _nights(_read_file("sleep-export.csv"))[night_of]
    assert (night.in_bed, night.out_of_bed) == (time(23, 0), time(7, 0))
    placed = place(night)
    assert minutes_between(placed.in_bed, placed.out_of_bed) == real_minutes


def _naps(items: list[ImportItem]) -> list[Nap]:
    return [item for item in items if isinstance(item, Nap)]


def test_a_nap_is_kept_apart_from_the_nights() -> None:
    items = _read_file("sleep-export.csv")
    zone = ZoneInfo(ZONE)
    assert _naps(items)[-1:] == [
        Nap(
            date=date(2026, 1, 16),
            start=datetime(2026, 1, 16, 14, 0, tzinfo=zone),
            end=datetime(2026, 1, 16, 14, 45, tzinfo=zone),
            source="sleep_as_android",
        )
    ]
    assert date(2026, 1, 16) not in _nights(items)


def test_a_record_in_the_repeated_hour_inside_a_night_is_part_of_it() -> None:
    # From and To both read 02:10: the first 02:10 (summer time) to the second (winter time),
    # inside the night of 23:00 to 07:00, which keeps its nine real hours.
    night = _nights(_read_file("sleep-export.csv"))[date(2026, 10, 25)]
    placed = place(night)
    assert minutes_between(placed.in_bed, placed.out_of_bed) == 9 * 60
    assert (placed.in_bed.utcoffset(), placed.out_of_bed.utcoffset()) == (
        timedelta(hours=2),
        timedelta(hours=1),
    )


def test_malformed_records_are_rejected_and_the_others_imported() -> None:
    items = _read_file("damaged.csv")
    assert sorted(_nights(items)) == [date(2026, 1, 16), date(2026, 1, 20)]
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert [item.position for item in rejected] == [
        "record 2 (line 4)",
        "record 3 (line 6)",
        "record 4 (line 7)",
        "record 5 (line 9)",
    ]
    reasons = [item.reason for item in rejected]
    assert reasons[0] == "Hours is not a number: 'eight'"
    assert reasons[1].startswith("the data line cannot be read")
    assert reasons[2] == "the record has no data line"
    assert reasons[3] == "the data line is cut short: 12 of 16 values"


def test_the_export_zip_is_read_from_its_csv_member() -> None:
    night = _only_night(_read_file("sleep-export.zip"))
    assert (night.date, night.in_bed, night.out_of_bed) == (date(2026, 1, 18), time(23), time(7))
    assert night.quality == 5


def test_a_zip_without_a_csv_member_is_rejected() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("alarms.json", "[]")
    assert _read(archive.getvalue()) == [
        Rejected(position="file", reason="the zip holds no .csv file")
    ]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param((DATA / "not-an-export.csv").read_bytes(), id="another app's CSV"),
        pytest.param(b"", id="empty"),
        pytest.param(b"%PDF-1.7\n\x00\xff\xfe binary\n", id="binary"),
        pytest.param(b"PK\x03\x04 cut off", id="broken zip"),
    ],
)
def test_a_file_that_is_no_export_gives_one_rejection(content: bytes) -> None:
    items = _read(content)
    assert len(items) == 1
    assert isinstance(items[0], Rejected)
    assert items[0].position == "file"


def test_the_wrong_header_is_named() -> None:
    assert _read_file("not-an-export.csv") == [Rejected(position="file", reason=NOT_AN_EXPORT)]


@pytest.mark.parametrize(
    ("rating", "quality"),
    [
        pytest.param("0.0", None, id="not rated"),
        pytest.param("0.25", 1, id="a quarter star is still rated"),
        pytest.param("2.5", 3, id="halves round up"),
        pytest.param("3.25", 3, id="quarter down"),
        pytest.param("3.75", 4, id="three quarters up"),
        pytest.param("5.0", 5, id="top"),
        pytest.param("7.0", 5, id="above the scale"),
    ],
)
def test_ratings_become_quality_one_to_five(rating: str, quality: int | None) -> None:
    assert _only_night(_read(_manual(rating=rating))).quality == quality


def test_a_rating_that_is_no_number_rejects_the_record() -> None:
    assert _read(_manual(rating="good")) == [
        Rejected(position="record 1 (line 2)", reason="Rating is not a number: 'good'")
    ]


@pytest.mark.parametrize(
    ("fraction", "deep_min"),
    [
        pytest.param("-1.0", None, id="not measured"),
        pytest.param("-2.0", None, id="hypnogram off"),
        pytest.param("0.25", 120, id="a quarter of 480 minutes"),
        pytest.param("1.5", None, id="no fraction"),
    ],
)
def test_deep_sleep_fraction_becomes_minutes(fraction: str, deep_min: int | None) -> None:
    assert _only_night(_read(_manual(deep=fraction))).deep_min == deep_min


def test_an_unknown_zone_name_does_not_move_the_night() -> None:
    night = _only_night(_read(_manual(tz="GMT+01:00")))
    assert (night.date, night.in_bed, night.out_of_bed) == (date(2026, 1, 18), time(23), time(7))


class _Pipe(io.BytesIO):
    """A stream that cannot seek, as an upload read straight from a socket."""

    def seekable(self) -> bool:
        return False


def test_a_stream_that_cannot_seek_is_read() -> None:
    content = (DATA / "sleep-export.zip").read_bytes()
    items = [item for item in read(_Pipe(content), ZONE) if not isinstance(item, NightInfo)]
    assert _only_night(items).date == date(2026, 1, 18)


def test_the_callers_stream_stays_open() -> None:
    stream = io.BytesIO(_manual())
    list(read(stream, ZONE))
    assert not stream.closed

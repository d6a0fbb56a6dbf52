from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from mgsleep.diary.night import NightEntry
from mgsleep.errors import Conflict, InputError, NotFound
from mgsleep.service import diary

NIGHT = NightEntry(
    date=date(2026, 1, 15),
    in_bed="22:30",
    lights_out="22:45",
    sleep_latency_min=20,
    final_wake="06:30",
    out_of_bed="07:00",
)
HEADER = "date,in_bed,lights_out,sleep_latency_min,final_wake,out_of_bed\n"


def test_a_night_twice_is_a_conflict_unless_replaced(session: Session, owner: int) -> None:
    diary.add_night(session, owner, NIGHT)
    with pytest.raises(Conflict) as twice:
        diary.add_night(session, owner, NIGHT.model_copy(update={"quality": 4}))
    assert (twice.value.code, twice.value.problem.params["date"]) == ("night_exists", "2026-01-15")
    diary.add_night(session, owner, NIGHT.model_copy(update={"quality": 4}), replace=True)
    assert diary.night(session, owner, NIGHT.date).quality == 4


def test_a_night_keeps_its_date_and_a_missing_one_is_not_found(
    session: Session, owner: int
) -> None:
    diary.add_night(session, owner, NIGHT)
    with pytest.raises(InputError) as moved:
        diary.change_night(session, owner, date(2026, 1, 16), NIGHT)
    assert moved.value.code == "date_not_address"
    with pytest.raises(NotFound):
        diary.remove_night(session, owner, date(2026, 1, 20))
    diary.remove_night(session, owner, NIGHT.date)
    assert diary.nights(session, owner) == []


def test_the_night_before_looks_back_over_a_gap(session: Session, owner: int) -> None:
    diary.add_night(session, owner, NIGHT)
    assert diary.night_before(session, owner, date(2026, 3, 1)) == NIGHT
    assert diary.night_before(session, owner, NIGHT.date) is None


def test_a_csv_brings_its_good_rows_and_names_its_bad_ones(session: Session, owner: int) -> None:
    text = HEADER + "2026-01-15,22:30,22:45,20,06:30,07:00\n2026-01-16,22:30,22:00,20,06:30,07:00\n"
    report = diary.import_csv(session, owner, text.encode(), timezone="Europe/Amsterdam")
    assert report.added == 1
    assert [(r.row, r.field, r.code) for r in report.rejected] == [
        (3, "lights_out", "lights_out_before_bed")
    ]


def test_an_export_imports_again_as_the_same_nights(session: Session, owner: int) -> None:
    diary.add_night(session, owner, NIGHT.model_copy(update={"notes": "=1+1", "source": "oura"}))
    text = diary.export_csv(session, owner)
    again = diary.import_csv(session, owner, text.encode(), timezone="Europe/Amsterdam")
    assert (again.added, again.already_present) == (0, 1)


def test_a_bad_header_or_zone_imports_nothing(session: Session, owner: int) -> None:
    with pytest.raises(InputError) as header:
        diary.import_csv(session, owner, b"date,colour\n", timezone="Europe/Amsterdam")
    assert header.value.code == "unknown_columns"
    with pytest.raises(InputError) as zone:
        diary.import_csv(session, owner, HEADER.encode(), timezone="Mars/Base")
    assert zone.value.code == "unknown_zone"
    assert diary.nights(session, owner) == []

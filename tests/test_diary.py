"""Sleep diary nights: Consensus Sleep Diary metrics by hand, midnight, both clock changes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mgsleep.diary.csvio import COLUMNS, RowError, parse_csv, to_csv
from mgsleep.diary.night import NightEntry, metrics
from mgsleep.errors import InputError


def night(**values: object) -> NightEntry:
    base = {
        "date": "2026-01-15",
        "in_bed": "22:00",
        "lights_out": "22:30",
        "sleep_latency_min": 18,
        "awakenings": 2,
        "waso_min": 30,
        "final_wake": "06:30",
        "out_of_bed": "06:45",
        "quality": 3,
    }
    return NightEntry.model_validate({**base, **values})


def test_the_research_example_night():
    # 22:00 / 22:30 / 18 / 30 / 06:30 / 06:45 -> TST 7 h 12, SE 82.3 %
    m = metrics(night())
    assert m.time_in_bed_min == 525
    assert m.total_sleep_min == 432
    assert m.sleep_efficiency_pct == pytest.approx(82.3, abs=0.05)
    assert m.terminal_wake_min == 15


def test_a_night_that_starts_after_midnight():
    m = metrics(night(in_bed="00:30", lights_out="00:45", final_wake="08:00", out_of_bed="08:30"))
    assert m.time_in_bed_min == 480
    assert m.total_sleep_min == 435 - 18 - 30


def test_spring_forward_night_is_an_hour_shorter():
    # 29 March 2026, Europe/Amsterdam: 02:00 becomes 03:00
    m = metrics(
        night(
            date="2026-03-29",
            in_bed="23:00",
            lights_out="23:15",
            sleep_latency_min=15,
            waso_min=0,
            final_wake="07:00",
            out_of_bed="07:15",
        )
    )
    assert m.time_in_bed_min == 8 * 60 + 15 - 60
    assert m.total_sleep_min == 7 * 60 + 45 - 60 - 15
    assert m.sleep_efficiency_pct == pytest.approx(100 * 390 / 435)


def test_fall_back_night_is_an_hour_longer():
    # 25 October 2026: 03:00 becomes 02:00
    m = metrics(
        night(
            date="2026-10-25",
            in_bed="23:00",
            lights_out="23:15",
            sleep_latency_min=15,
            waso_min=0,
            final_wake="07:00",
            out_of_bed="07:15",
        )
    )
    assert m.time_in_bed_min == 8 * 60 + 15 + 60
    assert m.total_sleep_min == 7 * 60 + 45 + 60 - 15


def test_another_time_zone():
    m = metrics(
        night(
            date="2026-03-08",
            timezone="America/New_York",
            in_bed="23:00",
            lights_out="23:00",
            sleep_latency_min=0,
            waso_min=0,
            final_wake="07:00",
            out_of_bed="07:00",
        )
    )
    assert m.time_in_bed_min == 7 * 60


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (
            {
                "final_wake": "21:00",
                "out_of_bed": "21:30",
                "lights_out": "23:00",
                "in_bed": "22:00",
            },
            "final_wake: waking (21:00) before lights out (23:00)",
        ),
        ({"in_bed": "23:30", "lights_out": "23:00"}, "lights_out"),
        ({"out_of_bed": "06:00"}, "out_of_bed"),
        ({"sleep_latency_min": 500}, "sleep_latency_min"),
        (
            {
                "in_bed": "12:00",
                "lights_out": "12:30",
                "final_wake": "17:00",
                "out_of_bed": "17:30",
            },
            "longer than 24 hours",
        ),
        ({"quality": 6}, "quality"),
        ({"in_bed": "25:00"}, "HH:MM"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_impossible_nights_are_refused_clearly(values, needle):
    with pytest.raises(ValidationError) as caught:
        night(**values)
    assert needle in str(caught.value)


@given(
    latency=st.integers(0, 120),
    waso=st.integers(0, 120),
    in_bed_h=st.integers(20, 23),
    wake_h=st.integers(5, 9),
    day=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
)
def test_metrics_invariants(latency, waso, in_bed_h, wake_h, day):
    entry = night(
        date=day,
        in_bed=f"{in_bed_h}:00",
        lights_out=f"{in_bed_h}:15",
        sleep_latency_min=latency,
        waso_min=waso,
        final_wake=f"{wake_h}:00",
        out_of_bed=f"{wake_h}:20",
    )
    m = metrics(entry)
    assert m.total_sleep_min <= m.time_trying_min <= m.time_in_bed_min
    assert 0 <= m.sleep_efficiency_pct <= 100
    assert m.total_sleep_min == pytest.approx(m.time_trying_min - latency - waso)


TEMPLATE = """\
date,in_bed,lights_out,sleep_latency_min,awakenings,waso_min,final_wake,out_of_bed,quality,magnesium_mg,intake_time,bath,side_effects,notes
2026-01-15,22:00,22:30,18,2,30,06:30,06:45,3,,,no,,
2026-01-16,22:15,22:30,25,1,10,06:40,06:50,4,200,21:45,yes,loose_stools,"late dinner, then a walk"
"""


def test_csv_round_trip():
    entries = list(parse_csv(TEMPLATE))
    assert all(isinstance(e, NightEntry) for e in entries)
    nights = [e for e in entries if isinstance(e, NightEntry)]
    assert nights[1].side_effects[0].value == "loose_stools"
    assert nights[1].notes == "late dinner, then a walk"
    again = [e for e in parse_csv(to_csv(nights)) if isinstance(e, NightEntry)]
    assert again == nights


def test_csv_bad_rows_are_reported_with_their_line():
    text = (
        TEMPLATE + "2026-01-17,22:00,22:30,18,2,30,21:00,21:30,3,,,no,,\n2026-01-18,x,,,,,,,,,,,,\n"
    )
    rows = list(parse_csv(text))
    errors = [r for r in rows if isinstance(r, RowError)]
    assert [e.row for e in errors] == [4, 5]
    assert errors[0].field == "final_wake"
    assert "in_bed" in errors[1].field or "HH:MM" in errors[1].reason


def test_csv_unknown_and_missing_columns_are_named():
    with pytest.raises(InputError, match="Unknown columns: mood"):
        list(parse_csv("date,in_bed,mood\n"))
    with pytest.raises(InputError, match="Missing columns"):
        list(parse_csv("date,in_bed\n"))


def test_csv_bath_and_side_effects_are_checked():
    bad = TEMPLATE.replace("yes,loose_stools", "perhaps,headache")
    errors = [r for r in parse_csv(bad) if isinstance(r, RowError)]
    assert errors[0].field == "bath"


def test_csv_export_defuses_formulas_and_the_import_restores_them():
    """A note such as "=HYPERLINK(...)" must not run in a spreadsheet, and must come back."""
    night = next(e for e in parse_csv(TEMPLATE) if isinstance(e, NightEntry))
    risky = [
        night.model_copy(update={"notes": text, "date": night.date.replace(day=day)})
        for day, text in zip(
            (20, 21, 22, 23), ("=1+1", "+31 6 1234", "-2 naps", "@SUM(A1)"), strict=True
        )
    ]
    exported = to_csv(risky)
    for line in exported.splitlines()[1:]:
        notes = line.split(",")[COLUMNS.index("notes")]
        assert notes.startswith("'"), line
    again = [e for e in parse_csv(exported) if isinstance(e, NightEntry)]
    assert [n.notes for n in again] == ["=1+1", "+31 6 1234", "-2 naps", "@SUM(A1)"]


def test_csv_round_trips_every_field_of_a_night():
    night = next(e for e in parse_csv(TEMPLATE) if isinstance(e, NightEntry))
    full = night.model_copy(
        update={
            "source": "fitbit",
            "deep_min": 61,
            "light_min": 200,
            "rem_min": 90,
            "magnesium_form": "bisglycinate",
            "bath_time": night.in_bed.replace(hour=21),
            "bath_temperature_c": 40.5,
            "timezone": "Europe/London",
        }
    )
    [again] = [e for e in parse_csv(to_csv([full])) if isinstance(e, NightEntry)]
    assert again == full


def test_a_csv_cell_beyond_the_field_limit_is_a_clear_error():
    text = TEMPLATE + "2026-01-19,22:00,22:30,18,2,30,06:30,06:45,3,,,no,," + "x" * 200_000 + "\n"
    with pytest.raises(InputError) as caught:
        list(parse_csv(text))
    assert caught.value.field == "file"
    assert "line 3" in caught.value.reason.lower()

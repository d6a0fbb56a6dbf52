"""Storage on SQLite and PostgreSQL: round trips, duplicates, imports, transactions, owners."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path

import platformdirs
import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from mgsleep.diary.night import NightEntry
from mgsleep.store import repo
from mgsleep.store.db import database_url, default_database_url, open_store, session_scope
from mgsleep.store.tables import Night, Trial, User
from mgsleep.trial.protocol import TrialProtocol

MONDAY = date(2026, 3, 2)


def night(day: date = MONDAY, **values: object) -> NightEntry:
    base: dict[str, object] = {
        "date": day,
        "in_bed": "22:45",
        "lights_out": "23:00",
        "sleep_latency_min": 20,
        "final_wake": "06:40",
        "out_of_bed": "07:00",
    }
    return NightEntry.model_validate({**base, **values})


def week(start: date = MONDAY, nights: int = 7) -> list[NightEntry]:
    return [night(start + timedelta(days=offset)) for offset in range(nights)]


def every_field_night() -> NightEntry:
    """Every field set, the night crossing midnight, in a zone other than the default."""
    return night(
        MONDAY + timedelta(days=1),
        in_bed="23:40",
        lights_out="00:20",
        sleep_latency_min=35,
        awakenings=3,
        waso_min=42,
        final_wake="06:50",
        out_of_bed="07:25",
        quality=4,
        magnesium_mg=247.5,
        magnesium_form="magnesium bisglycinate",
        intake_time="21:30",
        bath=True,
        bath_time="20:45",
        bath_temperature_c=38.5,
        side_effects=["loose_stools", "nausea"],
        notes="Onweer om 3 uur — wakker, daarna 'slecht' geslapen",
        source="diary",
        timezone="America/New_York",
    )


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def owner_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        return repo.local_user_id(session)


def other_user(engine: Engine, username: str = "bea") -> int:
    with session_scope(engine) as session:
        user = User(username=username)
        session.add(user)
        session.flush()
        return user.id


def count_nights(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Night)) or 0


# ---- nights --------------------------------------------------------------------------------


def test_a_night_comes_back_exactly_as_entered(engine: Engine, owner_id: int):
    full = every_field_night()
    bare = night(MONDAY)
    with session_scope(engine) as session:
        repo.add_night(session, owner_id, full)  # the later night first: order is by date
        repo.add_night(session, owner_id, bare)
    with session_scope(engine) as session:
        stored = repo.get_nights(session, owner_id)
    assert stored == [bare, full]
    assert stored[1].lights_out == time(0, 20)
    assert [str(effect) for effect in stored[1].side_effects] == ["loose_stools", "nausea"]


def test_nights_filter_by_dates_inclusive_and_by_source(engine: Engine, owner_id: int):
    nights = week()
    wearable = night(MONDAY + timedelta(days=2), source="oura")
    with session_scope(engine) as session:
        for entry in [*nights, wearable]:
            repo.add_night(session, owner_id, entry)
    with session_scope(engine) as session:
        middle = repo.get_nights(session, owner_id, start=nights[2].date, end=nights[4].date)
        from_oura = repo.get_nights(session, owner_id, source="oura")
    assert middle == [nights[2], wearable, nights[3], nights[4]]
    assert from_oura == [wearable]


def test_a_second_night_for_the_same_date_is_refused(engine: Engine, owner_id: int):
    with session_scope(engine) as session:
        repo.add_night(session, owner_id, night(quality=2))
    with pytest.raises(repo.DuplicateNight) as refused, session_scope(engine) as session:
        repo.add_night(session, owner_id, night(quality=5))
    assert (refused.value.night_date, refused.value.source) == (MONDAY, "diary")
    assert "2026-03-02" in str(refused.value)


def test_replace_overwrites_the_stored_night(engine: Engine, owner_id: int):
    with session_scope(engine) as session:
        repo.add_night(session, owner_id, night(quality=2))
    with session_scope(engine) as session:
        repo.add_night(session, owner_id, night(quality=5, notes="better"), replace=True)
    with session_scope(engine) as session:
        assert repo.get_nights(session, owner_id) == [night(quality=5, notes="better")]


def test_the_same_date_from_another_source_is_not_a_duplicate(engine: Engine, owner_id: int):
    with session_scope(engine) as session:
        repo.add_night(session, owner_id, night())
        repo.add_night(session, owner_id, night(source="oura"))
    assert count_nights(engine) == 2


# ---- imports -------------------------------------------------------------------------------


def test_importing_the_same_file_twice_adds_nothing_the_second_time(engine: Engine, owner_id: int):
    nights = [*week(), every_field_night().model_copy(update={"date": MONDAY + timedelta(7)})]
    with session_scope(engine) as session:
        first = repo.import_nights(session, owner_id, nights)
    with session_scope(engine) as session:
        second = repo.import_nights(session, owner_id, iter(nights))
    assert first == repo.ImportSummary(added=len(nights))
    assert second == repo.ImportSummary(already_present=len(nights))
    assert count_nights(engine) == len(nights)


def test_a_conflicting_import_keeps_nothing_of_the_file(engine: Engine, owner_id: int):
    stored = week(nights=3)
    with session_scope(engine) as session:
        repo.import_nights(session, owner_id, stored)
    # New nights first, so a partial import would leave them behind.
    new_nights = week(MONDAY + timedelta(days=3), nights=2)
    changed = stored[1].model_copy(update={"quality": 1})
    with pytest.raises(repo.DuplicateNight) as refused, session_scope(engine) as session:
        repo.import_nights(session, owner_id, [*new_nights, stored[0], changed])
    assert refused.value.night_date == stored[1].date
    assert count_nights(engine) == len(stored)


def test_an_import_with_replace_overwrites_and_reports_the_conflicts(engine: Engine, owner_id: int):
    stored = week(nights=3)
    with session_scope(engine) as session:
        repo.import_nights(session, owner_id, stored)
    changed = stored[1].model_copy(update={"quality": 1})
    extra = night(MONDAY + timedelta(days=3))
    with session_scope(engine) as session:
        summary = repo.import_nights(session, owner_id, [stored[0], changed, extra], replace=True)
    assert summary == repo.ImportSummary(1, 1, 1, [stored[1].date])
    with session_scope(engine) as session:
        assert repo.get_nights(session, owner_id) == [stored[0], changed, stored[2], extra]


def add_then_fail(engine: Engine, owner_id: int) -> None:
    with session_scope(engine) as session:
        repo.add_night(session, owner_id, night())
        session.flush()  # the row reached the database, and must still go
        raise KeyError("anything")


def test_session_scope_rolls_back_on_any_error(engine: Engine, owner_id: int):
    with pytest.raises(KeyError):
        add_then_fail(engine, owner_id)
    assert count_nights(engine) == 0


# ---- questionnaires, trials, profile -------------------------------------------------------


def test_responses_round_trip_in_date_order(engine: Engine, owner_id: int):
    later, earlier = MONDAY + timedelta(days=28), MONDAY
    with session_scope(engine) as session:
        repo.add_response(session, owner_id, "isi", later, [1, 1, 0, 2, 1, 1, 2], 8)
        repo.add_response(session, owner_id, "isi", earlier, [3, 2, 2, 3, 2, 3, 3], 18)
        repo.add_response(session, owner_id, "psqi", earlier, [1, 2, 3], 6)
    with session_scope(engine) as session:
        responses = repo.get_responses(session, owner_id, "isi")
    assert responses == [
        repo.StoredResponse("isi", earlier, (3, 2, 2, 3, 2, 3, 3), 18),
        repo.StoredResponse("isi", later, (1, 1, 0, 2, 1, 1, 2), 8),
    ]


def test_a_second_response_on_the_same_day_needs_replace(engine: Engine, owner_id: int):
    with session_scope(engine) as session:
        repo.add_response(session, owner_id, "isi", MONDAY, [0] * 7, 0)
    with pytest.raises(repo.DuplicateResponse), session_scope(engine) as session:
        repo.add_response(session, owner_id, "isi", MONDAY, [1] * 7, 7)
    with session_scope(engine) as session:
        repo.add_response(session, owner_id, "isi", MONDAY, [2] * 7, 14, replace=True)
        stored = repo.get_responses(session, owner_id, "isi")
    assert stored == [repo.StoredResponse("isi", MONDAY, (2,) * 7, 14)]


def ab_protocol(**values: object) -> TrialProtocol:
    base: dict[str, object] = {
        "baseline_start": MONDAY,
        "magnesium_start": MONDAY + timedelta(days=14),
    }
    return TrialProtocol.model_validate({**base, **values})


def test_a_trial_round_trips_and_a_new_one_replaces_it_as_active(engine: Engine, owner_id: int):
    first = ab_protocol(end=MONDAY + timedelta(days=60), form="citrate", dose_mg=200)
    second = ab_protocol(
        design="abab",
        washout_days=10,
        form="bisglycinate",
        dose_mg=300.5,
        intake_time="21:00",
        primary_outcome="total_sleep_min",
    )
    with session_scope(engine) as session:
        assert repo.active_trial(session, owner_id) is None
        repo.start_trial(session, owner_id, first)
    with session_scope(engine) as session:
        assert repo.active_trial(session, owner_id) == first
        repo.start_trial(session, owner_id, second)
    with session_scope(engine) as session:
        assert repo.active_trial(session, owner_id) == second
        assert session.scalar(select(func.count()).select_from(Trial)) == 2


def test_the_profile_round_trips_and_is_overwritten(engine: Engine, owner_id: int):
    profile = {"age_years": 52, "medicines": ["levothyroxine"], "bedtime": "23:00"}
    with session_scope(engine) as session:
        assert repo.get_profile(session, owner_id) is None
        repo.save_profile(session, owner_id, profile)
    with session_scope(engine) as session:
        assert repo.get_profile(session, owner_id) == profile
        repo.save_profile(session, owner_id, {**profile, "age_years": 53})
    with session_scope(engine) as session:
        assert repo.get_profile(session, owner_id) == {**profile, "age_years": 53}


# ---- owners --------------------------------------------------------------------------------


def fill(session: Session, owner_id: int) -> None:
    repo.add_night(session, owner_id, night())
    repo.add_response(session, owner_id, "isi", MONDAY, [1] * 7, 7)
    repo.start_trial(session, owner_id, ab_protocol())
    repo.save_profile(session, owner_id, {"age_years": 40})


def test_one_user_sees_nothing_of_another(engine: Engine, owner_id: int):
    bea = other_user(engine)
    with session_scope(engine) as session:
        fill(session, owner_id)
    with session_scope(engine) as session:
        assert repo.get_nights(session, bea) == []
        assert repo.get_responses(session, bea, "isi") == []
        assert repo.active_trial(session, bea) is None
        assert repo.get_profile(session, bea) is None
        # The same date is free for her, and her trial leaves the other's running.
        fill(session, bea)
    with session_scope(engine) as session:
        assert repo.get_nights(session, owner_id) == [night()]
        assert repo.active_trial(session, owner_id) == ab_protocol()


def test_deleting_a_user_deletes_their_data(engine: Engine, owner_id: int):
    bea = other_user(engine)
    with session_scope(engine) as session:
        fill(session, owner_id)
        fill(session, bea)
    with session_scope(engine) as session:
        session.execute(delete(User).where(User.id == owner_id))
    assert count_nights(engine) == 1
    with session_scope(engine) as session:
        assert repo.get_nights(session, bea) == [night()]


def test_the_local_user_is_created_once(engine: Engine, owner_id: int):
    with session_scope(engine) as session:
        assert repo.local_user_id(session) == owner_id


# ---- where the database is -----------------------------------------------------------------


def test_database_url_prefers_explicit_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    monkeypatch.delenv("MGSLEEP_DATABASE_URL", raising=False)
    default = f"sqlite:///{tmp_path / 'mgsleep' / 'mgsleep.db'}"
    assert default_database_url() == database_url(None) == default
    assert (tmp_path / "mgsleep").is_dir()
    monkeypatch.setenv("MGSLEEP_DATABASE_URL", "sqlite:///from-env.db")
    assert database_url(None) == "sqlite:///from-env.db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgres://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgresql_urls_get_the_psycopg_driver(given: str, expected: str):
    assert database_url(given) == expected

"""Pre-registration: a stable hash of the frozen protocol, shown in the report; a changed
protocol is a new trial."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from mgsleep.store import repo
from mgsleep.store.db import open_store, session_scope
from mgsleep.store.repo import local_user_id
from mgsleep.trial.analysis import analyse
from mgsleep.trial.kinds import Design, Outcome
from mgsleep.trial.protocol import TrialProtocol
from mgsleep.trial.registration import registration_document, registration_hash
from mgsleep.trial.report import render_html
from tests.simulate import diary

FROZEN_AT = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)
PROTOCOL = TrialProtocol(
    baseline_start=date(2026, 3, 2),
    magnesium_start=date(2026, 3, 2),
    design=Design.pairs,
    pairs=4,
    period_nights=7,
    dose_mg=200,
    form="bisglycinate",
    registered_at=FROZEN_AT,
    smallest_change=10,
    analysis_method="gls_ar1",
    allocation_fingerprint="0" * 64,
)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    store = open_store(store_url)
    yield store
    store.dispose()


def test_the_registration_hash_is_stable() -> None:
    # The same protocol has the same hash in every run and every later version of mgsleep.
    assert registration_hash(PROTOCOL) == registration_hash(PROTOCOL.model_copy())
    assert registration_hash(PROTOCOL) == (
        "05392cba5fdc6eaa8f47b11bc2dc14f72b9fea513b6f0a59e4dda3adf5406858"
    )


def test_the_registration_covers_what_was_decided_before_the_first_night() -> None:
    document = registration_document(PROTOCOL)
    for name in ("design", "primary_outcome", "smallest_change", "analysis_method", "dose_mg"):
        assert document[name] is not None, name
    assert document["planned_nights"] == 56
    assert "seed" not in document


def test_any_change_to_the_protocol_changes_its_hash() -> None:
    changes = [
        {"primary_outcome": Outcome.total_sleep_min},
        {"dose_mg": 300},
        {"pairs": 6},
        {"registered_at": FROZEN_AT + timedelta(seconds=1)},
        {"smallest_change": 5},
    ]
    digests = {registration_hash(PROTOCOL.model_copy(update=c)) for c in changes}
    assert registration_hash(PROTOCOL) not in digests
    assert len(digests) == len(changes)


def test_the_hash_is_printed_in_the_report() -> None:
    nights = diary(3, PROTOCOL, 56, effect_min=-15)
    analysis = analyse(PROTOCOL, nights, as_of=PROTOCOL.baseline_start + timedelta(days=55))
    for lang in ("en", "nl"):
        html = render_html(analysis, nights, lang)
        assert f"data-registration-hash>{registration_hash(PROTOCOL)}<" in html
        # The short form heads the one-page summary too.
        assert registration_hash(PROTOCOL)[:16] in html.split('id="verdict"')[0]


def test_a_changed_protocol_is_a_new_trial(engine: Engine) -> None:
    from mgsleep.service.trials import start_trial
    from mgsleep.trial.allocation import short_fingerprint

    values = {"baseline_start": date(2026, 3, 2), "magnesium_start": date(2026, 3, 16)}
    with session_scope(engine) as session:
        owner = local_user_id(session)
        first = start_trial(session, owner, values, at=FROZEN_AT)
        second = start_trial(
            session, owner, values | {"primary_outcome": "total_sleep_min"}, at=FROZEN_AT
        )
    with session_scope(engine) as session:
        stored = repo.get_trials(session, owner)
    assert [active for _protocol, active in stored] == [False, True]
    # Read back from the store, each keeps the hash it was frozen with.
    assert [registration_hash(p) for p, _a in stored] == [
        registration_hash(first),
        registration_hash(second),
    ]
    assert registration_hash(first) != registration_hash(second)
    assert first.registered_at == FROZEN_AT
    assert first.analysis_method is not None
    assert first.smallest_change is not None
    assert short_fingerprint("ab" * 32) == "abab abab abab abab"

from __future__ import annotations

import pytest

from mgsleep.evidence import Evidence, load_evidence


@pytest.fixture(scope="session")
def ev() -> Evidence:
    return load_evidence()

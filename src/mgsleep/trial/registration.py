"""Pre-registration: the protocol frozen when the trial starts, with a time and a hash.

The hash covers what was decided before the first night: the design and its dates, what is
taken, the primary outcome and the smallest change in it that matters, the analysis, the
planned length, blinding and the allocation's fingerprint (never the seed). It is a SHA-256
digest of a canonical JSON document built from a fixed list of fields, so the same protocol
gives the same hash on any computer and in any later version of mgsleep (a field added to the
protocol later is not in the list; a new list would get a new version). A changed protocol
has another hash: it is a new trial.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mgsleep.trial.protocol import TrialProtocol

__all__ = ["REGISTRATION_VERSION", "registration_document", "registration_hash"]

REGISTRATION_VERSION = "mgsleep-preregistration-v1"
REGISTERED_FIELDS = (
    "design",
    "baseline_start",
    "magnesium_start",
    "end",
    "washout_days",
    "period_nights",
    "pairs",
    "blinded",
    "allocation_fingerprint",
    "form",
    "dose_mg",
    "intake_time",
    "primary_outcome",
    "smallest_change",
    "analysis_method",
    "registered_at",
)


def registration_document(protocol: TrialProtocol) -> dict[str, Any]:
    """The frozen protocol as plain JSON values, its planned length included."""
    values = protocol.model_dump(mode="json", include=set(REGISTERED_FIELDS))
    end = protocol.scheduled_end()
    return {
        "version": REGISTRATION_VERSION,
        **{name: values.get(name) for name in REGISTERED_FIELDS},
        "planned_end": None if end is None else end.isoformat(),
        "planned_nights": protocol.planned_nights(),
    }


def registration_hash(protocol: TrialProtocol) -> str:
    canonical = json.dumps(
        registration_document(protocol), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()

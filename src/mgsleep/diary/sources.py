"""The sources an export can come from, known to every shell without loading an importer."""

from __future__ import annotations

# Source name -> module under mgsleep.diary.imports (each has read(stream, timezone)).
SOURCES: dict[str, str] = {
    "csv": "diary_csv",
    "sleep_as_android": "sleep_as_android",
    "fitbit": "fitbit",
    "oura": "oura",
    "garmin": "garmin",
    "apple_health": "apple_health",
}

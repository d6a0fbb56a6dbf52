"""The sources an export can come from, known to every shell without loading an importer."""

from __future__ import annotations

from mgsleep.lang import N_

# Source name -> module under mgsleep.diary.imports (each has read(stream, timezone)).
SOURCES: dict[str, str] = {
    "csv": "diary_csv",
    "sleep_as_android": "sleep_as_android",
    "fitbit": "fitbit",
    "oura": "oura",
    "garmin": "garmin",
    "apple_health": "apple_health",
    "oura_csv": "oura_csv",
    "whoop": "whoop",
    "sleep_cycle": "sleep_cycle",
    "samsung_health": "samsung_health",
    "withings": "withings",
    "health_auto_export": "health_auto_export",
}

# Source name -> what a person calls it (a msgid): shown where a shell names the source; the
# key stays what programs send. App and brand names are not translated, but what follows them
# ("(CSV)", "Health" where the Dutch app is called "Gezondheid") is.
SOURCE_NAMES: dict[str, str] = {
    "csv": N_("Sleep diary (mgsleep CSV)"),
    "sleep_as_android": N_("Sleep as Android"),
    "fitbit": N_("Fitbit"),
    "oura": N_("Oura (JSON)"),
    "garmin": N_("Garmin Connect"),
    "apple_health": N_("Apple Health (export.zip)"),
    "oura_csv": N_("Oura (CSV)"),
    "whoop": N_("WHOOP"),
    "sleep_cycle": N_("Sleep Cycle"),
    "samsung_health": N_("Samsung Health"),
    "withings": N_("Withings"),
    "health_auto_export": N_("Health Auto Export (iPhone)"),
}
# Names that are English product names in every language, spoken as such by screen readers.
ENGLISH_NAMES = frozenset({"sleep_as_android", "sleep_cycle", "health_auto_export"})

"""/nights: the diary, one night at a time, as CSV, or from a device's export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Path, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import TypeAdapter

from mgsleep.clock import SaneDate
from mgsleep.diary.night import DIARY_SOURCE, NightEntry
from mgsleep.diary.sources import SOURCES
from mgsleep.public import ImportResult, NightPublic, import_result, night_public
from mgsleep.service import diary
from mgsleep.service.imports import MAX_DIARY_CSV_BYTES, import_file
from mgsleep.service.profile import person_zone
from mgsleep.web.api.common import (
    ReplaceQuery,
    SourceQuery,
    documented,
    guarded_router,
    read_upload,
)
from mgsleep.web.deps import CurrentUser, SessionDep

guarded = guarded_router()


class NightCreate(NightEntry):
    """One night as written down in the morning; `date` is the morning the night ended."""


def _entry(night: NightCreate) -> NightEntry:
    return NightEntry.model_construct(**dict(night))


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the diary, every field of every night"}
}


def csv_download(text: str) -> Response:
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="mgsleep-nights.csv"'},
    )


# Nights are checked when they are stored; the list is serialised once, not checked again
# on the way out (most of the time of a long diary went into that second check).
NIGHTS_JSON = TypeAdapter(list[NightPublic])


@guarded.get(
    "/nights", tags=["nights"], response_model=list[NightPublic], responses=documented(422)
)
def list_nights(
    session: SessionDep,
    user: CurrentUser,
    start: Annotated[SaneDate | None, Query(description="first morning date")] = None,
    end: Annotated[SaneDate | None, Query(description="last morning date")] = None,
) -> Response:
    """The diary in date order, each night with its metrics."""
    nights = [night_public(n) for n in diary.nights(session, user.id, start=start, end=end)]
    return Response(NIGHTS_JSON.dump_json(nights), media_type="application/json")


@guarded.post(
    "/nights",
    status_code=status.HTTP_201_CREATED,
    tags=["nights"],
    responses=documented(409, 422),
)
def create_night(
    session: SessionDep, user: CurrentUser, night: NightCreate, replace: ReplaceQuery = False
) -> NightPublic:
    """Add a night; 409 when the diary has one for that date, unless ?replace=true."""
    return night_public(diary.add_night(session, user.id, _entry(night), replace=replace))


@guarded.get("/nights/export.csv", tags=["nights"], response_class=Response, responses=CSV_RESPONSE)
def export_nights_csv(session: SessionDep, user: CurrentUser) -> Response:
    """The diary as CSV, every field of every night: it imports again as the same nights."""
    return csv_download(diary.export_csv(session, user.id))


@guarded.post("/nights/import", tags=["nights"], responses=documented(409, 413, 422))
def import_nights_csv(
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="a diary CSV, see examples/diary-template.csv")],
    replace: ReplaceQuery = False,
    timezone: Annotated[
        str | None, Query(description="time zone of rows without one (default: the profile's)")
    ] = None,
    dry_run: Annotated[bool, Query(description="count only; store nothing")] = False,
) -> ImportResult:
    """Import a CSV diary: good rows in, bad rows listed under `rejected`; a file that is not
    a diary CSV (its header, its encoding) imports nothing (422)."""
    data = read_upload(file, MAX_DIARY_CSV_BYTES)
    zone = timezone or person_zone(session, user.id)
    report = diary.import_csv(
        session, user.id, data, timezone=zone, replace=replace, dry_run=dry_run
    )
    return import_result(report)


@guarded.post("/nights/import/{source}", tags=["nights"], responses=documented(409, 413, 422))
def import_device_export(
    session: SessionDep,
    user: CurrentUser,
    source: Annotated[str, Path(description="the export's format: " + ", ".join(SOURCES))],
    file: Annotated[UploadFile, File(description="the app's or wearable's export file")],
    replace: ReplaceQuery = False,
    timezone: Annotated[
        str | None,
        Query(description="zone of nights the file states none for (default: the profile's)"),
    ] = None,
    dry_run: Annotated[bool, Query(description="count only; store nothing")] = False,
) -> ImportResult:
    """Import a wearable's or an app's export, as `mgsleep import` and the /import page do:
    one transaction, the same summary. A file that is not that source's export imports
    nothing (422); a night that differs from the stored one is a 409 unless ?replace=true."""
    zone = timezone or person_zone(session, user.id)
    report = import_file(
        session, user.id, source, file.file, timezone=zone, replace=replace, dry_run=dry_run
    )
    return import_result(report)


@guarded.get("/nights/{night_date:isodate}", tags=["nights"], responses=documented(404, 422))
def read_night(
    session: SessionDep, user: CurrentUser, night_date: SaneDate, source: SourceQuery = DIARY_SOURCE
) -> NightPublic:
    """One night by its morning date (and source, for a night from a device)."""
    return night_public(diary.night(session, user.id, night_date, source))


@guarded.put("/nights/{night_date:isodate}", tags=["nights"], responses=documented(404, 422))
def replace_night(
    session: SessionDep, user: CurrentUser, night_date: SaneDate, night: NightCreate
) -> NightPublic:
    """Change a stored night; the body is the whole night, with the same date."""
    return night_public(diary.change_night(session, user.id, night_date, _entry(night)))


@guarded.delete(
    "/nights/{night_date:isodate}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["nights"],
    responses=documented(404, 422),
)
def remove_night(
    session: SessionDep, user: CurrentUser, night_date: SaneDate, source: SourceQuery = DIARY_SOURCE
) -> Response:
    """Delete one night."""
    diary.remove_night(session, user.id, night_date, source)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

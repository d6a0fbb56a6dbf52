"""/isi: the Insomnia Severity Index answered, scored and kept."""

from __future__ import annotations

from fastapi import status
from pydantic import BaseModel, ConfigDict, Field

from mgsleep.clock import SaneDate
from mgsleep.public import IsiCreated, IsiPublic, isi_created, isi_public
from mgsleep.service.isi import isi_history, record_isi
from mgsleep.web.api.common import ReplaceQuery, documented, guarded_router
from mgsleep.web.deps import CurrentUser, LocaleDep, SessionDep, TodayDep

guarded = guarded_router()
MAX_ISI_ANSWERS = 50


class IsiCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[int] = Field(
        max_length=MAX_ISI_ANSWERS, description="one answer 0–4 per item, in the items' order"
    )
    date: SaneDate | None = Field(default=None, description="the day answered (default: today)")


@guarded.get("/isi", tags=["isi"])
def list_isi(session: SessionDep, user: CurrentUser, lang: LocaleDep) -> list[IsiPublic]:
    """Every Insomnia Severity Index answered, oldest first, with score and band."""
    return [isi_public(record, lang) for record in isi_history(session, user.id)]


@guarded.post(
    "/isi",
    status_code=status.HTTP_201_CREATED,
    tags=["isi"],
    responses=documented(409, 422),
)
def add_isi(
    session: SessionDep,
    user: CurrentUser,
    lang: LocaleDep,
    today: TodayDep,
    body: IsiCreate,
    replace: ReplaceQuery = False,
) -> IsiCreated:
    """Score and store the answers; 409 when that day has one, unless ?replace=true."""
    result = record_isi(session, user.id, body.answers, body.date or today, replace=replace)
    return isi_created(result, lang)

"""Server-rendered pages, one module per part of the site. A handler parses the form, calls
one service (or core) function and renders a template; every rule lives below it."""

from __future__ import annotations

from fastapi import APIRouter

from mgsleep.web.pages import (
    account,
    auth,
    diary,
    diary_edit,
    evidence,
    imports,
    isi,
    label,
    plan,
    profile,
    trial,
    trial_report,
)

router = APIRouter()
for module in (
    auth,
    profile,
    plan,
    label,
    evidence,
    diary,
    diary_edit,
    isi,
    trial,
    trial_report,
    account,
    imports,
):
    router.include_router(module.router)

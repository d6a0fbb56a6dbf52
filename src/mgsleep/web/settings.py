"""One typed settings object, from environment variables (prefix MGSLEEP_)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mgsleep.store.db import database_url

SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 32


def _data_dir() -> Path:
    folder = Path(platformdirs.user_data_dir("mgsleep"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stored_secret_key() -> str:
    """The embedded default keeps its secret in the user data folder, made on first run."""
    path = _data_dir() / SECRET_FILE
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), "utf-8")
        path.chmod(0o600)
    return path.read_text("utf-8").strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGSLEEP_", extra="ignore")

    database_url: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    default_language: Literal["nl", "en"] = "nl"
    hosted: bool = False
    login_attempts_per_15_min: int = 5

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        # A hosted deployment shares one secret across servers; it must be set explicitly.
        if self.hosted and (not self.secret_key or len(self.secret_key) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"MGSLEEP_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters "
                "when MGSLEEP_HOSTED is on"
            )
        return self

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def resolved_database_url(self) -> str:
        return database_url(self.database_url)

    def resolved_secret_key(self) -> str:
        return self.secret_key or stored_secret_key()

"""One typed settings object, from environment variables (prefix MGSLEEP_)."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mgsleep.store.db import database_url

SECRET_FILE = "secret_key"  # noqa: S105 - a file name; the key is in the file
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
    # Failed log-ins allowed in 15 minutes: for one account from one address, for one account
    # from anywhere, and from one address over all accounts (see mgsleep.security).
    login_attempts_per_15_min: int = Field(default=5, ge=1)
    login_attempts_per_account: int = Field(default=20, ge=1)
    login_attempts_per_address: int = Field(default=50, ge=1)
    session_idle_days: float = Field(default=7, gt=0)
    session_max_days: float = Field(default=30, gt=0)
    # Addresses (or networks, "10.0.0.0/8") of reverse proxies whose X-Forwarded-For is
    # believed. Empty (the default): the header is ignored, so it cannot be used to pose as
    # another client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Request bodies: JSON and forms are small; uploads (wearable exports) are streamed with a
    # cap and only read for a logged-in session.
    max_body_kb: int = Field(default=256, ge=1)
    max_upload_mb: int = Field(default=512, ge=1)
    # Pushes from phone apps (POST /api/v1/ingest/...): a month of summarised nights is a few
    # kilobytes, a year of unsummarised sleep samples a few megabytes. Each token may push
    # this often an hour (Health Auto Export syncs at most every minute or so).
    max_ingest_kb: int = Field(default=8192, ge=1)
    ingest_pushes_per_hour: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        # A hosted deployment shares one secret across servers; it must be set explicitly.
        if self.hosted and (not self.secret_key or len(self.secret_key) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"MGSLEEP_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters "
                "when MGSLEEP_HOSTED is on"
            )
        return self

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # MGSLEEP_TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8" as well as a JSON list.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def resolved_database_url(self) -> str:
        return database_url(self.database_url)

    def resolved_secret_key(self) -> str:
        return self.secret_key or stored_secret_key()

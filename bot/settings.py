"""Every setting Nudgebot reads, from the environment or `.env`, in one place."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.db import normalize_url

# Where to find each required value, so a failed start tells the operator what to do next.
WHERE_TO_GET = {
    "slack_bot_token": ("the Bot User OAuth Token (xoxb-…) on your Slack app's 'OAuth & Permissions' page"),
    "slack_signing_secret": "the Signing Secret on your Slack app's 'Basic Information' page",
}


class Settings(BaseSettings):
    """Nudgebot's configuration; tokens are secrets and never printed."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Optional here so `python -m bot migrate` runs without them; `require_slack()` guards serving.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///nudgebot.db"
    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"
    digest_channel: str | None = None
    run_jobs: bool = True
    auto_migrate: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # The zone used for a technician until Slack tells us theirs (see README, "Time zones").
    default_timezone: str = "UTC"
    # How long a command may wait for the database before we ack "Working on it…" and answer on the
    # response_url instead; Slack gives up after 3 s, so this leaves room for the network.
    ack_budget_s: float = Field(default=2.0, gt=0, le=2.5)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins base_url and the method name without adding a slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        # Checked here so a typo stops start-up with one line instead of a traceback from the engine;
        # the message never repeats the URL, which may hold a password.
        try:
            backend = make_url(normalize_url(value)).get_backend_name()
        except ArgumentError:
            raise ValueError(
                "not a database URL; use sqlite:///path.db or postgres://user:pw@host/db"
            ) from None
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"{backend} is not supported; use SQLite or PostgreSQL")
        return normalize_url(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Berlin") from error
        return value

    def require_slack(self) -> tuple[str, str]:
        """The bot token and signing secret, or a one-line `SettingsError` naming what is missing."""
        for field in ("slack_bot_token", "slack_signing_secret"):
            value = getattr(self, field)
            if value is None or not value.get_secret_value().strip():
                raise SettingsError(
                    f"{field.upper()} is not set: put {WHERE_TO_GET[field]} in the environment or .env"
                )
        assert self.slack_bot_token is not None
        assert self.slack_signing_secret is not None
        return self.slack_bot_token.get_secret_value(), self.slack_signing_secret.get_secret_value()

    @property
    def socket_mode(self) -> bool:
        """True when Slack Socket Mode is configured instead of HTTP."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line meant for the operator."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line that names the setting and its source."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        name = field.upper()
        if first["type"] == "missing":
            where = WHERE_TO_GET.get(field, "see .env.example")
            raise SettingsError(f"{name} is not set: put {where} in the environment or .env") from None
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name} is invalid: {reason}") from None

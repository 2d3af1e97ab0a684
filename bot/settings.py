"""Every setting Nudgebot reads, from the environment or `.env`, in one place."""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    # When the weekly managers' digest is posted: a weekday and a time, in DIGEST_TIMEZONE
    # (DEFAULT_TIMEZONE when unset). See README, "The managers' digest".
    digest_schedule: str = "mon 09:00"
    digest_timezone: str | None = None
    # Slack user ids of the managers (comma-separated): they see team data and may ask for the digest.
    manager_ids: str = ""
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
        return _zone_name(value)

    @field_validator("digest_timezone")
    @classmethod
    def _known_or_unset_zone(cls, value: str | None) -> str | None:
        # Left empty in .env, it means "the default zone".
        return _zone_name(value) if value and value.strip() else None

    @field_validator("digest_schedule")
    @classmethod
    def _weekly(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("manager_ids")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        for user in _split_ids(value):
            if not _USER_ID.match(user):
                raise ValueError(f"{user!r} is not a Slack user id; use ids like U012AB3CD, comma-separated")
        return value

    @property
    def managers(self) -> frozenset[str]:
        """The managers' user ids."""
        return frozenset(_split_ids(self.manager_ids))

    @property
    def digest_zone(self) -> str:
        """The zone the digest schedule is read in."""
        return self.digest_timezone or self.default_timezone

    @property
    def digest_at(self) -> tuple[int, time]:
        """The digest's weekday (0 = Monday) and local time."""
        return parse_schedule(self.digest_schedule)

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


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCHEDULE = re.compile(r"^\s*([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Berlin") from error
    return value


def _split_ids(value: str) -> list[str]:
    return [part.strip() for part in value.replace(" ", ",").split(",") if part.strip()]


def parse_schedule(value: str) -> tuple[int, time]:
    """`mon 09:00` → (0, 09:00); a ValueError with an example otherwise."""
    match = _SCHEDULE.match(value)
    day = match[1].lower() if match else ""
    if match is None or day not in WEEKDAYS or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValueError(
            f"{value!r} is not a weekly time; use a weekday and a 24-hour time, like 'mon 09:00'"
        )
    return WEEKDAYS.index(day), time(int(match[2]), int(match[3]))


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

"""Every setting Nudgebot reads, from the environment or `.env`, in one place."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
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
    "teams_app_id": "the bot's Microsoft App ID (the Entra app registration's Application (client) ID)",
    "teams_app_password": "a client secret of the bot's Entra app registration ('Certificates & secrets')",
    "teams_tenant_id": "your Microsoft 365 tenant (Directory) ID, on the Entra app registration's Overview",
    "link_secret": (
        "a long random string of your own (python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
        "which signs the links in clients' e-mails"
    ),
}
SLACK_SETTINGS = ("slack_bot_token", "slack_signing_secret")
TEAMS_SETTINGS = ("teams_app_id", "teams_app_password", "teams_tenant_id")
NO_PLATFORM = (
    "no chat platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, "
    "or TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID for Microsoft Teams"
)
# Bot Framework's OpenID metadata: where the keys that sign Teams' requests are published.
BOT_FRAMEWORK_OPENID = "https://login.botframework.com/v1/.well-known/openidconfiguration"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Nudgebot's configuration; tokens are secrets and never printed."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Optional here so `python -m bot migrate` runs without them; `require_slack()` guards serving.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Microsoft Teams is on when all three are set (a single-tenant bot registration).
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    teams_openid_url: str = BOT_FRAMEWORK_OPENID
    # Where the bot asks Microsoft Entra for its own token; tests point it at a loopback fake.
    teams_login_url: str = "https://login.microsoftonline.com"
    # Hosts besides Microsoft's Bot Connector hosts that the bot's token may be sent to (tests only).
    teams_connector_hosts: str = ""
    # Microsoft's Agents Playground on this machine, with no tenant: see README.
    teams_local_playground: bool = False
    database_url: str = "sqlite:///nudgebot.db"
    port: int = Field(default=3000, ge=0, le=65535)
    # Unset: every interface, or only loopback with the local Playground (which sends no tokens).
    host: str | None = None
    digest_channel: str | None = None
    # When the weekly managers' digest is posted: a weekday and a time, in DIGEST_TIMEZONE
    # (DEFAULT_TIMEZONE when unset). See README, "The managers' digest".
    digest_schedule: str = "mon 09:00"
    digest_timezone: str | None = None
    # Slack user ids of the managers (comma-separated): they see team data and may ask for the digest.
    manager_ids: str = ""
    run_jobs: bool = True
    auto_migrate: bool = True
    log_level: LogLevel = "INFO"
    # The zone used for a technician until Slack tells us theirs (see README, "Time zones").
    default_timezone: str = "UTC"
    # Where clients' one-click links (acknowledge a notice, "how did we do?") point: the address Slack or
    # Teams already reaches the bot at. Unset (Socket Mode behind a firewall): e-mails carry no links.
    public_url: str | None = None
    # Signs those links (HMAC); required with PUBLIC_URL. Changing it makes links already sent invalid.
    link_secret: SecretStr | None = None
    # Proxies whose X-Forwarded-For is believed for a link's client address (rate limits): a comma-separated
    # list of addresses, or * behind a platform's router (Heroku).
    forwarded_allow_ips: str = "127.0.0.1"
    # How long a command may wait for the database before we ack "Working on it…" and answer on the
    # response_url instead; Slack gives up after 3 s, so this leaves room for the network.
    ack_budget_s: float = Field(default=2.0, gt=0, le=2.5)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins base_url and the method name without adding a slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("teams_login_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("teams_app_id", "teams_tenant_id")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        # Microsoft's ids are GUIDs, which Teams sends in lower case whatever case they were copied in.
        return value.strip().lower() or None if value is not None else None

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
            raise ValueError(
                f"{value!r} is not a web address; use the address the bot is reached at, like "
                "https://nudgebot.example.com"
            )
        return value

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
            if not _USER_ID.match(user) and not _OBJECT_ID.match(user):
                raise ValueError(
                    f"{user!r} is neither a Slack user id nor a Microsoft Entra object id; use ids like "
                    "U012AB3CD or 8a6c5f2e-0b1d-4c3e-9f7a-2d4b6c8e0a1f, comma-separated"
                )
        return value

    @property
    def managers(self) -> frozenset[str]:
        """The managers' user ids (Entra object ids in lower case, as Teams sends them)."""
        return frozenset(
            user.lower() if _OBJECT_ID.match(user) else user for user in _split_ids(self.manager_ids)
        )

    @property
    def digest_zone(self) -> str:
        """The zone the digest schedule is read in."""
        return self.digest_timezone or self.default_timezone

    @property
    def digest_at(self) -> tuple[int, time]:
        """The digest's weekday (0 = Monday) and local time."""
        return parse_schedule(self.digest_schedule)

    def _given(self, name: str) -> bool:
        value = getattr(self, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return bool(value and str(value).strip())

    def _require(self, names: tuple[str, ...]) -> None:
        for name in names:
            if not self._given(name):
                raise SettingsError(
                    f"{name.upper()} is not set: put {WHERE_TO_GET[name]} in the environment or .env"
                )

    def require_slack(self) -> tuple[str, str]:
        """The bot token and signing secret, or a one-line `SettingsError` naming what is missing."""
        self._require(SLACK_SETTINGS)
        assert self.slack_bot_token is not None
        assert self.slack_signing_secret is not None
        return self.slack_bot_token.get_secret_value(), self.slack_signing_secret.get_secret_value()

    @property
    def slack_on(self) -> bool:
        """Slack is served when any of its settings is given (`require_platforms` insists on all)."""
        return any(self._given(name) for name in SLACK_SETTINGS)

    @property
    def teams_on(self) -> bool:
        """Teams is served when any of its settings is given, or with the local Playground."""
        return self.teams_local_playground or any(self._given(name) for name in TEAMS_SETTINGS)

    def require_teams(self) -> TeamsCredentials:
        """The bot's registration, or a one-line `SettingsError` naming what is missing.

        With the local Playground no registration is needed; any given is still used for the bot's id.
        """
        if not self.teams_local_playground:
            self._require(TEAMS_SETTINGS)
        password = self.teams_app_password.get_secret_value() if self.teams_app_password else ""
        return TeamsCredentials(
            app_id=self.teams_app_id or PLAYGROUND_APP_ID,
            password=password,
            tenant_id=self.teams_tenant_id or "",
            playground=self.teams_local_playground,
        )

    def require_platforms(self) -> tuple[str, ...]:
        """The platforms this deployment serves ("slack", "teams"), each fully configured; a one-line
        `SettingsError` when one is half set up or none is."""
        platforms = []
        if self.slack_on:
            self.require_slack()
            platforms.append("slack")
        if self.teams_on:
            self.require_teams()
            self.require_loopback_for_playground()
            platforms.append("teams")
        if not platforms:
            raise SettingsError(NO_PLATFORM)
        self.require_links()
        return tuple(platforms)

    @property
    def listen_host(self) -> str:
        """The interface to listen on (HOST, else every interface, or loopback for the Playground)."""
        if self.host:
            return self.host
        return "127.0.0.1" if self.teams_local_playground else "0.0.0.0"

    def require_loopback_for_playground(self) -> None:
        """The Playground's requests carry no token, so the bot must not be reachable from elsewhere."""
        if self.teams_local_playground and not _is_loopback(self.listen_host):
            raise SettingsError(
                f"TEAMS_LOCAL_PLAYGROUND=true accepts requests without a token, so it only listens on "
                f"this machine: set HOST=127.0.0.1 (not {self.listen_host}) or turn the Playground off"
            )

    @property
    def connector_hosts(self) -> tuple[str, ...]:
        """The extra hosts of TEAMS_CONNECTOR_HOSTS, lower-cased."""
        return tuple(host.lower() for host in _split_ids(self.teams_connector_hosts))

    def require_links(self) -> tuple[str, str] | None:
        """PUBLIC_URL and LINK_SECRET when clients' e-mails carry links, None when they don't; a one-line
        `SettingsError` when PUBLIC_URL is set without a secret (or a secret too short to be one)."""
        if self.public_url is None:
            return None
        self._require(("link_secret",))
        assert self.link_secret is not None
        secret = self.link_secret.get_secret_value().strip()
        if len(secret) < MIN_LINK_SECRET:
            raise SettingsError(
                f"LINK_SECRET is too short to sign links ({len(secret)} characters): put "
                f"{WHERE_TO_GET['link_secret']} in the environment or .env"
            )
        return self.public_url, secret

    @property
    def socket_mode(self) -> bool:
        """True when Slack Socket Mode is configured instead of HTTP."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())


# Anything shorter can be guessed offline from one signed link.
MIN_LINK_SECRET = 16
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SCHEDULE = re.compile(r"^\s*([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The bot's id when the Playground is used without a registration: it checks no token and no id.
PLAYGROUND_APP_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class TeamsCredentials:
    """The bot's Microsoft registration: app id, client secret and (single) tenant."""

    app_id: str
    password: str = field(repr=False)
    tenant_id: str
    playground: bool = False


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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

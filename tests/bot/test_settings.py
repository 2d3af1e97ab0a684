"""Settings come from the environment or `.env`; every problem is one line naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from storage.db import make_engine

NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "PORT",
    "HOST",
    "DIGEST_CHANNEL",
    "RUN_JOBS",
    "AUTO_MIGRATE",
    "LOG_LEVEL",
    "DEFAULT_TIMEZONE",
    "ACK_BUDGET_S",
    "PUBLIC_URL",
    "LINK_SECRET",
)
TOKEN = "xoxb-111-222-abc"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the developer's environment, and a working directory without a `.env`."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_line(problem: pytest.ExceptionInfo[SettingsError]) -> str:
    message = str(problem.value)
    assert "\n" not in message
    return message


def test_defaults_need_nothing_but_serving_needs_the_token_and_secret() -> None:
    settings = load_settings()

    assert (settings.port, settings.database_url, settings.run_jobs, settings.auto_migrate) == (
        3000,
        "sqlite:///nudgebot.db",
        True,
        True,
    )
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.ack_budget_s == 2.0
    assert not settings.socket_mode


def test_a_missing_bot_token_names_it_and_where_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)

    with pytest.raises(SettingsError) as problem:
        load_settings().require_slack()

    assert one_line(problem) == (
        "SLACK_BOT_TOKEN is not set: put the Bot User OAuth Token (xoxb-…) on your Slack app's "
        "'OAuth & Permissions' page in the environment or .env"
    )


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_signing_secret_is_missing(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", blank)

    with pytest.raises(SettingsError) as problem:
        load_settings().require_slack()

    assert one_line(problem) == (
        "SLACK_SIGNING_SECRET is not set: put the Signing Secret on your Slack app's "
        "'Basic Information' page in the environment or .env"
    )


def test_token_and_secret_are_read_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)

    settings = load_settings()

    assert settings.require_slack() == (TOKEN, SECRET)
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert TOKEN not in shown
        assert SECRET not in shown


@pytest.mark.parametrize(
    ("port", "reason"),
    [
        ("abc", "Input should be a valid integer, unable to parse string as an integer"),
        ("70000", "Input should be less than or equal to 65535"),
        ("-1", "Input should be greater than or equal to 0"),
        ("3000.5", "Input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_an_invalid_port_is_one_line_naming_port(
    monkeypatch: pytest.MonkeyPatch, port: str, reason: str
) -> None:
    monkeypatch.setenv("PORT", port)

    with pytest.raises(SettingsError) as problem:
        load_settings()

    assert one_line(problem) == f"PORT is invalid: {reason}"


@pytest.mark.parametrize(
    ("name", "value", "starts"),
    [
        ("LOG_LEVEL", "chatty", "LOG_LEVEL is invalid: "),
        ("RUN_JOBS", "perhaps", "RUN_JOBS is invalid: "),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE is invalid: "),
        ("ACK_BUDGET_S", "5", "ACK_BUDGET_S is invalid: "),
        ("DATABASE_URL", "not a url", "DATABASE_URL is invalid: "),
        ("DATABASE_URL", "mysql://u@db/nudgebot", "DATABASE_URL is invalid: "),
    ],
)
def test_other_invalid_settings_are_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, starts: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as problem:
        load_settings()

    assert one_line(problem).startswith(starts)


def test_an_invalid_database_url_is_not_echoed_with_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://nudge:hunter2@db/nudgebot")

    with pytest.raises(SettingsError) as problem:
        load_settings()

    assert "hunter2" not in one_line(problem)


@pytest.mark.parametrize(
    "url",
    ["postgres://nudge:pw@db.example:5432/nudgebot", "postgresql://nudge:pw@db.example:5432/nudgebot"],
)
def test_a_heroku_style_postgres_url_is_accepted_and_uses_psycopg(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    settings = load_settings()

    assert settings.database_url == "postgresql+psycopg://nudge:pw@db.example:5432/nudgebot"
    engine = make_engine(settings.database_url)
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert (engine.url.host, engine.url.port, engine.url.database) == ("db.example", 5432, "nudgebot")
    finally:
        engine.dispose()


def test_values_are_tidied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("RUN_JOBS", "false")
    monkeypatch.setenv("AUTO_MIGRATE", "0")

    settings = load_settings()

    assert settings.log_level == "DEBUG"
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert (settings.run_jobs, settings.auto_migrate) == (False, False)


def test_dot_env_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN={TOKEN}\nPORT=4000\nDIGEST_CHANNEL=C999\n")
    monkeypatch.setenv("PORT", "5000")

    settings = load_settings()

    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == TOKEN
    assert (settings.port, settings.digest_channel) == (5000, "C999")


def test_socket_mode_is_on_only_with_an_app_token() -> None:
    assert Settings(_env_file=None, slack_app_token="xapp-1-A111-abc").socket_mode  # type: ignore[call-arg,arg-type]
    assert not Settings(_env_file=None, slack_app_token="").socket_mode  # type: ignore[call-arg,arg-type]


def test_public_url_needs_a_link_secret_of_some_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    assert load_settings().require_links() is None
    monkeypatch.setenv("PUBLIC_URL", "https://nudgebot.example.com/")

    with pytest.raises(SettingsError) as missing:
        load_settings().require_platforms()
    assert one_line(missing).startswith("LINK_SECRET is not set: put a long random string of your own (")

    monkeypatch.setenv("LINK_SECRET", "short")
    with pytest.raises(SettingsError) as short:
        load_settings().require_platforms()
    assert one_line(short).startswith("LINK_SECRET is too short to sign links (5 characters): put a long")

    monkeypatch.setenv("LINK_SECRET", "x" * 32)
    assert load_settings().require_links() == ("https://nudgebot.example.com", "x" * 32)
    assert "x" * 32 not in repr(load_settings())


def test_public_url_must_be_a_web_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "nudgebot.example.com")

    with pytest.raises(SettingsError) as problem:
        load_settings()

    assert one_line(problem) == (
        "PUBLIC_URL is invalid: 'nudgebot.example.com' is not a web address; use the address the bot is "
        "reached at, like https://nudgebot.example.com"
    )

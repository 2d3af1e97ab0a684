"""`python -m bot` and `python -m jobs` with Microsoft Teams, as an operator runs them: real processes, a
clean environment, the fake Microsoft services on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ProcessedRequest, Visit
from storage.repositories import count_rows
from tests.bot.test_entrypoints import (
    bot_process,
    environment,
    free_port,
    health,
    heroku_style,
    no_dot_env_in_the_repo,  # noqa: F401 -- an autouse fixture: a .env in the repository would leak in
    only_line,
    run,
    stop,
)
from tests.fakes.microsoft import FakeMicrosoft
from tests.teams_client import ANA_CHAT, APP_ID, APP_PASSWORD, TENANT, TeamsClient, text_of

VISIT = "visit Acme Dental 1h30 replaced fuser; todo: order toner"
TEAMS_ONLY = {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": APP_PASSWORD, "TEAMS_TENANT_ID": TENANT}
# Where nothing listens: a process that tried to reach Microsoft there would fail loudly.
NOWHERE = "http://127.0.0.1:9"
ENTRA_OBJECT_ID = "8a6c5f2e-0b1d-4c3e-9f7a-2d4b6c8e0a1f"


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """Where a fresh SQLite database may be created (and, when start-up is refused, must not be)."""
    return tmp_path / "fresh.db"


@pytest.fixture
def base_env(tmp_path: Path, sqlite_file: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{sqlite_file}"}


@pytest.fixture
def microsoft() -> Iterator[FakeMicrosoft]:
    """Bot Framework's keys, Entra's token endpoint and the Bot Connector, on a loopback port."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT, client_secret=APP_PASSWORD) as fake:
        yield fake


def pointed_at(microsoft: FakeMicrosoft) -> dict[str, str]:
    """Teams settings for the bot's registration, with Microsoft's services played by the fake."""
    return {
        **TEAMS_ONLY,
        "TEAMS_OPENID_URL": microsoft.openid_url,
        "TEAMS_LOGIN_URL": microsoft.login_endpoint,
        "TEAMS_CONNECTOR_HOSTS": "127.0.0.1",
    }


# -- Start-up refused ------------------------------------------------------------------------------------


def test_with_no_chat_settings_at_all_start_up_stops_with_one_line_naming_both_platforms(
    base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", env=environment(**base_env))

    assert done.returncode == 2
    assert only_line(done.stderr) == (
        "nudgebot: no chat platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, "
        "or TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID for Microsoft Teams"
    )
    assert done.stdout == ""
    assert not sqlite_file.exists()


HALF_CONFIGURED = {
    "only the app id": (
        {"TEAMS_APP_ID": APP_ID},
        "nudgebot: TEAMS_APP_PASSWORD is not set: put a client secret of the bot's Entra app registration "
        "('Certificates & secrets') in the environment or .env",
    ),
    "the app id and password": (
        {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": APP_PASSWORD},
        "nudgebot: TEAMS_TENANT_ID is not set: put your Microsoft 365 tenant (Directory) ID, on the Entra "
        "app registration's Overview in the environment or .env",
    ),
    "the password and tenant": (
        {"TEAMS_APP_PASSWORD": APP_PASSWORD, "TEAMS_TENANT_ID": TENANT},
        "nudgebot: TEAMS_APP_ID is not set: put the bot's Microsoft App ID (the Entra app registration's "
        "Application (client) ID) in the environment or .env",
    ),
    "a blank tenant": (
        {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": APP_PASSWORD, "TEAMS_TENANT_ID": "  "},
        "nudgebot: TEAMS_TENANT_ID is not set: put your Microsoft 365 tenant (Directory) ID, on the Entra "
        "app registration's Overview in the environment or .env",
    ),
}


@pytest.mark.parametrize(("given", "line"), HALF_CONFIGURED.values(), ids=HALF_CONFIGURED.keys())
def test_teams_half_configured_stops_start_up_with_one_line_naming_what_is_missing(
    given: dict[str, str], line: str, base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", env=environment(**base_env, **given))

    assert done.returncode == 2
    assert only_line(done.stderr) == line
    assert APP_PASSWORD not in done.stderr
    assert not sqlite_file.exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_the_local_playground_refuses_to_listen_beyond_this_machine(
    host: str, base_env: dict[str, str], sqlite_file: Path
) -> None:
    env = environment(**base_env, TEAMS_LOCAL_PLAYGROUND="true", HOST=host)

    done = run("bot", env=env)

    assert done.returncode == 2
    assert only_line(done.stderr) == (
        "nudgebot: TEAMS_LOCAL_PLAYGROUND=true accepts requests without a token, so it only listens on "
        f"this machine: set HOST=127.0.0.1 (not {host}) or turn the Playground off"
    )
    assert not sqlite_file.exists()


@pytest.mark.parametrize(
    "managers",
    [ENTRA_OBJECT_ID, ENTRA_OBJECT_ID.upper(), f"U012AB3CD, {ENTRA_OBJECT_ID.upper()}"],
    ids=["an Entra object id", "in upper case", "beside a Slack id"],
)
def test_manager_ids_may_be_entra_object_ids(
    managers: str, base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", "migrate", env=environment(**base_env, **TEAMS_ONLY, MANAGER_IDS=managers))

    assert done.returncode == 0, done.stderr
    assert "MANAGER_IDS" not in done.stderr
    assert sqlite_file.exists()


@pytest.mark.parametrize(
    "wrong",
    ["not-an-id", ENTRA_OBJECT_ID[:-1], "{" + ENTRA_OBJECT_ID + "}"],
    ids=["garbage", "short", "braced"],
)
def test_a_manager_id_of_neither_kind_stops_start_up_with_one_line_naming_both_kinds(
    wrong: str, base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", env=environment(**base_env, **TEAMS_ONLY, MANAGER_IDS=f"U012AB3CD,{wrong}"))

    assert done.returncode == 2
    assert only_line(done.stderr) == (
        f"nudgebot: MANAGER_IDS is invalid: {wrong!r} is neither a Slack user id nor a Microsoft Entra "
        "object id; use ids like U012AB3CD or 8a6c5f2e-0b1d-4c3e-9f7a-2d4b6c8e0a1f, comma-separated"
    )
    assert not sqlite_file.exists()


# -- Serving ----------------------------------------------------------------------------------------------


def test_the_bot_answers_a_signed_visit_from_teams_and_stops_cleanly_on_sigterm(
    tmp_path: Path, database_url: str, microsoft: FakeMicrosoft, session: Session
) -> None:
    port = free_port()
    env = environment(
        HOME=str(tmp_path),
        DATABASE_URL=heroku_style(database_url),
        PORT=str(port),
        HOST="127.0.0.1",
        **pointed_at(microsoft),
    )
    with bot_process(env) as process:
        url = f"http://127.0.0.1:{port}"
        assert health(process, url) == "ok: teams"
        teams = TeamsClient(url, microsoft)
        try:
            body = teams.prepare("personal_message", text=VISIT)
            incoming = microsoft.sign(body["serviceUrl"])
            response = teams.post(body, authorization=f"Bearer {incoming}")
            card = teams.card_sent(ANA_CHAT)
        finally:
            teams.close()
        stderr = stop(process)

    assert (response.status_code, response.text) == (200, "")
    assert "Logged 1h30 at Acme Dental." in text_of(card)
    assert session.scalars(select(Visit.work_done)).all() == ["replaced fuser"]
    # The reply carried a token the fake's Entra issued to the bot for its app id and secret.
    [sent] = microsoft.sent(ANA_CHAT)
    assert sent.token in microsoft.issued_tokens
    assert [secret for secret in [APP_PASSWORD, incoming, *microsoft.issued_tokens] if secret in stderr] == []


@pytest.fixture
def playground_connector() -> Iterator[FakeMicrosoft]:
    """The Playground's mock Bot Connector on loopback: it checks no token."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT, client_secret="unused", require_token=False) as fake:
        yield fake


def test_the_local_playground_listens_on_loopback_only_and_answers_without_a_token(
    base_env: dict[str, str], playground_connector: FakeMicrosoft, session: Session
) -> None:
    port = free_port()
    env = environment(**base_env, TEAMS_LOCAL_PLAYGROUND="true", PORT=str(port))
    with bot_process(env) as process:
        url = f"http://127.0.0.1:{port}"
        assert health(process, url) == "ok: teams (local Playground)"
        # Bound to 127.0.0.1 only: the same port on another address of this machine is closed.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()
        playground = TeamsClient(url, playground_connector)
        try:
            response = playground.post(
                playground.prepare("personal_message", text=VISIT),
                authorization=None,
                **{"x-ms-agents-playground": "true"},
            )
            card = playground.card_sent(ANA_CHAT)
        finally:
            playground.close()
        stderr = stop(process)

    assert (response.status_code, response.text) == (200, "")
    assert "Logged 1h30 at Acme Dental." in text_of(card)
    assert f"serving teams on 127.0.0.1:{port}" in stderr
    assert playground_connector.of_kind("metadata", "keys", "token") == []


# -- Jobs -------------------------------------------------------------------------------------------------


def test_jobs_run_once_with_only_teams_configured_runs_and_exits_0(
    tmp_path: Path, database_url: str, session: Session
) -> None:
    now = datetime.now(UTC)
    session.add_all(
        [
            ProcessedRequest(key="teams:old", received_at=now - timedelta(days=2)),
            ProcessedRequest(key="teams:new", received_at=now - timedelta(hours=1)),
        ]
    )
    session.commit()
    # Nothing is due, so nothing is sent: Microsoft's addresses point where nothing listens.
    env = environment(
        HOME=str(tmp_path),
        DATABASE_URL=heroku_style(database_url),
        TEAMS_OPENID_URL=NOWHERE + "/v1/.well-known/openidconfiguration",
        TEAMS_LOGIN_URL=NOWHERE,
        **TEAMS_ONLY,
    )

    # Retention is real time whatever the as-of instant: only the key really two days old goes.
    done = run("jobs", "run-once", "--at", (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), env=env)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert APP_PASSWORD not in done.stderr
    assert list(session.scalars(select(ProcessedRequest.key))) == ["teams:new"]
    assert count_rows(session, Visit) == 0

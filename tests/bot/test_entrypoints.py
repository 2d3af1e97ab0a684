"""`python -m bot` and `python -m jobs` as an operator runs them: real processes, a clean environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from handlers.slack.standin import SlackStandIn
from storage.db import make_engine
from storage.migrate import current_revision, head_revision
from storage.models import ProcessedRequest
from tests.harness import BOT_TOKEN, SIGNING_SECRET, SlackClient

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 30


@pytest.fixture(autouse=True)
def no_dot_env_in_the_repo() -> None:
    """The processes run in the repository, where a developer's `.env` would be read."""
    if (REPO / ".env").exists():
        pytest.skip("a .env in the repository root would leak into these processes")


def environment(**settings: str) -> dict[str, str]:
    """An environment built from scratch: nothing from the developer's shell but PATH."""
    home = settings.pop("HOME")
    return {"PATH": os.environ["PATH"], "HOME": home, **settings}


def run(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m module args…` in the repository and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """Where a fresh SQLite database may be created."""
    return tmp_path / "fresh.db"


@pytest.fixture
def base_env(tmp_path: Path, sqlite_file: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{sqlite_file}"}


def only_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_missing_bot_token_stops_start_up_with_one_line(
    base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", env=environment(**base_env, SLACK_SIGNING_SECRET=SIGNING_SECRET))

    assert done.returncode == 2
    assert only_line(done.stderr) == (
        "nudgebot: SLACK_BOT_TOKEN is not set: put the Bot User OAuth Token (xoxb-…) on your Slack app's "
        "'OAuth & Permissions' page in the environment or .env"
    )
    assert done.stdout == ""
    assert not sqlite_file.exists()


def test_a_missing_signing_secret_stops_start_up_with_one_line(
    base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", env=environment(**base_env, SLACK_BOT_TOKEN=BOT_TOKEN))

    assert done.returncode == 2
    assert only_line(done.stderr) == (
        "nudgebot: SLACK_SIGNING_SECRET is not set: put the Signing Secret on your Slack app's "
        "'Basic Information' page in the environment or .env"
    )
    assert not sqlite_file.exists()


def test_an_invalid_port_stops_start_up_with_one_line_naming_port(base_env: dict[str, str]) -> None:
    env = environment(**base_env, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT="80a")

    done = run("bot", env=env)

    assert done.returncode == 2
    assert only_line(done.stderr).startswith("nudgebot: PORT is invalid: ")


def test_a_database_that_cannot_be_opened_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = environment(HOME=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/nudgebot.db")

    done = run("bot", "migrate", env=env)

    assert done.returncode == 2
    line = only_line(done.stderr)
    assert line.startswith("nudgebot: DATABASE_URL ")
    assert "unable to open database file" in line


def test_migrate_creates_the_schema_in_a_fresh_sqlite_file_with_only_a_database_url(
    base_env: dict[str, str], sqlite_file: Path
) -> None:
    done = run("bot", "migrate", env=environment(**base_env))

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    engine = make_engine(f"sqlite:///{sqlite_file}")
    try:
        assert current_revision(engine) == head_revision()
        assert {"workspaces", "technicians", "clients", "visits", "promises", "processed_requests"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def heroku_style(url: str) -> str:
    """The same database as Heroku writes it: `postgres://`, no driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return "postgres://" + parsed.render_as_string(hide_password=False).split("://", 1)[1]


def test_jobs_run_once_at_an_instant_purges_request_keys_old_in_real_time_and_exits_0(
    tmp_path: Path, database_url: str, session: Session
) -> None:
    now = datetime.now(UTC)
    session.add_all(
        [
            ProcessedRequest(key="command:old", received_at=now - timedelta(days=2)),
            ProcessedRequest(key="command:new", received_at=now - timedelta(hours=1)),
        ]
    )
    session.commit()
    env = environment(
        HOME=str(tmp_path),
        DATABASE_URL=heroku_style(database_url),
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        # Nothing is due, so nothing is sent: an address where nothing listens proves it.
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )

    # As of two days ahead: what is due follows --at, but retention stays on real time.
    at = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = run("jobs", "run-once", "--at", at, env=env)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert list(session.scalars(select(ProcessedRequest.key))) == ["command:new"]


def test_a_token_slack_rejects_stops_start_up_with_one_line(
    base_env: dict[str, str], fake_slack: SlackStandIn
) -> None:
    env = environment(
        **base_env,
        SLACK_BOT_TOKEN="xoxb-revoked-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.base_url,
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )

    done = run("bot", env=env)

    assert done.returncode == 2
    assert only_line(done.stderr) == (
        "nudgebot: Slack rejected SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token again"
    )
    assert [call.api_method for call in fake_slack.calls()] == ["auth.test"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serving(
    base_env: dict[str, str], fake_slack: SlackStandIn
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m bot` serving HTTP on a free loopback port, with the scheduler running in-process."""
    port = free_port()
    env = environment(
        **base_env,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.base_url,
        PORT=str(port),
        HOST="127.0.0.1",
    )
    with bot_process(env) as process:
        yield process, f"http://127.0.0.1:{port}"


def health(process: subprocess.Popen[str], url: str) -> str:
    """What /healthz says once the bot answers; fails with what it printed if it exits or never answers."""
    deadline = time.monotonic() + TIMEOUT_S
    with httpx.Client(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the bot exited with {process.returncode}: {process.communicate()[1]}")
            try:
                response = client.get("/healthz")
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            assert response.status_code == 200, response.text
            return response.text
    raise AssertionError("the bot did not answer /healthz in time")


@contextmanager
def bot_process(
    env: dict[str, str], *args: str, command: list[str] | None = None, cwd: Path = REPO
) -> Iterator[subprocess.Popen[str]]:
    """`python -m bot args…` (or `command`) running with `env`; killed at the end if still running."""
    with subprocess.Popen(
        command or [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a platform stops the bot; returns what it wrote to stderr, after checking it exited 0."""
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stderr


def test_the_bot_serves_a_signed_visit_and_stops_cleanly_on_sigterm(
    serving: tuple[subprocess.Popen[str], str], fake_slack: SlackStandIn
) -> None:
    process, url = serving
    assert health(process, url) == "ok: slack"
    slack = SlackClient(url, fake_slack)
    try:
        response = slack.command("Acme Dental 1h30 replaced fuser; todo: order toner")
    finally:
        slack.close()

    assert response.status_code == 200
    assert response.json()["text"] == "Logged 1h30 at Acme Dental"

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)

    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert BOT_TOKEN not in stderr
    assert SIGNING_SECRET not in stderr


def test_jobs_run_once_with_a_bad_instant_says_what_it_wants(base_env: dict[str, str]) -> None:
    done = run("jobs", "run-once", "--at", "next tuesday", env=environment(**base_env))

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "python -m jobs run-once: error: argument --at: 'next tuesday' is not an ISO-8601 instant; "
        "for example 2026-11-23T15:00:00Z"
    )


def test_the_scheduler_process_stops_cleanly_on_sigterm(base_env: dict[str, str]) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "jobs"],
        cwd=REPO,
        env=environment(
            **base_env,
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL="http://127.0.0.1:9/api/",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as process:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if "Scheduler started" in line:
                break
        else:
            raise AssertionError(f"the scheduler did not start: {''.join(seen)}")

        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=10)

    assert process.returncode == 0, rest
    assert "Traceback" not in rest
    assert "scheduler stopped" in rest

"""The sandbox as a new user starts it: `scripts/run` with nothing configured, and `python -m bot sandbox`."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.bot.test_entrypoints import (
    TIMEOUT_S,
    bot_process,
    environment,
    free_port,
    health,
    no_dot_env_in_the_repo,
    stop,
)
from tests.handlers.slack.sandbox.page import PageClient

__all__ = ["no_dot_env_in_the_repo"]  # the autouse fixture: a developer's .env must not leak in


def page_up(process: subprocess.Popen[str], url: str) -> str:
    """The page's HTML once the sandbox answers; fails with what the process printed if it never does."""
    assert health(process, url) == "ok: slack"
    response = httpx.get(f"{url}/", timeout=5)
    assert response.status_code == 200
    return response.text


def test_scripts_run_with_nothing_configured_starts_the_sandbox_and_says_where_in_one_line(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = environment(HOME=str(tmp_path))
    command = ["scripts/run", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'tried.db'}"]
    with bot_process(env, command=command) as process:
        assert "Nudgebot sandbox" in page_up(process, f"http://127.0.0.1:{port}")
        stderr = stop(process)

    assert stderr.splitlines() == [
        f"No Slack or Teams settings: starting the sandbox at http://127.0.0.1:{port} — "
        "open it in your browser"
    ]
    assert (tmp_path / "tried.db").exists()


def test_the_sandbox_keeps_to_its_own_database_and_loopback_whatever_is_configured(tmp_path: Path) -> None:
    port = free_port()
    configured = tmp_path / "production.db"
    env = environment(
        HOME=str(tmp_path),
        DATABASE_URL=f"sqlite:///{configured}",
        SLACK_BOT_TOKEN="xoxb-configured-for-real-slack",
        SLACK_SIGNING_SECRET="configured-secret",
        # Nothing listens here: the sandbox must not call the configured Slack.
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
        HOST="0.0.0.0",
        PORT=str(free_port()),
    )
    command = [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--demo"]
    url = f"http://127.0.0.1:{port}"
    with bot_process(env, command=command, cwd=tmp_path) as process:
        page_up(process, url)
        # Bound to 127.0.0.1 only: the same port on another loopback address is closed.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()
        page = PageClient(url)
        try:
            page.wait_for("U0KAI", "Sunrise Bakery")
            # The demo's last step: the manager's digest, asked for.
            page.wait_for("U0MO", "Team digest")
            page.type("U0ANA", "/visit Acme Dental 1h fixed the printer")
            shown = page.wait_for("U0ANA", "Logged 1h at Acme Dental")
        finally:
            page.close()
        stderr = stop(process)

    assert "Only visible to you" in shown
    assert stderr.startswith("Nudgebot's sandbox: the real bot with a stand-in for Slack, at ")
    assert (tmp_path / "sandbox.db").exists()
    assert not configured.exists()
    assert "xoxb-configured-for-real-slack" not in stderr


def test_a_port_in_use_is_one_line_that_suggests_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            cwd=tmp_path,
            env=environment(HOME=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"nudgebot: port {port} on 127.0.0.1 is not free (Address already in use): start the sandbox with "
        f"another, for example --port {port + 1}"
    ]
    assert not (tmp_path / "sandbox.db").exists()


def test_log_level_in_the_environment_makes_the_sandbox_tell_more(tmp_path: Path) -> None:
    port = free_port()
    env = environment(HOME=str(tmp_path), LOG_LEVEL="INFO")
    command = [sys.executable, "-m", "bot", "sandbox", "--port", str(port)]
    with bot_process(env, command=command, cwd=tmp_path) as process:
        page_up(process, f"http://127.0.0.1:{port}")
        stderr = stop(process)

    assert "storage.migrate: database schema is at" in stderr
    assert f"serving slack on 127.0.0.1:{port}" in stderr


def test_stopped_while_the_demo_loads_it_exits_0_and_quietly(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--demo"]
    with bot_process(environment(HOME=str(tmp_path)), command=command, cwd=tmp_path) as process:
        page_up(process, f"http://127.0.0.1:{port}")
        # The demo takes a few seconds of commands; the page is up at once, so this lands mid-way.
        stderr = stop(process)

    assert len(stderr.splitlines()) == 1

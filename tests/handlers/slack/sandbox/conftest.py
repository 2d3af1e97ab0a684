"""Fixtures: a sandbox served on a loopback port (on each database backend), and the page's client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.handlers.slack.sandbox.page import PageClient, SandboxServer


@pytest.fixture
def sandbox_server(database_url: str) -> Iterator[SandboxServer]:
    """The sandbox: the real bot, its scheduler, the Slack stand-in and the page, on one port."""
    server = SandboxServer(database_url).start()
    yield server
    server.stop()


@pytest.fixture
def page(sandbox_server: SandboxServer) -> Iterator[PageClient]:
    """Does what the sandbox page does in a browser."""
    client = PageClient(sandbox_server.url)
    yield client
    client.close()

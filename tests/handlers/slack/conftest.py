"""Fixtures for the Slack adapter tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from bot.services import Services
from tests.harness import BotServer


@pytest.fixture
def patient_bot(services: Services) -> Iterator[BotServer]:
    """The bot with a short ack budget (0.2 s), so a held database lock outlasts it quickly."""
    settings = services.settings.model_copy(update={"ack_budget_s": 0.2})
    server = BotServer(dataclasses.replace(services, settings=settings)).start()
    yield server
    server.stop()

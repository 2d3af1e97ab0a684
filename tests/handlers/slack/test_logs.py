"""Secrets stay out of the logs, even at DEBUG for every logger, and rejected bodies are not logged."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.services import Services
from handlers.slack.standin import SlackStandIn
from tests.harness import BOT_TOKEN, SIGNING_SECRET, BotServer, SlackClient, button

TOKEN = re.compile(r"xox[abpre]-[A-Za-z0-9-]+")
FORGED_MARKER = "forged-body-marker-7f3a"


@contextmanager
def debug_everywhere(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG, and records from loggers that don't propagate (uvicorn's) captured too."""
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
    isolated = [logger for logger in loggers if not logger.propagate]
    for logger in isolated:
        logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        for logger in isolated:
            logger.removeHandler(caplog.handler)


def everything_logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """Every record (message, arguments, extras, traceback) and everything written to stdout and stderr."""
    out, err = capfd.readouterr()
    records = [repr(record.__dict__) for record in caplog.records]
    return "\n".join([caplog.text, *records, out, err])


def test_no_token_or_signing_secret_is_logged_and_a_rejected_body_is_not_logged(
    services: Services,
    fake_slack: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    with debug_everywhere(caplog):
        bot = BotServer(services).start()  # start-up's auth.test is logged at DEBUG too
        slack = SlackClient(bot.url, fake_slack)
        try:
            message = slack.command("Acme Dental 1h30 replaced fuser; todo: order toner").json()
            slack.command("Acme Dental send the revised quote by Friday", command="/promise")
            slack.command("", trigger_id="trigger-form")
            fake_slack.fail("views.open", error="expired_trigger_id")
            slack.command("", command="/promise", trigger_id="trigger-expired")
            slack.press(button(message, "Mark follow-up sent"), name="press")
            forged = slack.post(
                slack.command_body(f"Acme Dental 1h {FORGED_MARKER}"),
                signature="v0=" + "0" * 64,
                timestamp=str(int(time.time())),
            )
            fake_slack.wait_for_responses("press")
            fake_slack.wait_for("views.open", count=2)
            fake_slack.wait_for("users.info")
        finally:
            slack.close()
            bot.stop()

    assert forged.status_code == 401
    logged = everything_logged(caplog, capfd)
    assert "Sending a request" in logged, "slack_sdk's DEBUG request log should have been captured"
    assert "rejected a request without a valid Slack signature" in logged
    assert TOKEN.findall(logged) == []
    assert BOT_TOKEN not in logged
    assert SIGNING_SECRET not in logged
    assert FORGED_MARKER not in logged

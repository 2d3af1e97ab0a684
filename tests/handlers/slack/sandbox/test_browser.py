"""The sandbox page in a real browser (headless Chromium from Debian's `chromium`, driven by Playwright).

One story, as a new user would play it: log a visit, see the drafted e-mail and mark it sent, fill in the
`/visit` form wrongly and then rightly, plan and cancel an appointment, move the clock and answer the
reminder that arrives, then be the manager and see the digest with its chart, and App Home. Screenshots
go to build/ (the demo company's, build/sandbox.png, is the README's picture), and what was measured to
build/sandbox-timings.json: the first load and Enter to a rendered answer, reported, never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect, sync_playwright

from tests.handlers.slack.sandbox.page import SandboxServer

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[4]
BUILD = REPO / "build"
CHICAGO = ZoneInfo("America/Chicago")
WAIT_MS = 30_000
CONTACT = '/visit contact "Acme Dental" Jane Roe jane@acmedental.example +1 312 555 0100'
VISIT = "/visit Acme Dental 1h30 replaced the fuser; todo: order toner"


def chromium() -> str:
    """Debian's Chromium (or SANDBOX_CHROMIUM): the test never downloads a browser."""
    found = os.environ.get("SANDBOX_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no Chromium: apt-get install chromium (Debian's package), or set SANDBOX_CHROMIUM")
    return found


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's own sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(f"sqlite:///{tmp_path / 'sandbox.db'}").start()
    yield server
    server.stop()


def next_tuesday_10am() -> datetime:
    day = datetime.now(CHICAGO).date() + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 10, tzinfo=CHICAGO)


def type_in(page: Page, text: str, answer: str) -> None:
    """Type a message, press Enter, and wait for the bot's answer to be rendered."""
    page.fill("#message", text)
    page.press("#message", "Enter")
    expect(page.locator("#pane")).to_contain_text(answer, timeout=WAIT_MS)


def press(page: Page, label: str, within: str = "#pane") -> None:
    page.locator(f"{within} .bk-button", has_text=label).last.click()


def test_a_whole_story_in_the_browser(browser: Browser, sandbox: SandboxServer) -> None:
    BUILD.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda message: _console(message, problems))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: _outside(request, sandbox.url, elsewhere))

    page.goto(sandbox.url)
    expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=WAIT_MS)
    expect(page.locator("#title")).to_have_text("Nudgebot")

    # The clock, moved to a working Tuesday morning by the date-and-time field.
    tuesday = next_tuesday_10am()
    page.fill("#clock-at", tuesday.strftime("%Y-%m-%dT%H:%M"))
    page.click("#clock-to button")
    expect(page.locator("#clock")).to_contain_text(f"{tuesday:%a} {tuesday.day} {tuesday:%b %Y}, 10:0")

    # A visit, and the drafted e-mail with a mailto link; marked sent, the draft is replaced.
    type_in(page, CONTACT, "Saved the contact for Acme Dental")
    type_in(page, VISIT, "Here's the follow-up e-mail for Jane Roe")
    expect(page.locator("#pane")).to_contain_text("Only visible to you")
    mail = page.locator("#pane a.bk-link", has_text="Open in e-mail").last
    assert (mail.get_attribute("href") or "").startswith("mailto:jane@acmedental.example?subject=")
    press(page, "Mark follow-up sent")
    expect(page.locator("#pane")).to_contain_text("Follow-up to Acme Dental marked sent", timeout=WAIT_MS)
    expect(page.locator("#pane")).not_to_contain_text("Subject: Visit summary: Acme Dental")

    # The form: a mistake gets the bot's own words under the field, the rest stays typed; then fixed.
    page.fill("#message", "/visit")
    page.press("#message", "Enter")
    dialog = page.locator("#dialog")
    expect(dialog).to_contain_text("Log a visit", timeout=WAIT_MS)
    dialog.locator('[name="client"]').fill("Northwind Clinic")
    dialog.locator('[name="duration"]').fill("soon")
    dialog.locator('[name="work_done"]').fill("patched the firewall")
    dialog.locator('input[type="checkbox"]').check()
    dialog.locator(".bk-submit").click()
    expect(dialog).to_contain_text("How long? For example 1h30", timeout=WAIT_MS)
    expect(dialog.locator('[name="client"]')).to_have_value("Northwind Clinic")
    dialog.locator('[name="duration"]').fill("2h")
    dialog.locator(".bk-submit").click()
    expect(page.locator("#overlay")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#pane")).to_contain_text("Logged 2h at Northwind Clinic", timeout=WAIT_MS)

    # An appointment planned with a one-hour window, then cancelled: the bot asks for a phone call.
    type_in(page, "/visit plan Acme Dental Friday 8-12", "Can you narrow it to an hour?")
    press(page, "Make it 8–9am")
    expect(page.locator("#pane")).to_contain_text("a one-hour window", timeout=WAIT_MS)
    type_in(page, "/visit cancel Acme Dental technician ill", "Please phone Jane Roe")

    # The next working morning: the jobs run as of then, and the unsent follow-up comes back as a DM.
    page.click("text=Next working morning")
    # Northwind's follow-up and the call about the cancelled appointment.
    expect(page.locator("#toast")).to_have_text("Jobs ran: 2 messages sent.", timeout=WAIT_MS)
    expect(page.locator("#clock")).to_contain_text("8:00 AM")
    expect(page.locator("#pane")).to_contain_text("Northwind Clinic", timeout=WAIT_MS)
    reminder = page.locator("#pane .msg", has_text="hasn't gone out yet").last
    expect(reminder).to_be_visible(timeout=WAIT_MS)
    reminder.locator(".bk-button", has_text="Mark sent").click()
    marked = "Follow-up to Northwind Clinic marked sent"
    expect(page.locator("#pane")).to_contain_text(marked, timeout=WAIT_MS)
    page.screenshot(path=str(BUILD / "sandbox-technician.png"))

    # The manager: the weekly digest in the managers' channel, its thread and its chart.
    page.select_option("#person", "U0MO")
    expect(page.locator("#person")).to_have_value("U0MO")
    page.click("text=Next digest")
    expect(page.locator("#toast")).to_contain_text("Jobs ran", timeout=WAIT_MS)
    page.click("text=#service-managers")
    expect(page.locator("#title")).to_have_text("#service-managers")
    expect(page.locator("#pane")).to_contain_text("Team digest", timeout=WAIT_MS)
    expect(page.locator("#pane")).to_contain_text("Each technician this week", timeout=WAIT_MS)
    chart = page.locator("#pane img.file-image").last
    expect(chart).to_be_visible(timeout=WAIT_MS)
    assert chart.evaluate("picture => picture.complete && picture.naturalWidth") > 300
    page.screenshot(path=str(BUILD / "sandbox-story.png"))

    # App Home, the manager's and then the technician's, with what each owes.
    page.click("text=Nudgebot · Home")
    expect(page.locator("#pane")).to_contain_text("Your settings", timeout=WAIT_MS)
    page.select_option("#person", "U0ANA")
    page.click("text=Nudgebot · Home")
    expect(page.locator("#pane")).to_contain_text("Calls to make (1)", timeout=WAIT_MS)
    expect(page.locator("#pane")).to_contain_text("you cancelled")

    timings: dict[str, Any] = page.evaluate("window.sandboxTimings")
    _report(timings)
    assert problems == []
    assert elsewhere == []


def test_load_demo_data_fills_every_persons_view_without_a_reload(
    browser: Browser, sandbox: SandboxServer
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(sandbox.url)
    expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=WAIT_MS)
    expect(page.locator("#pane")).to_contain_text("Nothing here yet.")

    page.click("#demo")

    expect(page.locator("#toast")).to_contain_text("Demo company loaded", timeout=WAIT_MS)
    expect(page.locator("#pane")).to_contain_text("Acme Dental", timeout=WAIT_MS)
    page.select_option("#person", "U0MO")
    page.click("text=#service-managers")
    expect(page.locator("#pane")).to_contain_text("Team digest", timeout=WAIT_MS)
    chart = page.locator("#pane img.file-image").last
    expect(chart).to_be_visible(timeout=WAIT_MS)
    page.wait_for_function("document.querySelector('#toast').hidden", timeout=WAIT_MS)
    page.screenshot(path=str(BUILD / "sandbox.png"))
    page.select_option("#person", "U0KAI")
    expect(page.locator("#pane")).to_contain_text("Sunrise Bakery", timeout=WAIT_MS)


def _console(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(message.text)


def _outside(request: Request, base: str, elsewhere: list[str]) -> None:
    if not request.url.startswith((base, "data:")):
        elsewhere.append(request.url)


def _report(timings: dict[str, Any]) -> None:
    """Write what was measured beside the screenshot, and say it (pytest -s shows it)."""
    answers = [float(ms) for ms in timings["answers"]]
    report = {
        "first_load_ms": round(float(timings["firstLoad"]), 1),
        "enter_to_answer_ms": {
            "count": len(answers),
            "median": round(statistics.median(answers), 1),
            "max": round(max(answers), 1),
        },
    }
    BUILD.mkdir(exist_ok=True)
    (BUILD / "sandbox-timings.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"sandbox page: {report}")  # noqa: T201 (the measurement, shown with pytest -s)

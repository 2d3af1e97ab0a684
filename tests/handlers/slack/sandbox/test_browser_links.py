"""The client's side of the links, in a real browser (headless Chromium), against the sandbox.

As a new user would try it: a change notice is drafted and the client acknowledges it through its link on
a phone-sized page; a follow-up e-mail is rated unhappy through its link; the owner is told, logs the
repair, records the client's happier word, and the client leaves the at-risk list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.handlers.slack.sandbox.page import SandboxServer
from tests.handlers.slack.sandbox.test_browser import (
    BUILD,
    CONTACT,
    WAIT_MS,
    browser,
    next_tuesday_10am,
    press,
    type_in,
)

pytestmark = pytest.mark.browser

__all__ = ["browser"]
NOTIFY = (
    '/visit notify Acme Dental "reboot the mail server" Saturday 22:00-23:00; impact: no e-mail for an hour'
)
VISIT = "/visit Acme Dental 1h30 rebooted the mail server, mail flowing again"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(f"sqlite:///{tmp_path / 'sandbox.db'}").start()
    yield server
    server.stop()


def last_link(page: Page, base: str, mood: str | None = None) -> str:
    """The newest one-click link in the pane's drafted e-mails (the one for `mood`, if given)."""
    text = page.locator("#pane").inner_text()
    tail = rf"\?m={mood}" if mood else r"(?=\s)"
    found = re.findall(re.escape(base) + r"/r/[A-Za-z0-9_-]+" + tail, text)
    assert found, f"no link in the pane:\n{text[-2000:]}"
    return str(found[-1])


def test_a_client_acknowledges_and_rates_through_the_links_and_is_repaired(
    browser: Browser, sandbox: SandboxServer
) -> None:
    BUILD.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(sandbox.url)
    expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=WAIT_MS)
    tuesday = next_tuesday_10am()
    page.fill("#clock-at", tuesday.strftime("%Y-%m-%dT%H:%M"))
    page.click("#clock-to button")
    type_in(page, CONTACT, "Saved the contact for Acme Dental")

    # The notice, and the client's one tap on its link.
    type_in(page, NOTIFY, "Drafted the notice to Acme Dental")
    phone.goto(last_link(page, sandbox.url))
    expect(phone.locator("h1")).to_have_text("Acme Dental")
    expect(phone.locator("main")).not_to_contain_text("reboot")
    phone.click("text=I have read the notice")
    expect(phone.locator("main")).to_contain_text("you have confirmed our notice", timeout=WAIT_MS)
    type_in(page, "/visit notify list", "Acknowledged")

    # The visit after the window says what was announced; its follow-up is rated unhappy, with a word.
    # Four working mornings on is the Monday after the window.
    for _ in range(4):
        page.click("text=Next working morning")
        expect(page.locator("#toast")).to_contain_text("Jobs ran", timeout=WAIT_MS)
    type_in(page, VISIT, "As announced: reboot the mail server")
    link = last_link(page, sandbox.url, "unhappy")
    phone.goto(link)
    expect(phone.locator('input[value="unhappy"]')).to_be_checked()
    phone.fill("#comment", "Nobody told the front desk it went well")
    phone.click("text=Send")
    expect(phone.locator("main")).to_contain_text("Thank you for telling us 🙁", timeout=WAIT_MS)
    phone.screenshot(path=str(BUILD / "link-page.png"))

    # The owner is told at once (the jobs run), logs the repair call, then records the client's better word.
    page.click("text=+4 working hours")
    expect(page.locator("#pane")).to_contain_text("Acme Dental is unhappy", timeout=WAIT_MS)
    expect(page.locator("#pane")).to_contain_text("Own it", timeout=WAIT_MS)
    press(page, "Log a repair call")
    expect(page.locator("#pane")).to_contain_text("Logged the repair for Acme Dental", timeout=WAIT_MS)
    press(page, "Happy 😀")
    expect(page.locator("#pane")).to_contain_text("Acme Dental is happy again", timeout=WAIT_MS)
    page.click("text=Nudgebot · Home")
    expect(page.locator("#pane")).to_contain_text("Your settings", timeout=WAIT_MS)
    expect(page.locator("#pane")).not_to_contain_text("Clients at risk")

"""The monthly client report from the core: seeded through real commands, read back as exact text."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import Core
from bot.people import Actor, Invocation, Profile
from bot.replies import Attachment, Link, Note, Preformatted, Reply, Section
from bot.report import clip_for_reply, slug
from bot.services import Services
from storage import repositories as repo
from storage.models import ProcessedRequest, Technician
from tests.harness import FrozenClock
from tests.reminders import chicago

ANA = Actor("T111", "U111")
BO = Actor("T111", "U222")
CY = Actor("T111", "U333")
MANAGER = Actor("T111", "U444")
OTHER_TEAM = Actor("T999", "U111")


class Team:
    """The core, driven as Ana, Bo, Cy and a manager would drive it, at instants the test chooses."""

    def __init__(self, services: Services, clock: FrozenClock) -> None:
        settings = services.settings.model_copy(update={"manager_ids": "U444"})
        self.core = Core(replace(services, settings=settings))
        self.clock = clock
        for actor, name, zone in (
            (ANA, "Ana", "America/Chicago"),
            (BO, "Bo", "Europe/Berlin"),
            (CY, "Cy", "America/Chicago"),
        ):
            self.core.update_profile(actor, Profile(name, zone))

    def visit(self, actor: Actor, text: str) -> Reply:
        return self.core.command(Invocation(actor, "visit", text)).reply

    def promise(self, actor: Actor, text: str) -> Reply:
        return self.core.command(Invocation(actor, "promise", text)).reply


@pytest.fixture
def team(services: Services, clock: FrozenClock) -> Team:
    return Team(services, clock)


def acme_in_november(team: Team) -> None:
    """Two technicians' visits and four kinds of promise to Acme Dental around November 2026."""
    clock = team.clock
    clock.now = chicago(10, 31, 20)  # Sun 1 Nov, 02:00 in Berlin
    team.visit(ANA, '"Acme Dental" 1h checked the UPS; todo: replace the UPS battery')
    clock.now = chicago(11, 2, 10)
    team.visit(ANA, "contact Acme Dental Jane Roe jane@acme.example +1 555 0100")
    team.visit(ANA, "Acme Dental 1h30 replaced fuser; todo: order toner")
    team.promise(ANA, "Acme Dental install the backup by 2026-11-10")
    team.promise(ANA, "Acme Dental update the firewall by 2026-11-12")
    team.promise(ANA, "Acme Dental replace the UPS by 2026-11-13")
    team.promise(ANA, "Acme Dental send the new contract by 2026-12-08")
    clock.now = chicago(11, 9, 15)
    team.promise(ANA, "done 1")
    clock.now = chicago(11, 16, 9)
    team.promise(ANA, "done 2")
    clock.now = chicago(11, 18, 16)
    team.visit(BO, "Acme Dental 2h new router")
    team.promise(BO, "Acme Dental send the revised quote by 2026-11-27")
    clock.now = chicago(11, 23, 9)


NOVEMBER = """To: Jane Roe <jane@acme.example>
Subject: Acme Dental: monthly report, November 2026

Hello Jane,

Here is a summary of our work for Acme Dental in November 2026 so far.

Visits
- Mon 2 Nov, Ana (1h30): replaced fuser
  Left: order toner
- Wed 18 Nov, Bo (2h): new router

Total time: 3h30 over 2 visits

Promises due or kept in November 2026
- install the backup (due Tue 10 Nov): kept on time, Mon 9 Nov
- update the firewall (due Thu 12 Nov): kept late, Mon 16 Nov
- replace the UPS (due Fri 13 Nov): still open
- send the revised quote (due Fri 27 Nov): not yet due

Still open
- order toner (left from the visit on Mon 2 Nov)
- send the new contract (promised for Tue 8 Dec)

If you have any questions, reply to this e-mail or give us a call.

Best regards,
Ana"""


def test_a_month_with_visits_is_a_ready_to_send_email_and_a_file(team: Team) -> None:
    acme_in_november(team)

    reply = team.visit(ANA, "report Acme Dental")

    assert reply.files[0].content.decode() == NOVEMBER
    assert reply.summary == "The report for Acme Dental, November 2026"
    assert reply.blocks[:3] == (
        Section(":page_facing_up: The report for *Acme Dental*, November 2026 so far: 2 visits, 3h30."),
        Section("It's ready to paste into an e-mail to Jane Roe (jane@acme.example):"),
        Preformatted(NOVEMBER),
    )
    mailto = reply.blocks[3]
    assert isinstance(mailto, Section)
    assert isinstance(mailto.link, Link)
    assert mailto.link.url.startswith(
        "mailto:jane@acme.example?subject=Acme%20Dental%3A%20monthly%20report%2C%20November%202026"
        "&body=Hello%20Jane%2C%0A%0AHere%20is"
    )
    assert reply.blocks[4:] == (
        Note("I'm also sending it to you as a file, acme-dental-2026-11.txt, in your DMs."),
    )
    assert reply.files == (
        Attachment(
            "acme-dental-2026-11.txt",
            "Acme Dental: monthly report, November 2026",
            NOVEMBER.encode("utf-8"),
            "text/plain",
        ),
    )


def test_dates_and_the_month_are_the_asking_technicians_own(team: Team) -> None:
    acme_in_november(team)

    text = team.visit(BO, "report Acme Dental November").files[0].content.decode()

    # Ana's visit on Saturday evening in Chicago was Sunday 1 November in Berlin.
    assert "\nVisits\n- Sun 1 Nov, Ana (1h): checked the UPS\n  Left: replace the UPS battery\n" in text
    assert "\nTotal time: 4h30 over 3 visits\n" in text
    assert "Here is a summary of our work for Acme Dental in November 2026 so far.\n" in text
    assert text.endswith("Best regards,\nBo")


def test_a_past_month_has_no_so_far_and_counts_only_its_own_visits(team: Team) -> None:
    acme_in_november(team)

    reply = team.visit(ANA, "report Acme Dental October")

    assert reply.blocks[0] == Section(
        ":page_facing_up: The report for *Acme Dental*, October 2026: 1 visit, 1h."
    )
    assert reply.files[0].filename == "acme-dental-2026-10.txt"
    text = reply.files[0].content.decode()
    assert "Here is a summary of our work for Acme Dental in October 2026.\n" in text
    assert "\nVisits\n- Sat 31 Oct, Ana (1h): checked the UPS\n  Left: replace the UPS battery\n" in text
    # Promises made in November are not October's; what stands open is the October visit's leftover.
    assert "Promises due or kept" not in text
    assert "\nStill open\n- replace the UPS battery (left from the visit on Sat 31 Oct)\n\n" in text


def test_a_month_without_visits_says_so_and_still_lists_what_is_open(team: Team) -> None:
    team.clock.now = chicago(10, 5, 10)
    team.visit(ANA, '"Northwind" 45m reset the VPN; todo: replace the switch')
    team.promise(ANA, "Northwind send the switch quote by 2026-12-04")
    team.clock.now = chicago(11, 23, 9)

    reply = team.visit(ANA, "report Northwind")

    assert reply.blocks[0] == Section(
        ":page_facing_up: The report for *Northwind*, November 2026 so far: no visits."
    )
    assert reply.blocks[1] == Section(
        "It's ready to paste into an e-mail. I don't have an e-mail address for Northwind yet: "
        "add one with /visit contact Northwind Jane Roe jane@example.com +1 555 0100"
    )
    assert reply.blocks[2] == Preformatted(
        "Subject: Northwind: monthly report, November 2026\n"
        "\n"
        "Hello,\n"
        "\n"
        "Here is a summary of our work for Northwind in November 2026 so far.\n"
        "\n"
        "No visits in November 2026 so far.\n"
        "\n"
        "Still open\n"
        "- replace the switch (left from the visit on Mon 5 Oct)\n"
        "- send the switch quote (promised for Fri 4 Dec)\n"
        "\n"
        "If you have any questions, reply to this e-mail or give us a call.\n"
        "\n"
        "Best regards,\n"
        "Ana"
    )
    # No address, no mailto link: the file note follows the text.
    assert reply.blocks[3:] == (
        Note("I'm also sending it to you as a file, northwind-2026-11.txt, in your DMs."),
    )


def test_a_month_with_nothing_at_all_says_nothing_is_open(team: Team) -> None:
    team.clock.now = chicago(11, 2, 10)
    team.visit(ANA, '"Northwind" 45m reset the VPN')

    text = team.visit(ANA, "report Northwind 2026-09").files[0].content.decode()

    assert "\nNo visits in September 2026.\n\nStill open\n- Nothing: everything we know of is done.\n" in text


def technicians(session: Session) -> list[str]:
    return sorted(t.user_id for t in session.scalars(select(Technician)))


def test_someone_who_does_not_look_after_the_client_is_refused_and_nothing_is_stored(
    team: Team, session: Session
) -> None:
    acme_in_november(team)
    team.visit(CY, '"Globex" 1h set up printers')
    before = (technicians(session), repo.count_rows(session, ProcessedRequest))

    refused = team.core.command(Invocation(CY, "visit", "report Acme Dental", request_key="command:t1")).reply
    newcomer = team.core.command(Invocation(Actor("T111", "U555"), "visit", "report Acme Dental")).reply

    assert refused.tone == "error"
    assert refused.files == ()
    assert refused.blocks == (
        Section(
            ":warning: Only the technicians who look after Acme Dental and managers can produce its report. "
            "Ana looks after it and can send it to you."
        ),
        Section('For example:\n/visit report "Globex" last month'),
    )
    assert newcomer.blocks[1] == Section("For example:\n/visit list")
    assert (technicians(session), repo.count_rows(session, ProcessedRequest)) == before


def test_a_manager_may_report_on_any_client(team: Team) -> None:
    acme_in_november(team)

    reply = team.visit(MANAGER, "report Acme Dental November")

    assert reply.files[0].filename == "acme-dental-2026-11.txt"
    assert "- Mon 2 Nov, Ana (1h30): replaced fuser\n" in reply.files[0].content.decode()


def test_another_workspace_never_sees_the_client(team: Team) -> None:
    acme_in_november(team)

    reply = team.visit(OTHER_TEAM, "report Acme Dental")

    assert reply.tone == "error"
    assert reply.files == ()
    assert reply.blocks == (
        Section(":warning: I don't know a client called “Acme Dental”."),
        Section("For example:\n/visit report Acme Dental November"),
    )


def test_an_unknown_client_asks_which_was_meant(team: Team) -> None:
    acme_in_november(team)

    reply = team.visit(ANA, "report Acme Dentl November")

    assert reply.tone == "question"
    assert reply.blocks[0] == Section(
        "I don't know a client called “Acme Dentl”. Did you mean *Acme Dental*?"
    )
    assert reply.files == ()


def test_a_bad_month_gets_a_specific_answer_with_an_example(team: Team) -> None:
    acme_in_november(team)

    reply = team.visit(ANA, "report Acme Dental Novembr")

    assert reply.blocks == (
        Section(
            ":warning: I can't tell which month “Novembr” is: write it like November, Nov 2026, 2026-11 "
            "or last month."
        ),
        Section("For example:\n/visit report Acme Dental November"),
    )


def test_a_long_month_is_cut_for_the_chat_and_whole_in_the_file(team: Team) -> None:
    team.clock.now = chicago(11, 2, 8)
    for number in range(40):
        team.clock.advance(hours=6)
        team.visit(
            ANA, f'"Acme & Sons" 1h visit {number}: checked <every> printer on floor {number}; todo: more'
        )

    reply = team.visit(ANA, "report Acme & Sons")

    whole = reply.files[0].content.decode()
    [shown] = [block.text for block in reply.blocks if isinstance(block, Preformatted)]
    assert whole.count("\n- ") == 40 + 40  # forty visits, and each one's leftover under "Still open"
    assert shown.endswith("\n…")
    assert whole.startswith(shown[: -len("\n…")] + "\n")
    # Escaped for Slack (& < > become entities), it still fits a 3,000-character section with its fences.
    escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert len(escaped) + 6 <= 3000
    assert reply.blocks[-1] == Note(
        "That's the start: the whole report is in the file acme-sons-2026-11.txt, in your DMs."
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Dental", "acme-dental"),
        ("Café Müller GmbH", "cafe-muller-gmbh"),
        ("  St. John's / Clinic #2 ", "st-john-s-clinic-2"),
        ("東京オフィス", "client"),
        ("x" * 100, "x" * 60),
    ],
)
def test_file_names_are_safe_slugs(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_clipping_cuts_at_a_line_and_cuts_one_huge_line_too() -> None:
    assert clip_for_reply("a\nb", limit=10) == ("a\nb", False)
    assert clip_for_reply("aaaa\nbbbb\ncccc", limit=11) == ("aaaa\nbbbb\n…", True)
    text, clipped = clip_for_reply("&" * 50, limit=21)
    assert (text, clipped) == ("&&&\n…", True)

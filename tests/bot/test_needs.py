"""Spotting recurring problems in seeded visit notes: wordings, routine work, windows, dismissals, order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.needs import AT_LEAST, WINDOW, Need, VisitNote, spot

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
ACME, BETA, GAMMA = 101, 102, 103


def note(visit_id: int, text: str, *, days_ago: float, client_id: int = ACME) -> VisitNote:
    """A visit's notes, `days_ago` days before NOW."""
    return VisitNote(visit_id=visit_id, client_id=client_id, at=NOW - timedelta(days=days_ago), text=text)


def thrice(text: str, *, client_id: int = ACME, first_id: int = 1) -> list[VisitNote]:
    """The same words in three visits, 30, 20 and 10 days ago."""
    return [
        note(first_id + n, text, days_ago=days, client_id=client_id) for n, days in enumerate((30, 20, 10))
    ]


def topics(notes: list[VisitNote]) -> list[str]:
    return [need.topic for need in spot(notes, now=NOW)]


# -- a problem recurring behind different wordings -------------------------------------------------------


def test_a_printer_problem_in_three_wordings_is_one_need_resting_on_its_visits() -> None:
    notes = [
        note(1, "Printer jammed at front desk\nCheck it again next week", days_ago=60),
        note(2, "Set up a new laptop for reception", days_ago=45),
        note(3, "Cleared paper jam, print queue stuck again", days_ago=30),
        note(4, "Monthly patching of the server, all fine", days_ago=20),
        note(5, "LaserJet toner smudges, replaced fuser", days_ago=10),
    ]

    needs = spot(notes, now=NOW)

    assert needs == [
        Need(
            client_id=ACME,
            topic="printer",
            label="printer trouble",
            suggestion="suggest replacing the printer?",
            visit_ids=(5, 3, 1),
            words=("laserjet", "toner", "smudges", "fuser", "paper jam", "print queue", "printer", "jammed"),
            of_visits=5,
        )
    ]
    assert needs[0].headline("Acme Dental") == (
        "Acme Dental: printer trouble in 3 of the last 5 visits — suggest replacing the printer?"
    )


def test_a_vpn_problem_in_three_wordings() -> None:
    notes = [
        note(11, "AnyConnect won't connect from home", days_ago=70),
        note(12, "Remote access dropped during the payroll run", days_ago=40),
        note(13, "Installed Windows updates and rebooted", days_ago=35),
        note(14, "VPN tunnel down again.\nAsk the ISP about the line", days_ago=3),
    ]

    needs = spot(notes, now=NOW)

    assert needs == [
        Need(
            client_id=ACME,
            topic="vpn",
            label="VPN trouble",
            suggestion="suggest reviewing the remote-access set-up?",
            visit_ids=(14, 12, 11),
            words=("vpn", "tunnel", "remote access", "anyconnect"),
            of_visits=4,
        )
    ]
    assert needs[0].headline("Beta Law") == (
        "Beta Law: VPN trouble in 3 of the last 4 visits — suggest reviewing the remote-access set-up?"
    )


def test_backup_failed_is_a_problem_in_itself() -> None:
    notes = [
        note(21, "Backup failed overnight", days_ago=50),
        note(22, "Veeam: backups failed on Sunday", days_ago=25),
        note(23, "Datto backup failed, disk on the NAS fine", days_ago=5),
    ]

    [need] = spot(notes, now=NOW)

    assert (need.topic, need.label, need.suggestion) == (
        "backup",
        "failed backups",
        "suggest reviewing the backup set-up?",
    )
    assert need.visit_ids == (23, 22, 21)
    assert need.words == ("datto", "backup failed", "veeam", "backups failed")
    assert need.headline("Gamma Vets") == (
        "Gamma Vets: failed backups in 3 of the last 3 visits — suggest reviewing the backup set-up?"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Outlook keeps crashing on open", ["email"]),
        ("Mailbox full for the director", ["email"]),
        ("Wi-Fi drops in the back office", ["wifi"]),
        ("Dead spot by the meeting room", ["wifi"]),
        ("Internet down all morning", ["network"]),
        ("Two users locked out", ["sign-in"]),
        ("Disk full on the NAS", ["storage"]),
        ("OneDrive not syncing for the director", ["files"]),
        ("Blue screen on the reception PC", ["computer"]),
        ("No dial tone on two handsets", ["phones"]),
        ("Teams audio choppy in the boardroom", ["meetings"]),
        ("Domain controller unresponsive", ["server"]),
        ("UPS beeping", ["power"]),
        ("Phishing email clicked by accounts", ["security"]),
        ("Windows updates failed again", ["updates"]),
        ("Excel crashing with big spreadsheets", ["office"]),
        ("Users can’t print from the upstairs copier", ["printer"]),
        ("GlobalProtect keeps disconnecting", ["vpn"]),
        ("Restore from last night was missing files", ["backup"]),
        ("VPN dropped and the printer jammed", ["printer", "vpn"]),
    ],
)
def test_each_wording_names_its_topic(text: str, expected: list[str]) -> None:
    assert topics(thrice(text)) == expected


# -- nothing recurs --------------------------------------------------------------------------------------


def test_varied_routine_work_spots_nothing() -> None:
    texts = [
        "Monthly patching of the server, all fine.\nNothing left.",
        "Set up a new laptop for the receptionist",
        "Replaced toner in the front-desk printer",
        "Installed Windows updates on 4 PCs and rebooted",
        "Reviewed firewall rules with the office manager",
        "Ran a test restore from Veeam, completed in 12 minutes",
        "Walked the new starter through Outlook and Teams",
        "Upgraded the Wi-Fi access point firmware",
    ]
    notes = [note(n, text, days_ago=80 - 10 * n) for n, text in enumerate(texts)]

    # Not one visit shows trouble, so nothing is spotted even at one visit.
    assert spot(notes, now=NOW, at_least=1) == []


def test_a_device_mentioned_routinely_five_times_spots_nothing() -> None:
    texts = [
        "Monthly patching of the server, all fine",
        "Rebooted the server after the monthly patching",
        "Checked the server's backups, no errors",
        "Server health check: no issues",
        "Moved the server's UPS to the new rack and switched it on",
    ]
    notes = [note(n, text, days_ago=60 - 10 * n) for n, text in enumerate(texts)]

    assert spot(notes, now=NOW, at_least=1) == []


def test_different_problems_each_twice_spot_nothing() -> None:
    texts = ["Printer jammed", "VPN dropped", "Backup failed", "Paper jam again", "AnyConnect won't connect"]
    notes = [note(n, text, days_ago=50 - 10 * n) for n, text in enumerate(texts)]

    assert spot(notes, now=NOW) == []


@pytest.mark.parametrize(
    "text",
    [
        "Quarterly maintenance: rebooted the server, cleared the logs",
        "Updated the firewall firmware, rebooted, all good",
        "Discussed replacing the server next year",
        "Replaced the black toner in the front-desk printer",
        "Went down to the server room to label the switch",
        "No internet issues since the new router went in",
        "Checked the VPN logs: nothing wrong",
        "Switched off the old NAS",
    ],
)
def test_routine_work_naming_a_device_is_no_trouble(text: str) -> None:
    assert spot(thrice(text), now=NOW, at_least=1) == []


def test_trouble_in_another_sentence_does_not_count_for_a_device() -> None:
    assert topics(thrice("Printer jammed. Checked the backups, all green.")) == ["printer"]


@pytest.mark.parametrize(
    "text",
    [
        "Blueprint folder permissions error",
        "Fixed the groups for the new starters again",
        "Follow-ups failed to send",
        "Pickups from the depot are slow",
    ],
)
def test_words_match_whole_words_only(text: str) -> None:
    assert spot(thrice(text), now=NOW, at_least=1) == []


# -- counting visits -------------------------------------------------------------------------------------


def test_a_visit_counts_once_however_often_it_names_the_problem() -> None:
    notes = [
        note(1, "Printer jammed. Printer jammed again.\nPrinter needs a new fuser", days_ago=30),
        note(1, "Printer jammed", days_ago=30),
        note(2, "Paper jam", days_ago=20),
    ]

    assert spot(notes, now=NOW) == []
    assert spot(notes, now=NOW, at_least=2)[0].visit_ids == (2, 1)


def test_two_within_the_window_and_one_100_days_ago_spot_nothing() -> None:
    notes = [
        note(1, "Printer jammed", days_ago=100),
        note(2, "Printer jammed", days_ago=60),
        note(3, "Printer jammed", days_ago=10),
    ]

    assert spot(notes, now=NOW) == []
    assert spot(notes, now=NOW, window=timedelta(days=120))[0].visit_ids == (3, 2, 1)


@pytest.mark.parametrize(
    ("oldest", "counted"),
    [
        (NOW - WINDOW, True),
        (NOW - WINDOW - timedelta(seconds=1), False),
        (NOW, True),
        (NOW + timedelta(seconds=1), False),
    ],
    ids=["window-start", "before-window", "now", "after-now"],
)
def test_the_window_includes_both_ends(oldest: datetime, counted: bool) -> None:
    notes = [
        VisitNote(visit_id=1, client_id=ACME, at=oldest, text="Printer jammed"),
        note(2, "Printer jammed", days_ago=40),
        note(3, "Printer jammed", days_ago=20),
    ]

    assert topics(notes) == (["printer"] if counted else [])


def test_defaults_are_90_days_and_3_visits() -> None:
    assert (WINDOW, AT_LEAST) == (timedelta(days=90), 3)


def test_at_least_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at_least must be 1 or more, not 0"):
        spot([], now=NOW, at_least=0)


# -- dismissals ------------------------------------------------------------------------------------------


def test_not_useful_dismisses_a_topic_at_a_client_for_good() -> None:
    notes = thrice("Printer jammed") + thrice("Printer jammed", client_id=BETA, first_id=11)

    needs = spot(notes, now=NOW, dismissed={(ACME, "printer"): None, (ACME, "vpn"): None})

    assert [(need.client_id, need.topic) for need in needs] == [(BETA, "printer")]


def test_raised_with_the_client_counts_only_later_visits() -> None:
    raised = NOW - timedelta(days=35)
    before = [note(n, "Printer jammed", days_ago=days) for n, days in ((1, 80), (2, 60), (3, 40))]
    after = [
        note(4, "Paper jam again", days_ago=30),
        note(5, "Set up a new laptop", days_ago=25),
        note(6, "Print queue stuck", days_ago=20),
    ]

    assert spot(before + after, now=NOW, dismissed={(ACME, "printer"): raised}) == []

    later = note(7, "Printer not printing", days_ago=2)
    [need] = spot([*before, *after, later], now=NOW, dismissed={(ACME, "printer"): raised})

    assert (need.visit_ids, need.of_visits) == ((7, 6, 4), 4)
    assert need.headline("Acme Dental") == (
        "Acme Dental: printer trouble in 3 of the last 4 visits — suggest replacing the printer?"
    )


# -- clients and order -----------------------------------------------------------------------------------


def test_clients_are_kept_apart() -> None:
    notes = [
        note(1, "Printer jammed", days_ago=30, client_id=ACME),
        note(2, "Printer jammed", days_ago=20, client_id=ACME),
        note(3, "Printer jammed", days_ago=30, client_id=BETA),
        note(4, "Printer jammed", days_ago=20, client_id=BETA),
        note(5, "Nothing to report", days_ago=10, client_id=BETA),
    ]

    assert spot(notes, now=NOW) == []


def test_needs_come_most_visits_first_then_newest_then_client_then_topic() -> None:
    notes = [
        *[note(n, "Printer jammed", days_ago=50 - 10 * n, client_id=GAMMA) for n in range(1, 4)],
        *[
            note(n, "VPN dropped and the printer jammed", days_ago=30 - 10 * (n - 10), client_id=BETA)
            for n in range(10, 13)
        ],
        *[note(n, "Backup failed", days_ago=40 - 10 * (n - 20), client_id=ACME) for n in range(20, 23)],
        *[note(n, "Wi-Fi dropping", days_ago=80 - 10 * (n - 30), client_id=GAMMA) for n in range(30, 34)],
    ]
    expected = [
        (GAMMA, "wifi", (33, 32, 31, 30)),
        (BETA, "printer", (12, 11, 10)),
        (BETA, "vpn", (12, 11, 10)),
        (ACME, "backup", (22, 21, 20)),
        (GAMMA, "printer", (3, 2, 1)),
    ]

    for order in (notes, notes[::-1]):
        needs = spot(order, now=NOW)
        assert [(need.client_id, need.topic, need.visit_ids) for need in needs] == expected

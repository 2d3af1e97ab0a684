"""Attacks on `POST /api/messages` over real HTTP: unsigned, forged, misdirected, malformed and oversized
activities are refused (401, 400 or 413, never 500) and change nothing; the bot's token goes only to the
Bot Connector; no secret is ever logged; the local Playground takes requests from this machine only."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import random
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.services import Services
from bot.settings import Settings
from handlers.front import build_front
from handlers.slack.standin import SlackStandIn
from handlers.teams.notifier import TeamsNotifier
from handlers.teams.server import MAX_BODY_BYTES
from jobs.scheduler import run_once
from storage.db import make_session_factory
from storage.models import (
    Client,
    Conversation,
    Nudge,
    NudgeStatus,
    ProcessedRequest,
    Technician,
    Visit,
    Workspace,
)
from storage.repositories import count_rows
from tests.fakes.microsoft import FakeMicrosoft, RecordedCall
from tests.harness import BOT_TOKEN, SIGNING_SECRET, BotServer, FrozenClock
from tests.teams_client import (
    ANA_CHAT,
    APP_ID,
    APP_PASSWORD,
    BO,
    TENANT,
    TeamsClient,
    action,
    activity,
    invoke_card,
    personal_chat,
    teams_settings_for,
    text_of,
)

VISIT = "visit Acme Dental 1h30 replaced fuser; todo: order toner"
ANOTHER_TENANT = "d4d4d4d4-0000-4000-8000-000000000444"
# Teams' real regional Bot Connector: on Microsoft's list, but not on this machine.
TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/amer/"
REFUSED = {"error": "unauthorized"}
MALFORMED = {"error": "malformed activity"}
TOO_LARGE = {"error": "request too large"}
# Ana works in Chicago: a visit logged at 9 am gets its follow-up reminder four working hours later.
MONDAY_1PM = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
# Everything the bot stores about an activity: people, teams, conversations, clients, visits, request keys.
STORED = (Workspace, Technician, Conversation, Client, Visit, ProcessedRequest)


def stored(session: Session) -> dict[str, int]:
    """How many rows each table an activity could write to holds."""
    return {model.__name__: count_rows(session, model) for model in STORED}


def assert_nothing_stored(session: Session) -> None:
    assert stored(session) == dict.fromkeys((model.__name__ for model in STORED), 0)


def assert_nothing_sent(microsoft: FakeMicrosoft) -> None:
    """The bot asked Microsoft for nothing: no token of its own, no message, no conversation."""
    assert microsoft.sent() == []
    assert microsoft.of_kind("token", "create", "send", "reply", "update") == []


def post(teams: TeamsClient, body: dict[str, Any] | bytes, authorizations: list[str]) -> httpx.Response:
    """POST an activity with exactly these Authorization headers (none, one or several)."""
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = [("Content-Type", "application/json"), *(("Authorization", value) for value in authorizations)]
    return teams.http.post("/api/messages", content=content, headers=headers)


def settle(teams: TeamsClient) -> RecordedCall:
    """Bo asks for help and his answer arrives: anything the bot was going to send before it has been sent.

    Replies go out after the HTTP answer, so "nothing was sent" is only worth checking after this.
    """
    response = teams.say("help", user=BO)
    assert response.status_code == 200, response.text
    return teams.microsoft.wait_for(
        lambda call: call.kind == "send" and call.conversation_id == personal_chat(BO)
    )


def warnings_naming(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and text in record.getMessage()
    ]


# -- Tokens -------------------------------------------------------------------------------------------

# Each case gets the fake Microsoft and the activity's service URL, and returns the Authorization
# headers to send with a `visit …` that would otherwise be stored.
Forge = Callable[[FakeMicrosoft, str], list[str]]

# Each forgery, and the reason the gate logs for refusing it (so none passes for the wrong reason).
FORGERIES: dict[str, tuple[Forge, str]] = {
    "no Authorization header": (lambda ms, url: [], "no token"),
    "a Basic header": (
        lambda ms, url: ["Basic " + base64.b64encode(b"ana:password").decode()],
        "not a bearer token",
    ),
    "the token without a scheme": (lambda ms, url: [ms.sign(url)], "not a bearer token"),
    "Bearer and nothing": (lambda ms, url: ["Bearer"], "no token"),
    "a garbage token": (lambda ms, url: ["Bearer garbage"], "malformed token"),
    "three garbage segments": (lambda ms, url: ["Bearer aaa.bbb.ccc"], "malformed token"),
    "signed by a foreign key under the real key id": (
        lambda ms, url: [ms.authorization(url, forged=True)],
        "bad signature",
    ),
    "signed by a foreign key under its own key id": (
        lambda ms, url: [ms.authorization(url, key=ms.foreign_key())],
        "unknown key",
    ),
    "an unknown key id": (lambda ms, url: [ms.authorization(url, kid="no-such-key")], "unknown key"),
    "no key id": (lambda ms, url: [ms.authorization(url, headers={"kid": None})], "no key id"),
    "alg none": (lambda ms, url: [ms.authorization(url, algorithm="none")], "algorithm not allowed"),
    "HS256 keyed with the public key": (
        lambda ms, url: [ms.authorization(url, algorithm="HS256")],
        "algorithm not allowed",
    ),
    "RS384 by the real key": (
        lambda ms, url: [ms.authorization(url, algorithm="RS384")],
        "algorithm not allowed",
    ),
    "expired": (lambda ms, url: [ms.authorization(url, expired=True)], "expired"),
    "not yet valid": (
        lambda ms, url: [ms.authorization(url, claims={"nbf": int(time.time()) + 3600})],
        "not yet valid",
    ),
    "issued in the future": (
        lambda ms, url: [ms.authorization(url, claims={"iat": int(time.time()) + 3600, "nbf": None})],
        "issued in the future",
    ),
    "no expiry": (lambda ms, url: [ms.authorization(url, claims={"exp": None})], "missing exp"),
    "wrong issuer": (
        lambda ms, url: [ms.authorization(url, claims={"iss": f"https://sts.windows.net/{TENANT}/"})],
        "wrong issuer",
    ),
    "wrong audience": (
        lambda ms, url: [ms.authorization(url, claims={"aud": "api://another-bot"})],
        "wrong audience",
    ),
    "no audience": (lambda ms, url: [ms.authorization(url, claims={"aud": None})], "missing aud"),
    "no serviceurl claim": (
        lambda ms, url: [ms.authorization(url, claims={"serviceurl": None})],
        "missing serviceurl",
    ),
    "a serviceurl claim for another service URL": (
        lambda ms, url: [ms.authorization("https://smba.trafficmanager.net/emea/")],
        "service URL mismatch",
    ),
    "a key endorsed only for another channel": (
        lambda ms, url: [ms.authorization(url, key=ms.publish_key(endorsements=["skype"]))],
        "key not endorsed for msteams",
    ),
    # With more than one header there is no telling which one Teams meant: none is read.
    "two valid Authorization headers": (
        lambda ms, url: [ms.authorization(url), ms.authorization(url)],
        "no token",
    ),
    "a forged header before a valid one": (
        lambda ms, url: [ms.authorization(url, forged=True), ms.authorization(url)],
        "no token",
    ),
    "a valid header before a forged one": (
        lambda ms, url: [ms.authorization(url), ms.authorization(url, algorithm="none")],
        "no token",
    ),
}


@pytest.mark.parametrize(("forge", "reason"), FORGERIES.values(), ids=FORGERIES.keys())
def test_a_visit_without_a_valid_token_is_refused_and_changes_nothing(
    forge: Forge,
    reason: str,
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = teams.prepare("personal_message", text=VISIT)

    response = post(teams, body, forge(microsoft, body["serviceUrl"]))

    assert response.status_code == 401
    assert response.json() == REFUSED
    assert warnings_naming(caplog, f"refused a Teams request ({reason})") != []
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)


def test_the_same_visit_with_a_valid_token_is_logged_and_answered(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = teams.prepare("personal_message", text=VISIT)

    response = post(teams, body, [microsoft.authorization(body["serviceUrl"])])

    assert (response.status_code, response.text) == (200, "")
    assert "Logged 1h30 at Acme Dental." in text_of(teams.card_sent(ANA_CHAT))
    assert count_rows(session, Visit) == 1


# -- Malformed and oversized bodies --------------------------------------------------------------------


def _activity_bytes(teams: TeamsClient) -> bytes:
    return json.dumps(teams.prepare("personal_message", text=VISIT)).encode()


NOT_AN_ACTIVITY: dict[str, Callable[[TeamsClient], bytes]] = {
    "not JSON": lambda teams: VISIT.encode(),
    "a JSON list": lambda teams: b"[" + _activity_bytes(teams) + b"]",
    "a JSON string": lambda teams: json.dumps(VISIT).encode(),
    "a JSON number": lambda teams: b"1e999",
    "JSON null": lambda teams: b"null",
    "invalid UTF-8": lambda teams: _activity_bytes(teams).replace(b"Acme", b"Ac\xffme"),
    "an empty body": lambda teams: b"",
    "truncated JSON": lambda teams: _activity_bytes(teams)[:-20],
}


@pytest.mark.parametrize("signed", [True, False], ids=["with a valid token", "without a token"])
@pytest.mark.parametrize("make", NOT_AN_ACTIVITY.values(), ids=NOT_AN_ACTIVITY.keys())
def test_a_body_that_is_not_an_activity_is_a_400_and_changes_nothing(
    make: Callable[[TeamsClient], bytes],
    signed: bool,
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    session: Session,
) -> None:
    authorizations = [microsoft.authorization(microsoft.service_url)] if signed else []

    response = post(teams, make(teams), authorizations)

    assert response.status_code == 400
    assert response.json() == MALFORMED
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)
    # Checked before the token, so a body that is not even JSON costs no key lookup.
    assert microsoft.key_fetches == 0


# Fields of a `visit …` activity replaced by values of the wrong type (None removes the field).
WRONG_TYPES: dict[str, dict[str, Any]] = {
    "from is a string": {"from": "x"},
    "from is null": {"from": None},
    "conversation is a number": {"conversation": 5},
    "conversation without an id": {"conversation": {"tenantId": TENANT}},
    "recipient is a list": {"recipient": []},
    "type is a number": {"type": 5},
    "no type": {"type": None},
    "an unknown type": {"type": "nonsense"},
    "text is an object": {"text": {"visit": "Acme"}},
    "id is an object": {"id": {}},
    "entities is a string": {"entities": "x"},
    "a mention entity with a number for text": {"entities": [{"type": "mention", "text": 5}]},
    "channelData is a string": {"channelData": "x"},
    "timestamp is not a time": {"timestamp": "yesterday"},
    "aadObjectId is a number": {"from": {"id": 5, "aadObjectId": 7}},
    "an invoke with no name": {"type": "invoke"},
    "a card action whose value is a list": {"type": "invoke", "name": "adaptiveCard/action", "value": [1]},
    "an installation update with a number for action": {"type": "installationUpdate", "action": 5},
    "members added is a string": {"type": "conversationUpdate", "membersAdded": "x"},
}


@pytest.mark.parametrize("changes", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_signed_activity_with_wrong_types_is_a_400_and_changes_nothing(
    changes: dict[str, Any], teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = teams.prepare("personal_message", text=VISIT)
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value

    response = teams.post(body)

    assert response.status_code == 400
    assert response.json() == MALFORMED
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)


def test_the_same_activity_with_wrong_types_and_no_token_is_a_401(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = teams.prepare("personal_message", text=VISIT)
    body.update({"from": "x", "conversation": 5})

    response = teams.post(body, authorization=None)

    assert response.status_code == 401
    assert response.json() == REFUSED
    assert_nothing_stored(session)


GARBAGE_VALUES: list[Any] = [
    None,
    "",
    "x" * 300,
    0,
    -1,
    2**70,
    1.5,
    True,
    [],
    [None],
    {},
    {"id": None},
    "<at>Nudgebot</at>",
    "\u202e\x00\ud7ff",
]


def _mutated(rng: random.Random, activity: dict[str, Any]) -> dict[str, Any]:
    """The activity with a few values anywhere in it (but its service URL) replaced by garbage."""
    body = copy.deepcopy(activity)
    for _ in range(rng.randint(1, 3)):
        parent: Any = body
        while True:
            keys = [key for key in parent if key != "serviceUrl"] if isinstance(parent, dict) else []
            if isinstance(parent, list):
                keys = list(range(len(parent)))
            if not keys:
                break
            key = rng.choice(keys)
            child = parent[key]
            if isinstance(child, dict | list) and child and rng.random() < 0.6:
                parent = child
                continue
            parent[key] = rng.choice(GARBAGE_VALUES)
            break
    return body


def test_signed_garbage_activities_never_get_a_500_nor_log_an_error(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(20261123)
    fixtures = [
        "personal_message",
        "channel_message_mention",
        "adaptive_card_action",
        "installation_update_add",
    ]
    statuses: dict[int, int] = {}
    for case in range(150):
        body = _mutated(rng, teams.prepare(rng.choice(fixtures)))

        response = teams.post(body)

        assert response.status_code in (200, 400, 401), f"case {case}: {body!r}\n{response.text}"
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    settle(teams)
    assert statuses[400] > 50
    assert statuses[200] > 5
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    # The bot still works.
    earlier = len(microsoft.sent(ANA_CHAT))
    assert teams.say(VISIT).status_code == 200
    assert "Logged 1h30 at Acme Dental." in text_of(teams.card_sent(ANA_CHAT, after=earlier))


def test_a_body_over_256_kb_is_refused_with_413(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = teams.prepare("personal_message", text=VISIT + " " + "x" * MAX_BODY_BYTES)

    response = teams.post(body)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)
    assert microsoft.key_fetches == 0


def test_a_streamed_body_over_256_kb_without_a_length_is_refused_with_413(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = teams.prepare("personal_message", text=VISIT + " " + "x" * MAX_BODY_BYTES)
    content = json.dumps(body).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), 16 * 1024):
            yield content[start : start + 16 * 1024]

    response = teams.http.post(
        "/api/messages",
        content=chunks(),
        headers={"Authorization": microsoft.authorization(body["serviceUrl"])},
    )

    assert response.status_code == 413
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)


def test_a_body_of_exactly_256_kb_is_read(teams: TeamsClient, session: Session) -> None:
    body = teams.prepare("personal_message", text=VISIT)
    # Padding where Teams puts extra data, sized so the whole body is exactly the limit.
    body["channelData"]["padding"] = ""
    body["channelData"]["padding"] = "x" * (MAX_BODY_BYTES - len(json.dumps(body).encode()))
    assert len(json.dumps(body).encode()) == MAX_BODY_BYTES

    response = teams.post(body)

    assert response.status_code == 200
    assert count_rows(session, Visit) == 1


def raw_exchange(url: str, head: bytes, body: bytes) -> bytes:
    """Send a hand-written request on a plain socket and return what comes back until the server closes
    the connection or goes quiet."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(head + body)
        received = b""
        connection.settimeout(2)
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass  # the server went quiet, or hung up on what it would not read
    return received


def request_head(authorization: str, content_length: int) -> bytes:
    return (
        f"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {authorization}\r\nContent-Length: {content_length}\r\n\r\n"
    ).encode()


def status_of(answer: bytes) -> int:
    return int(answer.split(b"\r\n", 1)[0].split(b" ")[1])


def test_a_content_length_over_256_kb_is_refused_before_the_body_is_read(
    teams: TeamsClient, teams_bot: BotServer, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = _activity_bytes(teams)
    authorization = microsoft.authorization(microsoft.service_url)

    # The body is a normal activity, but the header claims more than the limit: no waiting for it.
    answer = raw_exchange(teams_bot.url, request_head(authorization, MAX_BODY_BYTES + 1), body)

    assert status_of(answer) == 413
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)


def test_a_content_length_shorter_than_the_body_reads_only_what_it_says(
    teams: TeamsClient, teams_bot: BotServer, microsoft: FakeMicrosoft, session: Session
) -> None:
    body = _activity_bytes(teams)
    authorization = microsoft.authorization(microsoft.service_url)

    # The first 100 bytes of the activity are not JSON, and the rest is not an HTTP request.
    answer = raw_exchange(teams_bot.url, request_head(authorization, 100), body)

    assert status_of(answer) == 400
    first = answer.split(b"\r\n\r\n", 1)[1]
    assert first.startswith(json.dumps(MALFORMED, separators=(",", ":")).encode())
    assert b" 500 " not in answer
    assert_nothing_stored(session)
    assert_nothing_sent(microsoft)


# -- Where the bot's token may go -------------------------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[FakeMicrosoft]:
    """A second fake Bot Connector on another loopback address: any host that is not an allowed one."""
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT, client_secret=APP_PASSWORD, host="127.0.0.2", require_token=False
    ) as fake:
        yield fake


def test_a_signed_activity_from_another_service_host_is_taken_but_never_answered_there(
    teams: TeamsClient,
    microsoft: FakeMicrosoft,
    elsewhere: FakeMicrosoft,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = teams.prepare("personal_message", text=VISIT)
    body["serviceUrl"] = elsewhere.service_url

    # Microsoft's key signed it for that service URL: the request is genuine, the host is not allowed.
    response = teams.post(body)

    assert (response.status_code, response.text) == (200, "")
    assert count_rows(session, Conversation) == 0
    # The command itself counts; only the answer has nowhere to go.
    assert count_rows(session, Visit) == 1
    assert warnings_naming(caplog, "127.0.0.2") != []
    settle(teams)
    assert elsewhere.calls == []
    assert [call.conversation_id for call in microsoft.sent()] == [personal_chat(BO)]


def test_a_stored_conversation_at_another_host_is_refused_at_send_time(
    teams: TeamsClient,
    teams_services: Services,
    teams_settings: Settings,
    microsoft: FakeMicrosoft,
    elsewhere: FakeMicrosoft,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert teams.say(VISIT).status_code == 200
    teams.card_sent(ANA_CHAT)
    # As if the row had been written by an older version, or by hand: the reminder is due at 1 pm.
    session.execute(update(Conversation).values(service_url=elsewhere.service_url))
    session.commit()
    notifier = TeamsNotifier(teams_settings)
    try:
        report = run_once(teams_services, notifier, at=MONDAY_1PM)
    finally:
        notifier.close()

    assert report.dead == 1
    nudge = session.scalars(select(Nudge)).one()
    assert (nudge.status, nudge.last_error) == (NudgeStatus.DEAD, "service_url_not_allowed")
    assert elsewhere.calls == []
    assert len(microsoft.sent()) == 1
    assert warnings_naming(caplog, "refused to send the bot's token to 127.0.0.2") != []


def test_an_activity_from_another_tenant_is_ignored(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    body = teams.prepare("personal_message", text=VISIT)
    body["conversation"]["tenantId"] = ANOTHER_TENANT
    body["channelData"]["tenant"]["id"] = ANOTHER_TENANT

    response = teams.post(body)

    assert response.status_code == 200
    assert_nothing_stored(session)
    assert warnings_naming(caplog, ANOTHER_TENANT) != []
    settle(teams)
    assert [call.conversation_id for call in microsoft.sent()] == [personal_chat(BO)]


def test_the_own_tenant_id_written_in_upper_case_is_still_the_own_tenant(
    database_url: str, microsoft: FakeMicrosoft, engine: Engine, clock: FrozenClock, session: Session
) -> None:
    # GUIDs are case-insensitive (RFC 4122 §3); Teams sends them in lower case, admin tools may show
    # them in upper case, and MANAGER_IDS already takes either.
    settings = teams_settings_for(database_url, microsoft, teams_tenant_id=TENANT.upper())
    bot = BotServer(Services(settings=settings, sessions=make_session_factory(engine), clock=clock)).start()
    teams = TeamsClient(bot.url, microsoft)
    try:
        response = teams.say(VISIT)
    finally:
        teams.close()
        bot.stop()

    assert response.status_code == 200
    assert count_rows(session, Visit) == 1


def test_a_button_press_from_another_tenant_changes_nothing(
    teams: TeamsClient, microsoft: FakeMicrosoft, session: Session
) -> None:
    assert teams.say(VISIT).status_code == 200
    card = teams.card_sent(ANA_CHAT)
    before = stored(session)
    body = teams.prepare("adaptive_card_action")
    body["value"]["action"] = {**action(card, "Mark follow-up sent"), "type": "Action.Execute"}
    body["conversation"]["tenantId"] = ANOTHER_TENANT
    body["channelData"]["tenant"]["id"] = ANOTHER_TENANT

    response = teams.post(body)

    assert response.status_code == 200
    assert response.json()["type"] == "application/vnd.microsoft.activity.message"
    assert stored(session) == before
    assert session.scalars(select(Visit.followup_sent_at)).one() is None


# -- Secrets in logs ------------------------------------------------------------------------------------

DEBUG_LOGGERS = ("", "httpx", "httpcore", "microsoft_teams", "microsoft_teams.common.http.client", "uvicorn")


def test_no_token_nor_password_is_ever_logged_even_at_debug(
    teams_services: Services, microsoft: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    for name in DEBUG_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    incoming: list[str] = []
    bot = BotServer(teams_services).start()
    teams = TeamsClient(bot.url, microsoft)
    try:
        visit = teams.prepare("personal_message", text=VISIT)
        incoming.append(microsoft.sign(visit["serviceUrl"]))
        assert teams.post(visit, authorization=f"Bearer {incoming[-1]}").status_code == 200
        card = teams.card_sent(ANA_CHAT)
        press = teams.prepare("adaptive_card_action")
        press["value"]["action"] = {**action(card, "Mark follow-up sent"), "type": "Action.Execute"}
        incoming.append(microsoft.sign(press["serviceUrl"]))
        pressed = teams.post(press, authorization=f"Bearer {incoming[-1]}")
        assert "marked sent" in text_of(invoke_card(pressed)).lower()
    finally:
        teams.close()
        bot.stop()

    secrets = [*incoming, *microsoft.issued_tokens, APP_PASSWORD]
    assert len(microsoft.issued_tokens) == 1
    # A token cut short in a log would still give its signature away; look for that too.
    secrets += [token.rsplit(".", 1)[1] for token in [*incoming, *microsoft.issued_tokens]]
    assert sum(record.levelno == logging.DEBUG for record in caplog.records) > 10
    logged = caplog.text + "\n".join(repr(record.__dict__) for record in caplog.records)
    assert [secret for secret in secrets if secret in logged] == []


# -- The local Playground --------------------------------------------------------------------------------


@pytest.fixture
def playground_connector() -> Iterator[FakeMicrosoft]:
    """The Playground's mock Bot Connector on loopback: it checks no token."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT, client_secret="unused", require_token=False) as fake:
        yield fake


@pytest.fixture
def playground_services(
    database_url: str, playground_connector: FakeMicrosoft, engine: Engine, clock: FrozenClock
) -> Services:
    """The bot with TEAMS_LOCAL_PLAYGROUND=true and no registration at all."""
    settings = teams_settings_for(
        database_url,
        playground_connector,
        teams_local_playground=True,
        teams_app_id=None,
        teams_app_password=None,
        teams_tenant_id=None,
        teams_connector_hosts="",
    )
    return Services(settings=settings, sessions=make_session_factory(engine), clock=clock)


@pytest.fixture
def playground(playground_services: Services, playground_connector: FakeMicrosoft) -> Iterator[TeamsClient]:
    """The Playground's side: activities with no token, from this machine."""
    bot = BotServer(playground_services).start()
    client = TeamsClient(bot.url, playground_connector)
    client.http.headers["x-ms-agents-playground"] = "true"
    yield client
    client.close()
    bot.stop()


def test_the_playground_sends_an_activity_without_a_token_and_gets_the_answer(
    playground: TeamsClient, playground_connector: FakeMicrosoft, session: Session
) -> None:
    response = playground.post(playground.prepare("personal_message", text=VISIT), authorization=None)

    assert (response.status_code, response.text) == (200, "")
    assert "Logged 1h30 at Acme Dental." in text_of(playground.card_sent(ANA_CHAT))
    assert count_rows(session, Visit) == 1
    [chat] = session.scalars(select(Conversation)).all()
    assert chat.service_url == playground_connector.service_url
    # No registration: the bot asked nobody for a token of its own.
    assert playground_connector.of_kind("metadata", "keys", "token") == []


def test_with_the_playground_a_service_url_off_this_machine_is_never_written_to(
    playground: TeamsClient,
    playground_connector: FakeMicrosoft,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = playground.prepare("personal_message", text=VISIT)
    body["serviceUrl"] = TEAMS_SERVICE_URL

    response = playground.post(body, authorization=None)

    assert response.status_code == 200
    assert count_rows(session, Conversation) == 0
    assert warnings_naming(caplog, "smba.trafficmanager.net") != []
    reply = playground.post(playground.prepare("personal_message", user=BO, text="help"), authorization=None)
    assert reply.status_code == 200
    playground_connector.wait_for(lambda call: call.conversation_id == personal_chat(BO))
    assert [call.conversation_id for call in playground_connector.sent()] == [personal_chat(BO)]
    # No answer was even attempted there (the messenger logs every address it refuses).
    assert warnings_naming(caplog, "refused to send") == []


class InProcess:
    """The Playground bot's ASGI app called in-process, with the client address of our choosing (what
    uvicorn would report for a connection from that machine)."""

    def __init__(self, services: Services) -> None:
        self.front = build_front(services)
        assert self.front.teams is not None
        self.loop = asyncio.Runner()
        self.loop.run(self.front.teams.start())

    def post(self, client: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST /api/messages as if from `client`."""

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.front.web, client=(client, 50123))
            async with httpx.AsyncClient(transport=transport, base_url="http://nudgebot") as http:
                return await http.post("/api/messages", content=body, headers=headers)

        return self.loop.run(call())

    def close(self) -> None:
        assert self.front.teams is not None
        self.loop.run(self.front.teams.stop())
        self.loop.close()
        self.front.runner.shutdown()


@pytest.fixture
def in_process(playground_services: Services) -> Iterator[InProcess]:
    """The Playground bot, called without a network."""
    front = InProcess(playground_services)
    yield front
    front.close()


def playground_activity(connector: FakeMicrosoft, text: str = VISIT) -> bytes:
    body = activity("personal_message")
    body.update(serviceUrl=connector.service_url, text=text)
    return json.dumps(body).encode()


# Addresses a connection from another machine shows, and Starlette's test client's made-up one.
ELSEWHERE = ["192.0.2.10", "10.1.2.3", "2001:db8::1", "::ffff:192.0.2.10", "0.0.0.0", "testclient", ""]


@pytest.mark.parametrize("client", ELSEWHERE)
@pytest.mark.parametrize("authorization", [None, "Bearer aaa.bbb.ccc"], ids=["no token", "some token"])
def test_with_the_playground_an_activity_from_another_machine_is_refused(
    client: str,
    authorization: str | None,
    in_process: InProcess,
    playground_connector: FakeMicrosoft,
    session: Session,
) -> None:
    headers = {"Content-Type": "application/json", "x-ms-agents-playground": "true"}
    if authorization is not None:
        headers["Authorization"] = authorization

    response = in_process.post(client, playground_activity(playground_connector), headers)

    assert response.status_code == 401
    assert response.json() == REFUSED
    assert_nothing_stored(session)
    assert playground_connector.calls == []


def test_with_the_playground_garbage_from_another_machine_gets_401_not_400(
    in_process: InProcess, session: Session
) -> None:
    response = in_process.post("192.0.2.10", b"garbage", {"Content-Type": "application/json"})

    assert response.status_code == 401
    assert response.json() == REFUSED
    assert_nothing_stored(session)


@pytest.mark.parametrize("client", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_with_the_playground_the_same_activity_from_this_machine_is_taken(
    client: str, in_process: InProcess, playground_connector: FakeMicrosoft, session: Session
) -> None:
    headers = {"Content-Type": "application/json", "x-ms-agents-playground": "true"}

    response = in_process.post(client, playground_activity(playground_connector), headers)

    assert response.status_code == 200
    assert count_rows(session, Visit) == 1


# -- /healthz ------------------------------------------------------------------------------------------


def test_healthz_names_teams_when_only_teams_is_on(teams: TeamsClient) -> None:
    response = teams.http.get("/healthz")

    assert (response.status_code, response.text) == (200, "ok: teams")


def test_healthz_names_both_platforms_when_both_are_on(
    database_url: str, microsoft: FakeMicrosoft, fake_slack: SlackStandIn, engine: Engine, clock: FrozenClock
) -> None:
    settings = teams_settings_for(
        database_url,
        microsoft,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.base_url,
    )
    bot = BotServer(Services(settings=settings, sessions=make_session_factory(engine), clock=clock)).start()
    try:
        response = httpx.get(bot.url + "/healthz", timeout=5)
    finally:
        bot.stop()

    assert (response.status_code, response.text) == (200, "ok: slack, teams")


def test_healthz_says_when_the_local_playground_is_on(playground: TeamsClient) -> None:
    response = playground.http.get("/healthz")

    assert (response.status_code, response.text) == (200, "ok: teams (local Playground)")

"""Forged, stale and malformed requests get 401 (or 413 when too large), never 500, and change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import string
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest
from slack_sdk.signature import Clock
from sqlalchemy.orm import Session

from handlers.slack.server import MAX_BODY_BYTES, SignatureGate
from handlers.slack.standin import RecordedRequest, SlackStandIn
from storage.models import Client, ProcessedRequest, Technician, Visit, Workspace
from storage.repositories import count_rows
from tests.harness import SIGNING_SECRET, SlackClient, payload, text_of

VISIT = "Acme Dental 1h30 replaced fuser; todo: order toner"
FORM = "application/x-www-form-urlencoded"
Headers = list[tuple[str, bytes]]
# Digits str.isdigit() accepts and int() reads, but that are not the ASCII digits Slack sends.
FULL_WIDTH_123 = "\N{FULLWIDTH DIGIT ONE}\N{FULLWIDTH DIGIT TWO}\N{FULLWIDTH DIGIT THREE}"
ARABIC_INDIC_1700000000 = "\u0661\u0667" + "\u0660" * 8
# A case gets the signed /visit body and the current time, and returns what to send instead.
Forge = Callable[[bytes, float], tuple[bytes, Headers]]


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 signature of a body at a timestamp, over the raw bytes (whatever their encoding)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def headers(timestamp: str | bytes | None, signature: str | None) -> Headers:
    """The request headers; None leaves a header out, bytes go on the wire as they are."""
    sent: Headers = [("content-type", FORM.encode())]
    if timestamp is not None:
        sent.append(
            ("x-slack-request-timestamp", timestamp.encode() if isinstance(timestamp, str) else timestamp)
        )
    if signature is not None:
        sent.append(("x-slack-signature", signature.encode()))
    return sent


def now_stamp(now: float) -> str:
    return str(int(now))


def signed_at(stamp: str) -> Forge:
    """Correctly signed, but with this timestamp."""
    return lambda body, _: (body, headers(stamp, sign(body, stamp)))


FORGERIES: dict[str, Forge] = {
    "bad signature": lambda body, now: (body, headers(now_stamp(now), "v0=" + "0" * 64)),
    "wrong secret": lambda body, now: (
        body,
        headers(now_stamp(now), sign(body, now_stamp(now), "another-apps-signing-secret")),
    ),
    "signature without v0=": lambda body, now: (
        body,
        headers(now_stamp(now), sign(body, now_stamp(now)).removeprefix("v0=")),
    ),
    "missing signature header": lambda body, now: (body, headers(now_stamp(now), None)),
    "missing timestamp header": lambda body, now: (body, headers(None, sign(body, now_stamp(now)))),
    "timestamp 301 s old": lambda body, now: (
        body,
        headers(str(math.floor(now) - 301), sign(body, str(math.floor(now) - 301))),
    ),
    "timestamp 301 s in the future": lambda body, now: (
        body,
        headers(str(math.ceil(now) + 301), sign(body, str(math.ceil(now) + 301))),
    ),
    "old signature with a fresh timestamp": lambda body, now: (
        body,
        headers(now_stamp(now), sign(body, str(int(now) - 600))),
    ),
    "timestamp abc": signed_at("abc"),
    "timestamp 1e9": signed_at("1e9"),
    "timestamp with a plus sign": lambda body, now: (
        body,
        headers("+" + now_stamp(now), sign(body, "+" + now_stamp(now))),
    ),
    "timestamp in full-width digits": lambda body, _: (
        body,
        headers(FULL_WIDTH_123.encode(), sign(body, FULL_WIDTH_123)),
    ),
    "empty timestamp": lambda body, now: (body, headers(b"", sign(body, ""))),
    "body tampered after signing": lambda body, now: (
        body.replace(b"1h30", b"9h30"),
        headers(now_stamp(now), sign(body, now_stamp(now))),
    ),
    "ssl_check=1 appended after signing": lambda body, now: (
        body + b"&ssl_check=1",
        headers(now_stamp(now), sign(body, now_stamp(now))),
    ),
    "signed body that is not UTF-8": lambda body, now: (
        body + b"\xff\xfe",
        headers(now_stamp(now), sign(body + b"\xff\xfe", now_stamp(now))),
    ),
    "empty body": lambda body, now: (b"", headers(now_stamp(now), sign(body, now_stamp(now)))),
    "forged signature first, real one second": lambda body, now: (
        body,
        [
            *headers(now_stamp(now), "v0=" + "0" * 64),
            ("x-slack-signature", sign(body, now_stamp(now)).encode()),
        ],
    ),
    "real signature first, forged one second": lambda body, now: (
        body,
        [*headers(now_stamp(now), sign(body, now_stamp(now))), ("x-slack-signature", b"v0=" + b"0" * 64)],
    ),
    "two timestamps": lambda body, now: (
        body,
        [*headers(now_stamp(now), sign(body, now_stamp(now))), ("x-slack-request-timestamp", b"abc")],
    ),
}


@pytest.fixture
def after_start_up(slack: SlackClient, fake_slack: SlackStandIn) -> list[RecordedRequest]:
    """What the fake Slack saw while the bot started (its auth.test), to compare with later."""
    return fake_slack.requests()


def assert_nothing_stored(session: Session) -> None:
    counts = {model.__name__: count_rows(session, model) for model in (Visit, Client, Workspace, Technician)}
    assert counts == {"Visit": 0, "Client": 0, "Workspace": 0, "Technician": 0}
    assert count_rows(session, ProcessedRequest) == 0


def post(slack: SlackClient, body: bytes, sent: Headers) -> httpx.Response:
    return slack.http.post("/slack/events", content=body, headers=[(k.encode(), v) for k, v in sent])


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_or_stale_visit_is_refused_and_changes_nothing(
    forge: Forge,
    slack: SlackClient,
    session: Session,
    fake_slack: SlackStandIn,
    after_start_up: list[RecordedRequest],
) -> None:
    body, sent = forge(slack.command_body(VISIT), time.time())

    response = post(slack, body, sent)

    assert response.status_code == 401
    assert response.json() == {"error": "invalid request"}
    assert_nothing_stored(session)
    assert fake_slack.requests() == after_start_up


def test_the_same_visit_correctly_signed_is_logged(slack: SlackClient, session: Session) -> None:
    body = slack.command_body(VISIT)
    stamp = str(int(time.time()))

    response = post(slack, body, headers(stamp, sign(body, stamp)))

    assert response.status_code == 200
    assert response.json()["text"] == "Logged 1h30 at Acme Dental"
    assert count_rows(session, Visit) == 1


SIGNED_NONSENSE = {
    "payload that is not JSON": (b"payload=not-json", FORM),
    "payload that is a JSON list": (b"payload=%5B1%5D", FORM),
    "JSON that does not parse": (b"{bad json", "application/json"),
    "JSON that is a list": (b"[1, 2]", "application/json"),
}


@pytest.mark.parametrize(("body", "content_type"), SIGNED_NONSENSE.values(), ids=SIGNED_NONSENSE.keys())
def test_a_signed_body_bolt_cannot_parse_is_a_400_not_a_500(
    body: bytes,
    content_type: str,
    slack: SlackClient,
    session: Session,
    fake_slack: SlackStandIn,
    after_start_up: list[RecordedRequest],
) -> None:
    stamp = str(int(time.time()))
    sent = [("content-type", content_type.encode()), *headers(stamp, sign(body, stamp))[1:]]

    response = post(slack, body, sent)

    assert response.status_code == 400
    assert response.json() == {"error": "malformed request"}
    assert_nothing_stored(session)
    assert fake_slack.requests() == after_start_up


def test_timestamps_at_the_edge_of_the_five_minute_window_are_accepted(
    slack: SlackClient, session: Session
) -> None:
    # Seen from the bot a moment later, these are between 299 and 300 s old, and up to 300 s ahead.
    now = time.time()
    old, ahead = str(math.ceil(now) - 299), str(math.floor(now) + 300)
    old_body = slack.command_body("Acme Dental 30m old clock")
    ahead_body = slack.command_body("Acme Dental 30m fast clock")

    assert post(slack, old_body, headers(old, sign(old_body, old))).status_code == 200
    assert post(slack, ahead_body, headers(ahead, sign(ahead_body, ahead))).status_code == 200
    assert count_rows(session, Visit) == 2


class FixedClock(Clock):
    """A verifier clock standing still at one instant."""

    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


# Slack's worked example from "Verifying requests from Slack".
DOCS_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOCS_TIMESTAMP = 1531420618
DOCS_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOCS_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.mark.parametrize(
    ("seconds_later", "allowed"),
    [(0, True), (300, True), (301, False), (-300, True), (-301, False), (300.5, False)],
)
def test_the_gate_accepts_slacks_example_within_exactly_five_minutes(
    seconds_later: float, allowed: bool
) -> None:
    gate = SignatureGate(DOCS_SECRET, clock=FixedClock(DOCS_TIMESTAMP + seconds_later))

    assert gate.allows(DOCS_BODY, str(DOCS_TIMESTAMP), DOCS_SIGNATURE) is allowed


def test_a_body_over_one_mebibyte_is_refused_with_413(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, after_start_up: list[RecordedRequest]
) -> None:
    body = slack.command_body(VISIT + " " + "x" * MAX_BODY_BYTES)
    stamp = str(int(time.time()))

    response = post(slack, body, headers(stamp, sign(body, stamp)))

    assert response.status_code == 413
    assert_nothing_stored(session)
    assert fake_slack.requests() == after_start_up


def test_a_streamed_body_over_one_mebibyte_without_a_length_is_refused_with_413(
    slack: SlackClient, session: Session
) -> None:
    body = slack.command_body(VISIT + " " + "x" * MAX_BODY_BYTES)
    stamp = str(int(time.time()))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = post(slack, chunks(), headers(stamp, sign(body, stamp)))  # type: ignore[arg-type]

    assert response.status_code == 413
    assert_nothing_stored(session)


def test_a_body_of_exactly_one_mebibyte_is_read_and_answered(slack: SlackClient, session: Session) -> None:
    base = len(slack.command_body("Acme Dental 1h30 ", trigger_id="trigger-big"))
    body = slack.command_body("Acme Dental 1h30 " + "x" * (MAX_BODY_BYTES - base), trigger_id="trigger-big")
    assert len(body) == MAX_BODY_BYTES
    stamp = str(int(time.time()))

    response = post(slack, body, headers(stamp, sign(body, stamp)))

    assert response.status_code == 200
    assert "longer than I can take" in text_of(response.json())
    assert count_rows(session, Visit) == 0


def _random_text(rng: random.Random, alphabet: str, longest: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


def _fuzz_body(rng: random.Random, slack: SlackClient) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randint(0, 2000))
    if kind == 1:
        return slack.command_body(_random_text(rng, string.printable + "éü☃", 200))
    if kind == 2:
        return (
            b"payload="
            + quote(json.dumps(payload(rng.choice(["block_actions", "view_submission"])))).encode()
        )
    if kind == 3:
        return json.dumps(payload("app_home_opened")).encode()
    if kind == 4:
        return b""
    return rng.randbytes(8) * (MAX_BODY_BYTES // 8 + 1)


def _fuzz_headers(rng: random.Random, body: bytes, now: float) -> Headers:
    header_bytes = bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
    stamps: list[Callable[[], bytes | None]] = [
        lambda: None,
        lambda: b"",
        lambda: str(int(now)).encode(),
        lambda: str(int(now) + rng.randint(-(10**6), 10**6)).encode(),
        lambda: str(rng.randint(-(10**30), 10**30)).encode(),
        lambda: bytes(rng.choice(header_bytes) for _ in range(rng.randint(1, 30))).strip(),
        lambda: ARABIC_INDIC_1700000000.encode(),
        lambda: f"{now:.3f}".encode(),
    ]
    stamp = rng.choice(stamps)()
    text_stamp = stamp.decode("latin-1") if stamp is not None else str(int(now))
    signatures: list[Callable[[], bytes | None]] = [
        lambda: None,
        lambda: b"",
        lambda: ("v0=" + rng.randbytes(32).hex()).encode(),
        lambda: sign(body, text_stamp, "not-our-secret").encode(),
        lambda: sign(body + b"&", text_stamp).encode(),
        lambda: bytes(rng.choice(header_bytes) for _ in range(rng.randint(1, 80))).strip(),
    ]
    signature = rng.choice(signatures)()
    sent: Headers = [
        ("content-type", rng.choice([FORM, "application/json", "text/plain", "", "a/b"]).encode())
    ]
    if stamp is not None:
        sent.append(("x-slack-request-timestamp", stamp))
    if signature is not None:
        sent.append(("x-slack-signature", signature))
    if signature is not None and rng.random() < 0.1:
        # A second, valid signature beside a bad one: never a correctly signed request on its own.
        sent.append(("x-slack-signature", sign(body, str(int(now))).encode()))
    if rng.random() < 0.1:
        sent.append(("x-slack-retry-num", str(rng.randint(0, 5)).encode()))
    rng.shuffle(sent)
    return sent


def test_fuzzed_requests_get_only_401_or_413_and_store_nothing(
    slack: SlackClient, session: Session, fake_slack: SlackStandIn, after_start_up: list[RecordedRequest]
) -> None:
    rng = random.Random(20261123)
    statuses: dict[int, int] = {}
    for case in range(300):
        body = _fuzz_body(rng, slack)
        sent = _fuzz_headers(rng, body, time.time())

        response = post(slack, body, sent)

        expected = 413 if len(body) > MAX_BODY_BYTES else 401
        assert response.status_code == expected, f"case {case}: {sent!r} {body[:200]!r}"
        statuses[expected] = statuses.get(expected, 0) + 1
    assert statuses[401] > 200
    assert statuses[413] > 10
    assert_nothing_stored(session)
    assert fake_slack.requests() == after_start_up


def test_slacks_url_verification_is_answered_with_the_challenge(slack: SlackClient, session: Session) -> None:
    body = json.dumps(
        {
            "token": "unused",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )

    response = slack.post(body.encode(), content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert_nothing_stored(session)


def test_a_signed_ssl_check_gets_200_and_an_unsigned_one_401(slack: SlackClient, session: Session) -> None:
    body = b"ssl_check=1&token=unused"

    signed = slack.post(body)
    unsigned = slack.post(body, signature="v0=" + "0" * 64)

    assert (signed.status_code, signed.text) == (200, "")
    assert unsigned.status_code == 401
    assert_nothing_stored(session)


def test_health_check_answers_ok_and_names_the_platforms_on(slack: SlackClient) -> None:
    response = slack.http.get("/healthz")

    assert response.status_code == 200
    assert response.text == "ok: slack"

"""The Bot Framework token gate, checked against the fake Microsoft services over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from handlers.teams.auth import BotFrameworkAuth, Unauthorized, is_loopback
from tests.fakes.microsoft import FakeMicrosoft

APP_ID = "00000000-0000-0000-0000-000000000111"
TENANT_ID = "00000000-0000-0000-0000-000000000222"
CLIENT_SECRET = "secret-111"
SERVICE_URL = "https://smba.trafficmanager.net/amer/"
T0 = 1_800_000_000.0
DAY = 24 * 3600.0


class Clock:
    """A clock the test moves by hand, injected into the gate and used to date the tokens."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Gate:
    """One BotFrameworkAuth on one event loop, pointed at the fake, so its key cache lives across checks."""

    def __init__(self, runner: asyncio.Runner, fake: FakeMicrosoft, clock: Clock, openid_url: str) -> None:
        self.runner = runner
        self.fake = fake
        self.clock = clock
        self.http = httpx.AsyncClient(timeout=5.0)
        self.auth = BotFrameworkAuth(openid_url, APP_ID, http=self.http, clock=clock)

    def token(self, **options: Any) -> str:
        """An Authorization header for SERVICE_URL dated by the test's clock, taking `sign`'s options."""
        options.setdefault("now", self.clock.now)
        return self.fake.authorization(SERVICE_URL, **options)

    def check(
        self,
        authorization: str | None,
        *,
        service_url: str | None = SERVICE_URL,
        channel_id: str | None = "msteams",
    ) -> dict[str, Any] | str:
        """Return the verified claims, or the reason the gate gave for refusing."""
        return self.runner.run(self._check(authorization, service_url, channel_id))

    def check_together(self, authorizations: list[str]) -> list[dict[str, Any] | str]:
        """Check several headers concurrently, as simultaneous requests would be."""

        async def all_of() -> list[dict[str, Any] | str]:
            return list(
                await asyncio.gather(*(self._check(a, SERVICE_URL, "msteams") for a in authorizations))
            )

        return self.runner.run(all_of())

    async def _check(
        self, authorization: str | None, service_url: str | None, channel_id: str | None
    ) -> dict[str, Any] | str:
        try:
            return await self.auth.verify(authorization, service_url=service_url, channel_id=channel_id)
        except Unauthorized as refusal:
            return refusal.reason

    def close(self) -> None:
        self.runner.run(self.http.aclose())


@pytest.fixture
def fake() -> Iterator[FakeMicrosoft]:
    """The fake Microsoft services, started for the test."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET) as microsoft:
        yield microsoft


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the whole test (what asyncio.run does, but reusable between steps)."""
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.fixture
def make_gate(runner: asyncio.Runner, fake: FakeMicrosoft, clock: Clock) -> Iterator[Callable[..., Gate]]:
    """Build gates on the test's loop (optionally at another metadata URL) and close their clients after."""
    gates: list[Gate] = []

    def build(openid_url: str | None = None) -> Gate:
        gate = Gate(runner, fake, clock, openid_url or fake.openid_url)
        gates.append(gate)
        return gate

    yield build
    for gate in gates:
        gate.close()


@pytest.fixture
def gate(make_gate: Callable[..., Gate]) -> Gate:
    """A gate reading the fake's real metadata URL."""
    return make_gate()


def segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def hand_made(fake: FakeMicrosoft, header: Any, payload: Any) -> str:
    """A token with arbitrary JSON header and payload, correctly RS256-signed with the fake's current key."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = fake.current_key.signature("RS256", signing_input.encode())
    return f"Bearer {signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the valid case ---------------------------------------------------------------------------------------


def test_a_valid_token_gives_its_claims(gate: Gate, fake: FakeMicrosoft) -> None:
    claims = gate.check(gate.token())

    assert claims == {
        "serviceurl": SERVICE_URL,
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "iat": int(T0),
        "nbf": int(T0),
        "exp": int(T0) + 3600,
    }
    assert (fake.metadata_fetches, fake.key_fetches) == (1, 1)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(gate: Gate, scheme: str) -> None:
    token = gate.token().removeprefix("Bearer ")

    assert isinstance(gate.check(f"{scheme} {token}"), dict)


def test_surrounding_whitespace_is_ignored(gate: Gate) -> None:
    token = gate.token().removeprefix("Bearer ")

    assert isinstance(gate.check(f"  Bearer   {token}  "), dict)


@pytest.mark.parametrize(
    ("claimed", "activity"),
    [
        ("https://smba.trafficmanager.net/amer/", "https://smba.trafficmanager.net/amer"),
        ("https://smba.trafficmanager.net/amer", "https://smba.trafficmanager.net/amer/"),
        ("https://smba.trafficmanager.net/amer", "https://smba.trafficmanager.net/amer"),
    ],
)
def test_one_trailing_slash_does_not_matter(gate: Gate, claimed: str, activity: str) -> None:
    claims = gate.check(gate.token(claims={"serviceurl": claimed}), service_url=activity)

    assert isinstance(claims, dict)
    assert claims["serviceurl"] == claimed


def test_a_key_with_no_endorsements_signs_for_any_channel(gate: Gate, fake: FakeMicrosoft) -> None:
    bare = fake.publish_key(endorsements=[])

    assert isinstance(gate.check(gate.token(key=bare), channel_id="msteams"), dict)
    assert isinstance(gate.check(gate.token(key=bare), channel_id=None), dict)


# -- every refusal, with its reason -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "no token"),
        ("", "no token"),
        ("   ", "no token"),
        ("Bearer", "no token"),
        ("Bearer    ", "no token"),
        ("Basic dXNlcjpwYXNz", "not a bearer token"),
        ("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "not a bearer token"),
        ("Bearer abc", "malformed token"),
        ("Bearer a.b.c", "malformed token"),
        ("Bearer a.b.c.d", "malformed token"),
        ("Bearer ñ.ñ.ñ", "malformed token"),
        ("Bearer \ud800.\ud800.\ud800", "malformed token"),
        ("Bearer \x00.\x00.\x00", "malformed token"),
        ("Bearer " + "A" * 1_000_000, "token too large"),
        ("Bearer " + "A.B." + "C" * 20_000, "token too large"),
        (f"Bearer {segment(['alg', 'RS256'])}.{segment({})}.c2ln", "malformed token"),
        (f"Bearer {segment('RS256')}.{segment({})}.c2ln", "malformed token"),
    ],
)
def test_garbage_headers_are_refused_before_any_key_is_fetched(
    gate: Gate, fake: FakeMicrosoft, authorization: str | None, reason: str
) -> None:
    assert gate.check(authorization) == reason
    assert (fake.metadata_fetches, fake.key_fetches) == (0, 0)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"algorithm": "none"}, "algorithm not allowed"),
        ({"algorithm": "HS256"}, "algorithm not allowed"),
        ({"algorithm": "RS512"}, "algorithm not allowed"),
        ({"headers": {"alg": None}}, "algorithm not allowed"),
        ({"headers": {"alg": "rs256"}}, "algorithm not allowed"),
        ({"headers": {"kid": None}}, "no key id"),
        ({"headers": {"kid": ""}}, "no key id"),
        # PyJWT itself refuses a kid that is not a string.
        ({"headers": {"kid": 7}}, "malformed token"),
        ({"headers": {"kid": ["a"]}}, "malformed token"),
    ],
)
def test_wrong_algorithms_and_missing_key_ids_are_refused_before_any_key_is_fetched(
    gate: Gate, fake: FakeMicrosoft, options: dict[str, Any], reason: str
) -> None:
    assert gate.check(gate.token(**options)) == reason
    assert (fake.metadata_fetches, fake.key_fetches) == (0, 0)


def test_a_key_the_fake_never_published_is_an_unknown_key(gate: Gate, fake: FakeMicrosoft) -> None:
    assert gate.check(gate.token(key=fake.foreign_key())) == "unknown key"


def test_a_made_up_key_id_is_an_unknown_key(gate: Gate) -> None:
    assert gate.check(gate.token(kid="no-such-key")) == "unknown key"


def test_a_forged_signature_under_a_published_key_id_is_refused(gate: Gate) -> None:
    assert gate.check(gate.token(forged=True)) == "bad signature"


def test_a_payload_swapped_under_a_valid_signature_is_refused(gate: Gate) -> None:
    header, _, signature = gate.token().removeprefix("Bearer ").split(".")
    other_payload = gate.token(claims={"aud": "someone-else"}).split(".")[1]

    assert gate.check(f"Bearer {header}.{other_payload}.{signature}") == "bad signature"


def test_a_signature_stripped_off_is_refused(gate: Gate) -> None:
    header, payload, _ = gate.token().split(".")

    assert gate.check(f"{header}.{payload}.") == "bad signature"


def test_a_payload_that_is_not_an_object_is_refused(gate: Gate, fake: FakeMicrosoft) -> None:
    kid = fake.current_key.kid

    assert gate.check(hand_made(fake, {"alg": "RS256", "kid": kid}, ["aud", APP_ID])) == "malformed token"
    assert gate.check(hand_made(fake, {"alg": "RS256", "kid": kid}, "claims")) == "malformed token"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "00000000-0000-0000-0000-000000000999"}, "wrong audience"),
        ({"aud": f"api://{APP_ID}"}, "wrong audience"),
        ({"aud": f"{APP_ID} "}, "wrong audience"),
        ({"aud": [APP_ID]}, "wrong audience"),
        ({"aud": 111}, "wrong audience"),
        ({"aud": None}, "missing aud"),
        ({"iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000222/"}, "wrong issuer"),
        ({"iss": "https://api.botframework.com/"}, "wrong issuer"),
        ({"iss": ["https://api.botframework.com"]}, "wrong issuer"),
        ({"iss": None}, "missing iss"),
        ({"exp": None}, "missing exp"),
        ({"exp": "tomorrow"}, "bad exp"),
        ({"exp": True}, "bad exp"),
        ({"exp": float("nan")}, "bad exp"),
        ({"exp": float("inf")}, "bad exp"),
        ({"exp": [T0 + 3600]}, "bad exp"),
        ({"nbf": "now"}, "bad nbf"),
        ({"iat": {"at": T0}}, "bad iat"),
        ({"serviceurl": None}, "missing serviceurl"),
        ({"serviceurl": ""}, "missing serviceurl"),
        ({"serviceurl": 7}, "missing serviceurl"),
        ({"serviceurl": "https://evil.example.com/amer/"}, "service URL mismatch"),
        ({"serviceurl": "https://smba.trafficmanager.net/amer//"}, "service URL mismatch"),
        ({"serviceurl": "https://smba.trafficmanager.net/emea/"}, "service URL mismatch"),
        ({"serviceurl": "HTTPS://SMBA.TRAFFICMANAGER.NET/AMER/"}, "service URL mismatch"),
        ({"jti": 12}, "invalid token"),
    ],
)
def test_bad_claims_are_refused_with_their_reason(gate: Gate, claims: dict[str, Any], reason: str) -> None:
    assert gate.check(gate.token(claims=claims)) == reason


@pytest.mark.parametrize("service_url", [None, ""])
def test_an_activity_without_a_service_url_is_refused(gate: Gate, service_url: str | None) -> None:
    assert gate.check(gate.token(), service_url=service_url) == "no service URL"


def test_an_expired_token_is_refused(gate: Gate) -> None:
    assert gate.check(gate.token(expired=True)) == "expired"


def test_a_token_from_the_future_is_refused(gate: Gate, clock: Clock) -> None:
    assert gate.check(gate.token(claims={"nbf": clock.now + 600})) == "not yet valid"
    assert gate.check(gate.token(claims={"iat": clock.now + 600, "nbf": None})) == "issued in the future"


def test_a_key_endorsed_for_another_channel_is_refused(gate: Gate, fake: FakeMicrosoft) -> None:
    webchat_only = fake.publish_key(endorsements=["webchat"])

    assert gate.check(gate.token(key=webchat_only)) == "key not endorsed for msteams"
    assert isinstance(gate.check(gate.token(key=webchat_only), channel_id="webchat"), dict)


@pytest.mark.parametrize(
    ("channel_id", "reason"),
    [
        ("webchat", "key not endorsed for webchat"),
        (None, "key not endorsed for this channel"),
        ("", "key not endorsed for this channel"),
        ("MSTEAMS", "key not endorsed for MSTEAMS"),
        ("msteams\nforged log line", "key not endorsed for this channel"),
    ],
)
def test_a_teams_key_signs_only_for_teams(gate: Gate, channel_id: str | None, reason: str) -> None:
    assert gate.check(gate.token(), channel_id=channel_id) == reason


def test_a_channel_id_of_the_wrong_type_is_refused(gate: Gate) -> None:
    channel: Any = ["msteams"]

    assert gate.check(gate.token(), channel_id=channel) == "key not endorsed for this channel"


def test_malformed_entries_in_the_key_set_are_skipped(gate: Gate, fake: FakeMicrosoft) -> None:
    good = fake.current_key.jwk()
    for entry in [
        "not an object",
        {"kty": "RSA", "n": good["n"], "e": "AQAB"},
        {"kid": 7, "kty": "RSA", "n": good["n"], "e": "AQAB"},
        {"kid": "oct", "kty": "oct", "k": "c2VjcmV0"},
        {"kid": "bad-n", "kty": "RSA", "n": "!!!", "e": "AQAB"},
        {"kid": "no-n", "kty": "RSA", "e": "AQAB"},
        {"kid": "enc", "kty": "RSA", "use": "enc", "n": good["n"], "e": "AQAB"},
        {"kid": "odd-endorsements", "kty": "RSA", "n": good["n"], "e": "AQAB", "endorsements": "msteams"},
    ]:
        fake.publish_jwk(entry)

    assert isinstance(gate.check(gate.token()), dict)
    for kid in ["oct", "bad-n", "no-n", "enc", "odd-endorsements"]:
        assert gate.check(gate.token(kid=kid)) == "unknown key"


def test_a_broken_clock_is_a_refusal_not_a_crash(
    gate: Gate, fake: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    token = gate.token()

    def broken() -> float:
        raise OSError("clock unavailable")

    gate.auth = BotFrameworkAuth(fake.openid_url, APP_ID, http=gate.http, clock=broken)

    assert gate.check(token) == "invalid token"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "Bot Framework token check failed unexpectedly (OSError)"
    ]


# -- the clock and its five minutes of leeway -------------------------------------------------------------


@pytest.mark.parametrize(
    ("exp_offset", "outcome"),
    [(-240.0, "passes"), (-300.0, "passes"), (-301.0, "expired"), (-360.0, "expired")],
)
def test_expiry_allows_five_minutes_of_skew(
    gate: Gate, clock: Clock, exp_offset: float, outcome: str
) -> None:
    result = gate.check(gate.token(claims={"exp": clock.now + exp_offset, "iat": None, "nbf": None}))

    assert ("passes" if isinstance(result, dict) else result) == outcome


@pytest.mark.parametrize(("nbf_offset", "outcome"), [(240.0, "passes"), (360.0, "not yet valid")])
def test_not_before_allows_five_minutes_of_skew(
    gate: Gate, clock: Clock, nbf_offset: float, outcome: str
) -> None:
    result = gate.check(gate.token(claims={"nbf": clock.now + nbf_offset, "iat": None}))

    assert ("passes" if isinstance(result, dict) else result) == outcome


def test_time_comes_from_the_injected_clock_not_the_wall(gate: Gate, clock: Clock) -> None:
    # T0 is years away from the real date: only the injected clock can make these tokens current.
    token = gate.token()

    assert isinstance(gate.check(token), dict)
    clock.now += 3600 + 301
    assert gate.check(token) == "expired"


# -- the key cache ------------------------------------------------------------------------------------------


def test_the_key_set_is_cached_for_a_day(gate: Gate, fake: FakeMicrosoft, clock: Clock) -> None:
    assert isinstance(gate.check(gate.token()), dict)
    clock.now = T0 + DAY - 1
    assert isinstance(gate.check(gate.token()), dict)
    assert (fake.metadata_fetches, fake.key_fetches) == (1, 1)

    clock.now = T0 + DAY
    assert isinstance(gate.check(gate.token()), dict)
    assert (fake.metadata_fetches, fake.key_fetches) == (2, 2)


def test_a_rotated_key_is_accepted_after_a_refetch(gate: Gate, fake: FakeMicrosoft, clock: Clock) -> None:
    assert isinstance(gate.check(gate.token()), dict)
    old = gate.token()
    fake.rotate_keys()

    clock.now = T0 + 10  # within five minutes of the last fetch: no refetch yet
    assert gate.check(gate.token()) == "unknown key"
    assert fake.key_fetches == 1

    clock.now = T0 + 301
    assert isinstance(gate.check(gate.token()), dict)
    assert fake.key_fetches == 2
    assert gate.check(old) == "unknown key"
    assert fake.key_fetches == 2


def test_unknown_key_ids_refetch_at_most_once_every_five_minutes(
    gate: Gate, fake: FakeMicrosoft, clock: Clock
) -> None:
    assert isinstance(gate.check(gate.token()), dict)

    clock.now = T0 + 301
    burst = [gate.token(kid=f"made-up-{n}") for n in range(20)] + [gate.token(key=fake.foreign_key())]
    assert gate.check_together(burst) == ["unknown key"] * 21
    assert (fake.metadata_fetches, fake.key_fetches) == (2, 2)

    clock.now = T0 + 301 + 299
    assert [gate.check(gate.token(kid=f"again-{n}")) for n in range(20)] == ["unknown key"] * 20
    assert (fake.metadata_fetches, fake.key_fetches) == (2, 2)

    clock.now = T0 + 301 + 300
    assert gate.check(gate.token(kid="later")) == "unknown key"
    assert (fake.metadata_fetches, fake.key_fetches) == (3, 3)


def test_concurrent_first_requests_share_one_fetch(gate: Gate, fake: FakeMicrosoft) -> None:
    fake.delay("keys", 0.2)  # keeps the first fetch in flight while the others arrive

    results = gate.check_together([gate.token() for _ in range(10)])

    assert all(isinstance(result, dict) for result in results)
    assert (fake.metadata_fetches, fake.key_fetches) == (1, 1)


# -- when Microsoft cannot be reached ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["metadata", "keys"])
@pytest.mark.parametrize("status", [500, 503, 404, 429])
def test_a_failing_metadata_or_key_fetch_is_keys_unavailable(
    gate: Gate, fake: FakeMicrosoft, kind: str, status: int
) -> None:
    fake.fail_next(kind, status)

    assert gate.check(gate.token()) == "keys unavailable"


def test_a_closed_port_is_keys_unavailable(make_gate: Callable[..., Gate]) -> None:
    gate = make_gate(f"http://127.0.0.1:{closed_port()}/v1/.well-known/openidconfiguration")

    assert gate.check(gate.token()) == "keys unavailable"


def test_metadata_without_a_jwks_uri_is_keys_unavailable(
    make_gate: Callable[..., Gate], fake: FakeMicrosoft
) -> None:
    # The keys document is valid JSON but has no jwks_uri, as a wrong metadata URL would give.
    gate = make_gate(fake.keys_url)

    assert gate.check(gate.token()) == "keys unavailable"


def test_a_key_document_that_is_not_an_object_is_keys_unavailable(gate: Gate, fake: FakeMicrosoft) -> None:
    fake.fail_next("keys", 500, body=["not", "keys"])

    assert gate.check(gate.token()) == "keys unavailable"


def test_after_a_failed_fetch_the_gate_waits_ten_seconds_before_trying_again(
    gate: Gate, fake: FakeMicrosoft, clock: Clock
) -> None:
    fake.fail_next("metadata", 500)
    assert gate.check(gate.token()) == "keys unavailable"

    clock.now = T0 + 9
    assert gate.check(gate.token()) == "keys unavailable"
    assert fake.metadata_fetches == 1

    clock.now = T0 + 10
    assert isinstance(gate.check(gate.token()), dict)
    assert (fake.metadata_fetches, fake.key_fetches) == (2, 1)


def test_a_failed_refetch_keeps_the_cached_keys(gate: Gate, fake: FakeMicrosoft, clock: Clock) -> None:
    assert isinstance(gate.check(gate.token()), dict)
    clock.now = T0 + 301
    fake.fail_next("keys", 503)

    assert gate.check(gate.token(kid="made-up")) == "keys unavailable"
    assert isinstance(gate.check(gate.token()), dict)
    assert fake.key_fetches == 2


def test_a_fetch_failure_is_logged_as_a_warning(
    gate: Gate, fake: FakeMicrosoft, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("keys", 503)
    caplog.set_level(logging.DEBUG, logger="handlers.teams.auth")

    assert gate.check(gate.token()) == "keys unavailable"

    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "handlers.teams.auth"
    assert warning.getMessage() == (
        f"Could not read the Bot Framework signing keys: key set at {fake.keys_url}: HTTP 503"
    )


# -- the token never reaches the log ------------------------------------------------------------------------


def test_no_log_record_contains_a_token(
    make_gate: Callable[..., Gate], fake: FakeMicrosoft, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gate = make_gate()
    headers = [
        gate.token(),
        gate.token(forged=True),
        gate.token(expired=True),
        gate.token(algorithm="none"),
        gate.token(algorithm="HS256"),
        gate.token(kid="made-up"),
        gate.token(claims={"aud": "someone-else"}),
        gate.token(claims={"serviceurl": "https://evil.example.com/"}),
        "Bearer not.a.token",
    ]
    for header in headers:
        gate.check(header)
    clock.now = T0 + DAY + 1
    fake.fail_next("metadata", 500)
    unavailable = gate.token()
    assert gate.check(unavailable) == "keys unavailable"
    broken = make_gate()
    broken.auth = BotFrameworkAuth(fake.openid_url, APP_ID, http=broken.http, clock=lambda: 1 / 0)
    assert broken.check(headers[0]) == "invalid token"

    logged = caplog.text + "".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records
    )
    assert caplog.records, "the scenario is meant to log something"
    for header in [*headers, unavailable]:
        token = header.removeprefix("Bearer ")
        signature = token.rsplit(".", 1)[-1]
        assert token not in logged
        # Not even a piece: the signature alone is as unique as the token (short ones are ordinary words).
        assert len(signature) < 20 or signature not in logged


# -- loopback hosts for the Playground mode -----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.2",
        "127.1.2.3",
        "127.255.255.254",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST",
        "::ffff:127.0.0.1",
        "0:0:0:0:0:0:0:1",
    ],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host) is True


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        " ",
        "10.0.0.1",
        "0.0.0.0",
        "::",
        "192.168.1.10",
        "8.8.8.8",
        "fe80::1",
        "::ffff:10.0.0.1",
        "localhost.example.com",
        "127.0.0.1.nip.io",
        "127.0.0.1:3978",
        " 127.0.0.1",
        "127.0.0.1 ",
        "2130706433",
        "0x7f.0.0.1",
        "127.1",
        "\uff11\uff12\uff17.0.0.1",  # full-width digits
        "localhost\x00",
        "[127.0.0.1]",
        "garbage",
        "x" * 10_000,
    ],
)
def test_anything_else_is_not_loopback(host: str | None) -> None:
    assert is_loopback(host) is False


def test_a_non_string_is_not_loopback() -> None:
    value: Any = 2130706433

    assert is_loopback(value) is False

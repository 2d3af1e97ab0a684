"""Proves the fake Microsoft services answer real HTTP clients the way Bot Framework, Entra and Teams do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from .microsoft import BOTFRAMEWORK_ISSUER, BOTFRAMEWORK_SCOPE, FakeMicrosoft, RecordedCall

APP_ID = "00000000-0000-0000-0000-000000000111"
TENANT_ID = "00000000-0000-0000-0000-000000000222"
CLIENT_SECRET = "secret-111"
USER = "29:1user111"
CHANNEL = "19:channel111@thread.tacv2"
NOW = 1_800_000_000


class ManualClock:
    """A clock that moves only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeMicrosoft]:
    """A started fake, stopped after the test."""
    with FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET) as microsoft:
        yield microsoft


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A real synchronous HTTP client."""
    with httpx.Client(timeout=5.0) as client:
        yield client


def token_form(**overrides: str) -> dict[str, str]:
    """The form the Teams SDK posts to Entra for a bot token, with fields replaced by `overrides`."""
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": CLIENT_SECRET,
        "scope": BOTFRAMEWORK_SCOPE,
    }
    form.update(overrides)
    return form


def bot_token(fake: FakeMicrosoft, http: httpx.Client) -> str:
    """Get an access token from the fake's token endpoint, as the bot does before calling the connector."""
    response = http.post(fake.token_url, data=token_form())
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def published_key(fake: FakeMicrosoft, http: httpx.Client, kid: str) -> Any:
    """Follow metadata to keys as a verifier does, and return the public key published under `kid`."""
    jwks_uri = http.get(fake.openid_url).json()["jwks_uri"]
    [entry] = [key for key in http.get(jwks_uri).json()["keys"] if key["kid"] == kid]
    return jwt.PyJWK(entry, algorithm="RS256").key


def create_body(member: str = USER, **extra: Any) -> dict[str, Any]:
    """A create-conversation body shaped like the one the Teams SDK sends."""
    body: dict[str, Any] = {
        "bot": {"id": f"28:{APP_ID}"},
        "members": [{"id": member}],
        "isGroup": False,
        "tenantId": TENANT_ID,
        "channelData": {"tenant": {"id": TENANT_ID}},
    }
    body.update(extra)
    return body


def message(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text}


# -- URLs ------------------------------------------------------------------------------------------------


def test_urls_are_laid_out_like_microsofts(fake: FakeMicrosoft) -> None:
    base = f"http://127.0.0.1:{fake.port}"

    assert fake.base_url == base
    assert fake.openid_url == f"{base}/v1/.well-known/openidconfiguration"
    assert fake.keys_url == f"{base}/v1/.well-known/keys"
    assert fake.login_endpoint == base
    assert fake.token_url == f"{base}/{TENANT_ID}/oauth2/v2.0/token"
    assert fake.service_url == f"{base}/amer/"


# -- Bot Framework metadata, keys and tokens -------------------------------------------------------------


def test_metadata_points_at_the_keys(fake: FakeMicrosoft, http: httpx.Client) -> None:
    response = http.get(fake.openid_url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "issuer": "https://api.botframework.com",
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": fake.keys_url,
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }
    assert fake.metadata_fetches == 1
    assert fake.key_fetches == 0


def test_keys_publish_the_current_key_endorsed_for_teams(fake: FakeMicrosoft, http: httpx.Client) -> None:
    [key] = http.get(fake.keys_url).json()["keys"]

    assert sorted(key) == ["e", "endorsements", "kid", "kty", "n", "use"]
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["kid"] == fake.current_key.kid
    assert key["e"] == "AQAB"
    assert key["endorsements"] == ["msteams"]
    assert fake.key_fetches == 1
    assert fake.metadata_fetches == 0


def test_a_signed_token_verifies_against_the_published_key(fake: FakeMicrosoft, http: httpx.Client) -> None:
    token = fake.sign(fake.service_url, now=NOW)

    header = jwt.get_unverified_header(token)
    public_key = published_key(fake, http, header["kid"])
    claims = jwt.decode(
        token,
        public_key,
        algorithms=["RS256"],
        audience=APP_ID,
        issuer=BOTFRAMEWORK_ISSUER,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )

    assert header == {"alg": "RS256", "typ": "JWT", "kid": fake.current_key.kid}
    assert claims == {
        "serviceurl": fake.service_url,
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 3600,
    }


def test_a_fresh_token_passes_pyjwts_own_time_checks(fake: FakeMicrosoft, http: httpx.Client) -> None:
    token = fake.sign(fake.service_url)

    claims = jwt.decode(
        token, published_key(fake, http, fake.current_key.kid), algorithms=["RS256"], audience=APP_ID
    )

    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 5


def test_authorization_is_the_bearer_header(fake: FakeMicrosoft) -> None:
    header = fake.authorization(fake.service_url, now=NOW)

    assert header == f"Bearer {fake.sign(fake.service_url, now=NOW)}"


def test_claim_and_header_overrides_set_and_remove(fake: FakeMicrosoft) -> None:
    token = fake.sign(
        fake.service_url,
        claims={"aud": "someone-else", "serviceurl": None, "extra": 7},
        headers={"kid": None, "x5t": "thumb"},
        now=NOW,
    )

    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "x5t": "thumb"}
    assert jwt.decode(token, options={"verify_signature": False}) == {
        "iss": "https://api.botframework.com",
        "aud": "someone-else",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 3600,
        "extra": 7,
    }


def test_an_expired_token_ran_out_ten_minutes_ago(fake: FakeMicrosoft) -> None:
    claims = jwt.decode(
        fake.sign(fake.service_url, expired=True, now=NOW), options={"verify_signature": False}
    )

    assert claims["exp"] == NOW - 600
    assert claims["nbf"] == NOW - 600 - 3600


def test_a_forged_token_keeps_the_published_kid_but_fails_the_signature(
    fake: FakeMicrosoft, http: httpx.Client
) -> None:
    token = fake.sign(fake.service_url, forged=True)

    assert jwt.get_unverified_header(token)["kid"] == fake.current_key.kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, published_key(fake, http, fake.current_key.kid), algorithms=["RS256"], audience=APP_ID
        )


def test_a_foreign_key_is_never_published(fake: FakeMicrosoft, http: httpx.Client) -> None:
    foreign = fake.foreign_key()
    token = fake.sign(fake.service_url, key=foreign)

    published = [key["kid"] for key in http.get(fake.keys_url).json()["keys"]]
    assert jwt.get_unverified_header(token)["kid"] == foreign.kid
    assert foreign.kid not in published
    assert fake.foreign_key() is foreign
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, published_key(fake, http, fake.current_key.kid), algorithms=["RS256"], audience=APP_ID
        )


def test_the_hs256_forgery_is_an_hmac_keyed_with_the_public_pem(fake: FakeMicrosoft) -> None:
    token = fake.sign(fake.service_url, algorithm="HS256")

    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(fake.current_key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, fake.current_key.public_pem(), algorithms=["RS256"], audience=APP_ID)


def test_an_alg_none_token_has_an_empty_signature(fake: FakeMicrosoft) -> None:
    token = fake.sign(fake.service_url, algorithm="none")

    assert token.endswith(".")
    assert jwt.get_unverified_header(token)["alg"] == "none"


def test_rotation_publishes_only_the_new_key(fake: FakeMicrosoft, http: httpx.Client) -> None:
    old = fake.current_key

    new = fake.rotate_keys()

    assert [key["kid"] for key in http.get(fake.keys_url).json()["keys"]] == [new.kid]
    assert new.kid != old.kid
    assert fake.current_key is new
    assert jwt.get_unverified_header(fake.sign(fake.service_url))["kid"] == new.kid


def test_an_extra_key_can_be_published_without_the_teams_endorsement(
    fake: FakeMicrosoft, http: httpx.Client
) -> None:
    other = fake.publish_key(endorsements=["webchat"])
    bare = fake.publish_key()

    keys = {key["kid"]: key["endorsements"] for key in http.get(fake.keys_url).json()["keys"]}

    assert keys == {fake.current_key.kid: ["msteams"], other.kid: ["webchat"], bare.kid: []}
    assert jwt.get_unverified_header(fake.sign(fake.service_url, key=other))["kid"] == other.kid


def test_raw_entries_are_published_as_they_are_until_rotation(
    fake: FakeMicrosoft, http: httpx.Client
) -> None:
    fake.publish_jwk({"kid": "odd", "kty": "oct"})
    fake.publish_jwk("not even an object")

    before = http.get(fake.keys_url).json()["keys"]
    fake.rotate_keys()
    after = http.get(fake.keys_url).json()["keys"]

    assert before[1:] == [{"kid": "odd", "kty": "oct"}, "not even an object"]
    assert len(after) == 1


# -- Entra token endpoint --------------------------------------------------------------------------------


def test_the_token_endpoint_issues_a_jwt_shaped_token(fake: FakeMicrosoft, http: httpx.Client) -> None:
    response = http.post(fake.token_url, data=token_form())

    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "ext_expires_in", "token_type"]
    assert (body["token_type"], body["expires_in"], body["ext_expires_in"]) == ("Bearer", 3599, 3599)
    assert fake.issued_tokens == [body["access_token"]]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://api.botframework.com"
    assert claims["appid"] == APP_ID
    assert claims["tid"] == TENANT_ID
    assert claims["exp"] - claims["iat"] == 3599
    [call] = fake.calls
    assert call.kind == "token"
    assert call.form == token_form()


def test_each_grant_gives_a_different_token(fake: FakeMicrosoft, http: httpx.Client) -> None:
    first, second = bot_token(fake, http), bot_token(fake, http)

    assert first != second
    assert fake.issued_tokens == [first, second]
    assert fake.token_requests == 2


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (token_form(client_secret="wrong"), 401, "invalid_client"),
        (token_form(client_secret=""), 401, "invalid_client"),
        (token_form(client_id="00000000-0000-0000-0000-000000000999"), 400, "unauthorized_client"),
        (token_form(grant_type="password"), 400, "unsupported_grant_type"),
        (token_form(scope="https://graph.microsoft.com/.default"), 400, "invalid_scope"),
    ],
)
def test_the_token_endpoint_refuses_bad_credentials(
    fake: FakeMicrosoft, http: httpx.Client, form: dict[str, str], status: int, error: str
) -> None:
    response = http.post(fake.token_url, data=form)

    assert response.status_code == status
    assert sorted(response.json()) == ["error", "error_description"]
    assert response.json()["error"] == error
    assert response.json()["error_description"].startswith("AADSTS")
    assert fake.issued_tokens == []
    assert fake.token_requests == 1


def test_the_token_endpoint_refuses_another_tenant(fake: FakeMicrosoft, http: httpx.Client) -> None:
    response = http.post(f"{fake.base_url}/other-tenant/oauth2/v2.0/token", data=token_form())

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "AADSTS90002: Tenant 'other-tenant' not found.",
    }
    assert fake.issued_tokens == []


def test_a_queued_token_fault_comes_back_once(fake: FakeMicrosoft, http: httpx.Client) -> None:
    fake.fail_next("token", 503)

    first = http.post(fake.token_url, data=token_form())
    second = http.post(fake.token_url, data=token_form())

    assert first.status_code == 503
    assert first.json() == {
        "error": "temporarily_unavailable",
        "error_description": "AADSTS50196: The server is busy.",
    }
    assert second.status_code == 200
    assert fake.issued_tokens == [second.json()["access_token"]]


# -- Bot Connector ---------------------------------------------------------------------------------------


def test_create_conversation_is_idempotent_per_member(fake: FakeMicrosoft, http: httpx.Client) -> None:
    headers = bearer(bot_token(fake, http))
    url = f"{fake.service_url}v3/conversations"

    first = http.post(url, json=create_body(), headers=headers)
    again = http.post(url, json=create_body(), headers=headers)
    other = http.post(url, json=create_body("29:1user222"), headers=headers)

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 201)
    assert first.json()["id"].startswith("a:")
    assert again.json() == first.json()
    assert other.json()["id"] != first.json()["id"]
    created = fake.created()
    assert [call.json_body["members"] for call in created] == [
        [{"id": USER}],
        [{"id": USER}],
        [{"id": "29:1user222"}],
    ]
    assert [call.prefix for call in created] == ["/amer/"] * 3
    assert created[0].response == first.json()


def test_create_with_an_activity_answers_its_id(fake: FakeMicrosoft, http: httpx.Client) -> None:
    response = http.post(
        f"{fake.service_url}v3/conversations",
        json=create_body(activity=message("Hello")),
        headers=bearer(bot_token(fake, http)),
    )

    assert response.status_code == 201
    assert sorted(response.json()) == ["activityId", "id"]
    assert fake.sent() == []


@pytest.mark.parametrize(
    "body",
    [
        create_body(members=[]),
        create_body(members=[{"name": "no id"}]),
        create_body(tenantId=None, channelData={}),
        ["not", "an", "object"],
    ],
)
def test_create_refuses_a_body_without_members_or_tenant(
    fake: FakeMicrosoft, http: httpx.Client, body: Any
) -> None:
    response = http.post(
        f"{fake.service_url}v3/conversations", json=body, headers=bearer(bot_token(fake, http))
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadArgument"
    assert fake.created() == []


def test_send_reply_and_update_are_recorded_with_decoded_ids(fake: FakeMicrosoft, http: httpx.Client) -> None:
    token = bot_token(fake, http)
    headers = bearer(token)
    thread = f"{CHANNEL};messageid=1700000000001"
    encoded_thread = "19%3Achannel111%40thread.tacv2%3Bmessageid%3D1700000000001"

    sent = http.post(
        f"{fake.service_url}v3/conversations/a:1dm/activities", json=message("one"), headers=headers
    )
    replied = http.post(
        f"{fake.service_url}v3/conversations/{encoded_thread}/activities/1700000000001",
        json=message("two"),
        headers=headers,
    )
    updated = http.put(
        f"{fake.service_url}v3/conversations/{thread}/activities/1700000000001",
        json=message("three"),
        headers=headers,
    )

    assert (sent.status_code, replied.status_code, updated.status_code) == (201, 201, 200)
    assert sent.json()["id"] != replied.json()["id"]
    assert updated.json() == {"id": "1700000000001"}
    assert [(c.kind, c.conversation_id, c.activity_id) for c in fake.sent()] == [
        ("send", "a:1dm", None),
        ("reply", thread, "1700000000001"),
    ]
    assert [c.json_body["text"] for c in fake.sent()] == ["one", "two"]
    assert [c.json_body["text"] for c in fake.sent(thread)] == ["two"]
    [update] = fake.updates()
    assert (update.method, update.conversation_id, update.activity_id) == ("PUT", thread, "1700000000001")
    assert update.token == token
    assert update.headers["authorization"] == f"Bearer {token}"
    assert update.prefix == "/amer/"


def test_any_prefix_reaches_the_connector(fake: FakeMicrosoft, http: httpx.Client) -> None:
    response = http.post(
        f"{fake.base_url}/emea/v3/conversations/a:1dm/activities",
        json=message("hi"),
        headers=bearer(bot_token(fake, http)),
    )

    assert response.status_code == 201
    assert fake.sent()[0].prefix == "/emea/"


def test_the_query_string_is_recorded_not_routed(fake: FakeMicrosoft, http: httpx.Client) -> None:
    response = http.post(
        f"{fake.service_url}v3/conversations/a:1dm/activities?isTargetedActivity=true",
        json=message("hi"),
        headers=bearer(bot_token(fake, http)),
    )

    assert response.status_code == 201
    assert fake.sent()[0].query == {"isTargetedActivity": "true"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token-the-fake-issued"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_connector_calls_without_an_issued_token_get_401(
    fake: FakeMicrosoft, http: httpx.Client, headers: dict[str, str]
) -> None:
    response = http.post(
        f"{fake.service_url}v3/conversations/a:1dm/activities", json=message("hi"), headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "Unauthorized", "message": "Authorization has been denied for this request."}
    }
    assert fake.sent() == []
    assert [call.status for call in fake.calls] == [401]


def test_require_token_off_lets_anonymous_calls_through(http: httpx.Client) -> None:
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET, require_token=False
    ) as fake:
        response = http.post(f"{fake.service_url}v3/conversations/a:1dm/activities", json=message("hi"))

        assert response.status_code == 201
        assert fake.sent()[0].token is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            403,
            {
                "error": {"code": "Forbidden", "message": "The bot is not part of the conversation roster."},
                "subCode": "MessageWritesBlocked",
            },
        ),
        (404, {"error": {"code": "ConversationNotFound", "message": "Conversation not found."}}),
        (412, {"error": {"code": "PreconditionFailed", "message": "Request failed."}}),
        (499, {"error": {"code": "Error", "message": "Request failed."}}),
        (500, {"error": {"code": "ServiceError"}}),
        (502, {"error": {"code": "ServiceError"}}),
    ],
)
def test_queued_send_faults_come_back_once_in_teams_shapes(
    fake: FakeMicrosoft, http: httpx.Client, status: int, body: dict[str, Any]
) -> None:
    fake.fail_next("send", status)
    url = f"{fake.service_url}v3/conversations/a:1dm/activities"
    headers = bearer(bot_token(fake, http))

    failed = http.post(url, json=message("one"), headers=headers)
    passed = http.post(url, json=message("two"), headers=headers)

    assert failed.status_code == status
    assert failed.json() == body
    assert "retry-after" not in failed.headers
    assert passed.status_code == 201
    assert [c.json_body["text"] for c in fake.sent()] == ["two"]


def test_a_queued_429_carries_retry_after(fake: FakeMicrosoft, http: httpx.Client) -> None:
    fake.fail_next("send", 429, retry_after=3, times=2)
    url = f"{fake.service_url}v3/conversations/a:1dm/activities"
    headers = bearer(bot_token(fake, http))

    answers = [http.post(url, json=message(str(n)), headers=headers) for n in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 201]
    assert [a.headers.get("retry-after") for a in answers] == ["3", "3", None]
    assert answers[0].json() == {
        "error": {"code": "TooManyRequests", "message": "Too many requests. Retry after a while."}
    }
    assert fake.throttled == 0


def test_a_429_without_retry_after_given_says_one_second(fake: FakeMicrosoft, http: httpx.Client) -> None:
    fake.fail_next("create", 429)

    response = http.post(
        f"{fake.service_url}v3/conversations", json=create_body(), headers=bearer(bot_token(fake, http))
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


def test_a_reply_takes_a_send_fault_and_an_update_its_own(fake: FakeMicrosoft, http: httpx.Client) -> None:
    fake.fail_next("send", 404)
    fake.fail_next("update", 403, body={"error": {"code": "Custom"}})
    headers = bearer(bot_token(fake, http))
    activity = f"{fake.service_url}v3/conversations/a:1dm/activities/1700000000001"

    replied = http.post(activity, json=message("reply"), headers=headers)
    updated = http.put(activity, json=message("edit"), headers=headers)

    assert (replied.status_code, replied.json()["error"]["code"]) == (404, "ConversationNotFound")
    assert (updated.status_code, updated.json()) == (403, {"error": {"code": "Custom"}})


def test_key_and_metadata_faults(fake: FakeMicrosoft, http: httpx.Client) -> None:
    fake.fail_next("metadata", 500)
    fake.fail_next("keys", 503)

    assert http.get(fake.openid_url).status_code == 500
    assert http.get(fake.keys_url).status_code == 503
    assert http.get(fake.openid_url).status_code == 200
    assert http.get(fake.keys_url).status_code == 200
    assert (fake.metadata_fetches, fake.key_fetches) == (2, 2)


def test_fail_next_refuses_unknown_kinds_and_statuses(fake: FakeMicrosoft) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        fake.fail_next("reply", 500)
    with pytest.raises(ValueError, match="error status"):
        fake.fail_next("send", 200)


def test_a_delayed_call_times_the_client_out(fake: FakeMicrosoft) -> None:
    fake.delay("send", 2.0)
    url = f"{fake.service_url}v3/conversations/a:1dm/activities"

    with httpx.Client(timeout=5.0) as http:
        headers = bearer(bot_token(fake, http))
    with httpx.Client(timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post(url, json=message("slow"), headers=headers)
    fake.delay("send", 0)
    with httpx.Client(timeout=5.0) as http:
        assert http.post(url, json=message("fast"), headers=headers).status_code == 201


# -- the rate model --------------------------------------------------------------------------------------


def test_the_eighth_send_within_a_second_is_refused(http: httpx.Client) -> None:
    clock = ManualClock()
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET, enforce_limits=True, clock=clock
    ) as fake:
        headers = bearer(bot_token(fake, http))
        url = f"{fake.service_url}v3/conversations/a:1dm/activities"
        answers = []
        for n in range(8):
            clock.now = 1000.0 + n * 0.1
            answers.append(http.post(url, json=message(str(n)), headers=headers))
        elsewhere = http.post(
            f"{fake.service_url}v3/conversations/a:1other/activities", json=message("x"), headers=headers
        )

        assert [a.status_code for a in answers] == [201] * 7 + [429]
        assert answers[7].headers["retry-after"] == "1"
        assert answers[7].json()["error"]["code"] == "TooManyRequests"
        assert elsewhere.status_code == 201
        assert fake.throttled == 1
        assert len(fake.sent("a:1dm")) == 7


def test_the_two_second_window_allows_only_eight(http: httpx.Client) -> None:
    clock = ManualClock()
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET, enforce_limits=True, clock=clock
    ) as fake:
        headers = bearer(bot_token(fake, http))
        url = f"{fake.service_url}v3/conversations/a:1dm/activities"
        for n in range(7):
            clock.now = 1000.0 + n * 0.01
            assert http.post(url, json=message(str(n)), headers=headers).status_code == 201

        clock.now = 1001.5  # the 1 s window has room again, the 2 s window holds seven
        eighth = http.post(url, json=message("8"), headers=headers)
        ninth = http.post(url, json=message("9"), headers=headers)
        clock.now = 1002.0  # the first send left the 2 s window
        tenth = http.post(url, json=message("10"), headers=headers)

        assert (eighth.status_code, ninth.status_code, tenth.status_code) == (201, 429, 201)
        assert ninth.headers["retry-after"] == "1"
        assert fake.throttled == 1


def test_limits_are_off_unless_asked_for(fake: FakeMicrosoft, http: httpx.Client) -> None:
    headers = bearer(bot_token(fake, http))
    url = f"{fake.service_url}v3/conversations/a:1dm/activities"

    statuses = [http.post(url, json=message(str(n)), headers=headers).status_code for n in range(12)]

    assert statuses == [201] * 12
    assert fake.throttled == 0


# -- robustness ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/amer/v3/conversations"),
        ("DELETE", "/amer/v3/conversations/a:1dm/activities/1"),
        ("POST", "/v1/.well-known/keys"),
        ("GET", "/amer/v3/conversations/a:1dm/members"),
        ("POST", "/amer/v3/conversations//activities"),
    ],
)
def test_unknown_routes_get_a_json_404(
    fake: FakeMicrosoft, http: httpx.Client, method: str, path: str
) -> None:
    response = http.request(method, fake.base_url + path, headers=bearer(bot_token(fake, http)))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"
    assert fake.calls[-1].kind is None


def test_bad_bodies_get_400_and_the_fake_keeps_serving(fake: FakeMicrosoft, http: httpx.Client) -> None:
    headers = {**bearer(bot_token(fake, http)), "Content-Type": "application/json"}
    url = f"{fake.service_url}v3/conversations/a:1dm/activities"

    not_json = http.post(url, content=b"{not json", headers=headers)
    not_utf8 = http.post(url, content=b"\xff\xfe\x00", headers=headers)
    a_list = http.post(url, json=[1, 2], headers=headers)
    garbage_token_form = http.post(fake.token_url, content=b"\xff=\xfe&&==")

    assert [r.status_code for r in (not_json, not_utf8, a_list)] == [400, 400, 400]
    assert not_json.json()["error"]["code"] == "BadArgument"
    assert garbage_token_form.status_code == 400
    assert http.post(url, json=message("still here"), headers=headers).status_code == 201


def test_a_broken_content_length_is_refused_without_crashing(fake: FakeMicrosoft, http: httpx.Client) -> None:
    with socket.create_connection((fake.host, fake.port), timeout=5) as raw:
        raw.sendall(b"POST /amer/v3/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n")
        reply = raw.recv(4096)

    assert reply.startswith(b"HTTP/1.1 400")
    assert http.get(fake.openid_url).status_code == 200


def test_wait_for_returns_a_late_request(fake: FakeMicrosoft, http: httpx.Client) -> None:
    headers = bearer(bot_token(fake, http))

    def send_later() -> None:
        time.sleep(0.1)
        with httpx.Client() as late:
            late.post(
                f"{fake.service_url}v3/conversations/a:1dm/activities", json=message("late"), headers=headers
            )

    worker = threading.Thread(target=send_later)
    worker.start()
    call = fake.wait_for(lambda c: c.kind == "send" and c.json_body["text"] == "late", timeout=5.0)
    worker.join()

    assert isinstance(call, RecordedCall)
    assert call.conversation_id == "a:1dm"


def test_wait_for_lists_what_arrived_when_it_gives_up(fake: FakeMicrosoft, http: httpx.Client) -> None:
    http.get(fake.openid_url)

    with pytest.raises(AssertionError, match=r"GET /v1/\.well-known/openidconfiguration -> 200"):
        fake.wait_for(lambda c: c.kind == "send", timeout=0.05)


def test_a_second_fake_serves_on_another_loopback_host(fake: FakeMicrosoft, http: httpx.Client) -> None:
    with FakeMicrosoft(
        app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET, host="127.0.0.2"
    ) as other:
        metadata = http.get(other.openid_url).json()
        keys = http.get(metadata["jwks_uri"]).json()["keys"]

        assert other.base_url == f"http://127.0.0.2:{other.port}"
        assert metadata["jwks_uri"] == f"http://127.0.0.2:{other.port}/v1/.well-known/keys"
        assert [key["kid"] for key in keys] == [other.current_key.kid]
        assert other.current_key.kid != fake.current_key.kid
        assert other.metadata_fetches == 1
        assert fake.metadata_fetches == 0


def test_stop_releases_the_port_and_is_idempotent() -> None:
    fake = FakeMicrosoft(app_id=APP_ID, tenant_id=TENANT_ID, client_secret=CLIENT_SECRET).start()
    url = fake.openid_url

    fake.stop()
    fake.stop()

    with httpx.Client(timeout=1.0) as http, pytest.raises(httpx.ConnectError):
        http.get(url)

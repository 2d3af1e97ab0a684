"""Proves the fake Slack Web API answers the real slack_sdk clients the way Slack does."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.slack.standin import SlackStandIn

TOKEN = "xoxb-test-token"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme Dental* visit logged"}}]
AUTH_TEST = {
    "ok": True,
    "url": "https://test.slack.com/",
    "team": "Test Team",
    "user": "nudgebot",
    "team_id": "T111",
    "user_id": "UBOT",
    "bot_id": "B111",
}


@pytest.fixture
def fake() -> Iterator[SlackStandIn]:
    """A started fake, stopped after the test."""
    with SlackStandIn() as slack:
        yield slack


@pytest.fixture
def client(fake: SlackStandIn) -> WebClient:
    """A real synchronous client pointed at the fake."""
    return WebClient(token=TOKEN, base_url=fake.base_url)


def run_async(fake: SlackStandIn, method: str, token: str = TOKEN, **kwargs: Any) -> dict[str, Any]:
    """Call `method` with a fresh AsyncWebClient and return the response data."""

    async def call() -> dict[str, Any]:
        client = AsyncWebClient(token=token, base_url=fake.base_url)
        response = await client.api_call(method, json=kwargs) if kwargs else await client.api_call(method)
        assert isinstance(response.data, dict)
        return response.data

    return asyncio.run(call())


def test_base_url_and_response_url_use_the_bound_loopback_port(fake: SlackStandIn) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/api/"
    assert fake.response_url("visit-1") == f"http://127.0.0.1:{fake.port}/respond/visit-1"
    assert fake.port > 0


def test_auth_test_sync(fake: SlackStandIn, client: WebClient) -> None:
    response = client.auth_test()

    assert response.status_code == 200
    assert response.data == AUTH_TEST
    [call] = fake.calls()
    assert call.method == "POST"
    assert call.path == "/api/auth.test"
    assert call.api_method == "auth.test"
    assert call.token == TOKEN
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.fault is None


def test_auth_test_async(fake: SlackStandIn) -> None:
    async def call() -> tuple[int, Any]:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        response = await client.auth_test()
        return response.status_code, response.data

    status, data = asyncio.run(call())

    assert status == 200
    assert data == AUTH_TEST
    assert [c.api_method for c in fake.calls()] == ["auth.test"]
    assert fake.calls()[0].token == TOKEN


def test_users_info_returns_the_added_user(fake: SlackStandIn, client: WebClient) -> None:
    fake.add_user("U111", real_name="Ana Tech", display_name="ana", tz="America/Chicago")
    chicago_now = datetime.now(ZoneInfo("America/Chicago"))
    offset = chicago_now.utcoffset()
    assert offset is not None

    response = client.users_info(user="U111")

    assert response.data == {
        "ok": True,
        "user": {
            "id": "U111",
            "team_id": "T111",
            "name": "ana",
            "real_name": "Ana Tech",
            "tz": "America/Chicago",
            "tz_label": chicago_now.tzname(),
            "tz_offset": int(offset.total_seconds()),
            "is_bot": False,
            "deleted": False,
            "profile": {"display_name": "ana", "real_name": "Ana Tech", "email": "ana@example.com"},
        },
    }
    assert int(offset.total_seconds()) in (-6 * 3600, -5 * 3600)
    assert fake.calls("users.info")[0].params == {"user": "U111"}


def test_users_info_async_uses_get_with_query_params(fake: SlackStandIn) -> None:
    fake.add_user("U111", real_name="Ana Tech", display_name="ana", tz="America/Chicago")

    async def call() -> Any:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        return (await client.users_info(user="U111")).data

    data = asyncio.run(call())

    assert data["user"]["id"] == "U111"
    assert data["user"]["profile"]["display_name"] == "ana"
    [call_record] = fake.calls("users.info")
    assert call_record.method == "GET"
    assert call_record.params == {"user": "U111"}


def test_users_info_unknown_user_is_user_not_found(fake: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U404")

    assert excinfo.value.response.status_code == 200
    assert excinfo.value.response.data == {"ok": False, "error": "user_not_found"}
    assert fake.calls("users.info")[0].fault is None


def test_post_message_records_decoded_blocks_and_answers_increasing_ts(
    fake: SlackStandIn, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C111", text="Visit logged", blocks=BLOCKS)
    second = client.chat_postMessage(channel="U111", text="Reminder")

    assert first.data == {
        "ok": True,
        "channel": "C111",
        "ts": "1700000000.000100",
        "message": {
            "type": "message",
            "text": "Visit logged",
            "user": "UBOT",
            "bot_id": "B111",
            "ts": "1700000000.000100",
            "blocks": BLOCKS,
        },
    }
    assert second["channel"] == "DU111"
    assert second["ts"] == "1700000000.000200"
    calls = fake.wait_for("chat.postMessage", count=2)
    assert calls[0].params == {"channel": "C111", "text": "Visit logged", "blocks": BLOCKS}
    assert calls[0].headers["content-type"] == "application/json;charset=utf-8"
    assert json.loads(calls[0].body) == {"channel": "C111", "text": "Visit logged", "blocks": BLOCKS}
    assert calls[0].received_at <= calls[1].received_at


def test_form_encoded_json_fields_are_decoded(fake: SlackStandIn, client: WebClient) -> None:
    client.api_call(
        "chat.postMessage", params={"channel": "C111", "text": "hi", "blocks": json.dumps(BLOCKS)}
    )

    [call] = fake.calls("chat.postMessage")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.params == {"channel": "C111", "text": "hi", "blocks": BLOCKS}


def test_token_form_field_is_accepted(fake: SlackStandIn) -> None:
    # slack_sdk always moves the token into the Authorization header, so post the form by hand.
    body = urllib.parse.urlencode({"token": TOKEN, "channel": "C111"}).encode()
    request = urllib.request.Request(fake.base_url + "conversations.info", data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")

    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())

    assert answer == {"ok": True}
    [call] = fake.calls("conversations.info")
    assert "authorization" not in call.headers
    assert call.token == TOKEN
    assert call.params == {"token": TOKEN, "channel": "C111"}


def test_post_message_async_records_blocks(fake: SlackStandIn) -> None:
    data = run_async(fake, "chat.postMessage", channel="C111", text="Visit logged", blocks=BLOCKS)

    assert data["ok"] is True
    assert data["ts"] == "1700000000.000100"
    assert fake.calls("chat.postMessage")[0].params["blocks"] == BLOCKS


def test_views_open_answers_the_submitted_view_with_an_id(fake: SlackStandIn, client: WebClient) -> None:
    view = {"type": "modal", "callback_id": "log_visit", "title": {"type": "plain_text", "text": "Log"}}

    response = client.views_open(trigger_id="123.456.abc", view=view)

    assert response["view"] == {
        **view,
        "id": "V000000001",
        "team_id": "T111",
        "hash": "1700000000.00000001",
        "app_id": "A111",
        "bot_id": "B111",
        "state": {"values": {}},
    }
    assert fake.calls("views.open")[0].params == {"trigger_id": "123.456.abc", "view": view}


def test_conversations_open_and_unknown_methods(fake: SlackStandIn, client: WebClient) -> None:
    assert client.conversations_open(users="U111").data == {"ok": True, "channel": {"id": "DU111"}}
    assert client.api_call("reactions.add", json={"channel": "C111", "name": "ok"}).data == {"ok": True}
    assert client.chat_postEphemeral(channel="C111", user="U111", text="only you").data == {
        "ok": True,
        "message_ts": "1700000000.000100",
    }


def test_invalid_token_is_invalid_auth_sync(fake: SlackStandIn) -> None:
    client = WebClient(token="xoxb-wrong", base_url=fake.base_url)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C111", text="hi")

    assert excinfo.value.response.status_code == 200
    assert excinfo.value.response.data == {"ok": False, "error": "invalid_auth"}
    [call] = fake.calls("chat.postMessage")
    assert call.token == "xoxb-wrong"
    assert call.fault == "invalid_auth"


def test_missing_token_is_invalid_auth_async(fake: SlackStandIn) -> None:
    async def call() -> SlackApiError:
        client = AsyncWebClient(base_url=fake.base_url)
        with pytest.raises(SlackApiError) as excinfo:
            await client.auth_test()
        return excinfo.value

    error = asyncio.run(call())

    assert error.response["error"] == "invalid_auth"
    assert fake.calls("auth.test")[0].token is None
    assert fake.calls("auth.test")[0].fault == "invalid_auth"


def test_valid_tokens_can_be_changed(fake: SlackStandIn) -> None:
    fake.valid_tokens.add("xoxb-other")

    assert WebClient(token="xoxb-other", base_url=fake.base_url).auth_test()["ok"] is True


def test_rate_limit_fault_sync_then_recovers(fake: SlackStandIn, client: WebClient) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C111", text="hi")
    ok = client.chat_postMessage(channel="C111", text="hi again")

    response = excinfo.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.data == {"ok": False, "error": "ratelimited"}
    assert ok["ok"] is True
    assert [c.fault for c in fake.calls("chat.postMessage")] == ["ratelimited", None]


def test_rate_limit_fault_async(fake: SlackStandIn) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=3)

    async def call() -> SlackApiError:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        with pytest.raises(SlackApiError) as excinfo:
            await client.chat_postMessage(channel="C111", text="hi")
        return excinfo.value

    error = asyncio.run(call())

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "3"
    assert error.response["error"] == "ratelimited"


def test_server_error_fault(fake: SlackStandIn, client: WebClient) -> None:
    fake.fail("chat.update", status=503, times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_update(channel="C111", ts="1700000000.000100", text="edited")
        assert excinfo.value.response.status_code == 503
    recovered = client.chat_update(channel="C111", ts="1700000000.000100", text="edited")

    assert recovered["ts"] == "1700000000.000100"
    assert [c.fault for c in fake.calls("chat.update")] == ["http_503", "http_503", None]
    assert fake.calls("chat.update")[0].body != b""


def test_error_fault_forever_until_cleared(fake: SlackStandIn, client: WebClient) -> None:
    fake.fail("chat.postMessage", error="channel_not_found", times=None)

    for _ in range(3):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C404", text="hi")
        assert excinfo.value.response.status_code == 200
        assert excinfo.value.response.data == {"ok": False, "error": "channel_not_found"}
    fake.clear_faults()

    assert client.chat_postMessage(channel="C111", text="hi")["ok"] is True
    assert [c.fault for c in fake.calls()] == ["channel_not_found"] * 3 + [None]


def test_status_200_fault_needs_an_error_code(fake: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="needs an error code"):
        fake.fail("chat.postMessage")


def test_delay_slows_only_that_method(fake: SlackStandIn, client: WebClient) -> None:
    fake.delay("chat.postMessage", 0.3)

    started = time.monotonic()
    client.chat_postMessage(channel="C111", text="slow")
    slow = time.monotonic() - started
    started = time.monotonic()
    client.auth_test()
    fast = time.monotonic() - started

    assert slow >= 0.3
    assert fast < 0.3


def test_response_url_posts_are_recorded(fake: SlackStandIn) -> None:
    webhook = WebhookClient(fake.response_url("visit-1"))

    response = webhook.send(text="Logged your visit", response_type="ephemeral")

    assert response.status_code == 200
    assert json.loads(response.body) == {"ok": True}
    [posted] = fake.wait_for_responses("visit-1")
    assert posted.path == "/respond/visit-1"
    assert posted.api_method is None
    assert posted.response_name == "visit-1"
    assert posted.params == {"text": "Logged your visit", "response_type": "ephemeral"}
    assert fake.calls() == []
    assert fake.responses("other") == []


def test_response_url_posts_async(fake: SlackStandIn) -> None:
    async def post() -> int:
        webhook = AsyncWebhookClient(fake.response_url("visit-2"))
        return (await webhook.send(text="done", replace_original=True)).status_code

    assert asyncio.run(post()) == 200
    assert fake.responses("visit-2")[0].params == {"text": "done", "replace_original": True}


def test_wait_for_sees_calls_made_later_from_another_thread(fake: SlackStandIn, client: WebClient) -> None:
    def later() -> None:
        time.sleep(0.1)
        client.chat_postMessage(channel="C111", text="after ack")

    thread = threading.Thread(target=later)
    thread.start()
    try:
        [call] = fake.wait_for("chat.postMessage", timeout=5)
    finally:
        thread.join()

    assert call.params["text"] == "after ack"


def test_wait_for_timeout_lists_what_was_received(fake: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    fake.fail("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C404", text="hi")

    with pytest.raises(AssertionError) as excinfo:
        fake.wait_for("chat.postMessage", count=2, timeout=0.05)

    assert str(excinfo.value) == (
        "expected 2 chat.postMessage call(s) within 0.05s, got 1; received 2 request(s):\n"
        "  POST /api/auth.test\n"
        "  POST /api/chat.postMessage fault=channel_not_found"
    )


def test_wait_for_responses_timeout_message(fake: SlackStandIn) -> None:
    with pytest.raises(AssertionError) as excinfo:
        fake.wait_for_responses("visit-9", timeout=0.02)

    assert str(excinfo.value) == (
        "expected 1 response(s) to /respond/visit-9 within 0.02s, got 0; received 0 request(s):\n  (nothing)"
    )


def test_clear_forgets_requests(fake: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    fake.clear()

    assert fake.calls() == []
    assert fake.requests() == []


def test_stop_releases_the_port_and_can_restart() -> None:
    fake = SlackStandIn()
    fake.start()
    first_port = fake.port
    fake.stop()
    fake.stop()  # idempotent

    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.base_url
    with fake:
        assert WebClient(token=TOKEN, base_url=fake.base_url).auth_test()["ok"] is True
    assert first_port > 0


class HandClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hand_clock() -> HandClock:
    return HandClock()


@pytest.fixture
def timed_fake(hand_clock: HandClock) -> Iterator[SlackStandIn]:
    """A fake whose rate limits and storms follow the hand-moved clock."""
    with SlackStandIn(valid_tokens={TOKEN, "xoxb-other"}, clock=hand_clock) as slack:
        yield slack


def post(fake: SlackStandIn, token: str = TOKEN, key: str = "k") -> tuple[int, str | None]:
    """Post one tagged message and return the HTTP status and the Retry-After header."""
    client = WebClient(token=token, base_url=fake.base_url)
    metadata = {"event_type": "nudgebot_nudge", "event_payload": {"key": key}}
    try:
        response = client.chat_postMessage(channel="U111", text="hi", metadata=metadata)
    except SlackApiError as error:
        return error.response.status_code, error.response.headers.get("Retry-After")
    return response.status_code, None


def test_limit_allows_a_burst_then_answers_429_until_a_token_is_back(
    timed_fake: SlackStandIn, hand_clock: HandClock
) -> None:
    timed_fake.limit("chat.postMessage", per_second=2, burst=3)

    burst = [post(timed_fake) for _ in range(3)]
    refused = post(timed_fake)
    hand_clock.now += 0.4
    still_refused = post(timed_fake)
    hand_clock.now += 0.1
    allowed = post(timed_fake)
    after = post(timed_fake)

    assert burst == [(200, None)] * 3
    assert refused == (429, "1")
    assert still_refused == (429, "1")
    assert allowed == (200, None)
    assert after == (429, "1")
    assert [c.fault for c in timed_fake.calls()] == [None] * 3 + ["ratelimited"] * 2 + [None, "ratelimited"]


def test_limit_retry_after_is_whole_seconds_rounded_up(
    timed_fake: SlackStandIn, hand_clock: HandClock
) -> None:
    timed_fake.limit("chat.postMessage", per_second=0.25, burst=1)

    assert post(timed_fake) == (200, None)
    assert post(timed_fake) == (429, "4")
    hand_clock.now += 1.5
    assert post(timed_fake) == (429, "3")
    hand_clock.now += 2.5
    assert post(timed_fake) == (200, None)


def test_limit_is_per_workspace_token_and_per_method(timed_fake: SlackStandIn) -> None:
    timed_fake.limit("chat.postMessage", per_second=1, burst=1)

    assert post(timed_fake, TOKEN) == (200, None)
    assert post(timed_fake, "xoxb-other") == (200, None)
    assert post(timed_fake, TOKEN) == (429, "1")
    assert post(timed_fake, "xoxb-other") == (429, "1")
    assert WebClient(token=TOKEN, base_url=timed_fake.base_url).auth_test()["ok"] is True


def test_limit_zero_and_clear_faults_remove_the_limit(timed_fake: SlackStandIn) -> None:
    timed_fake.limit("chat.postMessage", per_second=1, burst=1)
    post(timed_fake)
    timed_fake.limit("chat.postMessage", per_second=0)
    assert post(timed_fake) == (200, None)

    timed_fake.limit("chat.postMessage", per_second=1, burst=1)
    post(timed_fake)
    timed_fake.clear_faults()
    assert post(timed_fake) == (200, None)


def test_limit_and_storm_arguments_are_checked(fake: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="burst >= 1"):
        fake.limit("chat.postMessage", per_second=1, burst=0)
    with pytest.raises(ValueError, match="seconds > 0"):
        fake.storm("chat.postMessage", seconds=0)


def test_storm_refuses_everything_for_its_duration_then_lets_calls_through(
    timed_fake: SlackStandIn, hand_clock: HandClock
) -> None:
    timed_fake.storm("chat.postMessage", seconds=10, retry_after=2)

    during = [post(timed_fake, token) for token in (TOKEN, "xoxb-other", TOKEN)]
    hand_clock.now += 9.9
    late = post(timed_fake)
    hand_clock.now += 0.1
    after = post(timed_fake)

    assert during == [(429, "2")] * 3
    assert late == (429, "2")
    assert after == (200, None)
    assert timed_fake.storm_window("chat.postMessage") == (1000.0, 1010.0)
    assert timed_fake.storm_window("chat.update") is None
    assert WebClient(token=TOKEN, base_url=timed_fake.base_url).auth_test()["ok"] is True


def test_storm_takes_precedence_over_a_limit_and_spends_no_token(
    timed_fake: SlackStandIn, hand_clock: HandClock
) -> None:
    timed_fake.limit("chat.postMessage", per_second=1, burst=1)
    timed_fake.storm("chat.postMessage", seconds=1)

    assert post(timed_fake) == (429, "1")
    hand_clock.now += 1
    assert post(timed_fake) == (200, None)


def test_keys_and_duplicates_count_only_accepted_calls(fake: SlackStandIn, client: WebClient) -> None:
    post(fake, key="1:visit:1:followup:first")
    post(fake, key="1:visit:2:followup:first")
    fake.fail("chat.postMessage", status=503)
    post(fake, key="1:visit:2:followup:first")
    post(fake, key="1:visit:1:followup:first")
    post(fake, key="1:visit:1:followup:first")
    client.chat_postMessage(channel="U111", text="untagged")

    assert fake.keys() == [
        "1:visit:1:followup:first",
        "1:visit:2:followup:first",
        "1:visit:1:followup:first",
        "1:visit:1:followup:first",
    ]
    assert fake.duplicates() == {"1:visit:1:followup:first": 3}
    assert [c.key for c in fake.calls("chat.postMessage")] == [
        "1:visit:1:followup:first",
        "1:visit:2:followup:first",
        "1:visit:2:followup:first",
        "1:visit:1:followup:first",
        "1:visit:1:followup:first",
        None,
    ]
    assert fake.keys("chat.update") == []

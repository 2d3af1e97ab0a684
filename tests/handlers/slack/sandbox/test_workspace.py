"""The sandbox's workspace: what each Web API call and response_url post does to what people see.

The bot uses only some of Slack's ways to change a message or a modal (`replace_original` on response
URLs); the workspace does what Slack does for the others too (`chat.update`, `views.push`,
`views.update`, `delete_original`), driven here with slack_sdk against the stand-in, as a bot would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack.sandbox.workspace import BOT, PEOPLE, Message, Workspace
from handlers.slack.standin import SlackStandIn

TOKEN = "xoxb-workspace-test"
ANA, BO = "U0ANA", "U0BO"
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    fake = SlackStandIn(valid_tokens={TOKEN})
    for person in PEOPLE:
        fake.add_user(person.id, real_name=person.name, tz=person.tz)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def workspace(standin: SlackStandIn) -> Workspace:
    shown = Workspace(lambda: NOW, standin.shared_files)
    standin.observe(shown.observe)
    return shown


@pytest.fixture
def slack(standin: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=standin.base_url)


def section(text: str) -> list[dict[str, object]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def texts(messages: list[Message]) -> list[str]:
    return [message.text for message in messages]


def test_a_dm_posted_to_a_user_appears_in_their_dm_and_chat_update_changes_it_in_place(
    workspace: Workspace, slack: WebClient
) -> None:
    events: list[dict[str, str]] = []
    workspace.subscribe(events.append)
    posted = slack.chat_postMessage(channel=ANA, text="Reminder", blocks=section("*Reminder*"))

    slack.chat_update(
        channel=str(posted["channel"]), ts=str(posted["ts"]), text="Done", blocks=section("Done")
    )

    [shown] = workspace.conversation("DU0ANA", ANA)
    assert (shown.text, shown.blocks, shown.ts, shown.visible_to) == (
        "Done",
        section("Done"),
        posted["ts"],
        None,
    )
    assert workspace.conversation("DU0BO", BO) == []
    assert events == [{"type": "conversation", "id": "DU0ANA"}] * 2


def test_an_ephemeral_message_is_seen_only_by_its_person(workspace: Workspace, slack: WebClient) -> None:
    slack.chat_postEphemeral(channel="C0MANAGERS", user=ANA, text="Only for Ana")

    assert texts(workspace.conversation("C0MANAGERS", ANA)) == ["Only for Ana"]
    assert workspace.conversation("C0MANAGERS", BO) == []


def test_response_urls_replace_add_and_delete_as_slack_does(
    workspace: Workspace, standin: SlackStandIn
) -> None:
    original = workspace.add(
        Message(id=workspace.new_id(), channel="DU0ANA", author=BOT, at=NOW, text="Draft", visible_to=ANA)
    )
    url = standin.response_url(f"{ANA}.DU0ANA.{original.id}")

    httpx.post(url, json={"text": "Marked sent", "replace_original": True}).raise_for_status()
    assert texts(workspace.conversation("DU0ANA", ANA)) == ["Marked sent"]

    httpx.post(url, json={"text": "For everyone", "response_type": "in_channel"}).raise_for_status()
    assert texts(workspace.conversation("DU0ANA", ANA)) == ["Marked sent", "For everyone"]
    assert [m.visible_to for m in workspace.conversation("DU0ANA", ANA)] == [ANA, None]

    httpx.post(url, json={"delete_original": True}).raise_for_status()
    assert texts(workspace.conversation("DU0ANA", ANA)) == ["For everyone"]


def test_a_response_url_the_sandbox_did_not_make_shows_nothing(
    workspace: Workspace, standin: SlackStandIn
) -> None:
    httpx.post(standin.response_url("someone-else"), json={"text": "stray"}).raise_for_status()

    assert workspace.messages == []


def test_modals_open_push_update_and_close_on_their_persons_stack(
    workspace: Workspace, slack: WebClient
) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "First"}, "blocks": []}
    opened = slack.views_open(trigger_id=workspace.trigger(ANA), view=modal)["view"]
    pushed = slack.views_push(
        trigger_id=workspace.trigger(ANA), view={**modal, "title": {"type": "plain_text", "text": "Second"}}
    )

    top = workspace.modal(ANA)
    assert top is not None
    assert top.view["id"] == pushed["view"]["id"]
    assert workspace.modal(BO) is None

    slack.views_update(
        view_id=opened["id"], view={**modal, "title": {"type": "plain_text", "text": "First, updated"}}
    )
    workspace.close_modal(ANA, all_views=False)

    under = workspace.modal(ANA)
    assert under is not None
    assert under.view["title"]["text"] == "First, updated"
    workspace.close_modal(ANA)
    assert workspace.modal(ANA) is None


def test_a_view_for_a_trigger_the_sandbox_did_not_make_opens_nothing(
    workspace: Workspace, slack: WebClient
) -> None:
    slack.views_open(trigger_id="12345.unknown", view={"type": "modal", "blocks": []})

    assert all(workspace.modal(person.id) is None for person in PEOPLE)


def test_app_home_is_each_persons_own(workspace: Workspace, slack: WebClient) -> None:
    slack.views_publish(user_id=ANA, view={"type": "home", "blocks": section("Ana's home")})

    assert workspace.homes[ANA]["blocks"] == section("Ana's home")
    assert BO not in workspace.homes


def test_a_file_shared_in_a_thread_is_a_reply_with_the_file(workspace: Workspace, slack: WebClient) -> None:
    summary = slack.chat_postMessage(channel="C0MANAGERS", text="Team digest")

    slack.files_upload_v2(
        channel="C0MANAGERS", thread_ts=str(summary["ts"]), content=b"\x89PNG chart", filename="chart.png"
    )

    summary_shown, reply = workspace.conversation("C0MANAGERS", BO)
    assert reply.thread_ts == summary_shown.ts
    assert [(f.filename, f.content) for f in reply.files] == [("chart.png", b"\x89PNG chart")]
    assert workspace.files[reply.files[0].file_id].filename == "chart.png"


def test_a_call_slack_refused_shows_nothing(
    workspace: Workspace, slack: WebClient, standin: SlackStandIn
) -> None:
    standin.fail("chat.postMessage", error="channel_not_found")

    with pytest.raises(SlackApiError):
        slack.chat_postMessage(channel=ANA, text="Lost")

    assert workspace.messages == []

"""The one-click links' tokens: what they carry, and that altered, forged or old ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.links import LIFETIME, Claim, LinkRefused, Links, Mood, Purpose

NOW = datetime(2026, 12, 7, 15, tzinfo=UTC)
LINKS = Links("https://nudgebot.example", "a-secret-of-our-own-32-characters")


def token(purpose: Purpose = Purpose.RATE_VISIT, subject: int = 12, at: datetime = NOW) -> str:
    return LINKS.token(purpose, workspace_id=3, subject_id=subject, now=at)


def test_a_link_says_what_it_is_for_and_nothing_more() -> None:
    claim = LINKS.verify(token(), now=NOW + timedelta(days=2))

    assert claim == Claim(Purpose.RATE_VISIT, 3, 12, NOW)
    assert claim.key == "visit:12"
    assert LINKS.verify(token(Purpose.ACKNOWLEDGE, 7), now=NOW).key == "notice:7"
    assert LINKS.verify(token(Purpose.ASK, 5), now=NOW).key == f"ask:5:{int(NOW.timestamp())}"


def test_the_three_mood_links_share_one_token_and_only_preselect_the_answer() -> None:
    urls = LINKS.moods(Purpose.RATE_VISIT, workspace_id=3, subject_id=12, now=NOW)

    assert list(urls) == [Mood.HAPPY, Mood.NEUTRAL, Mood.UNHAPPY]
    assert urls[Mood.UNHAPPY] == f"https://nudgebot.example/r/{token()}?m=unhappy"
    assert {url.split("?")[0] for url in urls.values()} == {f"https://nudgebot.example/r/{token()}"}


@pytest.mark.parametrize(
    "altered",
    [
        lambda t: "n" + t[1:],  # another purpose
        lambda t: t.replace("v3-c-", "v4-c-"),  # another workspace
        lambda t: t.replace("-c-", "-d-"),  # another visit (12 is "c" in base 36)
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: t[:-2],  # cut short
        lambda t: t + "x",
        lambda t: "",
        lambda t: "../../etc/passwd",
    ],
)
def test_an_altered_link_is_refused_as_not_valid(altered: object) -> None:
    changed = altered(token())  # type: ignore[operator]
    assert changed != token()

    with pytest.raises(LinkRefused) as refused:
        LINKS.verify(changed, now=NOW)
    assert refused.value.expired is False


def test_a_link_made_with_another_secret_is_refused() -> None:
    forged = Links("https://nudgebot.example", "somebody-else-s-secret-guess").token(
        Purpose.RATE_VISIT, workspace_id=3, subject_id=12, now=NOW
    )

    with pytest.raises(LinkRefused) as refused:
        LINKS.verify(forged, now=NOW)
    assert refused.value.expired is False


def test_a_link_lasts_thirty_days_and_then_says_it_expired() -> None:
    assert LINKS.verify(token(), now=NOW + LIFETIME).issued_at == NOW

    with pytest.raises(LinkRefused) as refused:
        LINKS.verify(token(), now=NOW + LIFETIME + timedelta(seconds=1))
    assert refused.value.expired is True


def test_a_link_from_the_future_is_refused_beyond_a_few_minutes_of_clock_skew() -> None:
    assert LINKS.verify(token(at=NOW + timedelta(minutes=4)), now=NOW).subject_id == 12

    with pytest.raises(LinkRefused):
        LINKS.verify(token(at=NOW + timedelta(minutes=6)), now=NOW)


def test_every_link_made_is_accepted_whatever_its_signature_holds() -> None:
    # A signature is base64url: about a third of them hold a "-", the separator of the token's parts.
    tokens = [token(subject=number) for number in range(1, 400)]
    assert any("-" in made[-22:] for made in tokens)

    assert [LINKS.verify(made, now=NOW).subject_id for made in tokens] == list(range(1, 400))

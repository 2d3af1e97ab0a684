"""The page a client's one-click link opens (`GET /r/{token}`), and their confirmation (`POST /r/{token}`).

The core decides (`Core.link_page`, `Core.link_answer`); this module rate-limits by the client's address,
renders a small page that works on a phone, and sets headers that keep the link out of referrers,
caches, frames and search engines. Nothing here trusts the token: the core checks its signature.
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.core import Core
from bot.linkpage import Page
from bot.links import MOOD_FACES, Mood, Purpose

# Per client address: a person answering opens a page and taps once or twice; anything faster is a
# script. Refused links cost more, so guessing is slower still.
PER_MINUTE = 20
REFUSED_COST = 5
MAX_BODY = 8 * 1024
TRACKED = 10_000

_HEADERS = {
    # No script at all, styles inline only, forms post back here only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    # The token is in the path: never hand it to another site, a cache or a search engine.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_LABELS = {Mood.HAPPY: "Good", Mood.NEUTRAL: "OK", Mood.UNHAPPY: "Not good"}


@dataclass
class RateLimit:
    """A sliding minute of cost per key, for a bounded number of keys (the oldest forgotten first)."""

    per_minute: int = PER_MINUTE
    tracked: int = TRACKED
    spent: OrderedDict[str, list[tuple[float, int]]] = field(default_factory=OrderedDict)

    def allow(self, key: str, cost: int = 1, now: float | None = None) -> bool:
        """Spend `cost` for `key` if the last minute leaves room for it."""
        moment = time.monotonic() if now is None else now
        recent = [(at, paid) for at, paid in self.spent.get(key, []) if moment - at < 60]
        if sum(paid for _, paid in recent) + cost > self.per_minute:
            self.spent[key] = recent
            return False
        recent.append((moment, cost))
        self.spent[key] = recent
        self.spent.move_to_end(key)
        while len(self.spent) > self.tracked:
            self.spent.popitem(last=False)
        return True


def _page(title: str, body: str, status: int) -> Response:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;
color:#1d1c1d}}
main{{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;
box-shadow:0 1px 4px rgba(0,0,0,.08)}}
h1{{font-size:1.3rem;margin:0 0 .25rem}} p{{line-height:1.45}} .date{{color:#616061;margin-top:0}}
.moods{{display:flex;gap:.5rem;border:0;padding:0;margin:1rem 0}}
.moods label{{flex:1;text-align:center;border:2px solid #ddd;border-radius:10px;padding:.6rem 0;
cursor:pointer}}
.moods input{{position:absolute;opacity:0}} .moods .face{{display:block;font-size:2.2rem}}
.moods input:checked+span{{font-weight:700}}
.moods label:has(input:checked){{border-color:#1264a3;background:#eef5fb}}
textarea{{width:100%;box-sizing:border-box;min-height:5rem;font:inherit;padding:.5rem;border-radius:8px;
border:1px solid #ccc}}
button{{width:100%;margin-top:1rem;padding:.8rem;font:inherit;font-weight:700;color:#fff;background:#1264a3;
border:0;border-radius:8px;cursor:pointer}}
</style></head><body><main>
{body}
</main></body></html>"""
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _heading(page: Page) -> str:
    return f"<h1>{html.escape(page.client or '')}</h1>\n<p class=date>{html.escape(page.date or '')}</p>"


def render(page: Page) -> Response:
    """The HTML for a page the core described."""
    if page.state == "refused":
        return _page(
            "This link isn't valid",
            "<h1>This link isn't valid</h1><p>It may have been copied incompletely. Nothing was changed. "
            "Please use the link in the e-mail as it is, or simply reply to the e-mail.</p>",
            page.status,
        )
    if page.state == "expired":
        return _page(
            "This link has expired",
            "<h1>This link has expired</h1><p>Links in our e-mails work for 30 days. Nothing was changed: "
            "please reply to the e-mail instead, we'll be glad to hear from you.</p>",
            page.status,
        )
    if page.state in ("gone", "off"):
        return _page(
            "Nothing to answer here",
            "<h1>Nothing to answer here any more</h1><p>Nothing was changed. Please reply to the e-mail "
            "instead.</p>",
            page.status,
        )
    if page.state == "acknowledge":
        return _page(
            "Please confirm",
            f"{_heading(page)}<p>Please confirm you have read our notice of the planned change.</p>"
            '<form method="post"><button type="submit">I have read the notice</button></form>',
            page.status,
        )
    if page.state == "acknowledged":
        return _page(
            "Thank you",
            f"{_heading(page)}<p>Thank you: you have confirmed our notice. If the time doesn't suit you, "
            "just reply to the e-mail or call us.</p>",
            page.status,
        )
    if page.state == "rated":
        face = MOOD_FACES[page.mood] if page.mood is not None else ""
        return _page(
            "Thank you",
            f"{_heading(page)}<p>Thank you for telling us {face}. Your answer has reached the team.</p>"
            f"{_form(page, again=True)}",
            page.status,
        )
    question = "How did we do?" if page.purpose is Purpose.RATE_VISIT else "How are we doing?"
    before = "<p>You have already answered; you can change your answer here.</p>" if page.answered else ""
    missing = "<p><strong>Please choose one of the three.</strong></p>" if page.status == 400 else ""
    return _page(question, f"{_heading(page)}<p>{question}</p>{before}{missing}{_form(page)}", page.status)


def _form(page: Page, *, again: bool = False) -> str:
    choices = []
    for mood in Mood:
        checked = " checked" if mood is page.mood else ""
        choices.append(
            f'<label><input type="radio" name="mood" value="{mood.value}"{checked} required>'
            f'<span><span class="face">{MOOD_FACES[mood]}</span>{_LABELS[mood]}</span></label>'
        )
    label = "Change my answer" if again else "Send"
    return (
        '<form method="post"><fieldset class="moods">'
        + "".join(choices)
        + '</fieldset><label for="comment">Anything you would like to tell us? (optional)</label>'
        '<textarea id="comment" name="comment" maxlength="1000"></textarea>'
        f'<button type="submit">{label}</button></form>'
    )


def _client_address(request: Request) -> str:
    # uvicorn has already replaced the peer with X-Forwarded-For's client when the proxy is trusted
    # (FORWARDED_ALLOW_IPS).
    return request.client.host if request.client is not None else "unknown"


def _limited() -> Response:
    response = _page(
        "Please wait a minute",
        "<h1>Please wait a minute</h1><p>Too many requests came from your network. Nothing was changed; "
        "please try the link again in a minute.</p>",
        429,
    )
    response.headers["Retry-After"] = "60"
    return response


def routes(core: Core, limit: RateLimit | None = None) -> list[Route]:
    """`GET` and `POST /r/{token}`."""
    limiter = limit or RateLimit()

    async def opened(request: Request) -> Response:
        address = _client_address(request)
        if not limiter.allow(address):
            return _limited()
        token = request.path_params["token"]
        page = await run_in_threadpool(core.link_page, token, mood=request.query_params.get("m"))
        if page.state in ("refused", "expired"):
            limiter.allow(address, REFUSED_COST - 1)
        return render(page)

    async def answered(request: Request) -> Response:
        address = _client_address(request)
        if not limiter.allow(address):
            return _limited()
        body = await request.body()
        if len(body) > MAX_BODY:
            return _page("Too long", "<h1>That was too long</h1><p>Nothing was changed.</p>", 413)
        # A plain HTML form posts urlencoded fields; read here rather than through a multipart parser.
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
        page = await run_in_threadpool(
            core.link_answer,
            request.path_params["token"],
            mood=next(iter(form.get("mood", [])), None),
            comment=next(iter(form.get("comment", [])), None),
        )
        if page.state in ("refused", "expired"):
            limiter.allow(address, REFUSED_COST - 1)
        return render(page)

    return [
        Route("/r/{token}", opened, methods=["GET"]),
        Route("/r/{token}", answered, methods=["POST"]),
    ]

# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""Measure how fast Nudgebot answers commands beside a bare Bolt app and a floor, under the same signed load.

Usage: python bench/ack_latency.py [-n 2000] [-c 20] [--warmup 200] [--json out.json] [--only bare|floor|bot]
                                   [--command visit|promise|press] [--db sqlite|postgres] [--processes N]
                                   [--rate REQ_PER_S] [--rounds 1] [--home-viewers] [--platform slack|teams]

Three servers, each a subprocess fed the same request mix: `bare` (bench/bare_app.py, an AsyncApp whose
/visit listener only acks), `floor` (bench/floor_app.py, the same bare app writing each command's rows in
raw SQL off the event loop: the least durable work there is) and `bot` (`python -m bot`). The floor and the
bot each get a fresh migrated database of the kind --db names (PostgreSQL: a throwaway database per server
on --postgres-url, dropped after). `--only` may be given more than once.

--command picks the mix: `visit` (/visit log lines), `promise` (/promise … by <a day three days ahead>) or
`press` (the "Mark follow-up sent" button, as block_actions). For `promise` and `press` each server first
logs one /visit per client, unmeasured, so promises name known clients and buttons have visits to mark;
the bare app acks /visit only, so it is left out of those two. --processes N starts N bot processes on one
PostgreSQL database and spreads the requests over them round-robin; their throughput is reported together.

With --platform teams, `visit …` goes to POST /api/messages as Teams sends it (a message activity with a
Bot Framework token signed by the benchmark's own key, served as OpenID metadata on loopback), and the
baseline is a bare Teams SDK app that checks the token and only replies (bench/bare_teams_app.py); the
floor is the same app writing the visit's rows before it replies (bench/floor_teams_app.py).

The default closed loop keeps -c requests in flight; once a server is CPU-bound its latencies mostly reflect
throughput (Little's law: latency ~ c / req/s), after-ack work included. --rate sends on a fixed schedule
instead, which shows ack latency at a load below saturation. Either way, AsyncApp's listener runner polls
for ack() every 10 ms, so about 11 ms is the floor for any app acked from an async listener.

Targets (issue 12): the bot's throughput at least 0.67x the floor's and its p50 at most 1.5x the floor's;
without the floor, the bot's p99 at most 1.5x the bare app's. Exit status: 0 when the targets are met (or
only one server was measured), 2 when one is missed, 1 when a server could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import aiohttp
import sqlalchemy
from slack_sdk.signature import SignatureVerifier

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.drill_crash import DEFAULT_POSTGRES, throwaway_database  # noqa: E402
from handlers.slack.standin import SlackStandIn  # noqa: E402
from storage.db import make_engine  # noqa: E402
from tests.fakes.microsoft import FakeMicrosoft  # noqa: E402  (needs the repo root on sys.path first)

BOT_TOKEN = "xoxb-bench-token"
TEAMS_APP_ID = "bbbbbbbb-0000-4000-8000-0000000bench"
TEAMS_TENANT = "72f988bf-0000-4000-8000-0000000bench"
TEAMS_SECRET = "bench-client-secret"
HEALTH_TIMEOUT_S = 60.0
SERVER_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 10.0
# After-ack work (response_url posts, Slack API calls) lands a little after the last ack.
AFTER_ACK_GRACE_S = 1.0
TARGET_P99_RATIO = 1.5
# Issue 12: against the floor (bare Bolt plus the same rows in raw SQL), at 20 concurrent.
TARGET_THROUGHPUT_RATIO = 0.67
TARGET_FLOOR_P50_RATIO = 1.5
MIX_SEED = 20240611
SERVER_NAMES = ("bare", "floor", "bot")
TECHNICIANS = 20

CLIENTS = [
    "Acme Dental",
    "Café Müller GmbH",
    "Northwind Clinic",
    "Blue Harbor Law",
    "Oakridge Pharmacy",
    "Sunrise Bakery",
    "Pine & Co Accounting",
    "Riverside Vet",
    "Maple Street Library",
    "Kowalski Plumbing",
    "Greenleaf Florist",
    "Hilltop Chiropractic",
    "Bright Smile Orthodontics",
    "Summit Realty",
    "Harbor Freight Logistics",
    "Lakeside Physio",
    "O'Brien & Sons",
    "Redwood Architects",
    "Silver Spoon Diner",
    "Starlight Daycare",
    "Tanaka Imports",
    "Urban Yoga Loft",
    "Valley Auto Repair",
    "Westgate Insurance",
    "Zephyr Travel",
    "Élan Hair Studio",
    "Brightwater Brewery",
    "Cedar Grove School",
    "Dalton Family Practice",
    "Evergreen Landscaping",
    "Fox & Finch Bookshop",
    "Golden Gate Tailors",
    "Hartley Engineering",
    "Iris Optometry",
    "Jasper Print Shop",
    "Keystone Builders",
    "Linden Hotel",
    "Meadowbrook Farm Supply",
    "Nguyen Nails",
    "Orchard Pediatrics",
    "Parkview Dentistry",
    "Quarry Hill Winery",
    "Rosewood Funeral Home",
    "Sørensen Design",
    "Tidewater Marina",
    "Union Square Deli",
    "Vista Eye Care",
    "Willow Creek Vet",
    "Yellowstone Outfitters",
    "Zürich Reinsurance Desk",
]
DURATIONS = ["15m", "30m", "45m", "1h", "1h15", "1h30", "2h", "2h45", "3h", "90m"]
WORK = [
    "replaced fuser",
    "reset VPN tokens for two users",
    "migrated mailboxes",
    "swapped failing SSD in reception PC",
    "patched firewall firmware",
    "set up new laptop for Maria",
    "fixed Wi-Fi dropouts in back office",
    "cleaned malware off the shared drive",
    "renewed the SSL certificate",
    "rebuilt the print queue",
    "configured MFA for all staff",
    "moved backups to the new NAS",
]
PROMISES = [
    "send the revised quote",
    "call back about the new printer",
    "order two replacement toner cartridges",
    "email the backup report",
    "check the UPS battery",
    "price three new laptops",
    "renew the antivirus licences",
    "send the Wi-Fi survey results",
]
TODOS = [
    "order toner",
    "retire old NAS",
    "call back Friday about the quote",
    "send invoice",
    "check UPS battery next visit",
    "",
    "",
    "",
]


@dataclass
class RunSample:
    """What one measured run against one server observed (latencies in seconds, sorted)."""

    latencies: list[float]
    statuses: Counter[str]
    measured: int
    duration_s: float
    timed_out: bool
    slack_calls: Counter[str]


@dataclass
class ServerResult:
    """Figures for one server over all its rounds (latencies in milliseconds)."""

    name: str
    requests: int = 0
    errors: int = 0
    error_statuses: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    req_per_s: float = 0.0
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    mean_ms: float = math.nan
    timed_out: bool = False
    round_p99_ms: list[float] = field(default_factory=list)
    slack_calls: dict[str, int] = field(default_factory=dict)
    # What the server's database holds after the run (setup and warmup included), to check that the
    # floor and the bot did the same durable work.
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Server:
    """A server under test running as a subprocess."""

    name: str
    url: str
    health_url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path


@dataclass(frozen=True)
class Deployment:
    """A server under test: its processes (requests go to them in turn) and its database, if it has one."""

    name: str
    processes: tuple[Server, ...]
    database_url: str | None = None


def visit_text(rng: random.Random) -> str:
    """Return one realistic /visit log line."""
    client = rng.choice(CLIENTS)
    # Technicians quote names with spaces about a third of the time; the grammar must cope with both.
    name = f'"{client}"' if " " in client and rng.random() < 0.35 else client
    work = rng.choice(WORK)
    if rng.random() < 0.3:
        work = f"{work}, {rng.choice(WORK)}"
    todo = rng.choice(TODOS)
    text = f"{name} {rng.choice(DURATIONS)} {work}"
    return f"{text}; todo: {todo}" if todo else text


def promise_text(rng: random.Random, today: datetime) -> str:
    """Return one realistic /promise line, due three days ahead (by weekday or by date, never today)."""
    client = rng.choice(CLIENTS)
    name = f'"{client}"' if " " in client and rng.random() < 0.35 else client
    due = today + timedelta(days=3)
    day = due.strftime("%A") if rng.random() < 0.5 else due.date().isoformat()
    return f"{name} {rng.choice(PROMISES)} by {day}"


def build_mix(count: int, command: str = "visit") -> list[tuple[str, str]]:
    """Return (user_id, text) pairs, the same for every server so all see one request mix.

    For `press` the text is left empty: the visit id each technician presses on is the server's own.
    """
    rng = random.Random(MIX_SEED)
    today = datetime.now(UTC)
    mix = []
    for _ in range(count):
        user = f"U{100 + rng.randrange(TECHNICIANS)}"
        if command == "visit":
            mix.append((user, visit_text(rng)))
        elif command == "promise":
            mix.append((user, promise_text(rng, today)))
        else:
            mix.append((user, ""))
    return mix


def setup_mix() -> list[tuple[str, str]]:
    """One /visit per client, technicians in turn: every client is known and every technician has visits."""
    return [
        (f"U{100 + index % TECHNICIANS}", f'"{client}" 1h {WORK[index % len(WORK)]}')
        for index, client in enumerate(CLIENTS)
    ]


def command_body(
    *, user_id: str, text: str, response_url: str, trigger_id: str, command: str = "/visit"
) -> str:
    """Encode a slash-command body with the fields Slack sends, in Slack's order."""
    return urlencode(
        {
            "token": "bEnChVeRiFiCaTiOnToKeN",
            "team_id": "T111",
            "team_domain": "nudgebot-bench",
            "channel_id": "C111",
            "channel_name": "field-techs",
            "user_id": user_id,
            "user_name": f"tech{user_id[1:]}",
            "command": command,
            "text": text,
            "api_app_id": "A111",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def press_body(*, user_id: str, visit_id: str, response_url: str, trigger_id: str) -> str:
    """Encode a press of "Mark follow-up sent" on a visit's answer, as Slack posts block_actions."""
    name = f"tech{user_id[1:]}"
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": name, "name": name, "team_id": "T111"},
        "api_app_id": "A111",
        "token": "bEnChVeRiFiCaTiOnToKeN",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": "C111",
            "is_ephemeral": True,
        },
        "trigger_id": trigger_id,
        "team": {"id": "T111", "domain": "nudgebot-bench"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": "C111", "name": "field-techs"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": "followup.sent",
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Mark follow-up sent", "emoji": True},
                "value": visit_id,
                "style": "primary",
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def teams_user(user_id: str) -> str:
    """A technician of the mix as Teams names people: an Entra object id."""
    return f"00000000-0000-4000-8000-{int(user_id[1:]):012d}"


def teams_body(*, user_id: str, text: str, service_url: str, activity_id: str, command: str = "visit") -> str:
    """A 1:1 message activity with the fields Teams sends."""
    user = teams_user(user_id)
    return json.dumps(
        {
            "type": "message",
            "id": activity_id,
            "timestamp": "2026-11-23T15:00:00.000Z",
            "localTimezone": "America/Chicago",
            "serviceUrl": service_url,
            "channelId": "msteams",
            "from": {"id": f"29:1{user}", "name": f"Technician {user_id[1:]}", "aadObjectId": user},
            "conversation": {"conversationType": "personal", "tenantId": TEAMS_TENANT, "id": f"a:1{user}"},
            "recipient": {"id": f"28:{TEAMS_APP_ID}", "name": "Nudgebot"},
            "textFormat": "plain",
            "locale": "en-US",
            "text": f"{command} {text}",
            "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "America/Chicago"}],
            "channelData": {"tenant": {"id": TEAMS_TENANT}},
        }
    )


async def open_home(
    session: aiohttp.ClientSession, url: str, verifier: SignatureVerifier, user_id: str
) -> None:
    """Tell the server `user_id` opened App Home, as Slack does, so its Home is refreshed after changes."""
    body = json.dumps(
        {
            "token": "bEnChVeRiFiCaTiOnToKeN",
            "team_id": "T111",
            "api_app_id": "A111",
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(8)}",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user_id, "channel": f"D{user_id}", "tab": "home"},
        }
    )
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body) or "",
    }
    async with session.post(url, data=body.encode(), headers=headers) as response:
        await response.read()


def percentile(sorted_values: list[float], pct: float) -> float:
    """Return the nearest-rank percentile, so every figure is a latency that was actually observed."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_load(
    *,
    deployment: Deployment,
    fake: SlackStandIn | FakeMicrosoft,
    secret: str,
    mix: list[tuple[str, str]],
    warmup: int,
    concurrency: int,
    rate: float | None,
    tag: str,
    home_viewers: bool = False,
    command: str = "visit",
) -> RunSample:
    """Send `warmup` unmeasured requests, then the rest measured, closed-loop or at a fixed `rate`.

    With `command` "press", each mix item's text is the id of the visit whose button is pressed.
    """
    verifier = SignatureVerifier(secret)
    # Several processes of one server share the load in turn, as a round-robin router would.
    urls = [server.url for server in deployment.processes]
    timed_out = False
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    measured_total = len(mix) - warmup

    # Microsoft signs one token and reuses it for an hour's requests; so does the benchmark.
    teams_token = fake.authorization(fake.service_url) if isinstance(fake, FakeMicrosoft) else ""

    def request(index: int) -> tuple[str, dict[str, str]]:
        user_id, text = mix[index]
        if isinstance(fake, FakeMicrosoft):
            activity_id = f"{10_000_000_000 + index}{secrets.token_hex(4)}"
            body = teams_body(
                user_id=user_id,
                text=text,
                service_url=fake.service_url,
                activity_id=activity_id,
                command=command,
            )
            return body, {"Content-Type": "application/json", "Authorization": teams_token}
        response_url = fake.response_url(f"{tag}-{index}")
        trigger_id = f"{10_000_000_000 + index}.{tag}.{secrets.token_hex(16)}"
        if command == "press":
            body = press_body(
                user_id=user_id, visit_id=text, response_url=response_url, trigger_id=trigger_id
            )
        else:
            body = command_body(
                user_id=user_id,
                text=text,
                response_url=response_url,
                trigger_id=trigger_id,
                command=f"/{command}",
            )
        # Signed at send time, as Slack does, so a slow run can never carry a stale timestamp.
        timestamp = str(int(time.time()))
        # generate_signature is typed Optional but only returns None for a missing timestamp or body.
        signature = verifier.generate_signature(timestamp=timestamp, body=body) or ""
        return body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }

    async def send(
        session: aiohttp.ClientSession, index: int, measured: bool, scheduled: float | None = None
    ) -> None:
        body, headers = request(index)
        started = time.perf_counter() if scheduled is None else scheduled
        try:
            async with session.post(urls[index % len(urls)], data=body.encode(), headers=headers) as response:
                await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        elapsed = time.perf_counter() - started
        if not measured:
            return
        if status == "200":
            latencies.append(elapsed)
        else:
            statuses[status] += 1

    async def phase(session: aiohttp.ClientSession, indexes: range, measured: bool) -> None:
        if rate is None:
            shared: Iterator[int] = iter(indexes)

            async def worker() -> None:
                # One shared iterator keeps exactly `concurrency` requests in flight until the mix runs out.
                for index in shared:
                    await send(session, index, measured)

            async with asyncio.TaskGroup() as group:
                for _ in range(concurrency):
                    group.create_task(worker())
            return
        # Open loop: requests leave on schedule whatever the server does, and latency counts from the
        # scheduled moment, so queueing behind a slow answer is measured (no coordinated omission).
        begin = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for k, index in enumerate(indexes):
                due = begin + k / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                group.create_task(send(session, index, measured, scheduled=due))

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    fake.clear()
    started = finished = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if home_viewers:
            # Each process knows only the viewers it was told about, so every one of them is told.
            for url in urls:
                for user_id in sorted({user for user, _ in mix}):
                    await open_home(session, url, verifier, user_id)
        try:
            async with asyncio.timeout(SERVER_TIMEOUT_S):
                await phase(session, range(warmup), measured=False)
                started = time.perf_counter()
                await phase(session, range(warmup, len(mix)), measured=True)
        except TimeoutError:
            timed_out = True
        finished = time.perf_counter()
    await asyncio.sleep(AFTER_ACK_GRACE_S)

    unfinished = measured_total - len(latencies) - sum(statuses.values())
    if unfinished > 0:
        statuses["not_sent_before_timeout"] += unfinished
    if isinstance(fake, FakeMicrosoft):
        calls = Counter(call.kind for call in fake.calls)
    else:
        calls = Counter(
            r.api_method or ("response_url" if r.response_name else r.path) for r in fake.requests()
        )
    return RunSample(
        latencies=sorted(latencies),
        statuses=statuses,
        measured=measured_total,
        duration_s=finished - started,
        timed_out=timed_out,
        slack_calls=calls,
    )


def summarize(name: str, samples: list[RunSample]) -> ServerResult:
    """Pool one server's rounds into a single set of figures."""
    latencies = sorted(value for sample in samples for value in sample.latencies)
    statuses: Counter[str] = sum((sample.statuses for sample in samples), Counter())
    calls: Counter[str] = sum((sample.slack_calls for sample in samples), Counter())
    duration = sum(sample.duration_s for sample in samples)
    return ServerResult(
        name=name,
        requests=sum(sample.measured for sample in samples),
        errors=sum(statuses.values()),
        error_statuses=dict(statuses),
        duration_s=duration,
        req_per_s=len(latencies) / duration if duration > 0 else 0.0,
        # Latency figures cover the 200 answers only; errors are reported by count and status instead.
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=latencies[-1] * 1000 if latencies else math.nan,
        mean_ms=sum(latencies) / len(latencies) * 1000 if latencies else math.nan,
        timed_out=any(sample.timed_out for sample in samples),
        round_p99_ms=[percentile(sample.latencies, 99) * 1000 for sample in samples],
        slack_calls=dict(calls),
    )


def start_server(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    logs: Path,
    stack: contextlib.ExitStack,
    path: str = "/slack/events",
) -> Server:
    """Start one server subprocess; the exit stack stops it, whatever happens next."""
    stdout: IO[bytes] = stack.enter_context((logs / f"{name}.stdout").open("wb"))
    stderr_path = logs / f"{name}.stderr"
    stderr: IO[bytes] = stack.enter_context(stderr_path.open("wb"))
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        # Its own session keeps a terminal Ctrl-C away from it, so it is stopped only by stop_process.
        start_new_session=True,
    )
    stack.callback(stop_process, process)
    base = f"http://127.0.0.1:{port}"
    return Server(name, f"{base}{path}", f"{base}/healthz", process, stderr_path)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server politely, then forcibly if it does not exit within 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_healthy(server: Server) -> None:
    """Poll GET /healthz until it answers 200, or exit 1 with the server's stderr."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    problem = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            problem = f"exited with status {server.process.returncode}"
            break
        try:
            with urllib.request.urlopen(server.health_url, timeout=2) as response:
                if response.status == 200:
                    return
                problem = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
            exc.close()
        except OSError as exc:
            problem = str(exc)
        time.sleep(0.1)
    print(
        f"{server.name}: not healthy within {HEALTH_TIMEOUT_S:.0f}s ({problem}); its stderr:", file=sys.stderr
    )
    print(server.stderr_path.read_text(errors="replace")[-8000:] or "(empty)", file=sys.stderr)
    raise SystemExit(1)


def print_table(results: list[ServerResult]) -> None:
    """Print one row of figures per server."""
    header = (
        f"{'server':<6} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<6} {r.requests:>8} {r.errors:>6} {r.req_per_s:>8.1f} "
            f"{r.p50_ms:>8.2f} {r.p90_ms:>8.2f} {r.p99_ms:>8.2f} {r.max_ms:>8.2f}"
        )
    for r in results:
        if len(r.round_p99_ms) > 1:
            print(f"{r.name}: p99 by round (ms) {', '.join(f'{p:.2f}' for p in r.round_p99_ms)}")
        if r.error_statuses:
            print(f"{r.name}: error statuses {r.error_statuses}")
        if r.timed_out:
            print(f"{r.name}: hit the {SERVER_TIMEOUT_S:.0f}s per-server timeout")
        print(f"{r.name}: calls seen by the fake platform, warmup included: {r.slack_calls or '{}'}")
        if r.rows:
            print(f"{r.name}: rows in its database, setup and warmup included: {r.rows}")


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def verdict(results: dict[str, ServerResult]) -> dict[str, Any]:
    """Compare the bot with the floor (issue 12's targets), or without the floor with bare, and decide PASS
    or MISS; the other ratios are reported but not judged."""
    bare, floor, bot = (results.get(name) for name in SERVER_NAMES)
    outcome: dict[str, Any] = {
        "ratio_p99": None,
        "ratio_p50": None,
        "ratio_throughput_floor": None,
        "ratio_p50_floor": None,
        "judged_against": None,
        "verdict": None,
    }
    if bot is None:
        return outcome
    if bare is not None:
        outcome["ratio_p99"] = _ratio(bot.p99_ms, bare.p99_ms)
        outcome["ratio_p50"] = _ratio(bot.p50_ms, bare.p50_ms)
    if floor is not None:
        outcome["ratio_throughput_floor"] = _ratio(bot.req_per_s, floor.req_per_s)
        outcome["ratio_p50_floor"] = _ratio(bot.p50_ms, floor.p50_ms)
        outcome["judged_against"] = "floor"
        # A NaN ratio (a server answered nothing) compares False: a miss.
        met = (
            outcome["ratio_throughput_floor"] >= TARGET_THROUGHPUT_RATIO
            and outcome["ratio_p50_floor"] <= TARGET_FLOOR_P50_RATIO
        )
    elif bare is not None:
        outcome["judged_against"] = "bare"
        met = outcome["ratio_p99"] <= TARGET_P99_RATIO
    else:
        return outcome
    passed = met and bot.errors == 0 and not bot.timed_out
    outcome["verdict"] = "PASS" if passed else "MISS"
    return outcome


def print_verdict(results: dict[str, ServerResult], outcome: dict[str, Any]) -> None:
    """Print the ratios the targets name, and the verdict."""
    bare, floor, bot = (results.get(name) for name in SERVER_NAMES)
    if bot is None or (bare is None and floor is None):
        print("ratios: n/a (the bot and at least one of bare and floor must be measured)")
        return
    if bare is not None:
        print(f"ratio p99 bot/bare = {outcome['ratio_p99']:.2f}")
        print(f"ratio p50 bot/bare = {outcome['ratio_p50']:.2f}")
    if floor is not None:
        print(
            f"ratio req/s bot/floor = {outcome['ratio_throughput_floor']:.2f} "
            f"(target >= {TARGET_THROUGHPUT_RATIO})"
        )
        print(f"ratio p50 bot/floor = {outcome['ratio_p50_floor']:.2f} (target <= {TARGET_FLOOR_P50_RATIO})")
        if floor.errors:
            print(f"note: the floor answered {floor.errors} requests with errors; its figures cover the rest")
        print(
            f"{outcome['verdict']}: target bot req/s >= {TARGET_THROUGHPUT_RATIO} x floor req/s, bot p50 <= "
            f"{TARGET_FLOOR_P50_RATIO} x floor p50 and 0 errors (bot {bot.req_per_s:.1f} req/s vs limit "
            f"{TARGET_THROUGHPUT_RATIO * floor.req_per_s:.1f}; p50 {bot.p50_ms:.2f} ms vs limit "
            f"{TARGET_FLOOR_P50_RATIO * floor.p50_ms:.2f} ms; bot errors {bot.errors})"
        )
    elif bare is not None:
        print(
            f"{outcome['verdict']}: target bot p99 <= {TARGET_P99_RATIO} x bare p99 and 0 errors "
            f"(bot p99 {bot.p99_ms:.2f} ms vs limit {TARGET_P99_RATIO * bare.p99_ms:.2f} ms, "
            f"bot errors {bot.errors})"
        )


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so the exit stack still stops the servers."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


async def cancel_on_sigterm(load: Coroutine[Any, Any, RunSample]) -> RunSample:
    """Run the load, cancelling it cleanly on SIGTERM rather than raising inside whichever task is running."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(load)
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        return await task
    except asyncio.CancelledError:
        # A Ctrl-C also arrives as a cancellation; asyncio.run turns that one into KeyboardInterrupt.
        if terminated:
            raise SystemExit(128 + signal.SIGTERM) from None
        raise
    finally:
        # The loop's removal resets SIGTERM to the default (die at once), so put ours back.
        loop.remove_signal_handler(signal.SIGTERM)
        exit_on_sigterm()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n", type=int, default=2000, help="measured requests per server and round (default 2000)"
    )
    parser.add_argument("-c", type=int, default=20, help="concurrent in-flight requests (default 20)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first (default 200)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--rate",
        type=float,
        help="open loop at this many requests/s instead of the closed loop (-c then caps connections)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each server this many times, alternating the order, and pool the figures (default 1)",
    )
    parser.add_argument(
        "--only",
        choices=SERVER_NAMES,
        action="append",
        help="measure this server (repeat for several); default all three (floor and bot for promise, press)",
    )
    parser.add_argument(
        "--command",
        choices=["visit", "promise", "press"],
        default="visit",
        help="the request mix: /visit, /promise, or the 'Mark follow-up sent' button (default visit)",
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the floor's and the bot's database: a fresh SQLite file, or a throwaway PostgreSQL database",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="where --db postgres creates its throwaway databases (default TEST_DATABASE_URL or local)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="bot processes on one PostgreSQL database, sent requests in turn (default 1)",
    )
    parser.add_argument(
        "--platform",
        choices=["slack", "teams"],
        default="slack",
        help="Slack slash commands against bare Bolt, or Teams messages against a bare Teams SDK app",
    )
    parser.add_argument(
        "--home-viewers",
        action="store_true",
        help="every technician opens App Home first, so the bot republishes it after their commands",
    )
    args = parser.parse_args(argv)
    if args.platform == "teams" and args.home_viewers:
        parser.error("--home-viewers is Slack's App Home; Teams has none")
    if args.platform == "teams" and args.command != "visit":
        parser.error("--platform teams measures `visit` only (its floor writes visits)")
    if min(args.n, args.c, args.rounds, args.processes) < 1 or args.warmup < 0:
        parser.error("-n, -c, --rounds and --processes must be positive and --warmup not negative")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    if args.command != "visit" and args.only and "bare" in args.only:
        parser.error("bench/bare_app.py acks /visit only; measure floor and bot for promise and press")
    if args.processes > 1 and args.db != "postgres":
        parser.error("--processes above 1 needs --db postgres: SQLite has one writer, in one process")
    default = SERVER_NAMES if args.command == "visit" else ("floor", "bot")
    args.names = [name for name in SERVER_NAMES if name in (args.only or default)]
    return args


def slack_servers(
    fake: SlackStandIn,
    secret: str,
    names: list[str],
    logs: Path,
    stack: contextlib.ExitStack,
    databases: dict[str, str],
    processes: int = 1,
) -> list[Deployment]:
    """Bare Bolt, the floor and the bot, all talking to the fake Slack."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": fake.base_url,
    }
    deployments: list[Deployment] = []
    if "bare" in names:
        port = free_port()
        command = [sys.executable, str(REPO_ROOT / "bench" / "bare_app.py"), "--port", str(port)]
        deployments.append(Deployment("bare", (start_server("bare", command, env, port, logs, stack),)))
    if "floor" in names:
        deployments.append(start_floor("floor_app.py", env, logs, stack, "/slack/events", databases["floor"]))
    if "bot" in names:
        deployments.append(start_bot(env, logs, stack, "/slack/events", databases["bot"], processes))
    return deployments


def teams_servers(
    fake: FakeMicrosoft,
    names: list[str],
    logs: Path,
    stack: contextlib.ExitStack,
    databases: dict[str, str],
    processes: int = 1,
) -> list[Deployment]:
    """A bare Teams SDK app, its floor and the bot, all checking tokens against the fake's keys."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "TEAMS_APP_ID": TEAMS_APP_ID,
        "TEAMS_APP_PASSWORD": TEAMS_SECRET,
        "TEAMS_TENANT_ID": TEAMS_TENANT,
        "TEAMS_OPENID_URL": fake.openid_url,
        "TEAMS_LOGIN_URL": fake.login_endpoint,
        # The fake Bot Connector is on loopback; only here may the bot's token go there.
        "TEAMS_CONNECTOR_HOSTS": "127.0.0.1",
    }
    deployments: list[Deployment] = []
    if "bare" in names or "floor" in names:
        # The bare app and its floor reply with a token from the fake Entra, fetched once here.
        env_with_token = {**env, "BARE_TEAMS_TOKEN": _issued_token(fake)}
    if "bare" in names:
        port = free_port()
        command = [sys.executable, str(REPO_ROOT / "bench" / "bare_teams_app.py"), "--port", str(port)]
        bare = start_server("bare", command, env_with_token, port, logs, stack, "/api/messages")
        deployments.append(Deployment("bare", (bare,)))
    if "floor" in names:
        floor = start_floor(
            "floor_teams_app.py", env_with_token, logs, stack, "/api/messages", databases["floor"]
        )
        deployments.append(floor)
    if "bot" in names:
        deployments.append(start_bot(env, logs, stack, "/api/messages", databases["bot"], processes))
    return deployments


def _issued_token(fake: FakeMicrosoft) -> str:
    """A token from the fake Entra, which its Bot Connector accepts, for the bare app to send with."""
    form = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": TEAMS_APP_ID,
            "client_secret": TEAMS_SECRET,
            "scope": "https://api.botframework.com/.default",
        }
    ).encode()
    url = f"{fake.login_endpoint}/{TEAMS_TENANT}/oauth2/v2.0/token"
    with urllib.request.urlopen(url, data=form, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def start_floor(
    script: str, env: dict[str, str], logs: Path, stack: contextlib.ExitStack, path: str, database_url: str
) -> Deployment:
    """The floor app (Slack's or Teams') on its own fresh database."""
    port = free_port()
    command = [sys.executable, str(REPO_ROOT / "bench" / script), "--port", str(port)]
    floor_env = {**env, "DATABASE_URL": database_url}
    server = start_server("floor", command, floor_env, port, logs, stack, path)
    return Deployment("floor", (server,), database_url)


def start_bot(
    env: dict[str, str],
    logs: Path,
    stack: contextlib.ExitStack,
    path: str,
    database_url: str,
    processes: int = 1,
) -> Deployment:
    """The bot, in `processes` processes on one fresh database, without its scheduler."""
    servers = []
    for number in range(processes):
        port = free_port()
        bot_env = {
            **env,
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "RUN_JOBS": "false",
            "LOG_LEVEL": "WARNING",
        }
        name = "bot" if number == 0 else f"bot-{number + 1}"
        servers.append(start_server(name, [sys.executable, "-m", "bot"], bot_env, port, logs, stack, path))
    return Deployment("bot", tuple(servers), database_url)


def database_rows(url: str) -> dict[str, int]:
    """What a server's database holds: visits, promises, follow-ups marked sent and replay keys."""
    counts = {
        "visits": "SELECT count(*) FROM visits",
        "promises": "SELECT count(*) FROM promises",
        "followups_sent": "SELECT count(*) FROM visits WHERE followup_sent_at IS NOT NULL",
        "replay_keys": "SELECT count(*) FROM processed_requests",
    }
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {name: int(connection.scalar(sqlalchemy.text(sql)) or 0) for name, sql in counts.items()}
    finally:
        engine.dispose()


def first_visits(url: str) -> dict[str, str]:
    """Each technician's first visit id, by user id: the follow-up buttons --command press presses."""
    query = (
        "SELECT technicians.user_id, min(visits.id) FROM visits "
        "JOIN technicians ON technicians.id = visits.technician_id GROUP BY technicians.user_id"
    )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {str(user): str(visit) for user, visit in connection.execute(sqlalchemy.text(query))}
    finally:
        engine.dispose()


def measure(load: Coroutine[Any, Any, RunSample]) -> RunSample:
    """Run one load to the end in its own event loop, stopping cleanly on SIGTERM."""
    return asyncio.run(cancel_on_sigterm(load))


def main(argv: list[str] | None = None) -> int:
    """Start the fake platform and the servers, load each in turn, report, and always stop the servers."""
    args = parse_args(argv)
    names: list[str] = args.names
    secret = secrets.token_hex(16)
    mix = build_mix(args.warmup + args.n, args.command)
    exit_on_sigterm()

    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nudgebot-bench-")))
        # Entered before the servers start, so each database outlives (is dropped after) its server.
        databases: dict[str, str] = {
            name: stack.enter_context(throwaway_database(args.db, args.postgres_url))
            for name in ("floor", "bot")
            if name in names
        }
        if args.platform == "teams":
            microsoft = stack.enter_context(
                FakeMicrosoft(app_id=TEAMS_APP_ID, tenant_id=TEAMS_TENANT, client_secret=TEAMS_SECRET)
            )
            fake: SlackStandIn | FakeMicrosoft = microsoft
            deployments = teams_servers(microsoft, names, logs, stack, databases, args.processes)
        else:
            slack = stack.enter_context(SlackStandIn(valid_tokens={BOT_TOKEN}))
            # The technicians of the request mix, so the bot's one users.info per person finds them.
            for number in range(TECHNICIANS):
                slack.add_user(f"U{100 + number}", real_name=f"Technician {number}", tz="America/Chicago")
            fake = slack
            deployments = slack_servers(slack, secret, names, logs, stack, databases, args.processes)
        for deployment in deployments:
            for server in deployment.processes:
                wait_healthy(server)

        print(
            f"ack latency ({args.platform}, {args.command}, {args.db}): n={args.n} c={args.c} "
            f"warmup={args.warmup} rounds={args.rounds} bot_processes={args.processes} "
            f"mode={'closed loop' if args.rate is None else f'open loop {args.rate:g}/s'} "
            f"home_viewers={args.home_viewers} "
            f"python={platform.python_version()} cpus={os.cpu_count()}"
        )
        mixes = {deployment.name: mix for deployment in deployments}
        if args.command != "visit":
            for deployment in deployments:
                setup = setup_mix()
                # Unmeasured and one at a time: every client known, every technician with visits.
                measure(
                    run_load(
                        deployment=deployment,
                        fake=fake,
                        secret=secret,
                        mix=setup,
                        warmup=len(setup),
                        concurrency=1,
                        rate=None,
                        tag=f"{deployment.name}-setup",
                    )
                )
                if args.command == "press" and deployment.database_url is not None:
                    visits = first_visits(deployment.database_url)
                    missing = sorted({user for user, _ in mix} - set(visits))
                    if missing:
                        print(f"{deployment.name}: logged no visit for {', '.join(missing)} during set-up")
                        return 1
                    mixes[deployment.name] = [(user, visits[user]) for user, _ in mix]
        samples: dict[str, list[RunSample]] = {deployment.name: [] for deployment in deployments}
        for round_number in range(args.rounds):
            # Alternating the order each round spreads slow drift on a shared machine over every server.
            ordered = deployments if round_number % 2 == 0 else deployments[::-1]
            for deployment in ordered:
                load = run_load(
                    deployment=deployment,
                    fake=fake,
                    secret=secret,
                    mix=mixes[deployment.name],
                    warmup=args.warmup,
                    concurrency=args.c,
                    rate=args.rate,
                    tag=f"{deployment.name}-r{round_number}",
                    home_viewers=args.home_viewers,
                    command=args.command,
                )
                samples[deployment.name].append(measure(load))
                for server in deployment.processes:
                    if server.process.poll() is not None:
                        print(f"{server.name}: exited during the run with status {server.process.returncode}")
        results = {name: summarize(name, runs) for name, runs in samples.items()}
        for deployment in deployments:
            if deployment.database_url is not None:
                results[deployment.name].rows = database_rows(deployment.database_url)

    print_table(list(results.values()))
    outcome = verdict(results)
    print_verdict(results, outcome)
    if args.json is not None:
        report = {
            "config": {
                "platform": args.platform,
                "command": args.command,
                "db": args.db,
                "bot_processes": args.processes,
                "n": args.n,
                "concurrency": args.c,
                "warmup": args.warmup,
                "rounds": args.rounds,
                "only": names,
                "mode": "closed loop" if args.rate is None else f"open loop at {args.rate:g} req/s",
                "percentile_method": "nearest-rank over 200 answers",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
            "servers": {name: asdict(result) for name, result in results.items()},
            "target": {
                "p99_ratio_max": TARGET_P99_RATIO,
                "throughput_ratio_min": TARGET_THROUGHPUT_RATIO,
                "floor_p50_ratio_max": TARGET_FLOOR_P50_RATIO,
                "bot_errors_max": 0,
            },
            **outcome,
        }
        # NaN is not JSON; a missing figure is written as null.
        args.json.write_text(json.dumps(_nan_to_none(report), indent=2) + "\n")
    return 2 if outcome["verdict"] == "MISS" else 0


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # main's exit stack has already stopped the servers by the time the interrupt gets here.
        print("interrupted", file=sys.stderr)
        sys.exit(130)

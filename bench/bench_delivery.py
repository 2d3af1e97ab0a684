# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""Measure how close the sender comes to a workspace's Slack budget: N DMs through a fake Slack that
enforces it (a token bucket answering 429 + Retry-After), with the sender's Pacer set just under it.

Usage: python bench/bench_delivery.py [--db sqlite|postgres] [--items 5000] [--budget 50] [--burst 10]
                                      [--pace 0.95] [--senders 1] [--json out.json]

The baseline is the budget's floor, items / budget: no sender can deliver faster without 429s. Targets:
wall time (first DM to last) <= 1.15 x the floor, and no 429 once past the opening burst. `--pace 0`
turns pacing off, so only Slack's 429s (and the shared rate gate) hold the sender back, for comparison.
Exit status: 0 when the targets are met, 2 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The repository root must be on sys.path before these imports.
from bench.drill_crash import (  # noqa: E402
    DEFAULT_POSTGRES,
    TOKEN,
    UTC_ZONE,
    Outbox,
    drill_services,
    seed_due,
    throwaway_database,
)
from handlers.slack.notifier import SlackNotifier  # noqa: E402
from handlers.slack.standin import SlackStandIn  # noqa: E402
from jobs.planners import plan  # noqa: E402
from jobs.sender import Pacer, send_due  # noqa: E402

TARGET_RATIO = 1.15
TIMEOUT_S = 170.0
IDLE_POLL_S = 0.05


@dataclass
class DeliveryResult:
    """Figures for one delivery run."""

    db: str
    items: int
    budget_per_s: float
    burst: int
    pace_per_s: float | None
    senders: int
    plan_s: float = 0.0
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected_429: int = 0
    rejected_429_after_burst: int = 0
    wall_s: float = 0.0
    floor_s: float = 0.0
    ratio: float = 0.0
    msg_per_s: float = 0.0
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        complete = self.sent == self.accepted == self.items and not self.timed_out
        return complete and self.ratio <= TARGET_RATIO and self.rejected_429_after_burst == 0


def run_delivery(
    database_url: str,
    backend: str,
    *,
    items: int,
    budget: float,
    burst: int,
    pace: float,
    senders: int,
) -> DeliveryResult:
    """Plan `items` DMs, then drain them with `senders` threads sharing one pacer at `pace` x budget."""
    pace_per_s = pace * budget if pace > 0 else None
    result = DeliveryResult(
        db=backend, items=items, budget_per_s=budget, burst=burst, pace_per_s=pace_per_s, senders=senders
    )
    now = datetime.now(UTC)
    with SlackStandIn(valid_tokens={TOKEN}) as fake, drill_services(database_url, fake.base_url) as services:
        seed_due(services.sessions, now=now, visits=items, technicians=100)
        started = time.perf_counter()
        with services.sessions.begin() as session:
            planned = plan(session, now=now, default_tz=UTC_ZONE)
        result.plan_s = time.perf_counter() - started
        assert planned == items, f"planned {planned} of {items}"
        fake.limit("chat.postMessage", per_second=budget, burst=burst)
        # One pacer for the whole process, as the scheduler keeps one; far above the budget when off.
        pacer = Pacer(per_second=pace_per_s or 1e9, burst=burst if pace_per_s else 10**9)
        notifier = SlackNotifier(token=TOKEN, base_url=fake.base_url, timeout=10)
        outbox = Outbox(database_url)
        done = threading.Event()
        deadline = time.monotonic() + TIMEOUT_S

        def sender(number: int) -> None:
            while not done.is_set() and time.monotonic() < deadline:
                report = send_due(
                    services,
                    notifier,
                    owner=f"bench-{number}",
                    pacer=pacer,
                    lease=timedelta(seconds=60),
                )
                if not report.claimed:
                    done.wait(IDLE_POLL_S)

        threads = [threading.Thread(target=sender, args=(n,), name=f"sender-{n}") for n in range(senders)]
        for thread in threads:
            thread.start()
        try:
            while outbox.unsettled() and time.monotonic() < deadline:
                time.sleep(0.2)
            result.timed_out = bool(outbox.unsettled())
        finally:
            done.set()
            for thread in threads:
                thread.join()
        result.sent = outbox.counts().get("sent", 0)
        outbox.close()
        calls = fake.calls("chat.postMessage")
    accepted = [call for call in calls if call.fault is None]
    rejected = [call for call in calls if call.fault == "ratelimited"]
    result.accepted = len(accepted)
    result.duplicates = len(accepted) - len({call.key for call in accepted})
    result.rejected_429 = len(rejected)
    if accepted:
        first, last = calls[0].received_at, accepted[-1].received_at
        # The opening burst is free; count from the first call, so a wall time at the floor is items/budget.
        result.wall_s = last - first
        result.rejected_429_after_burst = sum(1 for call in rejected if call.received_at > first + 1.0)
    result.floor_s = items / budget
    result.ratio = result.wall_s / result.floor_s
    result.msg_per_s = result.accepted / result.wall_s if result.wall_s else 0.0
    return result


def print_result(result: DeliveryResult) -> None:
    pace = f"{result.pace_per_s:g}/s" if result.pace_per_s else "off"
    header = (
        f"{'db':<10} {'items':>6} {'budget':>8} {'pacer':>8} {'wall s':>8} {'floor s':>8} "
        f"{'ratio':>6} {'msg/s':>7} {'429s':>5} {'dupes':>5}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{result.db:<10} {result.items:>6} {result.budget_per_s:>6g}/s {pace:>8} {result.wall_s:>8.1f} "
        f"{result.floor_s:>8.1f} {result.ratio:>6.3f} {result.msg_per_s:>7.1f} {result.rejected_429:>5} "
        f"{result.duplicates:>5}"
    )
    print(f"planning the {result.items} nudges took {result.plan_s:.2f} s; sent {result.sent}")
    if result.timed_out:
        print(f"hit the {TIMEOUT_S:.0f} s time limit")
    verdict = "PASS" if result.passed else "MISS"
    print(
        f"{verdict}: target wall <= {TARGET_RATIO} x floor and no 429 after the opening burst "
        f"(ratio {result.ratio:.3f}, 429s after the burst {result.rejected_429_after_burst})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES))
    parser.add_argument("--items", type=int, default=5000, help="DMs to deliver (default 5000)")
    parser.add_argument("--budget", type=float, default=50.0, help="the workspace budget, msg/s (default 50)")
    parser.add_argument("--burst", type=int, default=10, help="the budget's burst (default 10)")
    parser.add_argument(
        "--pace", type=float, default=0.95, help="pacer rate as a share of the budget (0: off)"
    )
    parser.add_argument("--senders", type=int, default=1, help="sender threads sharing the pacer (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    # The sender logs each 429 as a warning; here they are counted in the table instead.
    logging.basicConfig(level=logging.ERROR)
    if args.items < 1 or args.budget <= 0 or args.burst < 1 or args.senders < 1 or args.pace < 0:
        parser.error("--items, --budget, --burst and --senders must be positive, --pace not negative")
    if args.items / args.budget > TIMEOUT_S / TARGET_RATIO:
        parser.error(f"items / budget must stay under {TIMEOUT_S / TARGET_RATIO:.0f} s to fit the time limit")
    print(
        f"delivery: {args.items} DMs, budget {args.budget:g}/s burst {args.burst}, db {args.db}, "
        f"python {platform.python_version()}, {os.cpu_count()} cpus"
    )
    with throwaway_database(args.db, args.postgres_url) as url:
        result = run_delivery(
            url,
            "postgresql" if args.db == "postgres" else "sqlite",
            items=args.items,
            budget=args.budget,
            burst=args.burst,
            pace=args.pace,
            senders=args.senders,
        )
    print_result(result)
    if args.json is not None:
        args.json.write_text(json.dumps({**asdict(result), "passed": result.passed}, indent=2) + "\n")
    return 0 if result.passed else 2


if __name__ == "__main__":
    sys.exit(main())

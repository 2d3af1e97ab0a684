# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""How quick the sandbox page feels: its first load, and Enter to a rendered answer, beside the server alone.

Usage: python bench/sandbox_page.py [-n 40] [--loads 10] [--pause 0.5]

Starts `python -m bot sandbox` on a fresh database and drives the page in headless Chromium (Debian's
`chromium`, as the browser test does). It measures, in the page (window.sandboxTimings):

- the first load: from the script's start to the conversation shown and the event stream open, over
  --loads page loads;
- Enter to answer: from Enter in the message box to the bot's answer rendered, over -n `/visit` commands,
  --pause seconds apart (a person types one at a time; back to back, each command would also wait for
  the previous one's after-ack work: its App Home, the profile fetch).

The baseline, in the same run: the same `/visit` commands sent as the page sends them (POST /sandbox/act)
straight from Python, timed to the HTTP answer: the signed slash command, the bot's work and its ack,
without the browser, the event stream or the rendering, with the same pause between commands.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox never answered")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {statistics.median(values):.1f} ms | {percentile(values, 0.95):.1f} ms |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="commands typed (and sent directly)")
    parser.add_argument("--loads", type=int, default=10, help="page loads")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between commands")
    args = parser.parse_args()
    browser_path = os.environ.get("SANDBOX_CHROMIUM") or shutil.which("chromium")
    if not browser_path:
        print("no chromium: apt-get install chromium, or set SANDBOX_CHROMIUM", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="nudgebot-page-") as folder:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "bot",
            "sandbox",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{folder}/s.db",
        ]
        env = {"PATH": os.environ["PATH"], "HOME": folder}
        with subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL) as sandbox:
            try:
                wait_up(url)
                loads, answers = in_the_browser(browser_path, url, args.loads, args.n, args.pause)
                direct = straight(url, args.n, args.pause)
            finally:
                sandbox.terminate()
                sandbox.wait(timeout=20)
    print("| What | n | median | p95 |")
    print("|---|---|---|---|")
    print(row("page: first load", loads))
    print(row("page: Enter to the answer rendered", answers))
    print(row("baseline: the same command's POST /sandbox/act, no browser", direct))
    ratio = statistics.median(answers) / statistics.median(direct)
    print(f"\nEnter-to-answer / baseline (medians): **{ratio:.2f}**")
    return 0


def in_the_browser(
    browser_path: str, url: str, loads: int, typed: int, pause: float
) -> tuple[list[float], list[float]]:
    first: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page()
        for _ in range(loads):
            page.goto(url)
            expect(page.locator("body")).to_have_attribute("data-ready", "yes")
            first.append(float(page.evaluate("window.sandboxTimings.firstLoad")))
        for number in range(typed):
            page.fill("#message", f"/visit Bench Client {number} 1h replaced the switch")
            page.press("#message", "Enter")
            # Waited out, not polled: Playwright's polling would compete with the page being measured.
            time.sleep(pause)
            expect(page.locator("#pane")).to_contain_text(f"at Bench Client {number}", timeout=30_000)
        answers = [float(ms) for ms in page.evaluate("window.sandboxTimings.answers")]
        browser.close()
    return first, answers


def straight(url: str, count: int, pause: float) -> list[float]:
    timings: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for number in range(count):
            body = {
                "as": "U0BO",
                "kind": "command",
                "channel": "DU0BO",
                "text": f"/visit Direct {number} 1h fixed it",
            }
            started = time.perf_counter()
            response = client.post("/sandbox/act", json=body)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            time.sleep(pause)
    return timings


if __name__ == "__main__":
    sys.exit(main())

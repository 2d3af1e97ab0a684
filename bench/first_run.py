# This script's report is its console output, so print is the right tool here.
# ruff: noqa: T201
"""Time from a fresh clone to a sandbox page in the browser, beside the set-up it replaced, in one run.

Usage: python bench/first_run.py [--rounds 1] [--repo .]

Each round clones the repository's HEAD twice into a temporary folder, with empty package caches (a new
HOME, UV_CACHE_DIR and pip's --no-cache-dir), so both paths download everything as a first run does:

- now: `scripts/run`, which installs the exact versions of uv.lock with uv and starts the sandbox;
- before (the baseline): what scripts/setup did until issue 9, `pip install -e '.[dev]'` resolving the
  open version ranges of pyproject.toml, then `python -m bot sandbox`.

Each is timed until GET / on the sandbox answers 200. Both fetch from the package registry, so the
network's speed that minute is part of both figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 900.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clone(repo: Path, into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(repo), str(into)], check=True)
    return into


def clean_env(home: Path) -> dict[str, str]:
    """No chat settings and no package caches: a machine that has never installed this."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "UV_CACHE_DIR": str(home / "uv-cache"),
        "PIP_NO_CACHE_DIR": "1",
    }


def served_after(command: list[str], *, cwd: Path, env: dict[str, str], port: int, started: float) -> float:
    """Run `command` until the page on `port` answers; seconds since `started`."""
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as run:
        try:
            while time.monotonic() - started < LIMIT_S:
                if run.poll() is not None:
                    raise RuntimeError(
                        f"{command[0]} exited {run.returncode}: {run.stderr.read().decode()[-800:]}"
                    )
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                        if answer.status == 200:
                            return time.monotonic() - started
                except (urllib.error.URLError, OSError):
                    time.sleep(0.1)
            raise RuntimeError("the sandbox never answered")
        finally:
            run.terminate()
            run.wait(timeout=20)


def now_path(repo: Path, work: Path) -> float:
    home = work / "home-now"
    home.mkdir()
    started = time.monotonic()
    checkout = clone(repo, work / "now")
    port = free_port()
    return served_after(
        ["scripts/run", "--port", str(port)], cwd=checkout, env=clean_env(home), port=port, started=started
    )


def before_path(repo: Path, work: Path) -> float:
    home = work / "home-before"
    home.mkdir()
    env = clean_env(home)
    started = time.monotonic()
    checkout = clone(repo, work / "before")
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=checkout, env=env, check=True)
    pip = [".venv/bin/python", "-m", "pip", "install", "--quiet", "--no-cache-dir"]
    for step in ([*pip, "--upgrade", "pip"], [*pip, "-e", ".[dev]"]):
        done = subprocess.run(step, cwd=checkout, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(step)} failed: {done.stderr[-800:]}")
    port = free_port()
    command = [".venv/bin/python", "-m", "bot", "sandbox", "--port", str(port)]
    return served_after(command, cwd=checkout, env=env, port=port, started=started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--repo", type=Path, default=ROOT)
    args = parser.parse_args()
    now: list[float] = []
    before: list[float] = []
    for round_number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="nudgebot-first-run-") as folder:
            work = Path(folder)
            now.append(now_path(args.repo, work))
            before.append(before_path(args.repo, work))
        print(
            f"round {round_number}: uv.lock + scripts/run {now[-1]:.1f} s · pip resolving {before[-1]:.1f} s"
        )
    median_now, median_before = statistics.median(now), statistics.median(before)
    print()
    print("| Fresh clone to the sandbox page | median of", args.rounds, "|")
    print("|---|---|")
    print(f"| before: pip resolving pyproject.toml's ranges | {median_before:.1f} s |")
    print(f"| now: scripts/run (uv, uv.lock) | {median_now:.1f} s |")
    print(f"| ratio now / before | **{median_now / median_before:.2f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

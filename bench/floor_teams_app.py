"""The Teams throughput floor: the bare Teams SDK app, writing each `visit …` message's rows, then replying.

It is bench/bare_teams_app.py (the SDK's FastAPI adapter and token check) whose message handler first writes
what a /visit must (the replay key, the client, the visit, its touch, the client's last touch) in one raw-SQL
transaction off the event loop, with bench/floor_app.py's store, then replies in one line through the Bot
Connector. DATABASE_URL names a database the harness has already migrated.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

# The repository root, so the floor's store is imported as the harness imports it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bare_teams_app
from bench.floor_app import Store, parse_visit

# The bot's replay keys are cut to the column's width (handlers/teams/translate.py).
MAX_KEY = 200


def request_key(activity: Any) -> str:
    """The bot's replay key for a Teams activity: its conversation, hashed, and its id."""
    where = hashlib.sha256(str(activity.conversation.id).encode()).hexdigest()[:16]
    return f"teams:{where}:{activity.id}"[:MAX_KEY]


def build_app(*, app_id: str, tenant_id: str, openid_url: str, token: str, store: Store) -> FastAPI:
    """The bare Teams app, whose answer to `visit …` first writes the visit's rows."""

    async def reply(ctx: Any) -> None:
        activity = ctx.activity
        word, _, rest = str(activity.text or "").strip().partition(" ")
        line = parse_visit(rest) if word.lower() == "visit" else None
        if line is None:
            await ctx.send("Try: visit Acme 1h30 replaced fuser")
            return
        # As the bot knows people: by Entra object id, in lower case.
        user = str(activity.from_.aad_object_id or activity.from_.id).lower()
        logged = await store.run(store.log_visit, user, request_key(activity), line)
        await ctx.send(f"Logged {line.minutes} min at {line.client}." if logged else "Already done.")

    return bare_teams_app.build_app(
        app_id=app_id, tenant_id=tenant_id, openid_url=openid_url, token=token, on_message=reply
    )


def main() -> None:
    """Read the port, the Teams settings and DATABASE_URL the benchmark sets, then serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    tenant_id = os.environ["TEAMS_TENANT_ID"]
    web = build_app(
        app_id=os.environ["TEAMS_APP_ID"],
        tenant_id=tenant_id,
        openid_url=os.environ["TEAMS_OPENID_URL"],
        token=os.environ["BARE_TEAMS_TOKEN"],
        store=Store(os.environ["DATABASE_URL"], platform="teams", team=tenant_id.lower()),
    )
    uvicorn.run(web, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, workers=1)


if __name__ == "__main__":
    main()

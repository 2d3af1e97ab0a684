"""Slack's Web API, stood in for on a loopback port: the test suite's fake Slack and the sandbox's Slack.

Every request is recorded whole. Tests add faults, rate limits and storms; the sandbox reads the
record as the workspace's conversations (handlers/slack/sandbox/)."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from handlers.loopback import LoopbackFake, LoopbackServer

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "xoxb-test-token"
TEAM_ID = "T111"
BOT_USER_ID = "UBOT"
BOT_ID = "B111"

# Slack sends these form fields as JSON strings; decoding them lets tests assert on structure.
_JSON_FIELDS = frozenset({"blocks", "view", "metadata", "attachments"})
_VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})
_POLL_INTERVAL = 0.01


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the fake received it, kept whole for assertions."""

    method: str
    path: str
    api_method: str | None
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any]
    token: str | None
    received_at: float
    fault: str | None = None
    # The nudge key a sender tags its message with (metadata.event_payload.key), for counting duplicates.
    key: str | None = None
    # What the stand-in answered (the JSON payload), for the sandbox to learn ts and channel ids.
    answer: dict[str, Any] | None = None

    @property
    def response_name(self) -> str | None:
        """Return the name of a `/respond/<name>` post, or None for other requests."""
        prefix = "/respond/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None

    def describe(self) -> str:
        """Return a one-line summary used in assertion messages."""
        fault = f" fault={self.fault}" if self.fault else ""
        return f"{self.method} {self.path}{fault}"


@dataclass(frozen=True)
class SharedFile:
    """A file uploaded through files.getUploadURLExternal and shared by files.completeUploadExternal."""

    file_id: str
    filename: str
    title: str
    content: bytes
    channel: str | None
    thread_ts: str | None


@dataclass(frozen=True)
class _Fault:
    """A queued failure for one API method."""

    status: int
    error: str | None
    retry_after: int | None

    @property
    def label(self) -> str:
        if self.status == 429:
            return "ratelimited"
        if self.status >= 500:
            return f"http_{self.status}"
        return self.error or f"http_{self.status}"


@dataclass
class _Bucket:
    """A token bucket: `burst` calls at once, refilled at `per_second`; one per workspace and method."""

    per_second: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Spend a token and return 0, or return how many seconds until one is available (spending none)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


@dataclass(frozen=True)
class _Storm:
    """Every call to one method answered 429 between `start` and `end` (on the fake's clock)."""

    start: float
    end: float
    retry_after: int


@dataclass(frozen=True)
class _Answer:
    """The HTTP answer the handler writes back."""

    status: int
    payload: dict[str, Any] | None = None
    text: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # A private file's bytes, and their type.
    raw: bytes | None = None
    content_type: str = "text/plain; charset=utf-8"

    def encode(self) -> tuple[bytes, str]:
        if self.raw is not None:
            return self.raw, self.content_type
        if self.payload is not None:
            return json.dumps(self.payload).encode(), "application/json; charset=utf-8"
        return (self.text or "").encode(), "text/plain; charset=utf-8"


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Decode the fields Slack carries as JSON strings inside form bodies."""
    decoded = dict(params)
    for key in _JSON_FIELDS & decoded.keys():
        value = decoded[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                decoded[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # a malformed field stays a string so the test can see what was actually sent
    return decoded


def _parse_form(raw: str) -> dict[str, Any]:
    """Parse an urlencoded string, keeping single values as strings and repeats as lists."""
    parsed = parse_qs(raw, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Merge query-string and body parameters the way Slack accepts them."""
    params = _parse_form(query) if query else {}
    if body:
        if content_type.startswith("application/json"):
            loaded = json.loads(body)
            if isinstance(loaded, dict):
                params.update(loaded)
            else:
                params["_json"] = loaded
        elif content_type.startswith("application/x-www-form-urlencoded"):
            params.update(_parse_form(body.decode("utf-8")))
    return _decode_json_fields(params)


def _metadata_key(params: dict[str, Any]) -> str | None:
    """The key in `metadata.event_payload.key`, which Nudgebot sets on every nudge it posts."""
    metadata = params.get("metadata")
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    key = payload.get("key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None


def _token_of(headers: dict[str, str], params: dict[str, Any]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[len("bearer ") :].strip()
    token = params.get("token")
    return token if isinstance(token, str) else None


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, hands it to the fake, and writes the fake's answer."""

    server: LoopbackServer
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections give up eventually so a forgotten client cannot pin a thread forever.
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output should show assertions, not access logs."""

    def do_GET(self) -> None:
        """Serve a GET (slack_sdk's async client uses GET for a few methods such as users.info)."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST, which is how Slack clients call almost every method."""
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.fake._handle(self.command, self.path, headers, body)
        payload, content_type = answer.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class SlackStandIn(LoopbackFake):
    """A fake Slack Web API and response_url endpoint on 127.0.0.1, for tests and benchmarks."""

    handler = _Handler

    def __init__(
        self, *, valid_tokens: set[str] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.valid_tokens: set[str] = set(valid_tokens) if valid_tokens is not None else {DEFAULT_TOKEN}
        self.users: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._forever_faults: dict[str, _Fault] = {}
        self._delays: dict[str, float] = {}
        # Rate limits: the budget per method, and one bucket per (method, workspace) drawn from it.
        self._limits: dict[str, tuple[float, float]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._storms: dict[str, _Storm] = {}
        self._ts_counter = 0
        self._view_counter = 0
        # Files: what getUploadURLExternal promised, what was posted to each upload URL, what was shared.
        self._file_counter = 0
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._shared_files: list[SharedFile] = []
        # Files people shared with the bot (in a DM), served at their url_private_download to the bot's token.
        self._private_files: dict[str, tuple[bytes, str]] = {}
        # Stamps requests and drives rate limits and storms; tests may pass a clock they move by hand.
        self.clock = clock
        self._observers: list[Callable[[RecordedRequest], None]] = []
        self._init_serving()

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return the Web API base URL that slack_sdk clients take as `base_url`."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        """Return a response_url that records posts under `name`."""
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # -- test setup ------------------------------------------------------------------------------------

    def host_file(self, name: str, content: bytes, *, mimetype: str = "text/csv") -> dict[str, Any]:
        """A file someone shares with the bot, as Slack describes it in a `file_share` message event."""
        with self._lock:
            self._file_counter += 1
            file_id = f"FP{self._file_counter:06d}"
            self._private_files[file_id] = (content, mimetype)
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "text",
            "size": len(content),
            "url_private": f"http://127.0.0.1:{self.port}/files-pri/{file_id}/{name}",
            "url_private_download": f"http://127.0.0.1:{self.port}/files-pri/{file_id}/download/{name}",
        }

    def add_user(
        self,
        user_id: str,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        name: str | None = None,
        email: str | None = None,
        team_id: str = TEAM_ID,
    ) -> dict[str, Any]:
        """Add a user that users.info will return, with tz_offset computed for the current instant."""
        zone = ZoneInfo(tz)
        now = datetime.now(zone)
        offset = now.utcoffset()
        handle = name or display_name or user_id.lower()
        real = real_name or handle
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": handle,
            "real_name": real,
            "tz": tz,
            "tz_label": now.tzname() or tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": False,
            "deleted": False,
            "profile": {
                "display_name": display_name or "",
                "real_name": real,
                "email": email or f"{handle}@example.com",
            },
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def fail(
        self,
        api_method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Queue failures for `api_method`: 429 rate limits, 5xx errors, or `ok: false` with `error`."""
        if status == 200 and error is None:
            raise ValueError("a status-200 fault needs an error code, e.g. error='channel_not_found'")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = _Fault(status=status, error=error, retry_after=retry_after)
        with self._lock:
            if times is None:
                self._forever_faults[api_method] = fault
            else:
                self._faults.setdefault(api_method, deque()).extend([fault] * times)

    def delay(self, api_method: str, seconds: float) -> None:
        """Make `api_method` answer only after `seconds` (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[api_method] = seconds
            else:
                self._delays.pop(api_method, None)

    def limit(self, api_method: str, *, per_second: float, burst: int = 1) -> None:
        """Enforce a rate limit on `api_method` per workspace, as Slack does: a token bucket of `burst`
        calls refilled at `per_second`; a call finding it empty gets 429 with Retry-After (whole seconds).

        A workspace is told apart by its bot token (each install of the app has its own). A refused call
        spends no token. `per_second=0` removes the limit.
        """
        if burst < 1 or per_second < 0:
            raise ValueError("a limit needs burst >= 1 and per_second >= 0")
        with self._lock:
            for bucket_key in [k for k in self._buckets if k[0] == api_method]:
                del self._buckets[bucket_key]
            if per_second == 0:
                self._limits.pop(api_method, None)
            else:
                self._limits[api_method] = (per_second, float(burst))

    def storm(self, api_method: str, *, seconds: float, retry_after: int = 1) -> None:
        """Answer every call to `api_method` with 429 and Retry-After `retry_after` for `seconds` from now."""
        if seconds <= 0 or retry_after < 1:
            raise ValueError("a storm needs seconds > 0 and retry_after >= 1")
        start = self.clock()
        with self._lock:
            self._storms[api_method] = _Storm(start=start, end=start + seconds, retry_after=retry_after)

    def storm_window(self, api_method: str) -> tuple[float, float] | None:
        """Return the (start, end) of the last storm on `api_method`, on the clock of `received_at`."""
        with self._lock:
            storm = self._storms.get(api_method)
        return None if storm is None else (storm.start, storm.end)

    def clear_faults(self) -> None:
        """Drop every queued or permanent fault, delay, rate limit and storm."""
        with self._lock:
            self._faults.clear()
            self._forever_faults.clear()
            self._delays.clear()
            self._limits.clear()
            self._buckets.clear()
            self._storms.clear()

    def observe(self, observer: Callable[[RecordedRequest], None]) -> None:
        """Call `observer` with each request once it is recorded and answered (from the handler thread)."""
        with self._lock:
            self._observers.append(observer)

    def clear(self) -> None:
        """Forget the recorded requests (users, tokens and faults stay)."""
        with self._lock:
            self._requests.clear()

    # -- queries ---------------------------------------------------------------------------------------

    def requests(self) -> list[RecordedRequest]:
        """Return every recorded request in arrival order."""
        with self._lock:
            return list(self._requests)

    def calls(self, api_method: str | None = None) -> list[RecordedRequest]:
        """Return the Web API calls, optionally only those to `api_method`, in arrival order."""
        with self._lock:
            return [
                r
                for r in self._requests
                if r.api_method is not None and (api_method is None or r.api_method == api_method)
            ]

    def keys(self, api_method: str = "chat.postMessage") -> list[str]:
        """Return the metadata keys of the calls to `api_method` that were accepted, in arrival order."""
        return [r.key for r in self.calls(api_method) if r.fault is None and r.key is not None]

    def duplicates(self, api_method: str = "chat.postMessage") -> dict[str, int]:
        """Return each key accepted more than once, with how many times it was accepted."""
        return {key: count for key, count in Counter(self.keys(api_method)).items() if count > 1}

    def shared_files(self) -> list[SharedFile]:
        """Return the files shared so far (uploaded and completed), in order."""
        with self._lock:
            return list(self._shared_files)

    def wait_for_files(self, count: int = 1, timeout: float = 5.0) -> list[SharedFile]:
        """Wait until `count` files were shared."""
        deadline = time.monotonic() + timeout
        while len(found := self.shared_files()) < count and time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)
        if len(found) < count:
            raise AssertionError(f"expected {count} shared file(s) within {timeout}s, got {len(found)}")
        return found

    def responses(self, name: str | None = None) -> list[RecordedRequest]:
        """Return the posts to response URLs, optionally only those for `name`, in arrival order."""
        with self._lock:
            return [
                r
                for r in self._requests
                if r.response_name is not None and (name is None or r.response_name == name)
            ]

    def wait_for(self, api_method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until `count` calls to `api_method` arrived, because listeners run after ack()."""
        return self._wait(lambda: self.calls(api_method), count, timeout, f"{api_method} call(s)")

    def wait_for_responses(
        self, name: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until `count` posts to the response URL `name` (any name if None) arrived."""
        what = f"response(s) to /respond/{name}" if name is not None else "response_url post(s)"
        return self._wait(lambda: self.responses(name), count, timeout, what)

    def _wait(
        self, select: Callable[[], list[RecordedRequest]], count: int, timeout: float, what: str
    ) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        while True:
            found = select()
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL_INTERVAL)
        received = [r.describe() for r in self.requests()]
        listing = "\n  ".join(received) if received else "(nothing)"
        raise AssertionError(
            f"expected {count} {what} within {timeout}s, got {len(found)}; "
            f"received {len(received)} request(s):\n  {listing}"
        )

    # -- serving ---------------------------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """Record one request and decide its answer; called from a handler thread."""
        received_at = self.clock()
        split = urlsplit(raw_path)
        path = split.path
        api_method = path[len("/api/") :] if path.startswith("/api/") else None
        if path.startswith("/upload/"):
            # An upload URL takes the file's bytes as they are, whatever the content type says.
            params: dict[str, Any] = {"_raw": body}
        else:
            try:
                params = _parse_params(split.query, headers.get("content-type", ""), body)
            except (ValueError, UnicodeDecodeError):
                params = {}
        token = _token_of(headers, params)

        fault: _Fault | None = None
        with self._lock:
            if api_method is not None:
                fault = self._pick_fault(api_method, token, received_at)
            delay = self._delays.get(api_method or "", 0.0)
            answer, label = self._answer(api_method, path, params, token, fault)
            recorded = RecordedRequest(
                method=method,
                path=path,
                api_method=api_method,
                headers=headers,
                body=body,
                params=params,
                token=token,
                received_at=received_at,
                fault=label,
                key=_metadata_key(params),
                answer=answer.payload,
            )
            self._requests.append(recorded)
            observers = list(self._observers)
        for observe in observers:
            # Outside the lock: an observer (the sandbox) may read the stand-in again.
            observe(recorded)
        if delay:
            self._stopping.wait(delay)
        return answer

    def _pick_fault(self, api_method: str, token: str | None, now: float) -> _Fault | None:
        """Return the failure this call gets, if any: a storm, then queued faults, then the rate limit."""
        storm = self._storms.get(api_method)
        if storm is not None and storm.start <= now < storm.end:
            return _Fault(status=429, error=None, retry_after=storm.retry_after)
        queued = self._faults.get(api_method)
        if queued:
            return queued.popleft()
        fault = self._forever_faults.get(api_method)
        if fault is not None:
            return fault
        budget = self._limits.get(api_method)
        if budget is None:
            return None
        workspace = token or ""
        bucket = self._buckets.get((api_method, workspace))
        if bucket is None:
            per_second, burst = budget
            bucket = self._buckets[(api_method, workspace)] = _Bucket(per_second, burst, burst, now)
        wait = bucket.take(now)
        if wait == 0:
            return None
        # Slack's Retry-After is a whole number of seconds.
        return _Fault(status=429, error=None, retry_after=max(1, math.ceil(wait)))

    def _answer(
        self,
        api_method: str | None,
        path: str,
        params: dict[str, Any],
        token: str | None,
        fault: _Fault | None,
    ) -> tuple[_Answer, str | None]:
        """Return the answer and its fault label; the caller holds the lock."""
        if path.startswith("/respond/"):
            return _Answer(200, {"ok": True}), None
        if path.startswith("/upload/"):
            return self._receive_upload(path[len("/upload/") :], params), None
        if path.startswith("/files-pri/"):
            return self._private_file(path, token), None
        if api_method is None:
            return _Answer(404, {"ok": False, "error": "unknown_path"}), "unknown_path"
        if fault is not None:
            if fault.status == 429:
                retry = (("Retry-After", str(fault.retry_after)),)
                return _Answer(429, {"ok": False, "error": "ratelimited"}, headers=retry), fault.label
            if fault.status >= 500:
                return _Answer(fault.status, text="upstream connect error"), fault.label
            return _Answer(fault.status, {"ok": False, "error": fault.error}), fault.label
        # Slack reports a bad token as HTTP 200 with ok=false, not as a 401.
        if token is None or token not in self.valid_tokens:
            return _Answer(200, {"ok": False, "error": "invalid_auth"}), "invalid_auth"
        return _Answer(200, self._canned(api_method, params)), None

    def _private_file(self, path: str, token: str | None) -> _Answer:
        """A shared file's bytes for the bot's token; like Slack, anything else gets the sign-in page."""
        file_id = path.split("/")[2]
        found = self._private_files.get(file_id)
        if found is None:
            return _Answer(404, text="file not found")
        if token is None or token not in self.valid_tokens:
            return _Answer(200, raw=b"<!DOCTYPE html><title>Slack</title>", content_type="text/html")
        content, mimetype = found
        return _Answer(200, raw=content, content_type=mimetype)

    def _canned(self, api_method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Return a plausible successful payload for `api_method`; the caller holds the lock."""
        if api_method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test Team",
                "user": "nudgebot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if api_method == "users.info":
            user = self.users.get(str(params.get("user", "")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": json.loads(json.dumps(user))}
        if api_method == "chat.postMessage":
            channel = self._channel_id(params)
            ts = self._next_ts()
            return {"ok": True, "channel": channel, "ts": ts, "message": self._message(params, ts)}
        if api_method == "chat.update":
            ts = str(params.get("ts", ""))
            return {
                "ok": True,
                "channel": self._channel_id(params),
                "ts": ts,
                "text": params.get("text", ""),
                "message": self._message(params, ts),
            }
        if api_method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if api_method in _VIEW_METHODS:
            return {"ok": True, "view": self._view(params)}
        if api_method == "files.getUploadURLExternal":
            return self._upload_url(params)
        if api_method == "files.completeUploadExternal":
            return self._complete_upload(params)
        if api_method == "conversations.open":
            users = str(params.get("users", "")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + users}}
        return {"ok": True}

    def _upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), str(params.get("length", ""))
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        self._file_counter += 1
        file_id = f"F{self._file_counter:09d}"
        self._pending_files[file_id] = {"filename": str(filename), "length": int(length), "content": None}
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
        }

    def _receive_upload(self, file_id: str, params: dict[str, Any]) -> _Answer:
        pending = self._pending_files.get(file_id)
        if pending is None:
            return _Answer(404, text="unknown upload")
        pending["content"] = params.get("_raw", b"")
        return _Answer(200, text=f"OK - {len(pending['content'])}")

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except json.JSONDecodeError:
                files = None
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        shared = []
        for entry in files:
            file_id = str(entry.get("id", ""))
            pending = self._pending_files.get(file_id)
            if pending is None or pending["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            if len(pending["content"]) != pending["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            title = str(entry.get("title") or pending["filename"])
            channel = params.get("channel_id")
            thread = params.get("thread_ts")
            self._shared_files.append(
                SharedFile(
                    file_id=file_id,
                    filename=pending["filename"],
                    title=title,
                    content=pending["content"],
                    channel=str(channel) if channel else None,
                    thread_ts=str(thread) if thread else None,
                )
            )
            del self._pending_files[file_id]
            shared.append({"id": file_id, "title": title, "name": pending["filename"]})
        return {"ok": True, "files": shared}

    def _channel_id(self, params: dict[str, Any]) -> str:
        # Posting to a user id lands in the DM, and Slack answers with the DM's channel id.
        channel = str(params.get("channel", ""))
        return "D" + channel if channel.startswith(("U", "W")) else channel

    def _next_ts(self) -> str:
        self._ts_counter += 100
        seconds, micros = divmod(self._ts_counter, 1_000_000)
        return f"{1_700_000_000 + seconds}.{micros:06d}"

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "text": params.get("text", ""),
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        return message

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        submitted = params.get("view")
        view: dict[str, Any] = dict(submitted) if isinstance(submitted, dict) else {}
        view_id = params.get("view_id")
        if not isinstance(view_id, str) or not view_id:
            self._view_counter += 1
            view_id = f"V{self._view_counter:09d}"
        view.update(
            {
                "id": view_id,
                "team_id": TEAM_ID,
                "hash": f"1700000000.{self._view_counter:08d}",
                "app_id": "A111",
                "bot_id": BOT_ID,
            }
        )
        view.setdefault("state", {"values": {}})
        return view

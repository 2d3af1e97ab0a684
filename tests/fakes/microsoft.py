"""Fake Microsoft services on one loopback port: Bot Framework keys, Entra tokens and the Bot Connector."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from handlers.loopback import LoopbackFake, LoopbackServer

logger = logging.getLogger(__name__)

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
BOTFRAMEWORK_SCOPE = "https://api.botframework.com/.default"
TEAMS_CHANNEL = "msteams"
# Like Teams' regional service URLs (https://smba.trafficmanager.net/amer/), the connector has a prefix.
SERVICE_PREFIX = "/amer/"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
# Entra's access tokens are good for just under an hour; Bot Framework's own tokens for an hour.
TOKEN_LIFETIME = 3599
BOT_TOKEN_LIFETIME = 3600

# What fail_next() and delay() accept; a reply counts as a "send" (Teams limits both the same way).
KINDS = frozenset({"metadata", "keys", "token", "create", "send", "update"})
# Teams' per-bot, per-conversation limits: at most 7 operations in any 1 s and 8 in any 2 s.
TEAMS_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 7), (2.0, 8))
_LIMITED_KINDS = frozenset({"send", "reply", "update"})
_CONNECTOR_KINDS = frozenset({"create", "send", "reply", "update"})
_MAX_BODY = 10 * 1024 * 1024
_POLL_INTERVAL = 0.01


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_segment(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SigningKey:
    """An RSA key the fake signs Bot Framework tokens with, and the channels it is endorsed for."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    endorsements: tuple[str, ...] = (TEAMS_CHANNEL,)

    @classmethod
    def generate(cls, *, endorsements: Sequence[str] = (TEAMS_CHANNEL,)) -> SigningKey:
        """Make a fresh 2048-bit key with a random key id, like the ones Microsoft publishes."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid=secrets.token_urlsafe(16), private_key=private_key, endorsements=tuple(endorsements))

    def public_pem(self) -> bytes:
        """Return the public key as PEM, which is also the secret of an HS256 algorithm-confusion forgery."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> dict[str, Any]:
        """Return the public key as a JWK in the shape login.botframework.com publishes."""
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": public["n"],
            "e": public["e"],
            "endorsements": list(self.endorsements),
        }

    def signature(self, algorithm: str, signing_input: bytes) -> bytes:
        """Sign `signing_input` the way `algorithm` says, including the ways a verifier must refuse."""
        if algorithm == "none":
            return b""
        if algorithm == "HS256":
            return hmac.new(self.public_pem(), signing_input, hashlib.sha256).digest()
        digests: dict[str, hashes.HashAlgorithm] = {
            "RS256": hashes.SHA256(),
            "RS384": hashes.SHA384(),
            "RS512": hashes.SHA512(),
        }
        if algorithm not in digests:
            raise ValueError(f"the fake cannot sign with {algorithm!r}")
        return self.private_key.sign(signing_input, padding.PKCS1v15(), digests[algorithm])


@dataclass(frozen=True)
class RecordedCall:
    """One HTTP request as the fake received it, with how it was answered, kept whole for assertions."""

    method: str
    # The path as sent (still percent-encoded), without the query string.
    path: str
    query: dict[str, str]
    # "metadata", "keys", "token", "create", "send", "reply", "update", or None for an unknown route.
    kind: str | None
    # The connector's path prefix, e.g. "/amer/"; None for calls that are not to the connector.
    prefix: str | None
    conversation_id: str | None
    activity_id: str | None
    headers: dict[str, str]
    body: bytes
    json_body: Any
    form: dict[str, str]
    token: str | None
    received_at: float
    status: int
    response: Any

    @property
    def ok(self) -> bool:
        """Return whether the fake answered with a 2xx status."""
        return 200 <= self.status < 300

    def describe(self) -> str:
        """Return a one-line summary used in assertion messages."""
        return f"{self.method} {self.path} -> {self.status}"


@dataclass(frozen=True)
class _Fault:
    """A queued failure for one kind of call."""

    status: int
    retry_after: int | None
    body: Any


@dataclass(frozen=True)
class _Answer:
    """The HTTP answer the handler writes back."""

    status: int
    payload: Any
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Route:
    """Where a request goes: its kind and, for the connector, the prefix and the decoded ids."""

    kind: str | None
    prefix: str | None = None
    conversation_id: str | None = None
    activity_id: str | None = None


def _route(method: str, path: str) -> _Route:
    """Work out which service and call a request is for; unknown routes have kind None."""
    if path == METADATA_PATH:
        return _Route("metadata" if method == "GET" else None)
    if path == KEYS_PATH:
        return _Route("keys" if method == "GET" else None)
    if path.endswith("/oauth2/v2.0/token") and path.count("/") == 4:
        return _Route("token" if method == "POST" else None)
    marker = "/v3/conversations"
    at = path.find(marker)
    if at < 0:
        return _Route(None)
    prefix, rest = path[: at + 1], path[at + len(marker) :]
    if rest in ("", "/"):
        return _Route("create" if method == "POST" else None, prefix)
    # Split before decoding, so an encoded character inside an id cannot become a path separator.
    parts = [unquote(part, errors="replace") for part in rest[1:].split("/")]
    if len(parts) == 2 and parts[1] == "activities" and parts[0] and method == "POST":
        return _Route("send", prefix, parts[0])
    if len(parts) == 3 and parts[1] == "activities" and parts[0] and parts[2]:
        kind = {"POST": "reply", "PUT": "update"}.get(method)
        return _Route(kind, prefix, parts[0], parts[2])
    return _Route(None, prefix)


def _connector_error(status: int) -> dict[str, Any]:
    """The body the Bot Connector sends with an error status, in Teams' documented shapes."""
    if status == 429:
        return {"error": {"code": "TooManyRequests", "message": "Too many requests. Retry after a while."}}
    if status == 403:
        return {
            "error": {"code": "Forbidden", "message": "The bot is not part of the conversation roster."},
            "subCode": "MessageWritesBlocked",
        }
    if status == 404:
        return {"error": {"code": "ConversationNotFound", "message": "Conversation not found."}}
    if status == 400:
        return {"error": {"code": "BadArgument", "message": "The request is invalid."}}
    if status == 401:
        return {
            "error": {"code": "Unauthorized", "message": "Authorization has been denied for this request."}
        }
    if status >= 500:
        return {"error": {"code": "ServiceError"}}
    return {"error": {"code": _error_code(status), "message": "Request failed."}}


def _entra_error(status: int) -> dict[str, Any]:
    """The body Entra's token endpoint sends with an error status."""
    if status in (400, 401):
        return {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
        }
    return {"error": "temporarily_unavailable", "error_description": "AADSTS50196: The server is busy."}


def _default_fault_body(kind: str, status: int) -> dict[str, Any]:
    if kind == "token":
        return _entra_error(status)
    if kind in ("metadata", "keys") and status != 429:
        return {"error": {"code": "ServiceError" if status >= 500 else _error_code(status)}}
    return _connector_error(status)


def _error_code(status: int) -> str:
    """Return an error code made of the status's reason phrase, e.g. 409 -> "Conflict"."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "")
    except ValueError:
        return "Error"  # a status with no standard phrase, such as 499


def _parse_json(body: bytes) -> Any:
    """Return the decoded JSON body, or None when there is none or it is not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _parse_form(body: bytes) -> dict[str, str]:
    """Return a urlencoded body's fields (the first value of each), or {} when it is not one."""
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError):
        return {}
    return {name: values[0] for name, values in parsed.items()}


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, hands it to the fake, and writes the fake's answer as JSON."""

    server: LoopbackServer
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections give up eventually so a forgotten client cannot pin a thread forever.
    timeout = 30
    # Headers and body go out as two writes; without TCP_NODELAY each answer waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output should show assertions, not access logs."""

    def do_GET(self) -> None:
        """Serve a GET (OpenID metadata and keys)."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST (tokens, conversations, sends and replies)."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT (activity updates)."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE (no route takes one: it is answered 404)."""
        self._serve()

    def do_PATCH(self) -> None:
        """Serve a PATCH (no route takes one: it is answered 404)."""
        self._serve()

    def _read_body(self) -> bytes | None:
        """Return the body, or None when its framing is broken (the connection is then closed)."""
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline(64).split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline(64)
                        return b"".join(chunks)
                    if size > _MAX_BODY:
                        return None
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline(64)
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > _MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._write(
                _Answer(400, {"error": {"code": "BadRequest", "message": "Unreadable request body."}})
            )
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            answer = self.server.fake._handle(self.command, self.path, headers, body)
        except Exception:
            # Never let one bad request take the fake down; the stack trace shows the fake's bug.
            logger.exception("fake Microsoft could not answer %s %s", self.command, self.path)
            answer = _Answer(500, {"error": {"code": "ServiceError", "message": "The fake failed."}})
        self._write(answer)

    def _write(self, answer: _Answer) -> None:
        payload = json.dumps(answer.payload).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeMicrosoft(LoopbackFake):
    """Bot Framework keys, Entra's token endpoint and the Bot Connector on one loopback port, for tests."""

    handler = _Handler
    poll_interval = 0.01

    def __init__(
        self,
        *,
        app_id: str,
        tenant_id: str,
        client_secret: str,
        host: str = "127.0.0.1",
        require_token: bool = True,
        enforce_limits: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.client_secret = client_secret
        self.host = host
        # Connector calls must carry a token from the fake's own token endpoint unless this is off.
        self.require_token = require_token
        self.enforce_limits = enforce_limits
        # Stamps requests and drives the rate model; a test may pass a clock it moves by hand.
        self.clock = clock
        self._lock = threading.Lock()
        self._current = SigningKey.generate()
        self._published: list[SigningKey] = [self._current]
        self._raw_entries: list[Any] = []
        self._foreign: SigningKey | None = None
        self._token_secret = secrets.token_bytes(32)
        self._issued: list[str] = []
        self._calls: list[RecordedCall] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._one_to_one: dict[tuple[str, str], str] = {}
        self._accepted_at: dict[str, deque[float]] = {}
        self._throttled = 0
        self._conversation_counter = 0
        self._activity_counter = 0
        self._init_serving()

    @property
    def base_url(self) -> str:
        """Return the root URL, e.g. http://127.0.0.1:PORT (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def openid_url(self) -> str:
        """Return the Bot Framework OpenID metadata URL (login.botframework.com's, in production)."""
        return self.base_url + METADATA_PATH

    @property
    def keys_url(self) -> str:
        """Return the URL of the published signing keys (the metadata's jwks_uri)."""
        return self.base_url + KEYS_PATH

    @property
    def login_endpoint(self) -> str:
        """Return the stand-in for https://login.microsoftonline.com (the tenant id follows it)."""
        return self.base_url

    @property
    def token_url(self) -> str:
        """Return the Entra token endpoint for the fake's tenant."""
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def service_url(self) -> str:
        """Return the Bot Connector service URL an activity carries, with the trailing slash Teams sends."""
        return self.base_url + SERVICE_PREFIX

    # -- signing keys and tokens -----------------------------------------------------------------------

    @property
    def current_key(self) -> SigningKey:
        """Return the key tokens are signed with by default."""
        with self._lock:
            return self._current

    @property
    def published_keys(self) -> list[SigningKey]:
        """Return the keys the keys document lists, in order."""
        with self._lock:
            return list(self._published)

    def rotate_keys(self) -> SigningKey:
        """Make a new key current and publish only it, so the old key ids become unknown."""
        key = SigningKey.generate()
        with self._lock:
            self._current = key
            self._published = [key]
            self._raw_entries = []
        return key

    def publish_key(self, *, endorsements: Sequence[str] = ()) -> SigningKey:
        """Publish one more key (not made current) endorsed only for `endorsements`, and return it."""
        key = SigningKey.generate(endorsements=endorsements)
        with self._lock:
            self._published.append(key)
        return key

    def publish_jwk(self, entry: Any) -> None:
        """Publish `entry` as it is after the real keys (until the next rotation), e.g. a malformed JWK."""
        with self._lock:
            self._raw_entries.append(entry)

    def foreign_key(self) -> SigningKey:
        """Return a key this fake never publishes (the same one on each call), for forged tokens."""
        with self._lock:
            if self._foreign is None:
                self._foreign = SigningKey.generate()
            return self._foreign

    def sign(
        self,
        service_url: str,
        *,
        claims: Mapping[str, Any] | None = None,
        expired: bool = False,
        forged: bool = False,
        key: SigningKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        headers: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> str:
        """Mint a Bot Framework token as Teams sends it to a bot; the options make the bad ones tests need.

        `claims` overrides claims (None removes one); `expired` dates the token so it ran out ten minutes
        before `now`; `forged` signs with a key the fake never published while keeping the current key id;
        `key` signs with a given key (its own kid, unless `kid` says otherwise); `algorithm` may be "none"
        or "HS256" (HMAC keyed with the public key PEM); `headers` overrides header fields (None removes).
        """
        issued = int(time.time() if now is None else now)
        if expired:
            issued -= BOT_TOKEN_LIFETIME + 600
        payload: dict[str, Any] = {
            "serviceurl": service_url,
            "iss": BOTFRAMEWORK_ISSUER,
            "aud": self.app_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + BOT_TOKEN_LIFETIME,
        }
        current = self.current_key
        signer = key or (self.foreign_key() if forged else current)
        header: dict[str, Any] = {
            "alg": algorithm,
            "typ": "JWT",
            "kid": kid or (current.kid if forged else signer.kid),
        }
        _apply(payload, claims)
        _apply(header, headers)
        signing_input = f"{_json_segment(header)}.{_json_segment(payload)}"
        return f"{signing_input}.{_b64url(signer.signature(algorithm, signing_input.encode('ascii')))}"

    def authorization(self, service_url: str, **options: Any) -> str:
        """Return an `Authorization` header value carrying `sign(service_url, **options)`."""
        return f"Bearer {self.sign(service_url, **options)}"

    @property
    def issued_tokens(self) -> list[str]:
        """Return the access tokens the token endpoint handed out, in order."""
        with self._lock:
            return list(self._issued)

    # -- faults and limits -----------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        status: int,
        *,
        retry_after: int | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `kind` with `status`, a realistic body, and Retry-After on 429."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
        if times < 1 or not 400 <= status <= 599:
            raise ValueError("a fault needs times >= 1 and an error status (4xx or 5xx)")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = _Fault(status=status, retry_after=retry_after, body=body)
        with self._lock:
            self._faults.setdefault(kind, deque()).extend([fault] * times)

    def delay(self, kind: str, seconds: float) -> None:
        """Make calls of `kind` answer only after `seconds` (0 removes the delay)."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
        with self._lock:
            if seconds > 0:
                self._delays[kind] = seconds
            else:
                self._delays.pop(kind, None)

    def clear_faults(self) -> None:
        """Drop every queued fault and delay."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    @property
    def throttled(self) -> int:
        """Return how many calls the rate model (not a queued fault) answered with 429."""
        with self._lock:
            return self._throttled

    # -- queries ---------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Return every recorded request in arrival order."""
        with self._lock:
            return list(self._calls)

    def of_kind(self, *kinds: str) -> list[RecordedCall]:
        """Return the recorded requests of the given kinds (accepted or not), in arrival order."""
        return [call for call in self.calls if call.kind in kinds]

    def sent(self, conversation: str | None = None) -> list[RecordedCall]:
        """Return the accepted activity posts (sends and replies), optionally to one conversation id."""
        return [
            call
            for call in self.of_kind("send", "reply")
            if call.ok and (conversation is None or call.conversation_id == conversation)
        ]

    def updates(self) -> list[RecordedCall]:
        """Return the accepted activity updates, in order."""
        return [call for call in self.of_kind("update") if call.ok]

    def created(self) -> list[RecordedCall]:
        """Return the accepted conversation creations, in order."""
        return [call for call in self.of_kind("create") if call.ok]

    @property
    def metadata_fetches(self) -> int:
        """Return how many times the OpenID metadata was requested (faulted requests included)."""
        return len(self.of_kind("metadata"))

    @property
    def key_fetches(self) -> int:
        """Return how many times the keys document was requested (faulted requests included)."""
        return len(self.of_kind("keys"))

    @property
    def token_requests(self) -> int:
        """Return how many times the token endpoint was called (refused requests included)."""
        return len(self.of_kind("token"))

    def wait_for(self, predicate: Callable[[RecordedCall], bool], timeout: float = 5.0) -> RecordedCall:
        """Return the first recorded request matching `predicate`, waiting for it because bots reply late."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls:
                if predicate(call):
                    return call
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL_INTERVAL)
        received = "\n  ".join(call.describe() for call in self.calls) or "(nothing)"
        raise AssertionError(f"no matching request within {timeout}s; received:\n  {received}")

    def clear(self) -> None:
        """Forget the recorded requests (keys, tokens, conversations and faults stay)."""
        with self._lock:
            self._calls.clear()

    # -- serving ---------------------------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """Record one request and decide its answer; called from a handler thread."""
        received_at = self.clock()
        split = urlsplit(raw_path)
        route = _route(method, split.path)
        json_body = _parse_json(body)
        form = _parse_form(body) if route.kind == "token" else {}
        token = _bearer(headers)
        with self._lock:
            answer = self._answer(route, split.path, json_body, form, token, received_at)
            fault_kind = "send" if route.kind == "reply" else route.kind
            delay = self._delays.get(fault_kind or "", 0.0)
            self._calls.append(
                RecordedCall(
                    method=method,
                    path=split.path,
                    query={name: values[0] for name, values in parse_qs(split.query).items()},
                    kind=route.kind,
                    prefix=route.prefix,
                    conversation_id=route.conversation_id,
                    activity_id=route.activity_id,
                    headers=headers,
                    body=body,
                    json_body=json_body,
                    form=form,
                    token=token,
                    received_at=received_at,
                    status=answer.status,
                    response=answer.payload,
                )
            )
        if delay:
            self._stopping.wait(delay)
        return answer

    def _answer(
        self,
        route: _Route,
        path: str,
        json_body: Any,
        form: dict[str, str],
        token: str | None,
        now: float,
    ) -> _Answer:
        """Return the answer for one routed request; the caller holds the lock."""
        if route.kind is None:
            return _Answer(404, {"error": {"code": "NotFound", "message": f"No route for {path}."}})
        if route.kind in _CONNECTOR_KINDS and self.require_token and token not in self._issued:
            return _Answer(401, _connector_error(401))
        fault = self._next_fault("send" if route.kind == "reply" else route.kind)
        if fault is not None:
            return fault
        if route.kind == "metadata":
            return _Answer(200, self._metadata())
        if route.kind == "keys":
            return _Answer(200, {"keys": [key.jwk() for key in self._published] + self._raw_entries})
        if route.kind == "token":
            return self._token(path, form)
        if route.kind == "create":
            return self._create(json_body)
        return self._activity(route, json_body, now)

    def _next_fault(self, kind: str) -> _Answer | None:
        queued = self._faults.get(kind)
        if not queued:
            return None
        fault = queued.popleft()
        body = fault.body if fault.body is not None else _default_fault_body(kind, fault.status)
        headers = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
        return _Answer(fault.status, body, headers)

    def _metadata(self) -> dict[str, Any]:
        return {
            "issuer": BOTFRAMEWORK_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": self.keys_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def _token(self, path: str, form: dict[str, str]) -> _Answer:
        """Play Entra's client-credentials grant for the one app and tenant the fake knows."""
        tenant = path.split("/")[1]
        if tenant != self.tenant_id:
            return _Answer(400, _oauth_error("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found."))
        if form.get("grant_type") != "client_credentials":
            return _Answer(
                400, _oauth_error("unsupported_grant_type", "AADSTS70003: Unsupported grant type.")
            )
        if form.get("client_id") != self.app_id:
            message = f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found."
            return _Answer(400, _oauth_error("unauthorized_client", message))
        if not hmac.compare_digest(form.get("client_secret", "").encode(), self.client_secret.encode()):
            return _Answer(
                401, _oauth_error("invalid_client", "AADSTS7000215: Invalid client secret provided.")
            )
        if form.get("scope") != BOTFRAMEWORK_SCOPE:
            return _Answer(
                400, _oauth_error("invalid_scope", "AADSTS70011: The provided scope is not valid.")
            )
        access_token = self._issue_token()
        return _Answer(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": access_token,
            },
        )

    def _issue_token(self) -> str:
        now = int(time.time())
        claims = {
            "aud": BOTFRAMEWORK_ISSUER,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "appid": self.app_id,
            "tid": self.tenant_id,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            # Unique, so each grant gives a different token, as Entra's do.
            "jti": secrets.token_urlsafe(12),
        }
        access_token = jwt.encode(claims, self._token_secret, algorithm="HS256")
        self._issued.append(access_token)
        return access_token

    def _create(self, body: Any) -> _Answer:
        """Create a conversation; a 1:1 with the same member in the same tenant gets the same id back."""
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list) or not members:
            return _Answer(400, _bad_argument("The conversation needs at least one member."))
        member_ids = [m.get("id") if isinstance(m, dict) else None for m in members]
        if not all(isinstance(member_id, str) and member_id for member_id in member_ids):
            return _Answer(400, _bad_argument("Every member needs an id."))
        tenant = _tenant_of(body)
        if tenant is None:
            return _Answer(400, _bad_argument("A tenant id is required to create a conversation."))
        one_to_one = len(member_ids) == 1 and not body.get("isGroup")
        pair = (tenant, str(member_ids[0]))
        if one_to_one and pair in self._one_to_one:
            conversation_id = self._one_to_one[pair]
        else:
            self._conversation_counter += 1
            conversation_id = f"a:1{self._conversation_counter:06d}{secrets.token_urlsafe(18)}"
            if one_to_one:
                self._one_to_one[pair] = conversation_id
        answer: dict[str, Any] = {"id": conversation_id}
        if isinstance(body.get("activity"), dict):
            answer["activityId"] = self._next_activity_id()
        return _Answer(201, answer)

    def _activity(self, route: _Route, body: Any, now: float) -> _Answer:
        """Send, reply to or update an activity, within Teams' rate limits when they are enforced."""
        if not isinstance(body, dict):
            return _Answer(400, _bad_argument("The activity must be a JSON object."))
        conversation = str(route.conversation_id)
        if self.enforce_limits:
            wait = self._rate_wait(conversation, now)
            if wait is not None:
                self._throttled += 1
                return _Answer(429, _connector_error(429), (("Retry-After", str(wait)),))
            self._accepted_at.setdefault(conversation, deque()).append(now)
        if route.kind == "update":
            return _Answer(200, {"id": route.activity_id})
        return _Answer(201, {"id": self._next_activity_id()})

    def _rate_wait(self, conversation: str, now: float) -> int | None:
        """Return whole seconds to wait if one more operation now breaks a limit, else None."""
        history = self._accepted_at.get(conversation, deque())
        longest = max(window for window, _ in TEAMS_LIMITS)
        while history and now - history[0] >= longest:
            history.popleft()
        wait = 0.0
        for window, limit in TEAMS_LIMITS:
            recent = [at for at in history if now - at < window]
            if len(recent) >= limit:
                # The oldest operations must leave the window until only limit - 1 remain in it.
                wait = max(wait, recent[len(recent) - limit] + window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def _next_activity_id(self) -> str:
        # Teams' activity ids look like epoch milliseconds.
        self._activity_counter += 1
        return str(1_700_000_000_000 + self._activity_counter)


def _apply(target: dict[str, Any], overrides: Mapping[str, Any] | None) -> None:
    """Merge `overrides` into `target`, where a None value removes the field."""
    for name, value in (overrides or {}).items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


def _oauth_error(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}


def _bad_argument(message: str) -> dict[str, Any]:
    return {"error": {"code": "BadArgument", "message": message}}


def _tenant_of(body: Mapping[str, Any]) -> str | None:
    """Return the tenant a create-conversation body names, in tenantId or channelData.tenant.id."""
    tenant = body.get("tenantId")
    channel_data = body.get("channelData")
    if not tenant and isinstance(channel_data, dict) and isinstance(channel_data.get("tenant"), dict):
        tenant = channel_data["tenant"].get("id")
    return tenant if isinstance(tenant, str) and tenant else None

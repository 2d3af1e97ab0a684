"""The gate in front of the Teams endpoint: checks the Bot Framework token on every request Teams sends."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

logger = logging.getLogger(__name__)

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
# Bot Framework allows five minutes of clock skew between Microsoft and the bot.
CLOCK_SKEW_SECONDS = 300.0
# Microsoft publishes new signing keys well before it uses them, so a day-old key set is still good.
KEYS_TTL_SECONDS = 24 * 3600.0
# A token naming a key we do not know triggers a refetch, but only this often, so forged tokens with
# made-up key ids cannot turn us into a client that hammers Microsoft.
REFETCH_INTERVAL_SECONDS = 300.0
# With no usable key set at all (the last fetch failed) we try again only this often.
RETRY_AFTER_FAILURE_SECONDS = 10.0
# Real Bot Framework tokens are about 1.5 KB; anything far bigger is not one, and is not worth parsing.
MAX_TOKEN_CHARS = 16 * 1024

_ALGORITHM = "RS256"
_CHANNEL_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class Unauthorized(Exception):
    """A request whose token did not pass; `reason` is short, never contains the token, and is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _SigningKey:
    """One published key: the RSA public key and the channels Microsoft endorsed it for (empty: any)."""

    public_key: Any
    endorsements: frozenset[str]


@dataclass(frozen=True)
class _KeySet:
    """The signing keys by key id, and when (on the gate's clock) they were fetched."""

    keys: Mapping[str, _SigningKey]
    fetched_at: float


class _FetchFailed(Exception):
    """The metadata or the key document could not be read; the message names the step, never a token."""


class BotFrameworkAuth:
    """Checks the `Authorization` header of each request the Bot Framework (Teams) sends, returning claims."""

    def __init__(
        self,
        openid_url: str,
        app_id: str,
        *,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._openid_url = openid_url
        self._app_id = app_id
        self._http = http
        self._clock = clock
        self._keys: _KeySet | None = None
        self._attempted_at: float | None = None
        self._last_attempt_failed = False
        # Concurrent requests that need a fetch wait for one shared fetch instead of each starting their own.
        self._lock = asyncio.Lock()

    async def verify(
        self, authorization: str | None, *, service_url: str | None, channel_id: str | None
    ) -> dict[str, Any]:
        """Return the verified claims of the request's token, or raise Unauthorized with a short reason."""
        try:
            return await self._verify(authorization, service_url, channel_id)
        except Unauthorized:
            raise
        except Exception as error:
            # Default deny: whatever odd input got this far, the request is refused, not crashed on.
            logger.warning("Bot Framework token check failed unexpectedly (%s)", type(error).__name__)
            raise Unauthorized("invalid token") from None

    async def _verify(self, authorization: object, service_url: object, channel_id: object) -> dict[str, Any]:
        token = _bearer_token(authorization)
        kid = _key_id(token)
        key = await self._signing_key(kid)
        claims = self._decode(token, key)
        # Bot Framework's rule: a key endorsed for some channels signs only activities from those channels.
        if key.endorsements and not (isinstance(channel_id, str) and channel_id in key.endorsements):
            raise Unauthorized(f"key not endorsed for {_channel_label(channel_id)}")
        _check_times(claims, self._clock())
        _check_service_url(claims, service_url)
        return claims

    def _decode(self, token: str, key: _SigningKey) -> dict[str, Any]:
        """Check the signature, issuer and audience with PyJWT; times are checked on our clock afterwards."""
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[_ALGORITHM],
                audience=self._app_id,
                issuer=BOTFRAMEWORK_ISSUER,
                options={
                    "require": ["exp", "iss", "aud"],
                    "strict_aud": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(_reason_for(error)) from None
        # PyJWT checked both already; checking again costs nothing and does not depend on its version.
        if claims.get("iss") != BOTFRAMEWORK_ISSUER:
            raise Unauthorized("wrong issuer")
        if claims.get("aud") != self._app_id:
            raise Unauthorized("wrong audience")
        return claims

    async def _signing_key(self, kid: str) -> _SigningKey:
        cached = self._fresh_keys(self._clock())
        if cached is not None and kid in cached.keys:
            return cached.keys[kid]
        async with self._lock:
            key_set = await self._key_set_for(kid)
        key = key_set.keys.get(kid)
        if key is None:
            raise Unauthorized("unknown key")
        return key

    def _fresh_keys(self, now: float) -> _KeySet | None:
        keys = self._keys
        # A clock that went backwards makes the age negative; treat that as stale rather than fresh forever.
        if keys is None or not 0 <= now - keys.fetched_at < KEYS_TTL_SECONDS:
            return None
        return keys

    def _attempted_within(self, seconds: float, now: float) -> bool:
        return self._attempted_at is not None and 0 <= now - self._attempted_at < seconds

    async def _key_set_for(self, kid: str) -> _KeySet:
        """Return the key set to look `kid` up in, fetching when the rules allow; caller holds the lock."""
        now = self._clock()
        fresh = self._fresh_keys(now)
        if fresh is not None and (kid in fresh.keys or self._attempted_within(REFETCH_INTERVAL_SECONDS, now)):
            return fresh
        if (
            fresh is None
            and self._last_attempt_failed
            and self._attempted_within(RETRY_AFTER_FAILURE_SECONDS, now)
        ):
            raise Unauthorized("keys unavailable")
        self._attempted_at = now
        try:
            keys = await self._fetch_keys()
        except _FetchFailed as failure:
            self._last_attempt_failed = True
            logger.warning("Could not read the Bot Framework signing keys: %s", failure)
            raise Unauthorized("keys unavailable") from None
        self._last_attempt_failed = False
        self._keys = _KeySet(keys=keys, fetched_at=now)
        logger.info("Fetched %d Bot Framework signing key(s)", len(keys))
        return self._keys

    async def _fetch_keys(self) -> dict[str, _SigningKey]:
        metadata = await self._get_json(self._openid_url, "OpenID metadata")
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise _FetchFailed("the OpenID metadata has no usable jwks_uri")
        document = await self._get_json(jwks_uri, "key set")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise _FetchFailed("the key set has no key list")
        keys = {}
        for entry in entries:
            parsed = _parse_key(entry)
            if parsed is not None:
                keys[parsed[0]] = parsed[1]
        if not keys:
            raise _FetchFailed("the key set has no usable RS256 key")
        return keys

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise _FetchFailed(f"{what} at {url}: {type(error).__name__}") from None
        if response.status_code != 200:
            raise _FetchFailed(f"{what} at {url}: HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise _FetchFailed(f"{what} at {url}: not JSON") from None
        if not isinstance(document, dict):
            raise _FetchFailed(f"{what} at {url}: not a JSON object")
        return document


def is_loopback(host: str | None) -> bool:
    """Return True only for a loopback host: 127.0.0.0/8, ::1 (bracketed or IPv4-mapped too), "localhost"."""
    if not isinstance(host, str) or not host:
        return False
    if host.lower() == "localhost":
        return True
    # Brackets belong only around an IPv6 address, as in a URL's host part.
    if host.startswith("[") and host.endswith("]") and ":" in host:
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # A dual-stack listener reports an IPv4 client as ::ffff:127.0.0.1.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _bearer_token(authorization: object) -> str:
    """Return the token of a `Bearer <token>` header (the scheme in any case), or raise Unauthorized."""
    if not isinstance(authorization, str) or not authorization.strip():
        raise Unauthorized("no token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("not a bearer token")
    token = token.strip()
    if not token:
        raise Unauthorized("no token")
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("token too large")
    if not token.isascii() or token.count(".") != 2:
        raise Unauthorized("malformed token")
    return token


def _key_id(token: str) -> str:
    """Return the header's key id, after refusing every algorithm but RS256 before any key is looked at."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("malformed token") from None
    # Refusing here stops `none`, and HS256 signed with our public key as the secret, before keys matter.
    if header.get("alg") != _ALGORITHM:
        raise Unauthorized("algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("no key id")
    return kid


def _parse_key(entry: object) -> tuple[str, _SigningKey] | None:
    """Return (kid, key) for a usable RSA signing key from the key set, or None to skip the entry."""
    if not isinstance(entry, dict):
        return None
    kid, endorsements = entry.get("kid"), entry.get("endorsements", [])
    if not isinstance(kid, str) or not kid or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
        return None
    if not isinstance(endorsements, list) or not all(isinstance(e, str) for e in endorsements):
        return None
    try:
        public_key = jwt.PyJWK(entry, algorithm=_ALGORITHM).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, ArithmeticError):
        return None  # one malformed entry must not cost us the other keys
    return kid, _SigningKey(public_key=public_key, endorsements=frozenset(endorsements))


def _reason_for(error: jwt.PyJWTError) -> str:
    """Translate a PyJWT error into a short reason (the signature error first: it is also a DecodeError)."""
    if isinstance(error, jwt.InvalidSignatureError):
        return "bad signature"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"missing {error.claim}"
    if isinstance(error, jwt.InvalidAudienceError):
        return "wrong audience"
    if isinstance(error, jwt.InvalidIssuerError):
        return "wrong issuer"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "algorithm not allowed"
    if isinstance(error, jwt.DecodeError):
        return "malformed token"
    return "invalid token"


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    """Return a time claim as a number, None when absent, or refuse one that is not a finite number."""
    if name not in claims:
        return None
    value = claims[name]
    # JSON allows NaN and Infinity through Python's parser; an exp of NaN would otherwise never expire.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Unauthorized(f"bad {name}")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    """Check exp, nbf and iat against our clock, with the Bot Framework's clock-skew allowance."""
    expires = _timestamp(claims, "exp")
    if expires is None:
        raise Unauthorized("missing exp")
    if now > expires + CLOCK_SKEW_SECONDS:
        raise Unauthorized("expired")
    not_before = _timestamp(claims, "nbf")
    if not_before is not None and now + CLOCK_SKEW_SECONDS < not_before:
        raise Unauthorized("not yet valid")
    issued = _timestamp(claims, "iat")
    if issued is not None and now + CLOCK_SKEW_SECONDS < issued:
        raise Unauthorized("issued in the future")


def _check_service_url(claims: Mapping[str, Any], service_url: object) -> None:
    """Require the token's serviceurl claim to name the service URL the activity says it came from."""
    claimed = claims.get("serviceurl")
    if not isinstance(claimed, str) or not claimed:
        raise Unauthorized("missing serviceurl")
    if not isinstance(service_url, str) or not service_url:
        raise Unauthorized("no service URL")
    if _without_trailing_slash(claimed) != _without_trailing_slash(service_url):
        raise Unauthorized("service URL mismatch")


def _without_trailing_slash(url: str) -> str:
    return url[:-1] if url.endswith("/") else url


def _channel_label(channel_id: object) -> str:
    """Name the channel in a reason only when it is a plain short id; the activity body is not ours to log."""
    if isinstance(channel_id, str) and _CHANNEL_LABEL.fullmatch(channel_id):
        return channel_id
    return "this channel"

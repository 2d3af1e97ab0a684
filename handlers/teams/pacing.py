"""Keeps the bot's messages within Teams' rate limits, per conversation and per tenant, in one process.

Teams allows a bot 7 messages a second in one conversation, 8 in 2 seconds, 60 in 30 seconds and 1,800
an hour, and 50 requests a second in a tenant. Each send reserves the earliest moment that keeps every
window, then waits until it; reservations are made under a lock, so concurrent senders queue fairly.
A 429 can still come (other processes share the limits); the sender then waits for Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# (seconds, messages) a bot may send in one conversation.
CONVERSATION_WINDOWS = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
# A message reaches Teams a little after its slot (the request is built and sent, a token may be
# fetched): each window is kept with this much to spare.
MARGIN_S = 0.1
# Teams allows 50 a second per tenant; the rest is left for the replies of other processes.
TENANT_PER_SECOND = 40.0
TENANT_BURST = 10.0


@dataclass
class Pacing:
    """Tells each send how long to wait so that no window of Teams' limits is exceeded."""

    clock: Callable[[], float] = time.monotonic
    windows: tuple[tuple[float, int], ...] = CONVERSATION_WINDOWS
    tenant_per_second: float = TENANT_PER_SECOND
    tenant_burst: float = TENANT_BURST
    margin_s: float = MARGIN_S
    _sent: dict[str, deque[float]] = field(default_factory=dict)
    # Per tenant, the moment its next message would be due at the steady rate (the "theoretical
    # arrival time" of a generic cell rate algorithm): a burst may run that far ahead of it, no further.
    _tenants: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reserve(self, conversation: str, tenant: str) -> float:
        """Reserve a slot for one message and return the seconds to wait before sending it."""
        with self._lock:
            now = self.clock()
            longest = max(seconds for seconds, _ in self.windows)
            sent = self._sent.setdefault(conversation, deque(maxlen=max(count for _, count in self.windows)))
            while sent and sent[0] <= now - longest:
                sent.popleft()
            # Never before the last one reserved: messages to one conversation keep their order.
            at = max(now, sent[-1]) if sent else now
            for seconds, count in self.windows:
                if len(sent) >= count:
                    # The count-th latest send must have left the window before this one goes.
                    at = max(at, sent[-count] + seconds + self.margin_s)
            # The tenant's share is taken in the order messages are asked for, not when their
            # conversation lets them go: a message held for its chat's window doesn't hold up others.
            at = max(at, self._tenant_slot(tenant, now))
            sent.append(at)
            self._forget_idle(now - longest)
            return at - now

    def _tenant_slot(self, tenant: str, at: float) -> float:
        """The tenant's first free moment at or after `at` (taken): `tenant_burst` at once, then spaced."""
        interval = 1.0 / self.tenant_per_second
        due = max(self._tenants.get(tenant, at), at)
        slot = max(at, due - (self.tenant_burst - 1) * interval)
        self._tenants[tenant] = max(due, slot) + interval
        return slot

    def _forget_idle(self, before: float) -> None:
        # Conversations quiet for longer than the longest window hold nothing worth keeping.
        if len(self._sent) > 1000:
            for conversation in [c for c, sent in self._sent.items() if not sent or sent[-1] <= before]:
                del self._sent[conversation]

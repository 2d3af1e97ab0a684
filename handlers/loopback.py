"""What every loopback service shares: a threading HTTP server on a free port, started and stopped cleanly."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its fake and can cut open keep-alive connections."""

    daemon_threads = True
    # The default backlog of 5 drops SYNs under a burst of concurrent clients, which shows up as 1 s stalls.
    request_queue_size = 128

    def __init__(self, fake: Any, host: str, handler: type[BaseHTTPRequestHandler]) -> None:
        self.fake = fake
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__((host, 0), handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer is normal in tests; anything else is a bug in the fake worth seeing.
        if isinstance(sys.exc_info()[1], OSError):
            return
        logger.exception("%s handler failed for %s", type(self.fake).__name__, client_address)

    def cut_connections(self) -> None:
        """Shut down idle keep-alive sockets so their handler threads end now rather than at a timeout."""
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


class LoopbackFake:
    """Serving from a daemon thread on a free port of `host`: `start`, `stop`, or `with fake:`.

    A fake sets `handler` (its request handler class) and may set `host` and `poll_interval`;
    `_stopping` wakes handlers sleeping in an injected delay when the fake stops.
    """

    handler: type[BaseHTTPRequestHandler]
    host: str = "127.0.0.1"
    poll_interval: float = 0.05

    def _init_serving(self) -> None:
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind a free port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self._stopping.clear()
        self._server = LoopbackServer(self, self.host, self.handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=f"{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and release the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.cut_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the bound port (only while started)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

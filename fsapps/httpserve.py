"""The HTTP servers ``fsapps serve`` runs: mod_xml_curl's dialplan and Prometheus' /metrics.

gevent's pywsgi server as it comes reads without a timeout and serves any
number of connections, so 500 half-sent requests held 500 greenlets and
sockets for good. Here each connection has a deadline for its request head
(request line and headers: a peer sending a byte at a time cannot stretch
it), every read and write on its socket times out after ``read_timeout``
seconds (a stalled body, a reader that never reads the reply, an idle
keep-alive), and at most ``max_connections`` are served at once: the server
stops accepting while the pool is full, so further connections wait in the
listen backlog, costing no greenlet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import socket
from gevent.pool import Pool
from gevent.pywsgi import WSGIHandler, WSGIServer

from fsapps.config import MetricsSettings

log = logging.getLogger("fsapps.http")

WSGIApp = Callable[..., Any]


class _HeadTimeout(BaseException):
    """The request head did not arrive in time. A BaseException, so that pywsgi's own
    ``except Exception`` (which answers 400 and prints a traceback) lets it through."""


class _Handler(WSGIHandler):
    server: BoundedWSGIServer

    def read_requestline(self) -> str:
        self._head_deadline = time.monotonic() + self.server.read_timeout
        with gevent.Timeout(self.server.read_timeout, _HeadTimeout):
            return super().read_requestline()

    def read_request(self, raw_requestline: str) -> Any:
        left = max(self._head_deadline - time.monotonic(), 0.001)
        with gevent.Timeout(left, _HeadTimeout):
            return super().read_request(raw_requestline)

    def handle_one_request(self) -> Any:
        try:
            return super().handle_one_request()
        except _HeadTimeout:
            self.server.timed_out += 1
            return None  # close the connection, say nothing

    def run_application(self) -> None:
        try:
            super().run_application()
        except TimeoutError:
            # A body that stopped coming, or a reply nobody reads: close, no 500, no traceback.
            self.server.timed_out += 1
            self.close_connection = True


class BoundedWSGIServer(WSGIServer):
    handler_class = _Handler

    def __init__(
        self, address: tuple[str, int], app: WSGIApp, *, read_timeout: float, max_connections: int
    ) -> None:
        super().__init__(address, app, spawn=Pool(max_connections), log=None, error_log=log)
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.timed_out = 0

    def handle(self, sock: socket.socket, address: tuple[str, int]) -> None:
        sock.settimeout(self.read_timeout)
        super().handle(sock, address)

    @property
    def connections(self) -> int:
        """Connections being served now (never more than ``max_connections``)."""
        return len(self.pool) if self.pool is not None else 0


def wsgi_server(
    listen: str, port: int, app: WSGIApp, *, read_timeout: float, max_connections: int
) -> BoundedWSGIServer:
    """Not started; ``start()`` binds (and raises OSError when it cannot)."""
    return BoundedWSGIServer((listen, port), app, read_timeout=read_timeout, max_connections=max_connections)


def metrics_server(m: MetricsSettings) -> BoundedWSGIServer:
    """Prometheus' ``/metrics``: this process's collectors (fsapps.metrics), not started."""
    from prometheus_client import make_wsgi_app

    return wsgi_server(
        m.listen, m.port, make_wsgi_app(), read_timeout=m.read_timeout, max_connections=m.max_connections
    )

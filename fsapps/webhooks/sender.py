"""Sends the tenants' CRM webhooks, off the call path.

``offer`` is what the controller's notifier calls on its publisher's greenlet: it builds
the delivery (fsapps.webhooks.payload, pure) and puts it on a bounded queue without ever
blocking; when the queue is full the delivery is dropped, counted and logged. A feeder
greenlet hands each delivery to a bounded pool of workers. A worker reads the tenant's
webhook (none, or disabled: nothing to send), checks the URL and resolves its host
(fsapps.webhooks.target: the address checked is the one connected to), POSTs the signed
body with a timeout, and tries again after a growing pause (``backoff``) on a network
error, a 5xx, 408 or 429; any other answer is final. Redirects are not followed. So a
slow or dead endpoint takes at most the pool's workers and then the queue's places:
calls never wait for it.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import gevent
import gevent.pool
import gevent.queue

from fsapps.acd.notifier import AcdEvent, Published
from fsapps.webhooks import payload, target
from fsapps.webhooks.payload import Delivery

log = logging.getLogger("fsapps.webhooks")

DROP_LOG_EVERY = 10.0  # seconds between warnings of deliveries dropped

Lookup = Callable[[str], "tuple[str, str] | None"]  # tenant -> (url, secret) of its enabled webhook
Record = Callable[[str, str, str], None]  # (tenant, event, outcome) of a delivery's last try


@dataclass
class Counts:
    delivered: int = 0
    failed: int = 0  # given up after the last try, or refused for good
    dropped: int = 0  # the queue was full
    tries: int = 0


class WebhookSender:
    def __init__(self, lookup: Lookup, record: Record, *, allow_private: bool = False, api_url: str = "",
                 timeout: float = 5.0, queue: int = 1000, workers: int = 4,
                 backoff: tuple[float, ...] = (1.0, 5.0, 30.0),
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.lookup, self.record = lookup, record
        self.allow_private, self.api_url = allow_private, api_url
        self.timeout, self.backoff, self.clock = timeout, backoff, clock
        self.queue: gevent.queue.Queue[Delivery] = gevent.queue.Queue(queue)
        self.pool = gevent.pool.Pool(workers)
        self.counts = Counts()
        self._feeder: gevent.Greenlet | None = None
        self._drop_said = -DROP_LOG_EVERY

    def start(self) -> WebhookSender:
        self._feeder = gevent.spawn(self._feed)
        return self

    def stop(self) -> None:
        if self._feeder is not None:
            self._feeder.kill()
        self.pool.kill()

    def follow(self, item: Published) -> None:
        """A notifier listener (``notifier.listen(sender.follow)``)."""
        self.offer(item.event)

    def offer(self, event: AcdEvent) -> None:
        """From the publisher: never blocks, never raises."""
        delivery = payload.delivery_of(event, self.api_url)
        if delivery is None:
            return
        try:
            self.queue.put_nowait(delivery)
        except gevent.queue.Full:
            self.counts.dropped += 1
            # Said once, then at most every DROP_LOG_EVERY seconds: a dead endpoint under load
            # must not flood the log (or slow the publisher with it).
            now = time.monotonic()
            if now - self._drop_said >= DROP_LOG_EVERY:
                self._drop_said = now
                log.warning("webhooks: queue full, %s for %s dropped (%d dropped so far)",
                            delivery.event, delivery.tenant, self.counts.dropped)  # fmt: skip

    def _feed(self) -> None:
        while True:
            delivery = self.queue.get()
            self.pool.spawn(self._deliver, delivery)  # waits for a free worker

    def _deliver(self, d: Delivery) -> None:
        try:
            hook = self.lookup(d.tenant)
        except Exception as exc:  # the database is away: this delivery is lost, said so
            log.warning("webhooks: %s for %s not sent: %s", d.event, d.tenant, exc)
            self.counts.failed += 1
            return
        if hook is None:
            return
        url, secret = hook
        body = payload.encode(d)
        outcome = ""
        for attempt in range(len(self.backoff) + 1):
            if attempt:
                gevent.sleep(self.backoff[attempt - 1])
            self.counts.tries += 1
            outcome, again = self._try(url, secret, d, body)
            if outcome.isdigit() and 200 <= int(outcome) < 300:
                self.counts.delivered += 1
                self._record(d, outcome)
                return
            if not again:
                break
        log.warning("webhooks: %s %s for %s not delivered: %s", d.event, d.id, d.tenant, outcome)
        self.counts.failed += 1
        self._record(d, outcome)

    def _try(self, url: str, secret: str, d: Delivery, body: bytes) -> tuple[str, bool]:
        """(the outcome: an HTTP status or why not, whether to try again)."""
        try:
            where = target.check_url(url, self.allow_private)
            addresses = target.resolve(where, self.allow_private)
        except target.Refused as exc:
            return f"refused: {exc}", False
        try:
            signed = payload.headers(d, secret, body, self.clock())
            status = post(where, addresses, body, signed, self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            return f"error: {exc or type(exc).__name__}", True
        return str(status), status >= 500 or status in (408, 429)

    def _record(self, d: Delivery, outcome: str) -> None:
        try:
            self.record(d.tenant, d.event, outcome)
        except Exception as exc:
            log.warning("webhooks: outcome for %s not recorded: %s", d.tenant, exc)


def post(where: target.Target, addresses: list[str], body: bytes, headers: dict[str, str],
         timeout: float) -> int:  # fmt: skip
    """POST to the first address that connects (the ones ``resolve`` checked), by the URL's
    host name (Host, and for https its certificate); the answer's status."""
    sock = None
    error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, where.port), timeout)
            break
        except OSError as exc:
            error = exc
    if sock is None:
        raise error or OSError("no address")
    if where.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=where.host)
    conn = http.client.HTTPConnection(where.host, where.port, timeout=timeout)
    conn.sock = sock  # connected already, to the address checked
    try:
        conn.request("POST", where.path, body, headers)
        resp = conn.getresponse()
        resp.read(65536)
        return resp.status
    finally:
        conn.close()


CACHE_SECONDS = 5.0  # how long a tenant's webhook, or its having none, is kept between reads


def store_sender(
    store: object, *, cache_seconds: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic,
    **settings: object,
) -> WebhookSender:
    """The sender for ``fsapps serve``: the tenants' webhooks read from the store, each kept
    for ``cache_seconds``: a call makes three deliveries and most tenants have no webhook,
    so reading it for each one was a transaction per event (a twentieth of a loaded
    controller's CPU). A webhook set, changed or removed is followed within that time."""
    from fsapps.store import webhooks as repo

    kept: dict[str, tuple[float, tuple[str, str] | None]] = {}

    def lookup(tenant: str) -> tuple[str, str] | None:
        now = clock()
        got = kept.get(tenant)
        if got is not None and now - got[0] < cache_seconds:
            return got[1]
        with store.operator() as op:  # type: ignore[attr-defined]
            hook = repo.target(op.conn, tenant)
        kept[tenant] = (now, hook)
        return hook

    def record(tenant: str, event: str, outcome: str) -> None:
        with store.operator() as op:  # type: ignore[attr-defined]
            repo.delivered(op.conn, tenant, event, outcome)

    return WebhookSender(lookup, record, **settings)  # type: ignore[arg-type]

"""Records written in the background, in batches, by one greenlet.

A controller at 20 calls/s makes several records per call (usage records,
queue calls, survey answers). Written one greenlet each, they queued for the
connection pool ahead of the ACD's own queries and, at that rate, took all of
it. One writer drains whatever has accumulated and hands it to ``write`` at
once (DurableWriter writes a batch in one transaction per tenant, or spools
it), so background records hold at most one connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.queue

log = logging.getLogger("fsapps.store")

MAX_BATCH = 500


class RecordBatches:
    def __init__(self, write: Callable[..., Any], *, max_batch: int = MAX_BATCH) -> None:
        self._write = write
        self.max_batch = max_batch
        self._queue: gevent.queue.Queue[Any] = gevent.queue.Queue()
        self._idle = gevent.event.Event()
        self._idle.set()
        self._greenlet: gevent.Greenlet | None = None
        self.batches = 0

    def start(self) -> RecordBatches:
        self._greenlet = gevent.spawn(self._run)
        return self

    def put(self, *records: Any) -> None:
        self._idle.clear()
        for r in records:
            self._queue.put(r)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._write_batch(batch)
            if self._queue.empty():
                self._idle.set()

    def _write_batch(self, batch: list[Any]) -> None:
        try:
            self._write(*batch)
            self.batches += 1
            return
        except Exception:
            # The durable writer spools what PostgreSQL cannot take and quarantines what it
            # refuses: an exception here is a bug worth a traceback. It must not stop the
            # records after it, nor take the rest of its batch down: those go one by one.
            log.exception("writing %d record(s) failed", len(batch))
        if len(batch) == 1:
            log.error("record not written: %r", batch[0])
            return
        for record in batch:
            try:
                self._write(record)
            except Exception:
                log.exception("record not written: %r", record)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything put so far is written; False on timeout."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        if self._greenlet is not None:
            self._greenlet.kill(timeout=2)

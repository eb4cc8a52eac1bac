"""Records written in the background, in batches, by one greenlet.

A controller at 20 calls/s makes several records per call (usage records,
queue calls, survey answers). Written one greenlet each, they queued for the
connection pool ahead of the ACD's own queries and, at that rate, took all of
it. One writer drains whatever has accumulated and hands it to ``write`` at
once (DurableWriter writes a batch in one transaction per tenant, or spools
it), so background records hold at most one connection.

A record waits here between the moment its call's state is committed and the
moment its batch is written; a controller killed then (SIGKILL, the OOM
killer) would lose it. With a ``journal``, ``put`` first appends each record
to that file (a write(2), not fsync'd: a killed process's writes are the
kernel's), and the file is emptied each time every record put so far has
been handed to ``write``. The next start sends what the file still holds:
records are keyed by event id and inserted with ON CONFLICT DO NOTHING, so a
record written just before the kill lands once. A line the kill cut short
was never put, and is skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.queue

from fsapps.store.spool import decode, encode

log = logging.getLogger("fsapps.store")

MAX_BATCH = 500
# Seconds the first record of a batch waits for others: a call's records come within a few
# ms of each other, and each batch costs a transaction per tenant (a loaded controller spent
# 13% of its CPU writing batches of one or two records).
GATHER = 0.05


class RecordBatches:
    def __init__(
        self,
        write: Callable[..., Any],
        *,
        max_batch: int = MAX_BATCH,
        journal: Path | None = None,
        gather: float = GATHER,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.gather = gather
        self._queue: gevent.queue.Queue[Any] = gevent.queue.Queue()
        self._idle = gevent.event.Event()
        self._idle.set()
        self._greenlet: gevent.Greenlet | None = None
        self.batches = 0
        self.journal = journal
        self._fd: int | None = None
        self.recovered = 0  # records a previous run left in the journal, sent again at start

    def start(self) -> RecordBatches:
        if self.journal is not None:
            self._open_journal(self.journal)
        self._greenlet = gevent.spawn(self._run)
        return self

    def _open_journal(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            log.error("no journal for background records (%s): kept in memory only", exc)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            log.error("%s is another process's journal: background records kept in memory only", path)
            return
        self._fd = fd
        left = path.read_bytes()
        for line in left.split(b"\n")[:-1] if left else []:
            try:
                record = decode(line)
            except Exception:
                log.warning("skipping an unreadable line of %s: %r", path, line[:200])
                continue
            self._idle.clear()
            self._queue.put(record)
            self.recovered += 1
        if self.recovered:
            log.warning("%d background record(s) a stopped controller had not written: sending them",
                        self.recovered)  # fmt: skip

    def put(self, *records: Any) -> None:
        self._idle.clear()
        if self._fd is not None:
            lines = []
            for r in records:
                try:
                    lines.append(encode(r) + "\n")
                except Exception:  # a kind the spool does not know: memory only
                    log.exception("record not journaled: %r", r)
            try:
                os.write(self._fd, "".join(lines).encode())
            except OSError as exc:  # the disk is full: the records still go, from memory
                log.error("journal append failed (%s): %d record(s) in memory only", exc, len(lines))
        for r in records:
            self._queue.put(r)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            if self.gather > 0:
                gevent.sleep(self.gather)
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._write_batch(batch)
            if self._queue.empty():
                # Everything put so far has been handed to the writer: nothing left to recover.
                if self._fd is not None:
                    with contextlib.suppress(OSError):
                        os.ftruncate(self._fd, 0)
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
        if self._fd is not None:
            os.close(self._fd)  # and its lock; what was not written stays for the next start
            self._fd = None

"""Records that must not be lost: written to PostgreSQL, or spooled until they can be.

``DurableWriter.write(*records)`` returns once each record is committed in
PostgreSQL, appended and fsync'd to the spool (fsapps.store.spool, which
describes the files), or, refused by PostgreSQL, set aside in the spool's
quarantine with the reason. What the writer does:

- While PostgreSQL answers and nothing waits, records go straight in, one
  transaction per tenant. Once it does not answer (connection, timeout), and
  while anything waits in the spool, records are appended to the spool: new
  records queue behind the old ones, in order.
- A background greenlet replays the spool in chunks of ``chunk`` records,
  each committed under its own ``db_timeout`` with its progress kept on disk,
  so a crash sends at most one chunk again (rows are keyed by event id and
  inserted with ON CONFLICT DO NOTHING: a record sent twice lands once). It
  holds no lock while it talks to PostgreSQL: writes go on meanwhile.
- A record PostgreSQL refuses (class 22, bad data; class 23, a constraint
  such as a tenant missing from ``tenants``) would be refused on every try:
  its tenant's records are split in halves until the refused ones stand
  alone, those go to the quarantine (``fsapps_records_quarantined``) and the
  others go in. Anything else PostgreSQL says (a timeout, permissions, a
  missing table) is not the records' fault: they wait for the next try.
- If the disk refuses too (full, read-only), records are kept in memory,
  logged CRITICAL, moved back to the spool or sent as soon as either takes
  them: nothing is dropped while the process lives; ``pending`` says how
  many records wait.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import gevent
import psycopg
import psycopg.errors

from fsapps.store import ticket_requests
from fsapps.store.db import Store, UnknownTenant, insert_cdrs, insert_rows, insert_usage
from fsapps.store.records import (
    CallbackRequest,
    Cdr,
    QueueCall,
    SurveyAnswer,
    TicketRequest,
    UsageRecord,
    Voicemail,
)
from fsapps.store.spool import Offload, Record, Refusal, Spool

log = logging.getLogger("fsapps.store")

# Records a replay sends in one transaction (per tenant): a few tenths of a second
# at the COPY rate of bench/store.py, well inside ``db_timeout``.
CHUNK = 2000
TABLES: dict[type, str] = {
    CallbackRequest: "callback_requests",
    SurveyAnswer: "survey_answers",
    QueueCall: "queue_calls",
    Voicemail: "voicemails",
}
# What PostgreSQL says about a record itself: sending it again changes nothing.
REFUSED = (psycopg.DataError, psycopg.IntegrityError)


class DatabaseTimeout(Exception):
    """PostgreSQL did not answer within ``db_timeout``."""


# Not the records' fault: they wait for the next try (REFUSED is caught before these).
NOT_NOW = (psycopg.Error, DatabaseTimeout, OSError)
OUTAGE = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseTimeout, OSError)


class DurableWriter:
    def __init__(self, store: Store, spool_dir: str | os.PathLike[str], *, retry_every: float = 1.0,
                 db_timeout: float = 2.0, chunk: int = CHUNK,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 offload: Offload | None = None) -> None:  # fmt: skip
        """``offload``: where the spool's fsyncs wait (Spool)."""
        self.store = store
        self.spool = Spool(spool_dir, now=now, offload=offload)
        self.retry_every = retry_every
        self.db_timeout = db_timeout
        self.chunk = chunk
        self.memory: list[Record] = []  # what neither the database nor the disk took
        self._sending_memory = 0  # taken out of memory by a replay, not yet settled
        self.db_down = False  # once seen down, write to the spool until a replay succeeds
        self.written_db = 0
        self.spooled = 0
        self.quarantined = 0
        # Cooperative once gevent has patched threading; real locks in FreeSWITCH's threads.
        self._lock = threading.Lock()  # memory, and the choice between the disk and memory
        self._replay_lock = threading.Lock()  # one replay at a time
        self._replayer: gevent.Greenlet | None = None

    def start(self) -> DurableWriter:
        self._replayer = gevent.spawn(self._replay_loop)
        return self

    def stop(self) -> None:
        if self._replayer is not None:
            self._replayer.kill()
            self._replayer = None

    @property
    def pending(self) -> int:
        return len(self.spool) + len(self.memory) + self._sending_memory

    # --- writing --------------------------------------------------------------------

    def write(self, *records: Record) -> None:
        recs = list(records)
        if not recs:
            return
        if self.db_down or self.pending:
            # Keep order simple and writes fast: while anything waits, new records queue behind it.
            self._spool(recs)
            return
        try:
            sent, refused = self._send(recs)
        except Exception as exc:
            if isinstance(exc, OUTAGE):
                log.warning("PostgreSQL unavailable (%s): spooling until it is back", exc)
            else:
                log.exception("writing %d record(s) failed: spooling them until a replay succeeds", len(recs))
            self.db_down = True
            self._spool(recs)
            return
        self.written_db += sent
        kept = self._quarantine(refused)
        if kept:
            with self._lock:
                self.memory.extend(kept)

    def _spool(self, recs: list[Record]) -> None:
        with self._lock:
            try:
                self.spool.append(recs)
                self.spooled += len(recs)
            except OSError as exc:
                self.memory.extend(recs)
                log.critical(
                    "cannot spool %d record(s) to %s (%s): holding %d in memory until the database "
                    "or the disk comes back",
                    len(recs), self.spool.path, exc.strerror or exc, len(self.memory),
                )  # fmt: skip

    # --- sending --------------------------------------------------------------------

    def _send(self, recs: list[Record]) -> tuple[int, list[Refusal]]:
        """Insert, one transaction per tenant; returns how many went in and what PostgreSQL
        refused. Raises what is not the records' fault (NOT_NOW)."""
        by_tenant: dict[str, list[Record]] = defaultdict(list)
        for r in recs:
            by_tenant[r.tenant_id].append(r)
        refused: list[Refusal] = []
        sent = sum(self._send_tenant(tenant, items, refused) for tenant, items in by_tenant.items())
        return sent, refused

    def _send_tenant(self, tenant: str, items: list[Record], refused: list[Refusal]) -> int:
        try:
            self._insert(tenant, items)
            return len(items)
        except REFUSED as exc:
            # A tenant missing altogether refuses every record of it: no need to split.
            whole = isinstance(exc, psycopg.errors.ForeignKeyViolation) and not self._tenant_exists(tenant)
            if len(items) > 1 and not whole:
                half = len(items) // 2
                return self._send_tenant(tenant, items[:half], refused) + self._send_tenant(
                    tenant, items[half:], refused
                )
            why = " ".join(str(exc).split())
            label = exc.sqlstate[:2] if exc.sqlstate else "client"  # psycopg refused it before sending
            refused.extend(Refusal(r, why, exc.sqlstate, label) for r in items)
            return 0
        except UnknownTenant as exc:  # no tenant at all
            refused.extend(Refusal(r, str(exc), None, "no_tenant") for r in items)
            return 0

    def _timeout(self) -> gevent.Timeout:
        # Our own exception, not gevent.Timeout: a caller's timeout around write() must not be
        # mistaken for the database's and swallowed.
        return gevent.Timeout(self.db_timeout, DatabaseTimeout(f"no answer within {self.db_timeout}s"))

    def _insert(self, tenant: str, items: list[Record]) -> None:
        with self._timeout(), self.store.tenant(tenant) as t:
            insert_usage(t.conn, [r for r in items if isinstance(r, UsageRecord)])
            insert_cdrs(t.conn, [r for r in items if isinstance(r, Cdr)])
            for cls, table in TABLES.items():
                insert_rows(t.conn, table, [r for r in items if isinstance(r, cls)])
            # After the voicemails and callback requests they come from, in their transaction.
            ticket_requests.open_requested(t, [r for r in items if isinstance(r, TicketRequest)])

    def _tenant_exists(self, tenant: str) -> bool:
        with self._timeout(), self.store.tenant(tenant) as t:
            return t.conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant,)).fetchone() is not None

    def _quarantine(self, refused: list[Refusal]) -> list[Record]:
        """Set the refused records aside; returns those the disk would not take."""
        if not refused:
            return []
        try:
            self.spool.quarantine(refused)
        except OSError as exc:
            log.critical(
                "PostgreSQL refused %d record(s) (%s) and the quarantine cannot take them (%s): "
                "holding them in memory", len(refused), refused[0].reason, exc.strerror or exc,
            )  # fmt: skip
            return [r.record for r in refused]
        self.quarantined += len(refused)
        log.error(
            "PostgreSQL refused %d record(s), set aside in %s: %s",
            len(refused), self.spool.quarantine_path, refused[0].reason,
        )  # fmt: skip
        return []

    # --- replaying ------------------------------------------------------------------

    def replay(self, max_chunks: int | None = None) -> int:
        """Send what the spool and memory hold, a chunk at a time (at most ``max_chunks``
        of the spool's); returns how many records went to PostgreSQL. Never raises:
        what cannot go now waits for the next replay."""
        sent = 0
        with self._replay_lock:
            try:
                with self.spool.replay_turn() as mine:
                    if not mine:
                        log.debug("another process is replaying %s", self.spool.dir)
                        return 0
                    self._memory_to_disk()
                    chunks = 0
                    while (max_chunks is None or chunks < max_chunks) and self.spool.begin():
                        chunk = self.spool.read_chunk(self.chunk)
                        if chunk is None:
                            self.spool.finish()
                            continue
                        n, refused = self._send(chunk.records)
                        if self._quarantine(refused):
                            return sent  # the cursor stays: this chunk goes again next time
                        self.spool.quarantine_lines(chunk.unreadable)
                        self.spool.advance(chunk)
                        sent += n
                        chunks += 1
                    if max_chunks is None or chunks < max_chunks:
                        sent += self._send_memory()
            except NOT_NOW as exc:
                log.debug("replay deferred after %d record(s): %s", sent, exc)
                return sent
            except Exception:
                log.exception("spool replay failed after %d record(s); trying again later", sent)
                return sent
            finally:
                if sent:
                    log.info("replayed %d spooled record(s) into PostgreSQL", sent)
            with self._lock:
                if not self.pending:
                    self.db_down = False
            return sent

    def _memory_to_disk(self) -> None:
        """Records held in memory go back to disk as soon as it takes them."""
        with self._lock:
            if not self.memory:
                return
            try:
                self.spool.append(self.memory)
            except OSError:
                return
            log.warning("%d record(s) held in memory are back in the spool", len(self.memory))
            self.memory = []

    def _send_memory(self) -> int:
        """The disk still refuses: send what memory holds straight to PostgreSQL."""
        with self._lock:
            held, self.memory = self.memory, []
            self._sending_memory = len(held)
        kept: list[Record] = []  # refused, and the disk would not quarantine them either
        sent = 0
        try:
            while held:
                batch = held[: self.chunk]
                n, refused = self._send(batch)
                kept += self._quarantine(refused)
                del held[: len(batch)]
                sent += n
        finally:
            with self._lock:
                self.memory[:0] = kept + held  # ahead of what was written meanwhile
                self._sending_memory = 0
        return sent

    def _replay_loop(self) -> None:
        while True:
            gevent.sleep(self.retry_every)
            if self.pending:
                try:
                    self.replay()
                except Exception:
                    log.exception("spool replay failed")

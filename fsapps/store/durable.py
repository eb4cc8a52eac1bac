"""Records that must not be lost: written to PostgreSQL, or spooled until they can be.

``DurableWriter.write(record)`` returns once the record is either committed
in PostgreSQL or appended, fsync'd, to the spool file in the state
directory. A background greenlet replays the spool when the database is
back; rows are keyed by event id and inserted with ON CONFLICT DO NOTHING,
so a record replayed twice (a crash between insert and truncate) lands
once.

If the spool cannot be written either (disk full, read-only), the record is
kept in memory, logged CRITICAL and retried: nothing is dropped while the
process lives, and ``pending`` says how much is at risk.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import gevent
import gevent.lock
import psycopg

from fsapps.store.db import Store, insert_cdrs, insert_rows, insert_usage
from fsapps.store.records import CallbackRequest, Cdr, QueueCall, SurveyAnswer, UsageRecord

log = logging.getLogger("fsapps.store")

Record = UsageRecord | Cdr | CallbackRequest | SurveyAnswer | QueueCall
# The spool's name for each kind of record, and the table the others go to.
KINDS: dict[str, type] = {
    "usage": UsageRecord,
    "cdr": Cdr,
    "callback": CallbackRequest,
    "survey": SurveyAnswer,
    "queue_call": QueueCall,
}
TABLES: dict[type, str] = {
    CallbackRequest: "callback_requests",
    SurveyAnswer: "survey_answers",
    QueueCall: "queue_calls",
}


def _encode(rec: Record) -> str:
    kind = next(k for k, cls in KINDS.items() if isinstance(rec, cls))

    def default(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        raise TypeError(type(v))

    return json.dumps({"kind": kind, "record": asdict(rec)}, default=default, separators=(",", ":"))


def _decode(line: str) -> Record:
    obj = json.loads(line)
    data = obj["record"]
    for key in ("started_at", "ended_at", "answered_at", "requested_at", "queue_entered_at", "joined_at"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    if obj["kind"] == "usage":
        data["workload"] = Decimal(data["workload"])
    cls: Any = KINDS[obj["kind"]]
    return cls(**data)


class Spool:
    """An append-only JSON-lines file, fsync'd on every append."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "records.jsonl"
        self.replaying = self.dir / "records.replaying.jsonl"
        # Records on disk not yet in PostgreSQL: counted once at start, then kept.
        self.count = sum(self._lines(p) for p in (self.replaying, self.path))

    @staticmethod
    def _lines(p: Path) -> int:
        if not p.is_file():  # a device or nothing: no records there
            return 0
        with p.open("rb") as f:
            return sum(1 for line in f if line.strip())

    def append(self, records: list[Record]) -> None:
        data = "".join(_encode(r) + "\n" for r in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write to the spool")
            os.fsync(fd)
        finally:
            os.close(fd)
        self.count += len(records)

    def take(self) -> list[Record]:
        """Move the spool aside and read it; a left-over replay file is read first."""
        if not self.replaying.exists() and self.path.exists():
            os.replace(self.path, self.replaying)
        if not self.replaying.exists():
            return []
        out = []
        for n, line in enumerate(self.replaying.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(_decode(line))
            except (ValueError, KeyError, TypeError) as exc:
                # A torn last line from a crash mid-append: everything before it stands.
                log.error("spool %s:%d unreadable, skipped: %s", self.replaying, n, exc)
        return out

    def done(self) -> None:
        self.replaying.unlink(missing_ok=True)
        self.count = self._lines(self.path)

    def __len__(self) -> int:
        return self.count


class DurableWriter:
    def __init__(self, store: Store, spool_dir: str | os.PathLike[str], *, retry_every: float = 1.0,
                 db_timeout: float = 2.0) -> None:  # fmt: skip
        self.store = store
        self.spool = Spool(spool_dir)
        self.retry_every = retry_every
        self.db_timeout = db_timeout
        self.memory: list[Record] = []  # what neither the database nor the disk took
        self.db_down = False  # once seen down, write to the spool until a replay succeeds
        self.written_db = 0
        self.spooled = 0
        self._lock = gevent.lock.Semaphore()
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
        return len(self.spool) + len(self.memory)

    def write(self, *records: Record) -> None:
        recs = list(records)
        if self.db_down or self.pending:
            # Keep order simple and writes fast: while anything waits, new records queue behind it.
            self._spool(recs)
            return
        try:
            self._insert(recs)
            self.written_db += len(recs)
        except (psycopg.OperationalError, psycopg.InterfaceError, gevent.Timeout, OSError) as exc:
            log.warning("PostgreSQL unavailable (%s): spooling until it is back", exc)
            self.db_down = True
            self._spool(recs)

    def _insert(self, recs: list[Record]) -> None:
        by_tenant: dict[str, list[Record]] = defaultdict(list)
        for r in recs:
            by_tenant[r.tenant_id].append(r)
        with gevent.Timeout(self.db_timeout):
            for tenant, items in by_tenant.items():
                with self.store.tenant(tenant) as t:
                    insert_usage(t.conn, [r for r in items if isinstance(r, UsageRecord)])
                    insert_cdrs(t.conn, [r for r in items if isinstance(r, Cdr)])
                    for cls, table in TABLES.items():
                        insert_rows(t.conn, table, [r for r in items if isinstance(r, cls)])

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

    def replay(self) -> int:
        """Send what the spool and memory hold; returns how many went to PostgreSQL."""
        with self._lock:
            held, self.memory = self.memory, []
            recs = self.spool.take() + held
            if not recs:
                return 0
            try:
                self._insert(recs)
            except (psycopg.OperationalError, psycopg.InterfaceError, gevent.Timeout, OSError) as exc:
                log.debug("replay deferred: %s", exc)
                self.memory = held  # the spool file stays where it is for the next try
                return 0
            self.spool.done()
            self.db_down = False
            log.info("replayed %d spooled record(s) into PostgreSQL", len(recs))
            return len(recs)

    def _replay_loop(self) -> None:
        while True:
            gevent.sleep(self.retry_every)
            if self.pending:
                try:
                    self.replay()
                except Exception:
                    log.exception("spool replay failed")

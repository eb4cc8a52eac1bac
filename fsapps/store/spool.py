"""The spool's files: records PostgreSQL has not taken yet, kept on disk.

In the spool directory (mode 0700; every file 0600):

- ``records.jsonl``: one JSON line a record (``{"kind": ..., "record": {...}}``),
  appended and fsync'd before the writer returns.
- ``records.replaying.jsonl``: the spool moved aside for a replay, read in
  chunks; new records go on to a fresh ``records.jsonl`` meanwhile.
- ``records.replaying.offset``: how many bytes of the file above PostgreSQL
  has committed, replaced after each chunk. A crash mid-replay sends at most
  the chunk in flight again, which inserts skip by event id.
- ``quarantine.jsonl``: what cannot go, never silently dropped: a line cut
  short by a crash, a line that is no record, a record PostgreSQL refused;
  each with ``reason`` and ``at``. A refused record's line carries ``kind`` and
  ``record`` like a spool line, so once its cause is fixed (the tenant added)
  it can be appended to ``records.jsonl`` and replays.
- ``spool.lock``, ``replay.lock``: flock(2), so that processes sharing the
  directory take turns to append and only one replays.

A crash can leave the last line of ``records.jsonl`` without its newline;
the next append would then glue a record onto it and make both unreadable.
The tail is repaired on open and before each append: a complete record that
only lacks its newline gets one; anything else goes to the quarantine and is
cut off. The directory is fsync'd after each file is created, renamed or
removed, so a crash cannot lose a file's entry.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsapps.metrics import RECORDS_QUARANTINED
from fsapps.store.records import (
    CallbackRequest,
    Cdr,
    QueueCall,
    SurveyAnswer,
    TicketRequest,
    UsageRecord,
    Voicemail,
)

log = logging.getLogger("fsapps.store")

Record = UsageRecord | Cdr | CallbackRequest | SurveyAnswer | QueueCall | Voicemail | TicketRequest
# The spool's name for each kind of record.
KINDS: dict[str, type] = {
    "usage": UsageRecord,
    "cdr": Cdr,
    "callback": CallbackRequest,
    "survey": SurveyAnswer,
    "queue_call": QueueCall,
    "voicemail": Voicemail,
    "ticket_request": TicketRequest,
}
_DATES = ("started_at", "ended_at", "answered_at", "requested_at", "queue_entered_at", "joined_at", "left_at")


def kind_of(rec: Record) -> str:
    return next(k for k, cls in KINDS.items() if isinstance(rec, cls))


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    raise TypeError(type(v))


def encode(rec: Record, **extra: Any) -> str:
    """One spool line, without its newline; ``extra`` keys go first (the quarantine's why and when)."""
    # The records are flat (str, numbers, datetime, Decimal): a shallow copy of their fields,
    # not dataclasses.asdict's deep copy (a tenth of the controller's time at 40 calls/s).
    record = {f.name: getattr(rec, f.name) for f in fields(rec)}
    obj = {**extra, "kind": kind_of(rec), "record": record}
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


def decode(line: str | bytes) -> Record:
    """The record of one spool line; ValueError, KeyError or TypeError if it is none."""
    obj = json.loads(line)
    data = dict(obj["record"])
    for key in _DATES:
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    if obj["kind"] == "usage":
        data["workload"] = Decimal(data["workload"])
    cls: Any = KINDS[obj["kind"]]
    return cls(**data)


UNREADABLE = (ValueError, KeyError, TypeError)


@dataclass(frozen=True)
class Refusal:
    """A record PostgreSQL (or the writer) would not take: why, in words and in the
    metric's bounded ``label`` (the SQLSTATE class, or a word)."""

    record: Record
    reason: str
    sqlstate: str | None
    label: str


@dataclass
class Chunk:
    """Lines of the replaying file from the cursor on: the records, the lines that are
    none, and where the next chunk starts."""

    records: list[Record] = field(default_factory=list)
    unreadable: list[tuple[bytes, str]] = field(default_factory=list)  # (line, why)
    lines: int = 0
    end: int = 0


# Runs ``fn(*args)`` elsewhere and returns its result: a gevent hub's threadpool.apply.
Offload = Callable[[Callable[..., Any], tuple[Any, ...]], Any]


def _inline(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


class Spool:
    def __init__(self, directory: str | os.PathLike[str], *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 offload: Offload | None = None) -> None:  # fmt: skip
        """``offload(fn, args)``: runs ``fn(*args)`` where waiting for it stalls nobody else (a
        gevent hub's threadpool.apply), for the spool's waits for the disk (every fsync) and
        for another process's turn (flock): a controller's event loop must not wait there, with
        every call's greenlet stopped behind it (fsync was a tenth of a loaded controller's
        time when its records went to the spool)."""
        self.dir = Path(directory)
        self.now = now
        self._offload: Offload = offload if offload is not None else _inline
        if not self.dir.is_dir():
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._offload(_fsync_dir, (self.dir.parent,))
        with contextlib.suppress(PermissionError):  # an older version made it 0755
            self.dir.chmod(0o700)
        self.path = self.dir / "records.jsonl"
        self.replaying = self.dir / "records.replaying.jsonl"
        self.cursor = self.dir / "records.replaying.offset"
        self.quarantine_path = self.dir / "quarantine.jsonl"
        # Appends, the move aside and quarantining take turns: between greenlets or threads
        # here (a cooperative lock once gevent has patched threading), between processes by flock.
        self._mutex = threading.Lock()
        with self._locked():
            for p in (self.replaying, self.path):
                try:
                    fd = os.open(p, os.O_RDWR | os.O_APPEND)
                except FileNotFoundError:
                    continue
                try:
                    self._repair_tail(fd, p)
                except OSError as exc:  # the disk is full: the next append tries again
                    log.error("cannot repair the torn last line of %s yet: %s", p, exc.strerror or exc)
                finally:
                    os.close(fd)
            # Records on disk not yet in PostgreSQL: counted once here, then kept.
            self.count = _lines(self.replaying, self._read_cursor()) + _lines(self.path, 0)

    def _on_fd(self, fn: Callable[..., Any], fd: int, *args: Any) -> Any:
        """``fn(fd, *args)`` through the offload, on a duplicate of ``fd`` that the call
        closes: a greenlet killed while ``fn`` waits in another thread closes only its own
        ``fd``, never the one in use there (nor a number the process reuses meanwhile). A
        flock taken on the duplicate is the open file's: it stays held through ``fd`` (on a
        local filesystem; NFS emulates flock with POSIX locks, which the duplicate's close
        would release: the state directory must be local)."""
        if self._offload is _inline:
            return fn(fd, *args)
        # Handed over in a list: whichever of the thread and this greenlet takes it closes
        # it (this one when it was killed before a thread took the task, the pool full).
        handed = [os.dup(fd)]
        try:
            return self._offload(_closing, (handed, fn, args))
        finally:
            with contextlib.suppress(IndexError):
                os.close(handed.pop())

    def __len__(self) -> int:
        return self.count

    # --- appending ------------------------------------------------------------------

    def append(self, records: list[Record]) -> None:
        """Append and fsync; OSError (disk full, read-only) leaves the file as it was."""
        data = "".join(encode(r) + "\n" for r in records).encode()
        with self._locked():
            self._append(self.path, data, repair=True)
            self.count += len(records)

    def _append(self, path: Path, data: bytes, *, repair: bool) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
            created = False
        except FileNotFoundError:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            created = True
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)  # /dev/full in the disk-full test
            if regular and repair:
                self._repair_tail(fd, path)
            elif regular:
                _terminate_tail(fd)
            start = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                self._on_fd(os.fsync, fd)
            except OSError:
                # The caller keeps these records: the part that did get written would be
                # a torn line for the next append to glue onto.
                if regular:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
        if created:
            self._offload(_fsync_dir, (self.dir,))

    def _repair_tail(self, fd: int, path: Path) -> None:
        """``fd``: opened O_APPEND, read-write."""
        size = os.fstat(fd).st_size
        if not stat.S_ISREG(os.fstat(fd).st_mode) or size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        start = _after_last_newline(fd, size)
        tail = os.pread(fd, size - start, start)
        try:
            decode(tail)
        except UNREADABLE:
            self._quarantine_line(tail, f"torn: the last line of {path.name} has no end (a crash mid-append)")
            os.ftruncate(fd, start)
            log.error("%s: torn last line (%d bytes) moved to %s", path, len(tail), self.quarantine_path)
        else:  # a whole record that only lacks its newline
            _write_all(fd, b"\n")
        self._on_fd(os.fsync, fd)

    # --- the quarantine ---------------------------------------------------------------

    def quarantine(self, refused: Iterable[Refusal]) -> None:
        """Set records aside with why (``reason``, PostgreSQL's ``sqlstate``) and when."""
        refused = list(refused)
        at = self.now().isoformat()
        data = "".join(encode(r.record, at=at, reason=r.reason, sqlstate=r.sqlstate) + "\n" for r in refused)
        if not refused:
            return
        with self._locked():
            self._append(self.quarantine_path, data.encode(), repair=False)
        for r in refused:
            RECORDS_QUARANTINED.labels(kind_of(r.record), r.label).inc()

    def quarantine_lines(self, lines: Iterable[tuple[bytes, str]]) -> None:
        """Set aside spool lines that are no record (``reason`` starts with a one-word label)."""
        with self._locked():
            for line, reason in lines:
                self._quarantine_line(line, reason)

    def _quarantine_line(self, line: bytes, reason: str) -> None:
        try:
            entry: dict[str, Any] = {"at": self.now().isoformat(), "reason": reason, "line": line.decode()}
        except UnicodeDecodeError:
            entry = {"at": self.now().isoformat(), "reason": reason, "line_hex": line.hex()}
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        self._append(self.quarantine_path, data, repair=False)
        RECORDS_QUARANTINED.labels("line", reason.split(":", 1)[0]).inc()

    # --- replaying ----------------------------------------------------------------------

    @contextlib.contextmanager
    def replay_turn(self) -> Iterator[bool]:
        """True when no other process is replaying this directory (then hold it until done)."""
        fd = os.open(self.dir / "replay.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def begin(self) -> bool:
        """Unless a replay is already under way, move the spool aside for one;
        True when there is something to replay."""
        with self._locked():
            if self.replaying.exists():
                return True
            if self.cursor.exists():  # a cursor left by a crash after its file was done
                self.cursor.unlink()
                self._offload(_fsync_dir, (self.dir,))
            if not self.path.is_file() or self.path.stat().st_size == 0:
                return False
            os.replace(self.path, self.replaying)
            self._offload(_fsync_dir, (self.dir,))
            return True

    def read_chunk(self, max_records: int) -> Chunk | None:
        """Up to ``max_records`` lines from the cursor on; None when the replaying file is done."""
        offset = self._read_cursor()
        chunk = Chunk(end=offset)
        with self.replaying.open("rb") as f:
            f.seek(offset)
            while chunk.lines < max_records:
                line = f.readline()
                if not line:
                    break
                chunk.end += len(line)
                if not line.strip():
                    continue
                chunk.lines += 1
                if not line.endswith(b"\n"):  # repaired on open: only if the file changed under us
                    chunk.unreadable.append((line, "torn: the replaying file's last line has no end"))
                    continue
                try:
                    chunk.records.append(decode(line))
                except UNREADABLE as exc:
                    chunk.unreadable.append((line.rstrip(b"\n"), f"unreadable: {exc}"))
        return chunk if chunk.end > offset else None

    def advance(self, chunk: Chunk) -> None:
        """The chunk is in PostgreSQL (or the quarantine): keep that across a crash."""
        tmp = self.dir / (self.cursor.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, b"%d\n" % chunk.end)
            self._on_fd(os.fsync, fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.cursor)
        self._offload(_fsync_dir, (self.dir,))
        with self._mutex:
            self.count = max(self.count - chunk.lines, 0)

    def finish(self) -> None:
        """The replaying file is all in: remove it, its cursor first (a cursor outliving its
        file would skip the start of the next one; the reverse only sends it again)."""
        self.cursor.unlink(missing_ok=True)
        self._offload(_fsync_dir, (self.dir,))
        self.replaying.unlink(missing_ok=True)
        self._offload(_fsync_dir, (self.dir,))

    def _read_cursor(self) -> int:
        """The committed offset, or 0 (sending again is safe) if it is missing or makes no sense."""
        try:
            offset = int(self.cursor.read_text())
            size = self.replaying.stat().st_size
        except (OSError, ValueError):
            return 0
        if not 0 < offset <= size:
            return 0
        with self.replaying.open("rb") as f:
            f.seek(offset - 1)
            return offset if f.read(1) == b"\n" else 0

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            fd = os.open(self.dir / "spool.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # another process's turn: waited for off the loop
                    self._on_fd(fcntl.flock, fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)


def _lines(path: Path, offset: int) -> int:
    if not path.is_file():  # a device or nothing: no records there
        return 0
    with path.open("rb") as f:
        f.seek(offset)
        return sum(1 for line in f if line.strip())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, "short write to the spool")
        view = view[n:]


def _terminate_tail(fd: int) -> None:
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        _write_all(fd, b"\n")


def _after_last_newline(fd: int, size: int, block: int = 65536) -> int:
    end = size
    while end > 0:
        start = max(end - block, 0)
        i = os.pread(fd, end - start, start).rfind(b"\n")
        if i >= 0:
            return start + i + 1
        end = start
    return 0


def _closing(handed: list[int], fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        fd = handed.pop()
    except IndexError:  # its greenlet gave up and closed it
        return None
    try:
        return fn(fd, *args)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

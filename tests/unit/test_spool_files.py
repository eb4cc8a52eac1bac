"""The spool's files alone (no database): torn tails, failed appends, the replay cursor, the quarantine."""

from __future__ import annotations

import errno
import json
import resource
import signal
import stat
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fsapps.store.records import UsageRecord
from fsapps.store.spool import Refusal, Spool, decode, encode

T0 = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def record(i: int) -> UsageRecord:
    return UsageRecord(
        tenant_id="acme", resource="ivr", kind="ivr_session", started_at=T0 + timedelta(seconds=i),
        ended_at=T0 + timedelta(seconds=i + 30), workload=Decimal(30), unit="seconds", outcome="completed",
        event_id=f"00000000-0000-0000-0000-{i:012d}",
    )  # fmt: skip


def numbers(path: Path) -> list[int]:
    return [int(decode(line).event_id[-12:]) for line in path.read_text().splitlines()]


def quarantine(d: Path) -> list[dict]:
    path = d / "quarantine.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_a_whole_record_missing_only_its_newline_is_kept(tmp_path) -> None:
    # The crash came between the record and its newline: the record itself is whole.
    (tmp_path / "records.jsonl").write_text(encode(record(0)) + "\n" + encode(record(1)))
    spool = Spool(tmp_path)
    spool.append([record(2)])
    assert numbers(spool.path) == [0, 1, 2]
    assert quarantine(tmp_path) == []
    assert len(spool) == 3


def test_a_line_torn_after_open_is_repaired_before_the_next_append(tmp_path) -> None:
    spool = Spool(tmp_path)
    spool.append([record(0)])
    torn = encode(record(1))[:40]
    with spool.path.open("a") as f:  # another process sharing the directory died mid-append
        f.write(torn)
    spool.append([record(2)])
    assert numbers(spool.path) == [0, 2]
    [entry] = quarantine(tmp_path)
    assert (entry["line"], entry["reason"].split(":")[0]) == (torn, "torn")


def test_a_failed_append_leaves_no_partial_line_behind(tmp_path) -> None:
    spool = Spool(tmp_path)
    spool.append([record(0)])
    size = spool.path.stat().st_size
    # The kernel's own short write: a file size limit 100 bytes past the end (SIGXFSZ
    # ignored, so the write past it fails with EFBIG instead of killing the process).
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard))
    try:
        with pytest.raises(OSError) as failed:
            spool.append([record(1), record(2)])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert failed.value.errno == errno.EFBIG
    assert spool.path.stat().st_size == size  # the 100 bytes that went are gone again
    spool.append([record(3)])
    assert numbers(spool.path) == [0, 3]
    assert len(spool) == 2


def test_a_replay_resumes_at_its_cursor_and_new_records_wait_in_a_fresh_file(tmp_path) -> None:
    spool = Spool(tmp_path)
    spool.append([record(i) for i in range(10)])
    assert spool.begin()
    chunk = spool.read_chunk(4)
    assert chunk is not None
    assert [r.event_id for r in chunk.records] == [record(i).event_id for i in range(4)]
    spool.advance(chunk)
    spool.append([record(10)])  # written meanwhile
    assert numbers(spool.path) == [10]

    again = Spool(tmp_path)  # the process died here and starts again
    assert len(again) == 7
    sent: list[str] = []
    while again.begin():
        c = again.read_chunk(4)
        if c is None:
            again.finish()
            continue
        sent += [r.event_id for r in c.records]
        again.advance(c)
    assert sent == [record(i).event_id for i in range(4, 11)]
    assert len(again) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl") == []


def test_a_cursor_left_without_its_file_does_not_skip_the_next_one(tmp_path) -> None:
    (tmp_path / "records.replaying.offset").write_text("120\n")
    spool = Spool(tmp_path)
    spool.append([record(0), record(1)])
    assert spool.begin()
    chunk = spool.read_chunk(10)
    assert chunk is not None
    assert len(chunk.records) == 2


def test_lines_that_are_no_record_are_handed_back_with_why(tmp_path) -> None:
    (tmp_path / "records.jsonl").write_text(
        encode(record(0)) + "\nnot json\n" + '{"kind":"fax","record":{}}\n' + encode(record(1)) + "\n"
    )
    spool = Spool(tmp_path)
    assert spool.begin()
    chunk = spool.read_chunk(10)
    assert chunk is not None
    assert [r.event_id for r in chunk.records] == [record(0).event_id, record(1).event_id]
    assert [(line, why.split(":")[0]) for line, why in chunk.unreadable] == [
        (b"not json", "unreadable"),
        (b'{"kind":"fax","record":{}}', "unreadable"),
    ]
    spool.quarantine_lines(chunk.unreadable)
    assert [e["line"] for e in quarantine(tmp_path)] == ["not json", '{"kind":"fax","record":{}}']


def test_a_quarantined_record_says_why_and_when_and_reads_back_as_a_spool_line(tmp_path) -> None:
    spool = Spool(tmp_path, now=lambda: T0)
    rec = record(7)
    spool.quarantine([Refusal(rec, "violates foreign key constraint", "23503", "23")])
    [line] = (tmp_path / "quarantine.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert (entry["at"], entry["sqlstate"]) == (T0.isoformat(), "23503")
    assert entry["reason"] == "violates foreign key constraint"
    assert decode(line) == rec  # once its cause is fixed it can go back into records.jsonl


def test_the_directory_and_its_files_are_private(tmp_path) -> None:
    spool = Spool(tmp_path / "state" / "spool")
    spool.append([record(0)])
    assert spool.begin()
    chunk = spool.read_chunk(10)
    assert chunk is not None
    spool.advance(chunk)
    spool.quarantine([Refusal(record(1), "why", None, "client")])
    assert mode(spool.dir) == 0o700
    assert {p.name: mode(p) for p in spool.dir.iterdir()} == {
        "records.replaying.jsonl": 0o600,
        "records.replaying.offset": 0o600,
        "quarantine.jsonl": 0o600,
        "spool.lock": 0o600,
    }

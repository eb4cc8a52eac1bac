"""The spool against a real PostgreSQL: torn lines, refused records, long replays, crashes.

Each test starts from what a crash or a bad record leaves behind (a spool file
written here directly, as the process would have left it), then checks that
every record lands once in PostgreSQL or is set aside in the quarantine with
the reason: none silently dropped, none holding up the others.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import gevent
from prometheus_client import REGISTRY

from fsapps.store.batches import RecordBatches
from fsapps.store.durable import DurableWriter
from fsapps.store.records import Cdr, QueueCall, Tenant, UsageRecord
from tests.support.waiting import wait_for

T0 = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def record(i: int, tenant: str = "acme") -> UsageRecord:
    return UsageRecord(
        tenant_id=tenant, resource="ivr", kind="ivr_session", started_at=T0 + timedelta(seconds=i),
        ended_at=T0 + timedelta(seconds=i + 30), workload=Decimal(30), unit="seconds", outcome="completed",
    )  # fmt: skip


def cdr(**changes: object) -> Cdr:
    u = str(uuid.uuid4())
    c = Cdr(event_id=u, tenant_id="acme", call_uuid=u, leg_uuid=u, leg="a", direction="inbound",
            caller="1", destination="2", started_at=T0, answered_at=None, ended_at=T0, wait_seconds=0,
            billsec=0, duration=0, hangup_cause="NO_ANSWER")  # fmt: skip
    return replace(c, **changes)  # type: ignore[arg-type]


def spool_lines(n: int, start: int = 0) -> str:
    """n usage records as the spool keeps them (one JSON object a line), written fast."""
    return "".join(
        '{"kind":"usage","record":{"tenant_id":"acme","resource":"ivr","kind":"ivr_session",'
        '"started_at":"2026-11-05T12:00:00+00:00","ended_at":"2026-11-05T12:00:30+00:00","workload":"30",'
        f'"unit":"seconds","outcome":"completed","resource_id":null,"call_uuid":null,'
        f'"event_id":"{uuid.UUID(int=start + i)}"}}}}\n'
        for i in range(n)
    )


def add_acme(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))


def usage_ids(store) -> list[str]:
    with store.tenant("acme") as t:
        return [str(r["event_id"]) for r in t.conn.execute("SELECT event_id FROM usage_records")]


def count(store) -> tuple[int, int]:
    with store.tenant("acme") as t:
        row = t.conn.execute("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM usage_records")
        row = row.fetchone()
    return row["n"], row["d"]


def quarantine(spool: Path) -> list[dict]:
    path = spool / "quarantine.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def quarantined(kind: str, reason: str) -> float:
    labels = {"kind": kind, "reason": reason}
    return REGISTRY.get_sample_value("fsapps_records_quarantined_total", labels) or 0


def test_a_torn_last_line_does_not_swallow_the_next_record(store, tmp_path) -> None:
    add_acme(store)
    spool = tmp_path / "spool"
    spool.mkdir()
    torn = spool_lines(1, start=2)[:90]  # the process died writing the third record
    (spool / "records.jsonl").write_text(spool_lines(2) + torn)
    writer = DurableWriter(store, spool)  # the process starting again
    later = record(100)
    writer.write(later)  # two records still wait in the spool: this one queues behind them
    assert writer.replay() == 3
    assert sorted(usage_ids(store)) == sorted([str(uuid.UUID(int=0)), str(uuid.UUID(int=1)), later.event_id])
    [entry] = quarantine(spool)
    assert entry["line"] == torn
    assert entry["reason"].startswith("torn")
    assert writer.pending == 0


def test_records_postgresql_refuses_are_quarantined_and_the_others_replay(store, tmp_path) -> None:
    add_acme(store)
    good = [record(i) for i in range(10)]
    ghost = record(50, tenant="ghost")  # a tenant missing from tenants: foreign key
    bad_leg = cdr(leg="x")  # check constraint
    bad_uuid = cdr(call_uuid="not-a-uuid")  # data exception
    nul = replace(record(51), outcome="completed\x00")  # psycopg refuses it before sending
    lost = QueueCall(
        tenant_id="acme", queue="support", joined_at=T0, ended_at=T0, wait_seconds=3, outcome="lost"
    )
    kinds = (("usage", "23"), ("cdr", "23"), ("cdr", "22"), ("usage", "client"), ("queue_call", "23"))
    before = {k: quarantined(*k) for k in kinds}
    writer = DurableWriter(store, tmp_path / "spool")
    writer.spool.append([*good[:3], ghost, *good[3:6], bad_leg, nul, bad_uuid, lost, *good[6:]])
    assert writer.replay() == 10
    assert sorted(usage_ids(store)) == sorted(r.event_id for r in good)
    assert writer.pending == 0
    entries = quarantine(tmp_path / "spool")
    assert {e["record"]["event_id"]: e["sqlstate"] for e in entries} == {
        ghost.event_id: "23503",
        bad_leg.event_id: "23514",
        bad_uuid.event_id: "22P02",
        nul.event_id: None,
        lost.event_id: "23514",
    }
    assert all(e["reason"] and datetime.fromisoformat(e["at"]).tzinfo for e in entries)
    assert [quarantined(*k) - before[k] for k in before] == [1, 1, 1, 1, 1]
    assert stat.S_IMODE((tmp_path / "spool" / "quarantine.jsonl").stat().st_mode) == 0o600
    # The spool stays usable: what comes next goes straight in.
    writer.write(good[0], record(11))
    assert len(usage_ids(store)) == 11


def test_refusals_spread_over_many_chunks_and_a_whole_missing_tenant(store, tmp_path) -> None:
    add_acme(store)
    recs = [record(i, tenant="ghost" if i % 3 == 0 else "acme") for i in range(300)]
    writer = DurableWriter(store, tmp_path / "spool", chunk=64)
    writer.spool.append(recs)
    good = [r.event_id for r in recs if r.tenant_id == "acme"]
    assert writer.replay() == len(good)
    assert sorted(usage_ids(store)) == sorted(good)
    assert sorted(e["record"]["event_id"] for e in quarantine(tmp_path / "spool")) == sorted(
        r.event_id for r in recs if r.tenant_id == "ghost"
    )


def test_a_refused_record_in_a_live_batch_does_not_lose_the_others(store, tmp_path) -> None:
    add_acme(store)
    writer = DurableWriter(store, tmp_path / "spool")
    batches = RecordBatches(writer.write).start()
    a, ghost, b = record(0), record(1, tenant="ghost"), record(2)
    try:
        batches.put(a, ghost, b)  # one batch
        assert batches.flush(10)
    finally:
        batches.stop()
    assert sorted(usage_ids(store)) == sorted([a.event_id, b.event_id])
    assert [e["record"]["event_id"] for e in quarantine(tmp_path / "spool")] == [ghost.event_id]
    assert writer.spooled == 0  # the database was there all along
    assert writer.pending == 0


KILLED_WHILE_WRITING = """
import sys
from gevent import monkey
monkey.patch_all()
import gevent.event
from pathlib import Path
from fsapps.store.batches import RecordBatches
from fsapps.store.db import Store
from fsapps.store.durable import DurableWriter
from tests.integration.test_spool_replay import record

store = Store(sys.argv[1]).open()
writer = DurableWriter(store, sys.argv[2])
stall = gevent.event.Event()

def write(*records):
    writer.write(*records)  # in PostgreSQL now...
    print("written", len(records), flush=True)
    stall.wait()  # ...and killed before the journal learns it

batches = RecordBatches(write, journal=Path(sys.argv[2]) / "records.journal").start()
batches.put(record(0), record(1))
gevent.sleep(0.5)
batches.put(record(2), record(3))  # journaled, never handed to the writer
print("put", flush=True)
stall.wait()
"""


def test_records_a_killed_controller_held_land_once_when_it_comes_back(store, db_dsn, tmp_path) -> None:
    """SIGKILL between a call's state and its records' batch: the journal keeps them. The
    first batch reached PostgreSQL before the kill, the second never left memory; started
    again on the same spool, the batcher sends both: each record lands once."""
    add_acme(store)
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WHILE_WRITING, db_dsn, str(spool)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split() == ["written", "2"], proc.stderr.read() if proc.stderr else ""
        assert proc.stdout.readline().strip() == "put"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert count(store) == (2, 2)
    batches = RecordBatches(DurableWriter(store, spool).write, journal=spool / "records.journal").start()
    try:
        assert batches.flush(10)
    finally:
        batches.stop()
    assert batches.recovered == 4
    assert count(store) == (4, 4)
    assert (spool / "records.journal").read_bytes() == b""


def test_a_120000_record_spool_replays_while_new_records_queue_behind(store, tmp_path) -> None:
    add_acme(store)
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "records.jsonl").write_text(spool_lines(120_000))
    writer = DurableWriter(store, spool)  # the default 2 s database timeout
    assert writer.pending == 120_000
    replaying = gevent.spawn(writer.replay)
    assert wait_for(lambda: (spool / "records.replaying.jsonl").exists(), timeout=10)
    later = [record(i) for i in range(5)]
    for r in later:
        writer.write(r)  # queued behind the replay, not waiting for it
    assert not replaying.dead
    assert replaying.get(timeout=60) == 120_005
    assert count(store) == (120_005, 120_005)
    assert writer.pending == 0


def test_a_bounded_replay_sends_that_many_chunks_and_leaves_the_rest_waiting(store, tmp_path) -> None:
    add_acme(store)
    writer = DurableWriter(store, tmp_path / "spool", chunk=100)
    writer.spool.append([record(i) for i in range(250)])
    assert writer.replay(max_chunks=2) == 200
    assert writer.pending == 50
    assert writer.db_down is False  # never seen down
    assert writer.replay() == 50
    assert count(store) == (250, 250)


CRASHING_REPLAY = """
from gevent import monkey
monkey.patch_all()
import sys
from fsapps.store.db import Store
from fsapps.store.durable import DurableWriter
DurableWriter(Store(sys.argv[1], max_size=2).open(), sys.argv[2], chunk=int(sys.argv[3])).replay()
"""


def test_a_crash_mid_replay_sends_at_most_one_chunk_again(store, db_dsn, tmp_path) -> None:
    add_acme(store)
    spool = tmp_path / "spool"
    spool.mkdir()
    n, chunk = 60_000, 500
    (spool / "records.jsonl").write_text(spool_lines(n))
    cursor = spool / "records.replaying.offset"

    def progress() -> int:
        try:
            return int(cursor.read_text())
        except (FileNotFoundError, ValueError):
            return 0

    proc = subprocess.Popen([sys.executable, "-c", CRASHING_REPLAY, db_dsn, str(spool), str(chunk)])
    try:
        assert wait_for(progress, timeout=30, poll=0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    done = (spool / "records.replaying.jsonl").read_bytes()[: progress()].count(b"\n")
    landed = count(store)[0]
    assert 0 < done < n
    assert 0 <= landed - done <= chunk  # beyond the cursor: at most the chunk committed as it died
    writer = DurableWriter(store, spool)  # started again
    assert writer.pending == n - done
    assert writer.replay() == n - done
    assert count(store) == (n, n)


def test_the_spool_is_private_to_its_owner(store, tmp_path) -> None:
    spool = tmp_path / "state" / "spool"
    writer = DurableWriter(store, spool)
    writer.spool.append([record(0)])
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
    assert stat.S_IMODE((spool / "records.jsonl").stat().st_mode) == 0o600
    old = tmp_path / "old"
    old.mkdir(mode=0o755)  # made by an earlier version
    old.chmod(0o755)
    DurableWriter(store, old)
    assert stat.S_IMODE(old.stat().st_mode) == 0o700


def test_a_quarantined_line_appended_to_records_jsonl_is_replayed_when_fsapps_starts(
    store, db_dsn, tmp_path
) -> None:
    """As the README tells an operator: once its cause is fixed (here the missing tenant is
    added), a quarantined line appended as it is, with fsapps stopped, to ``records.jsonl``
    goes into PostgreSQL when ``fsapps serve`` starts on that state directory; once."""
    add_acme(store)
    state = tmp_path / "var"
    good, ghost = record(0), record(1, tenant="ghost")
    writer = DurableWriter(store, state / "spool")
    writer.spool.append([good, ghost])
    assert writer.replay() == 1
    [line] = (state / "spool" / "quarantine.jsonl").read_text().splitlines()
    with store.operator() as op:
        op.add_tenant(Tenant("ghost", "Ghost", "ghost.example"))
    with (state / "spool" / "records.jsonl").open("a") as spool:  # >> records.jsonl
        spool.write(line + "\n")

    def ghost_ids() -> list[str]:
        with store.tenant("ghost") as t:
            return [str(r["event_id"]) for r in t.conn.execute("SELECT event_id FROM usage_records")]

    assert ghost_ids() == []
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSAPPS_")}
    env.update(FSAPPS_DATABASE_DSN=db_dsn, FSAPPS_STATE_DIR=str(state), FSAPPS_CONTROLLER_PORT="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "serve"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert wait_for(lambda: ghost_ids() == [ghost.event_id], timeout=60), proc.poll()
    finally:
        proc.terminate()
        code = proc.wait(30)
    assert code == 0, proc.stderr.read() if proc.stderr else ""
    assert ghost_ids() == [ghost.event_id] and usage_ids(store) == [good.event_id]

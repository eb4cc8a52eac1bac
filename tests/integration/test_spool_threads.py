"""The durable writer in FreeSWITCH's call threads (mod_python3): real OS threads, no gevent patching.

The test process is patched by gevent (tests/conftest.py), so the threads run
in a process of their own, as fsapps.embedded builds its writer: a
ThreadedWriter that replays what waits before each write.
"""

from __future__ import annotations

import json
import subprocess
import sys

from fsapps.store.records import Tenant
from tests.integration.test_spool_replay import count, spool_lines

CALL_THREADS = """
import sys, threading
from dataclasses import replace
from psycopg.conninfo import make_conninfo
from fsapps.apps.embedded import ThreadedWriter
from fsapps.store.db import Store
from fsapps.store.durable import DurableWriter
from tests.integration.test_spool_replay import record

from gevent import monkey
assert not monkey.is_module_patched("threading") and not monkey.is_module_patched("socket")
dsn = make_conninfo(sys.argv[1], connect_timeout=2, options="-c statement_timeout=2000")
store = Store(dsn, max_size=10).open()
writer = ThreadedWriter(DurableWriter(store, sys.argv[2], chunk=500))

def call(k):
    for i in range(50):
        rec = record(10_000 + k * 100 + i)
        writer.write(replace(rec, tenant_id="ghost") if i == 7 else rec)

threads = [threading.Thread(target=call, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
writer.writer.replay()
print(writer.writer.pending, writer.writer.quarantined)
"""


def test_call_threads_write_while_a_spool_replays_and_lose_nothing(store, db_dsn, tmp_path) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    spool = tmp_path / "spool"
    spool.mkdir()
    ghost = json.loads(spool_lines(1, start=999_999))
    ghost["record"]["tenant_id"] = "ghost"  # a tenant missing from tenants
    (spool / "records.jsonl").write_text(
        spool_lines(3000) + json.dumps(ghost) + "\n" + spool_lines(2000, start=3000)
    )
    done = subprocess.run(
        [sys.executable, "-c", CALL_THREADS, db_dsn, str(spool)], capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "9"]  # nothing waits; the ghost's records set aside
    assert count(store) == (5000 + 8 * 49, 5000 + 8 * 49)
    quarantined = [
        json.loads(line)["record"] for line in (spool / "quarantine.jsonl").read_text().splitlines()
    ]
    assert [r["tenant_id"] for r in quarantined] == ["ghost"] * 9
    assert ghost["record"]["event_id"] in {r["event_id"] for r in quarantined}

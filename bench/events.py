"""The HTTP API's live event stream: from an ACD state change to the event read by a
server-sent events client over real HTTP (embedded PostgreSQL, the API on its gevent
server, a tenant admin's stream), while another controller publishes a call
center's other events (offers, legs, callers, figures) at R calls/s.

Three paths, each timed from the change to the ``agent_state`` event read off the stream:

1. a state change of the API's own controller (its notifier);
2. one of another controller (its notifier, its relay's NOTIFY, the API's LISTEN);
3. a status change committed in the database (as ``fsapps agent status`` makes it).

The bounds, run in the same process: the raw in-process notifier (publish -> a
subscriber's get on another greenlet), and a bare NOTIFY round trip on the same database.

    python bench/events.py [--changes 300] [--rate 20]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The percentile and the bare NOTIFY round trip acd_live measures its wake-ups against.
from acd_live import notify_round_trip, pct  # noqa: E402

from fsapps.acd.notifier import (  # noqa: E402
    AgentStateChanged,
    LegChanged,
    MemberChanged,
    Notifier,
    OfferMade,
    QueueFigures,
)
from fsapps.acd.relay import Relay  # noqa: E402
from fsapps.httpserve import wsgi_server  # noqa: E402
from fsapps.store import acd, migrate  # noqa: E402
from fsapps.store import api as repo  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.records import Tenant  # noqa: E402
from fsapps.web.app import ApiContext, make_app  # noqa: E402
from fsapps.web.live import LiveEvents, StreamSlots  # noqa: E402

EVENTS_PER_CALL = 8  # besides the agents' states: offer, legs, the caller joining, answered, leaving, figures


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5) * 1000:.2f} ms, p99 {pct(values, 0.99) * 1000:.2f} ms"


def notifier_bound(n: int) -> list[float]:
    """publish -> get on another greenlet, raw."""
    notifier = Notifier()
    sub = notifier.subscribe()
    out: list[float] = []

    def read() -> None:
        for item in sub:
            out.append(time.time() - item.event.at)
            if len(out) == n:
                return

    reader = gevent.spawn(read)
    for _ in range(n):
        notifier.publish(AgentStateChanged("x", "Waiting", "Available", time.time()))
        gevent.sleep(0.001)
    reader.join(10)
    return out


class Reader:
    """A tenant admin's stream, read on its own greenlet: per agent, each agent_state's delay."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", "/api/v1/tenants/bench/events", headers={"Authorization": f"Bearer {token}"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.read()
        self.delays: dict[str, list[float]] = {}
        self.events = 0
        self.greenlet = gevent.spawn(self._read)

    def _read(self) -> None:
        kind = ""
        while raw := self.resp.readline():
            line = raw.decode()
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: "):
                self.events += 1
                if kind == "agent_state":
                    data = json.loads(line[6:])
                    self.delays.setdefault(data["agent"], []).append(time.time() - data["at"])

    def wait(self, agent: str, n: int, timeout: float = 30) -> list[float]:
        deadline = time.monotonic() + timeout
        while len(self.delays.get(agent, [])) < n and time.monotonic() < deadline:
            gevent.sleep(0.01)
        return self.delays.get(agent, [])


def background(notifier: Notifier, rate: float, stop: gevent.event.Event) -> None:
    """Another controller's call center at ``rate`` calls/s: each call's other events."""
    i = 0
    screen_pop = (("fsapps_member", "m"), ("cn_name", "Li Lei"), ("cn_balance", "42.50"))
    while not stop.is_set():
        i += 1
        m, now = f"m{i}", time.time()
        for e in (
            MemberChanged("bench", "q", m, "joined", now),
            OfferMade("bench", "q", m, "b9", f"l{i}", screen_pop, now),
            LegChanged("bench", "q", m, f"l{i}", "answered", now, agent="b9"),
            LegChanged("bench", "q", m, f"l{i}", "bridged", now, agent="b9"),
            MemberChanged("bench", "q", m, "answered", now, agent="b9"),
            LegChanged("bench", "q", m, f"l{i}", "unbridged", now, agent="b9"),
            MemberChanged("bench", "q", m, "left", now, agent="b9", outcome="answered"),
            QueueFigures("bench", "q", i % 7, float(i % 30), (("Available", "Waiting", i % 5),), now),
        ):
            notifier.publish(e)
        gevent.sleep(1.0 / rate)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--changes", type=int, default=300, help="state changes timed per path")
    p.add_argument("--rate", type=float, default=20.0, help="calls/s of the other controller's load")
    a = p.parse_args()
    spacing = 1.0 / (3 * a.rate)  # about three agent state changes a call
    with tempfile.TemporaryDirectory(prefix="fsapps-bench-events-") as d:
        pg = EmbeddedPostgres(Path(d) / "pg")
        dsn = pg.start()
        migrate.migrate(dsn)
        store = Store(dsn, max_size=20).open()
        with store.operator() as op:
            op.add_tenant(Tenant("bench", "Bench", "bench.example", "UTC"))
            for agent in ("b0", "b1", "b2", "b9"):
                op.add_agent(agent, agent, {"bench": 1})
                acd.ensure_agent(op.conn, agent)
        with store.tenant("bench") as t:
            token = t.issue_token(t.add_user("admin", "a-long-password", "tenant_admin").id, "bench")

        def agent_tenants() -> dict[str, frozenset[str]]:
            with store.operator() as op:
                return repo.agent_tenants(op)

        # The API's process: its controller's notifier and relay; another controller's beside it.
        own, other = Notifier(), Notifier()
        live = LiveEvents(agent_tenants).start()
        own.listen(lambda item: live.put(item.event))
        api_relay = Relay(dsn, own, "api").start()
        api_relay.follow(live.put, resumed=live.restart)
        other_relay = Relay(dsn, other, "other").start()
        assert api_relay.listening.wait(10)
        ctx = ApiContext(store, lambda tenant: {}, live=live, streams=StreamSlots(10))
        server = wsgi_server("127.0.0.1", 0, make_app(ctx), read_timeout=30, max_connections=50)
        server.start()
        stop = gevent.event.Event()
        try:
            reader = Reader(server.server_port, token)
            load = gevent.spawn(background, other, a.rate, stop)
            print(f"state change -> SSE client, {a.changes} changes per path,"
                  f" another controller at {a.rate:g} calls/s")  # fmt: skip

            def timed(agent: str, change: object) -> list[float]:
                for i in range(a.changes):
                    change(agent, "Available" if i % 2 else "On Break")  # type: ignore[operator]
                    gevent.sleep(spacing)
                return reader.wait(agent, a.changes)

            def by(notifier: Notifier) -> object:
                return lambda ag, st: notifier.publish(AgentStateChanged(ag, "Waiting", st, time.time()))

            local = timed("b0", by(own))
            relayed = timed("b1", by(other))

            def in_db(agent: str, status: str) -> None:
                with store.operator() as op:
                    acd.set_status(op.conn, agent, status, time.time())

            database = timed("b2", in_db)
            stop.set()
            load.join(5)
            bound = notifier_bound(a.changes)
            rt = notify_round_trip(dsn, a.changes)
            print(f"    (1) own controller      {len(local)}/{a.changes}: {ms(local)}")
            print(f"    (2) another controller  {len(relayed)}/{a.changes}: {ms(relayed)}")
            print(f"    (3) committed in the db {len(database)}/{a.changes}: {ms(database)}")
            print(f"    events on the stream meanwhile: {reader.events}")
            print(f"    in-process notifier publish -> get (bound): {ms(bound)}")
            print(f"    NOTIFY round trip (bound): {ms(rt)}")
            b99, n99 = max(pct(bound, 0.99), 1e-6), max(pct(rt, 0.99), 1e-6)
            print(f"    ratio (p99): own {pct(local, 0.99) / b99:.1f}x the notifier;"
                  f" another controller {pct(relayed, 0.99) / n99:.1f}x, db {pct(database, 0.99) / n99:.1f}x"
                  " the NOTIFY round trip")  # fmt: skip
        finally:
            stop.set()
            server.stop(timeout=1)
            api_relay.stop()
            other_relay.stop()
            live.stop()
            store.close()
            pg.close()


if __name__ == "__main__":
    main()

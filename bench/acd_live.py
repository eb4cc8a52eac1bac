"""ACD end to end (bench/acd.py part c): emulator + controller + embedded PostgreSQL.

1. Enqueue -> bridge: callers arrive at R calls/s into a queue whose agents
   (more than the callers in flight) answer at once; per call, from the
   queue application's first command (the caller joins) to CHANNEL_BRIDGE on
   the caller, by the switch's event clock. The peer run in the same process
   bridges the same callers straight to an agent from the dialplan (no
   controller, no queue): what the switch alone costs.
2. Agent available -> offer: callers wait with every agent logged out; one
   agent at a time is made Available (a status change in PostgreSQL, as a
   supervisor's or another controller's would be) and we time until the
   switch creates that agent's leg. The bound: a bare NOTIFY round trip on
   the same database, the wake-up every cross-controller change needs.

    python bench/acd_live.py [--calls 200] [--rate 20] [--agents 40] [--offers 50]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsapps.apps.context import AppContext  # noqa: E402
from fsapps.config import ControllerSettings, Settings  # noqa: E402
from fsapps.controller import Controller  # noqa: E402
from fsapps.flows.check import check  # noqa: E402
from fsapps.sim.dialplan import StaticDialplan  # noqa: E402
from fsapps.sim.endpoints import CallerScript, Endpoint  # noqa: E402
from fsapps.sim.switch import Switch  # noqa: E402
from fsapps.store import acd, migrate  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.records import Tenant  # noqa: E402

TENANT = """id: bench
name: Bench
domain: bench.example
timezone: UTC
language: en
access_numbers: {"7000": main}
queues:
  q: {strategy: longest-idle-agent, tiers: [AGENTS]}
"""
FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: q}, children: {_: bye}}
  bye: {type: hangup}
"""


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def ms(values: list[float]) -> str:
    p50, p99, top = pct(values, 0.5) * 1000, pct(values, 0.99) * 1000, max(values) * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {top:.1f} ms"


def stamp(e) -> float:
    return int(e.get("Event-Date-Timestamp")) / 1e6


def run_calls(switch: Switch, number: str, calls: int, rate: float, talk: float) -> tuple[list[float], float]:
    """Place ``calls`` at ``rate``; per caller, the time from the queue's first command
    (or, for the peer, the first application) to CHANNEL_BRIDGE."""
    events: list = []
    with switch.watching(events.append):
        t0 = time.monotonic()
        placed = []
        for i in range(calls):
            placed.append(switch.place_call(number, caller_id_number=f"1555{i:06d}", script=CallerScript()))
            gevent.sleep(max(0.0, t0 + (i + 1) / rate - time.monotonic()))
        for ch in placed:
            ch.destroyed.wait(60)
        elapsed = time.monotonic() - t0
    mine = {ch.uuid for ch in placed}
    start: dict[str, float] = {}
    out = []
    for e in events:
        uid = e.get("Unique-ID")
        if uid not in mine:
            continue
        data = e.get("Application-Data") or ""
        if (
            e.name == "CHANNEL_EXECUTE"
            and uid not in start
            and (data.startswith("fsapps_queue=") or e.get("Application") == "bridge")
        ):
            start[uid] = stamp(e)
        elif e.name == "CHANNEL_BRIDGE" and uid in start:
            out.append(stamp(e) - start.pop(uid))
    return out, calls / elapsed


def notify_round_trip(dsn: str, n: int) -> list[float]:
    out = []
    with psycopg.connect(dsn, autocommit=True) as listen, psycopg.connect(dsn, autocommit=True) as talk:
        listen.execute("LISTEN bench")
        for _ in range(n):
            t = time.monotonic()
            talk.execute("SELECT pg_notify('bench', '')")
            next(listen.notifies(timeout=5, stop_after=1))
            out.append(time.monotonic() - t)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--agents", type=int, default=40)
    p.add_argument("--offers", type=int, default=50)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="fsapps-bench-acd-") as d:
        root = Path(d) / "dialplan"
        (root / "bench" / "flows").mkdir(parents=True)
        agents = [f"b{i}" for i in range(a.agents)]
        (root / "operator.yaml").write_text("controllers: [127.0.0.1:9]\n")
        (root / "bench" / "tenant.yaml").write_text(TENANT.replace("AGENTS", ", ".join(agents)))
        (root / "bench" / "flows" / "main.yaml").write_text(FLOW)
        project = check(root)
        assert project.problems == [], project.problems
        pg = EmbeddedPostgres(Path(d) / "pg")
        dsn = pg.start()
        migrate.migrate(dsn)
        store = Store(dsn, max_size=20).open()
        switch = Switch(speed=1.0)
        ctx = AppContext(project, store=store)
        controller = Controller(
            Settings(
                controller=ControllerSettings(listen="127.0.0.1", port=0), state_dir=str(Path(d) / "state")
            ),
            store=store,
            context=ctx,
        )
        ctx.records = controller.writer
        controller.start()
        try:
            with store.operator() as op:
                op.add_tenant(Tenant("bench", "Bench", "bench.example", "UTC"))
                for agent in agents:
                    op.add_agent(agent, agent, {"bench": 1}, f"sofia/external/{agent}@127.0.0.1:5080")
                    acd.ensure_agent(op.conn, agent)
                    acd.set_status(op.conn, agent, "Available", 0)
            talk = 0.5
            for agent in agents:
                switch.register_user(agent, Endpoint(answer_after=0.0, hangup_after=talk))
            dp = StaticDialplan()
            handoff = [
                ("answer", ""), ("set", "fsapps_tenant=bench"), ("set", "fsapps_flow=main"),
                ("set", "fsapps_node=wait"), ("set", "socket_resume=true"),
                ("socket", f"127.0.0.1:{controller.server.port}/flow async full"), ("hangup", ""),
            ]  # fmt: skip
            dp.add("public", "^7000$", handoff)
            dp.add(
                "public", "^7001$", [("answer", ""), ("bridge", f"sofia/external/{agents[0]}@127.0.0.1:5080")]
            )
            switch.dialplan = dp
            switch.start()

            print(
                f"(1) enqueue -> bridge, {a.calls} calls at {a.rate:g}/s, {a.agents} agents answering at once"
            )
            run_calls(switch, "7000", min(20, a.calls), a.rate, talk)  # warm up
            acd_times, acd_rate = run_calls(switch, "7000", a.calls, a.rate, talk)
            peer_calls = min(a.calls, 50)
            peer_times, _ = run_calls(switch, "7001", peer_calls, min(a.rate, 1.0 / (talk + 0.2)), talk)
            ratio = pct(acd_times, 0.5) / max(pct(peer_times, 0.5), 1e-6)
            print(
                f"    fsapps ACD      {len(acd_times)}/{a.calls} bridged ({acd_rate:.1f}/s): {ms(acd_times)}"
            )
            print(f"    dialplan bridge {len(peer_times)}/{peer_calls} bridged (no queue): {ms(peer_times)}")
            print(f"    ratio (p50): {ratio:.1f}x the switch's own bridge")

            print(f"(2) agent made available -> offered, {a.offers} times, callers waiting")
            with store.operator() as op:
                for agent in agents:
                    acd.set_status(op.conn, agent, "Logged Out", 0)
            waiting = [switch.place_call("7000", caller_id_number=f"1666{i:06d}", script=CallerScript())
                       for i in range(a.offers)]  # fmt: skip
            gevent.sleep(2.0)
            events: list = []
            offers = []
            with switch.watching(events.append):
                for i in range(a.offers):
                    agent = agents[i % len(agents)]
                    before = len(events)
                    t = time.monotonic()
                    with store.operator() as op:
                        acd.set_status(op.conn, agent, "Available", time.time())
                    while not any(e.name == "CHANNEL_CREATE" and f"/{agent}@" in (e.get("Channel-Name") or "")
                                  for e in events[before:]):  # fmt: skip
                        if time.monotonic() - t > 5:
                            break
                        gevent.sleep(0.0005)
                    offers.append(time.monotonic() - t)
                    with store.operator() as op:
                        acd.set_status(op.conn, agent, "Logged Out", time.time())
                    gevent.sleep(talk + 0.3)
            bound = notify_round_trip(dsn, a.offers)
            print(f"    fsapps ACD: {ms(offers)}")
            print(f"    NOTIFY round trip (bound): {ms(bound)}")
            print(f"    ratio (p99): {pct(offers, 0.99) / max(pct(bound, 0.99), 1e-6):.1f}x the bound")
            for ch in waiting:
                switch.api("uuid_kill", ch.uuid)
        finally:
            controller.stop(grace=1.0)
            switch.stop()
            store.close()
            pg.close()


if __name__ == "__main__":
    main()

"""A controller killed with SIGKILL under load, on one real FreeSWITCH.

sipp callers at --rate calls/s into an fsapps queue whose agents are sipp UAS
phones answering at once and staying until the switch hangs up; each caller
stays --talk seconds after the flow answers (waiting, then talking) and hangs
up. Two controllers (``fsapps serve``, one PostgreSQL) are in the dialplan's
list; the first takes every call until, --kill-at seconds into the load, it is
killed with SIGKILL, and started again on its state directory once the load
is over (as a supervisor would). Fewer agents than callers in flight, so some callers are
waiting at that moment. Printed, from the switch's events and the store:

- bridged at the kill: callers talking to an agent then; **dropped**: those
  whose conversation the switch ended before the caller did (the agent leg
  unbridged before the caller's own BYE, or the switch sent the caller BYE);
- **records**: per caller served, its answered ``queue_calls`` row and its agent
  usage record, missing or doubled;
- **stuck agents**: agents not Waiting, or still holding an offer, 10 s after
  the last caller hung up;
- waiting at the kill: how long until each was bridged again, and whether they
  were served in the order they entered the queue (their place kept).

A benchmark, not a test: it prints, nothing asserts.

    ./dev bench controller_kill [--rate 5] [--seconds 30] [--talk 20] [--kill-at 25]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import math  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# bench/ is the script's directory: the real-switch ACD bench's tenant, phones and callers.
from realswitch import (  # noqa: E402
    FSAPPS_NUMBER,
    bench_tenant,
    one_ms_clock,
    place_calls,
    seed_agents,
    stamp,
    start_controller,
    start_phones,
)

from fsapps.esl import codec  # noqa: E402
from fsapps.esl.client import Connection  # noqa: E402
from fsapps.flows.install import install  # noqa: E402
from fsapps.store import migrate  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.testing.freeswitch import RealSwitch, free_port  # noqa: E402

EVENTS = ["CHANNEL_EXECUTE", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP"]
DROP_SLACK = 0.5  # seconds an unbridge may precede the caller's own hangup (the BYE's way)


class Caller:
    def __init__(self, uuid: str, entered: float) -> None:
        self.uuid, self.entered = uuid, entered
        self.bridges: list[float] = []
        self.unbridges: list[float] = []
        self.sockets: list[float] = []  # each hand-off to a controller's queue
        self.hangup: float | None = None
        self.disposition = ""


def callers_from(events: list[codec.Event]) -> dict[str, Caller]:
    callers: dict[str, Caller] = {}
    for e in events:
        uid, ts = e.get("Unique-ID") or "", stamp(e)
        if e.name == "CHANNEL_EXECUTE":
            if e.get("Application") == "socket" and "/flow" in (e.get("Application-Data") or ""):
                callers.setdefault(uid, Caller(uid, ts)).sockets.append(ts)
        elif e.name in ("CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE"):
            for side in ("Bridge-A-Unique-ID", "Bridge-B-Unique-ID"):
                c = callers.get(e.get(side) or "")
                if c is not None:
                    (c.bridges if e.name == "CHANNEL_BRIDGE" else c.unbridges).append(ts)
        elif e.name == "CHANNEL_HANGUP" and uid in callers:
            callers[uid].hangup = ts
            callers[uid].disposition = e.get("variable_sip_hangup_disposition") or ""
    return callers


def talking_at(c: Caller, t: float) -> bool:
    began = [b for b in c.bridges if b <= t]
    ended = [u for u in c.unbridges if u <= t]
    return len(began) > len(ended)


def dropped(c: Caller) -> bool:
    """The switch ended the conversation, not the caller."""
    if c.disposition and c.disposition != "recv_bye":
        return True
    if c.hangup is None:
        return True
    return any(u < c.hangup - DROP_SLACK for u in c.unbridges)


ORDER_SLACK = 0.5  # seconds: callers offered together may be bridged in either order


def inversions(order: list[str], by: dict[str, float]) -> int:
    """Pairs served more than ORDER_SLACK apart in the other order than they entered."""
    return sum(1 for i, a in enumerate(order) for b in order[i + 1 :] if by[b] < by[a] - ORDER_SLACK)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=5.0, help="calls per second")
    p.add_argument("--seconds", type=float, default=30.0, help="seconds of calls")
    p.add_argument("--talk", type=float, default=20.0, help="seconds a caller stays after the answer")
    p.add_argument("--kill-at", type=float, default=25.0, help="seconds into the load the kill comes")
    p.add_argument("--agents", type=int, default=0, help="agents (default: 80%% of the callers in flight)")
    p.add_argument("--details", action="store_true", help="print each waiting caller's timeline")
    a = p.parse_args()
    calls = int(a.rate * a.seconds)
    agents = a.agents or max(2, int(a.rate * a.talk * 0.8))
    with tempfile.TemporaryDirectory(prefix="fsapps-bench-kill-") as tmp:
        d = Path(tmp)
        phones = start_phones(d, 2)
        fs = pg = store = first = second = watch = None
        try:
            names = [(f"fa{i}", phones[i % 2].contact(f"fa{i}")) for i in range(agents)]
            ports = free_port(), free_port()
            root = d / "dialplan"
            files = bench_tenant(root, list(ports), names)
            pg = EmbeddedPostgres(d / "pg")
            dsn = pg.start()
            migrate.migrate(dsn)
            store = Store(dsn, max_size=2).open()
            seed_agents(store, names)

            def prepare(conf: Path) -> None:
                install(files, conf)
                one_ms_clock(conf)

            fs = RealSwitch.from_env(prepare=prepare).start()
            events: list[codec.Event] = []
            watch = Connection("127.0.0.1", fs.esl_port, fs.password)
            watch.connect()
            watch.on("*", events.append)
            watch.subscribe(EVENTS)
            (d / "a").mkdir()
            (d / "b").mkdir()
            first = start_controller(d / "a", fs, dsn, root, ports[0])
            second = start_controller(d / "b", fs, dsn, root, ports[1])
            print(
                f"A controller killed under load on one FreeSWITCH ({fs.prefix.name}): {calls} callers at"
                f" {a.rate:g}/s, each staying {a.talk:g} s after the answer; {agents} agents answering at"
                f" once; two controllers in the dialplan's list, the first killed with SIGKILL"
                f" {a.kill_at:g} s into the load."
            )
            load = gevent.spawn(place_calls, fs.sip_port("external"), FSAPPS_NUMBER, calls, a.rate, a.talk,
                                d / "callers")  # fmt: skip
            gevent.sleep(a.kill_at)
            killed_at = time.time()
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            sipp_ok = load.get()
            # As systemd would: the killed controller comes back on its state directory and
            # replays what it had spooled but not yet written.
            first = start_controller(d / "a", fs, dsn, root, ports[0])
            last = max((stamp(e) for e in events if e.name == "CHANNEL_HANGUP"), default=time.time())
            gevent.sleep(max(0.0, last + 10 - time.time()))
            stuck = store_rows(store, "SELECT agent_id, state, offered_member FROM agent_state"
                                      " WHERE state <> 'Waiting' OR offered_member IS NOT NULL")  # fmt: skip
            rows = store_rows(store, "SELECT call_uuid::text AS u, count(*) AS n FROM queue_calls"
                                     " WHERE outcome = 'answered' GROUP BY call_uuid")  # fmt: skip
            usage = store_rows(store, "SELECT call_uuid::text AS u, count(*) AS n FROM usage_records"
                                      " WHERE resource = 'agent' GROUP BY call_uuid")  # fmt: skip
            callers = callers_from(events)
            report(callers, killed_at, sipp_ok, calls, stuck, rows, usage, a.details)
            if a.details:
                late = [c.uuid for c in callers.values() if len([t for t in c.sockets if t > killed_at]) > 1]
                for who in ("a", "b"):
                    for line in (d / who / "controller.log").read_text(errors="replace").splitlines():
                        if any(u in line for u in late):
                            print(f"  {who}: {line[:400]}")
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            if watch is not None:
                watch.stop()
            if fs is not None:
                fs.cleanup()
            for ph in phones:
                ph.stop()
            if store is not None:
                store.close()
            if pg is not None:
                pg.close()


def store_rows(store: Store, sql: str) -> list[dict]:
    with store.operator() as op:
        return op.conn.cursor(row_factory=dict_row).execute(sql).fetchall()


def report(
    callers: dict[str, Caller], killed_at: float, sipp_ok: int, calls: int,
    stuck: list[dict], rows: list[dict], usage: list[dict], details: bool = False,
) -> None:  # fmt: skip
    talking = [c for c in callers.values() if talking_at(c, killed_at)]
    waiting = sorted(
        (c for c in callers.values()
         if c.entered <= killed_at and not any(b <= killed_at for b in c.bridges)
         and (c.hangup is None or c.hangup > killed_at)),
        key=lambda c: c.entered,
    )  # fmt: skip
    lost = [c for c in talking if dropped(c)]
    served = [c for c in callers.values() if c.bridges]
    answered = {r["u"]: int(r["n"]) for r in rows}
    billed = {r["u"]: int(r["n"]) for r in usage}
    for c in served:
        if answered.get(c.uuid, 0) != 1 or billed.get(c.uuid, 0) != 1:
            print(f"  caller {c.uuid}: answered {answered.get(c.uuid, 0)}, usage {billed.get(c.uuid, 0)};"
                  f" bridged {[round(b - killed_at, 2) for b in c.bridges]} s from the kill,"
                  f" hung up {round((c.hangup or math.nan) - killed_at, 2)} s ({c.disposition})")  # fmt: skip
    missing = sum(1 for c in served if answered.get(c.uuid, 0) == 0)
    doubled = sum(1 for c in served if answered.get(c.uuid, 0) > 1)
    unbilled = sum(1 for c in served if billed.get(c.uuid, 0) == 0)
    billed_twice = sum(1 for c in served if billed.get(c.uuid, 0) > 1)
    reoffered = {c.uuid: min(c.bridges) for c in waiting if c.bridges}
    after = sorted(t - killed_at for t in reoffered.values())
    print(f"\n{len(callers)} callers entered the queue, {len(served)} served;"
          f" sipp: {sipp_ok}/{calls} ended as scripted (a BYE from the switch first fails it)")  # fmt: skip
    print(f"bridged at the kill: {len(talking)}; dropped: {len(lost)}")
    print(f"records of the {len(served)} served: queue_calls answered missing {missing}, doubled {doubled};"
          f" agent usage records missing {unbilled}, doubled {billed_twice}")  # fmt: skip
    print(f"agents stuck 10 s after the last hangup: {len(stuck)}"
          + (f" {[(r['agent_id'], r['state']) for r in stuck[:5]]}" if stuck else ""))  # fmt: skip
    if waiting:
        p50 = after[len(after) // 2] if after else math.nan
        top = after[-1] if after else math.nan
        back = sorted(min(t for t in c.sockets if t > killed_at) - killed_at
                      for c in waiting if any(t > killed_at for t in c.sockets))  # fmt: skip
        print(f"waiting at the kill: {len(waiting)}; handed to the other controller again: {len(back)},"
              f" {back[len(back) // 2] if back else math.nan:.2f} s after the kill (p50),"
              f" {back[-1] if back else math.nan:.2f} s (max)")  # fmt: skip
        if details:
            for i, c in enumerate(waiting):
                print(f"  waiting #{i}: entered {c.entered - killed_at:+.2f} s, handed again"
                      f" {[round(t - killed_at, 2) for t in c.sockets if t > killed_at]},"
                      f" bridged {[round(b - killed_at, 2) for b in c.bridges]}")  # fmt: skip
        order = [c.uuid for c in waiting if c.uuid in reoffered]
        print(f"waiting at the kill: {len(waiting)}; bridged again: {len(reoffered)},"
              f" {p50:.1f} s after the kill (p50), {top:.1f} s (max);"
              f" pairs served out of entry order (over {ORDER_SLACK:g} s apart):"
              f" {inversions(order, reoffered)}")  # fmt: skip
    else:
        print("waiting at the kill: none (raise --rate or lower --agents)")


if __name__ == "__main__":
    main()

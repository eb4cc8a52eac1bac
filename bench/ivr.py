"""IVR sessions through the emulator and the controller: a 3-level menu and one lookup.

A tenant project is written to a temporary directory, checked and rendered
as `fsapps render` does, and loaded into the emulator (fsapps.sim) in this
process; the controller (fsapps.controller, with fsapps' own applications)
runs in a second process, as `fsapps serve` would, against the embedded
PostgreSQL. Every call hears the same seven prompts: a welcome, three menu
levels (keying 1, 2, 3), an eight-digit account number, then "Your balance
is" and the amount. Three variants:

- native (the bound): flows/native.yaml, every node plain dialplan, the
  balance a fixed prompt (the dialplan alone cannot look it up). Nothing
  that goes through the controller can be faster.
- handoff: flows/main.yaml as fsapps runs it: the menus and the collect
  are native; the `lookup` node (lookup.accounts, under the tenant's
  row-level security) and the `readback` node that speaks the balance are
  handed to the controller's `flow` application, one socket session each.
- controller: the same flow driven by the controller for the whole call,
  the `welcome` application's pattern: the call is handed over once, on
  arrival, and the controller walks main.yaml's nodes, executing each
  native node's rendered actions over the socket (the same applications
  and arguments the dialplan runs), choosing each branch from the
  variables they set, and running the lookup and readback applications in
  the same session. Every prompt costs a controller round trip.

Every account holds 1234.56, so the readback says exactly what native's
fixed prompt says: the variants differ only in who sequences the steps.

Latency per prompt comes from the switch's own event timestamps
(Event-Date-Timestamp, virtual time divided by --speed: wall
milliseconds): from the end of the caller's previous step (the
CHANNEL_EXECUTE_COMPLETE of the menu's play_and_get_digits, i.e. the
digit, or of the previous playback) to the next PLAYBACK_START. The first
prompt is timed from CHANNEL_CREATE, so it includes the controller
variant's hand-off. A call is completed when it heard the seven prompts in
order and the flow hung up normally; anything else is failed.

(a) Throughput: --calls per variant, --concurrency at a time (enough to
    saturate): sessions/s, CPU per call of the emulator and of the
    controller process (PostgreSQL's own is not counted), and latency
    under that load.
(b) Latency at light load: --latency-calls, --latency-concurrency at a
    time, per prompt and overall, against native.

    ./dev bench ivr [--calls 200] [--concurrency 30] [--latency-calls 60] [--speed 30]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.lock  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsapps.apps import APPLICATIONS, NODE_APPLICATIONS  # noqa: E402
from fsapps.apps.context import AppContext  # noqa: E402
from fsapps.apps.node import NodeCall  # noqa: E402
from fsapps.config import ControllerSettings, Settings  # noqa: E402
from fsapps.controller import Controller  # noqa: E402
from fsapps.flows.check import check  # noqa: E402
from fsapps.flows.install import install  # noqa: E402
from fsapps.flows.nodes import NODE_TYPES  # noqa: E402
from fsapps.flows.nodes.base import Rendered  # noqa: E402
from fsapps.flows.render import RenderContext, entry_actions, render  # noqa: E402
from fsapps.sim.dialplan import StaticDialplan  # noqa: E402
from fsapps.sim.directory import Directory  # noqa: E402
from fsapps.sim.endpoints import CallerScript  # noqa: E402
from fsapps.sim.events import SimEvent  # noqa: E402
from fsapps.sim.switch import Switch  # noqa: E402
from fsapps.sim.xmlconf import load_document  # noqa: E402
from fsapps.sim.xmldialplan import XmlDialplan  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.durable import DurableWriter  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.migrate import migrate  # noqa: E402
from fsapps.store.records import Tenant  # noqa: E402

TENANT_ID = "ivrbench"
BALANCE = "1234.56"
NUMBERS = {"native": "5000", "handoff": "5001", "controller": "6001"}
STEPS = ("welcome (from arrival)", "level 1 menu", "level 2 menu", "level 3 menu", "account number",
         "balance is", "amount")  # fmt: skip

OPERATOR = """\
controllers: [127.0.0.1:8084]
tts: {engine: flite, voice: slt}
sounds: /usr/share/freeswitch/sounds/fsapps
"""

TENANT = f"""\
id: {TENANT_ID}
name: Bench Bank
domain: {TENANT_ID}.example
timezone: UTC
language: en
access_numbers:
  "{NUMBERS["native"]}": native
  "{NUMBERS["handoff"]}": main
prompts:
  welcome: {{text: "Welcome to Bench Bank."}}
  level1: {{text: "For your accounts, press 1. For cards, press 2."}}
  level2: {{text: "For a balance, press 2. For statements, press 3."}}
  level3: {{text: "For your current account, press 3. For savings, press 4."}}
  invalid: {{text: "Sorry, that is not one of the choices."}}
  account: {{text: "Please key your eight digit account number."}}
  account_invalid: {{text: "Account numbers have eight digits."}}
  balance_is: {{text: "Your balance is"}}
  amount: {{text: "1234 dollars and 56 cents"}}
  not_found: {{text: "We could not find that account."}}
"""

MENUS = """\
start: start
nodes:
  start: {type: answer, children: {_: welcome}}
  welcome: {type: play, data: {prompt: welcome}, children: {_: level1}}
  level1:
    type: menu
    data: {prompt: level1, invalid_prompt: invalid, timeout: 30}
    children: {"1": level2, "2": bye, timeout: bye, invalid: bye}
  level2:
    type: menu
    data: {prompt: level2, invalid_prompt: invalid, timeout: 30}
    children: {"2": level3, "3": bye, timeout: bye, invalid: bye}
  level3:
    type: menu
    data: {prompt: level3, invalid_prompt: invalid, timeout: 30}
    children: {"3": account, "4": bye, timeout: bye, invalid: bye}
  bye: {type: hangup}
"""

ACCOUNT = """\
  account:
    type: collect
    data: {prompt: account, invalid_prompt: account_invalid, variable: ib_account, min: 8, max: 8,
           regex: "^\\\\d{8}$", timeout: 30}
    children: {_: NEXT, invalid: bye}
"""

NATIVE = (
    MENUS
    + ACCOUNT.replace("NEXT", "balance_is")
    + """\
  balance_is: {type: play, data: {prompt: balance_is}, children: {_: amount}}
  amount: {type: play, data: {prompt: amount}, children: {_: bye}}
"""
)

MAIN = (
    MENUS
    + ACCOUNT.replace("NEXT", "find")
    + """\
  find:
    type: lookup
    data: {source: {table: accounts, column: account_no}, key: ib_account, fields: [balance], prefix: ib_}
    children: {found: balance, not_found: not_found, fallback: not_found}
  balance:
    type: readback
    data: {items: [{prompt: balance_is}, {value: "${ib_balance}", as: money}], currency: USD}
    children: {_: bye, missing: not_found}
  not_found: {type: play, data: {prompt: not_found}, children: {_: bye}}
"""
)


def lookup_table(accounts: int) -> list[str]:
    """lookup.accounts under row-level security, as a tenant's lookup tables are; every account
    holds BALANCE."""
    return [
        "CREATE TABLE lookup.accounts (tenant_id text NOT NULL, account_no text NOT NULL, balance numeric,"
        " PRIMARY KEY (tenant_id, account_no))",
        "ALTER TABLE lookup.accounts ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_rows ON lookup.accounts TO fsapps_tenant"
        " USING (tenant_id = fsapps_current_tenant())",
        "GRANT SELECT ON lookup.accounts TO fsapps_tenant",
        f"INSERT INTO lookup.accounts SELECT '{TENANT_ID}', (10000000 + n)::text, {BALANCE}"
        f" FROM generate_series(0, {accounts - 1}) AS n",
    ]


def write_project(root: Path) -> None:
    flows = root / TENANT_ID / "flows"
    flows.mkdir(parents=True)
    (root / "operator.yaml").write_text(OPERATOR)
    (root / TENANT_ID / "tenant.yaml").write_text(TENANT)
    (flows / "native.yaml").write_text(NATIVE)
    (flows / "main.yaml").write_text(MAIN)


# --- the controller process -------------------------------------------------------------


def chosen_branch(rendered: Rendered, session, children: dict[str, str]) -> str | None:
    """The branch the node's route extension would take (mod_dialplan_xml: every condition holds)."""
    for route in rendered.routes:
        if all(
            re.search(c["expression"], session.getVariable(c["field"][2:-1]) or "") for c in route.conditions
        ):
            return route.branch
    return rendered.default if rendered.default in children else None


def walk_flow(flow_name: str):
    """An application that runs a whole flow in one socket session."""

    def ivr(session, args: str) -> str:
        ctx = session.context
        tenant = ctx.tenants[session.getVariable("fsapps_tenant") or ""]
        flow = tenant.flows[flow_name]
        r = RenderContext(tenant, ctx.operator, flow)
        node = flow.nodes[flow.start]
        while True:
            kind = NODE_TYPES[node.type]
            if node.type == "hangup":
                session.hangup(node.get("cause", "NORMAL_CLEARING"))
                return "completed"
            branch: str | None
            if kind.logic:
                branch = (
                    NODE_APPLICATIONS[node.type](NodeCall(session, ctx, tenant, flow, node)) or "fallback"
                )
            else:
                rendered = kind.render(node, r)
                for app, data in rendered.actions:
                    session.execute(app, data)
                branch = chosen_branch(rendered, session, node.children)
            child = node.children.get(branch) if branch else None
            if child is None:
                session.hangup("NORMAL_CLEARING")
                return f"ended at {node.id}"
            node = flow.nodes[child]

    return ivr


def serve_controller(base: Path, dsn: str, pool: int, max_connections: int) -> None:
    """The controller process: fsapps' applications and the `ivr` walker, until SIGTERM."""
    project = check(base / "dialplan", sounds=base / "sounds")
    store = Store(dsn, max_size=pool).open()
    writer = DurableWriter(store, base / "spool").start()
    context = AppContext(project, store=store, records=writer)
    settings = Settings(
        controller=ControllerSettings(listen="127.0.0.1", port=0, max_connections=max_connections)
    )
    apps = {**APPLICATIONS, "ivr": walk_flow("main")}
    controller = Controller(settings, applications=apps, context=context).start()
    done = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, done.set)
    print(controller.server.port, flush=True)
    parent = os.getppid()
    while not done.wait(1.0) and os.getppid() == parent:
        pass  # until SIGTERM, or the benchmark is gone
    controller.stop(grace=1.0)
    writer.stop()
    store.close()


# --- the emulator side ------------------------------------------------------------------


class BenchDialplan:
    """The rendered XML dialplan, and in front of it the controller variant's number."""

    def __init__(self, xml: XmlDialplan, static: StaticDialplan) -> None:
        self.xml, self.static = xml, static

    def hunt(self, channel):
        return self.static.hunt(channel) or self.xml.hunt(channel)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Bench:
    sw: Switch
    controller_pid: int
    expected: list[str]  # the prompts every call hears, in order


@contextmanager
def bench_switch(speed: float, concurrency: int, accounts: int) -> Iterator[Bench]:
    """PostgreSQL, the controller process, and the emulator loaded with the rendered project."""
    with tempfile.TemporaryDirectory(prefix="fsapps-bench-ivr-") as tmp, ExitStack() as stack:
        base = Path(tmp)
        write_project(base / "dialplan")
        (base / "sounds").mkdir()
        project = check(base / "dialplan", sounds=base / "sounds")
        if project.problems:
            raise SystemExit("\n".join(str(p) for p in project.problems))
        tenant = next(t for t in project.tenants if t.id == TENANT_ID)
        pg = EmbeddedPostgres(base / "pg")
        dsn = pg.start()
        stack.callback(pg.close)
        migrate(dsn)
        with Store(dsn, max_size=1) as store, store.operator() as op:
            op.add_tenant(Tenant(TENANT_ID, "Bench Bank", f"{TENANT_ID}.example"))
            for statement in lookup_table(accounts):
                op.conn.execute(statement)
        serve = [sys.executable, __file__, "--serve-controller", str(base), "--dsn", dsn,
                 "--concurrency", str(concurrency)]  # fmt: skip
        child = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
        stack.callback(stop_process, child)
        line = ""
        with gevent.Timeout(60, False):
            line = child.stdout.readline() if child.stdout else ""
        if not line.strip().isdigit():
            raise SystemExit("the controller process did not start")
        address = f"127.0.0.1:{int(line)}"
        operator = dataclasses.replace(project.operator, controllers=[address])
        install(render(dataclasses.replace(project, operator=operator)), base / "conf")
        document = load_document(base / "conf")
        static = StaticDialplan().add(
            "public",
            f"^{NUMBERS['controller']}$",
            [
                *entry_actions(tenant, operator, "main", NUMBERS["controller"])[:-1],
                ("socket", f"{address}/ivr async full"),
            ],
        )
        sw = Switch(
            dialplan=BenchDialplan(XmlDialplan.from_document(document), static),
            directory=Directory.from_document(document),
            speed=speed,
            recordings_dir=str(base / "recordings"),
        ).start()
        stack.callback(sw.stop)
        r = RenderContext(tenant, operator, tenant.flows["native"])
        names = ("welcome", "level1", "level2", "level3", "account", "balance_is", "amount")
        yield Bench(sw, child.pid, [r.prompt(n) for n in names])


def stop_process(p: subprocess.Popen) -> None:
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


# --- running calls ----------------------------------------------------------------------

WATCHED = ("CHANNEL_CREATE", "CHANNEL_EXECUTE_COMPLETE", "PLAYBACK_START")
ANCHORS = ("play_and_get_digits", "playback")
REACTION = (0.3, 1.5)  # seconds from a menu starting to the caller keying


@dataclasses.dataclass
class Run:
    label: str
    wall: float
    cpu_emulator: float
    cpu_controller: float
    completed: int
    failed: int
    gaps: list[list[float]]  # per step, wall ms

    @property
    def rate(self) -> float:
        return self.completed / self.wall if self.wall else 0.0

    @property
    def all_gaps(self) -> list[float]:
        return [g for step in self.gaps for g in step]


def run_calls(bench: Bench, label: str, calls: int, concurrency: int, accounts: int, speed: float) -> Run:
    sw, number = bench.sw, NUMBERS[label]
    events: dict[str, list[tuple[str, int, str]]] = {}

    def watch(ev: SimEvent) -> None:
        if ev.name not in WATCHED:
            return
        if ev.name == "PLAYBACK_START":
            what = ev.get("Playback-File-Path") or ""
        elif ev.name == "CHANNEL_EXECUTE_COMPLETE":
            what = ev.get("Application") or ""
        else:
            what = ""
        events.setdefault(ev.uuid or "", []).append((ev.name, int(ev.get("Event-Date-Timestamp") or 0), what))

    # The same callers, in the same order, for every variant. The first wave arrives over
    # a few seconds rather than at once, and people key at their own pace, so calls that
    # start together drift apart.
    rng = random.Random(7)
    callers = [
        (
            rng.uniform(0, 3.0) if i < concurrency else 0.0,
            f"2{rng.randrange(10**9):09d}",
            str(10000000 + rng.randrange(accounts)),
            rng.uniform(*REACTION),
        )
        for i in range(calls)
    ]
    live = gevent.lock.BoundedSemaphore(concurrency)
    causes: dict[str, str | None] = {}
    limit = 120.0 / speed + 10  # wall seconds a call may take before it counts as stuck

    def one(delay: float, caller: str, account: str, reaction: float) -> None:
        try:
            sw.clock.sleep(delay)
            script = CallerScript(keypad=["1", "2", "3", account], reaction=reaction)
            ch = sw.place_call(number, caller_id_number=caller, script=script)
            if not ch.destroyed.wait(limit):
                ch.hangup("MANAGER_REQUEST")
                ch.destroyed.wait(5)
            causes[ch.uuid] = ch.hangup_cause
        finally:
            live.release()

    sw.watchers.append(watch)
    greenlets = []
    cpu0, ctl0, t0 = time.process_time(), cpu_seconds(bench.controller_pid), time.perf_counter()
    try:
        for caller in callers:
            live.acquire()
            greenlets.append(gevent.spawn(one, *caller))
        gevent.joinall(greenlets)
    finally:
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        ctl = cpu_seconds(bench.controller_pid) - ctl0
        sw.watchers.remove(watch)
    gaps: list[list[float]] = [[] for _ in bench.expected]
    completed = 0
    for uuid, cause in causes.items():
        evs = events.get(uuid, [])
        heard = [what for name, _, what in evs if name == "PLAYBACK_START"]
        if cause != "NORMAL_CLEARING" or heard != bench.expected:
            continue
        completed += 1
        anchor = next(ts for name, ts, _ in evs if name == "CHANNEL_CREATE")
        step = 0
        for name, ts, what in evs:
            if name == "PLAYBACK_START":
                gaps[step].append((ts - anchor) / speed / 1000.0)
                step += 1
            elif name == "CHANNEL_EXECUTE_COMPLETE" and what in ANCHORS:
                anchor = ts
    return Run(label, wall, cpu, ctl, completed, len(causes) - completed, gaps)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(int(len(xs) * p), len(xs) - 1)] if xs else float("nan")


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def latency_line(r: Run) -> str:
    g = r.all_gaps
    return (
        f"p50 {pct(g, 0.5):6.2f} ms, p99 {pct(g, 0.99):6.2f} ms, max {max(g, default=float('nan')):7.2f} ms,"
        f" mean {mean(g):6.2f} ms ({r.completed} calls completed, {r.failed} failed)"
    )


def report(loaded: list[Run], light: list[Run], a: argparse.Namespace) -> None:
    print(f"IVR calls: welcome, 3 menu levels, 8-digit account, lookup, balance read back (7 prompts); "
          f"emulator at {a.speed:g}x")  # fmt: skip
    print(f"(a) throughput, {a.calls} calls per variant, {a.concurrency} at a time:")
    for r in loaded:
        n = max(r.completed, 1)
        print(
            f"    {r.label:11s} {r.rate:7.1f} sessions/s ({r.completed} completed, {r.failed} failed); "
            f"CPU per call: emulator {r.cpu_emulator / n * 1000:5.1f} ms, controller "
            f"{r.cpu_controller / n * 1000:5.1f} ms; busy: emulator {r.cpu_emulator / r.wall:4.0%}, "
            f"controller {r.cpu_controller / r.wall:4.0%} of a core"
        )
    for r in loaded:
        if r.label != "native" and r.cpu_controller > 0:
            print(f"    {r.label:11s} controller capacity from its CPU per call: "
                  f"~{r.completed / r.cpu_controller:.0f} sessions/s per core")  # fmt: skip
    for r in loaded:
        print(f"    {r.label:11s} latency per prompt under this load: {latency_line(r)}")
    print(f"(b) latency per prompt at light load, {a.latency_calls} calls per variant, "
          f"{a.latency_concurrency} at a time:")  # fmt: skip
    for r in light:
        print(f"    {r.label:11s} {latency_line(r)}")
    print("    by prompt, p50 (p99) ms:")
    print("      " + f"{'':24s}" + "".join(f"{r.label:>21s}" for r in light))
    for i, step in enumerate(STEPS):
        cells = "".join(f"{pct(r.gaps[i], 0.5):11.2f} ({pct(r.gaps[i], 0.99):7.2f})" for r in light)
        print(f"      {step:24s}{cells}")
    labels = [r.label for r in loaded]
    if "native" not in labels:
        return
    nat, nat_light = loaded[labels.index("native")], light[labels.index("native")]
    n50, n99, nm = pct(nat_light.all_gaps, 0.5), pct(nat_light.all_gaps, 0.99), mean(nat_light.all_gaps)
    for r, rl in zip(loaded, light, strict=True):
        if r is nat:
            continue
        c50, c99, cm = pct(rl.all_gaps, 0.5), pct(rl.all_gaps, 0.99), mean(rl.all_gaps)
        print(
            f"    ratio {r.label} / native: sessions/s {r.rate / nat.rate:.2f}; latency per prompt "
            f"p50 {c50 / n50:.2f}x ({c50 - n50:+.2f} ms), p99 {c99 / n99:.2f}x ({c99 - n99:+.2f} ms), "
            f"mean {cm / nm:.2f}x ({cm - nm:+.2f} ms)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200, help="calls per variant, for throughput")
    ap.add_argument("--concurrency", type=int, default=30, help="calls at a time, for throughput")
    ap.add_argument("--latency-calls", type=int, default=60, help="calls per variant, for latency")
    ap.add_argument("--latency-concurrency", type=int, default=3, help="calls at a time, for latency")
    ap.add_argument("--speed", type=float, default=30.0, help="the emulator's virtual clock rate")
    ap.add_argument("--accounts", type=int, default=10000, help="rows in lookup.accounts")
    ap.add_argument("--variants", default="native,handoff,controller")
    ap.add_argument("--serve-controller", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dsn", help=argparse.SUPPRESS)
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if a.serve_controller:
        # A connection per call in flight (below PostgreSQL's 100), a few for the record writer.
        serve_controller(a.serve_controller, a.dsn, min(a.concurrency + 5, 80), a.concurrency * 4)
        return
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(NUMBERS))
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)} (expected some of {', '.join(NUMBERS)})")
    with bench_switch(a.speed, max(a.concurrency, a.latency_concurrency), a.accounts) as bench:
        loaded, light = [], []
        for label in variants:
            run_calls(bench, label, 5, a.latency_concurrency, a.accounts, a.speed)  # warm-up
            light.append(run_calls(bench, label, a.latency_calls, a.latency_concurrency, a.accounts, a.speed))
            loaded.append(run_calls(bench, label, a.calls, a.concurrency, a.accounts, a.speed))
        report(loaded, light, a)


if __name__ == "__main__":
    main()

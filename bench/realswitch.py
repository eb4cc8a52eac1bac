"""fsapps against mod_callcenter on one real FreeSWITCH, in one run.

The same load goes once through a mod_callcenter queue and once through the
fsapps ACD: sipp callers at R calls/s into a queue whose agents are sipp UAS
phones reached by SIP URI, answering at once, more agents than calls in
flight so nobody waits for a free agent. Each caller stays --talk seconds
after the answer and hangs up. Per caller, from the switch's own event clock
(Event-Date-Timestamp, microseconds):

    queue entry  mod_callcenter: its CUSTOM callcenter::info member-queue-start
                 (fired as the callcenter application starts, before the
                 caller's row is written); fsapps: CHANNEL_EXECUTE of the
                 dialplan's ``socket`` to the controller that runs the flow's
                 queue node (the point where the dialplan hands the caller to
                 the queue, as it would run ``callcenter``)
    offered      CHANNEL_CREATE of the agent leg the caller was bridged to
    bridged      CHANNEL_BRIDGE of the caller with that leg

Both systems are timed with the same three events; mod_callcenter's own
agent-offering and bridge-agent-start are printed beside them (fsapps's
queue sets its variables with the api and raises no channel event of its
own before the bridge). fsapps's time from queue entry to offered is also printed stage
by stage (socket accept, connect, the commands before the queue, the join, the wait for a
dispatcher pass, the pass, the offer to the ring command, the switch running the bridge,
the originate), from the controller's stamps (fsapps.acd.timeline) between the switch's
events, with the last stage reached by each caller never rung, and the controller's CPU
per call and memory. The controller runs as its own process (``fsapps serve``) with the
embedded PostgreSQL, the switch's SQLite serves mod_callcenter. A
benchmark, not a test: it prints, nothing asserts. "sipp ok" counts the
callers whose call ended as scripted, served or not.

The controllers and their PostgreSQL run at the switch's own real-time scheduling
(operator.yaml ``controller.priority: realtime``, fsapps.priority), as mod_callcenter does by
being inside the switch; ``--priority normal`` leaves them where a plain process starts, which
a switch under load starves (the switch's threads are SCHED_FIFO).

With ``--controllers N`` fsapps runs N controllers sharing the PostgreSQL, the dialplan
spreading calls over them (operator.yaml ``controller_choice: spread``); their CPU and
memory are summed. Each system's double offers are counted from the switch's events: an
agent's leg created while another leg of the same agent is still up.

    ./dev bench realswitch [--rates 1,5,20,30,50] [--seconds 12] [--min-calls 30] [--talk 2]
        [--controllers 1] [--priority realtime]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# bench/ is the script's directory: the live ACD bench's tenant and flow.
from acd_live import FLOW  # noqa: E402
from acd_live import TENANT as LIVE_TENANT  # noqa: E402

from fsapps import priority  # noqa: E402
from fsapps.acd import timeline  # noqa: E402
from fsapps.acd.config import DEFAULT_MOH  # noqa: E402
from fsapps.esl import codec  # noqa: E402
from fsapps.esl.client import Connection  # noqa: E402
from fsapps.flows.check import check  # noqa: E402
from fsapps.flows.install import install  # noqa: E402
from fsapps.flows.render import render  # noqa: E402
from fsapps.store import acd, migrate  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.records import Tenant  # noqa: E402
from fsapps.testing import sipp  # noqa: E402
from fsapps.testing.freeswitch import RealSwitch, free_port  # noqa: E402

SCENARIOS = ROOT / "tests" / "acceptance" / "sipp"
CC_QUEUE = "bench@default"
CC_NUMBER = "7100"
FSAPPS_NUMBER = "5100"
SYSTEMS = ("mod_callcenter", "fsapps")

# The same tenant and flow as bench/acd_live.py, reached on this bench's number.
TENANT = LIVE_TENANT.replace('{"7000": main}', f'{{"{FSAPPS_NUMBER}": main}}')
# The fsapps tenant's dialplan answers before the socket; mod_callcenter's caller is
# answered the same way so both queues start on an answered channel.
CC_DIALPLAN = f"""<include>
  <extension name="bench_mod_callcenter">
    <condition field="destination_number" expression="^{CC_NUMBER}$">
      <action application="answer"/>
      <action application="callcenter" data="{CC_QUEUE}"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
"""


def callcenter_conf(agents: list[tuple[str, str]]) -> str:
    """mod_callcenter's queue with the fsapps queue's settings: longest idle agent, no
    wrap-up or delays, the same hold music; its own SQLite (no odbc-dsn)."""
    params = {
        "strategy": "longest-idle-agent", "moh-sound": DEFAULT_MOH, "time-base-score": "queue",
        "max-wait-time": "0", "max-wait-time-with-no-agent": "0",
        "max-wait-time-with-no-agent-time-reached": "5", "tier-rules-apply": "false",
        "discard-abandoned-after": "60", "abandoned-resume-allowed": "false",
    }  # fmt: skip
    queue = "\n".join(f'      <param name="{k}" value="{v}"/>' for k, v in params.items())
    rows = "\n".join(
        f'    <agent name="{name}" type="callback" contact="[leg_timeout=10]{contact}" status="Available"'
        ' max-no-answer="3" wrap-up-time="0" reject-delay-time="0" busy-delay-time="0"'
        ' no-answer-delay-time="0"/>'
        for name, contact in agents
    )
    tiers = "\n".join(
        f'    <tier agent="{name}" queue="{CC_QUEUE}" level="1" position="{i + 1}"/>'
        for i, (name, _) in enumerate(agents)
    )
    return (
        '<configuration name="callcenter.conf" description="CallCenter">\n  <settings/>\n'
        f'  <queues>\n    <queue name="{CC_QUEUE}">\n{queue}\n    </queue>\n  </queues>\n'
        f"  <agents>\n{rows}\n  </agents>\n  <tiers>\n{tiers}\n  </tiers>\n</configuration>\n"
    )


def one_ms_clock(conf: Path) -> None:
    """The switch's clock ticks every 20 ms by default (switch_core.c:1969; vanilla
    switch.conf.xml keeps 1ms-timer commented out), and event timestamps are that
    clock's (switch_micro_time_now, switch_time.c:312): at 20 ms steps the 15 ms target
    could not be seen. 1ms-timer, the switch's former default, makes it tick every ms."""
    path = conf / "autoload_configs" / "switch.conf.xml"
    text = path.read_text()
    path.write_text(text.replace("<settings>", '<settings>\n    <param name="1ms-timer" value="true"/>', 1))


# --- figures --------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else math.nan


def three(values: list[float]) -> tuple[float, float, float]:
    """p50, p99, max in milliseconds."""
    if not values:
        return (math.nan,) * 3
    return pct(values, 0.5) * 1000, pct(values, 0.99) * 1000, max(values) * 1000


def brief(values: list[float]) -> str:
    p50, p99, top = three(values)
    return f"p50 {p50:.1f}, p99 {p99:.1f}, max {top:.1f} ms"


def stamp(e: codec.Event) -> float:
    return int(e.get("Event-Date-Timestamp") or 0) / 1e6


@dataclass
class Result:
    system: str
    rate: float
    placed: int
    sipp_ok: int = 0
    entered: int = 0
    offered: list[float] = field(default_factory=list)
    bridged: list[float] = field(default_factory=list)
    # The system's own markers, printed beside the common ones.
    own: dict[str, list[float]] = field(default_factory=dict)
    # fsapps: where each served caller's time to offered went (STAGES), and the offered time.
    stages: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    stuck: dict[str, int] = field(default_factory=dict)  # fsapps: unserved callers by last stage
    cpu: float = 0.0  # fsapps: the controller's CPU seconds over the phase
    kernel_cpu: float = 0.0  # of which in the kernel
    switch_cpu: float = 0.0  # the switch's CPU seconds over the phase (both systems)
    pg_cpu: float = 0.0  # PostgreSQL's (postmaster, its backends, reaped ones), both systems
    rss: int = 0  # fsapps: its resident memory at the end of the phase, bytes
    busy: float = 0.0  # the machine's cores busy over the phase and its tail, 0..1
    stalled: float | None = None  # share of the phase some task waited for a core (PSI); None: unknown
    writes: int = 0  # PostgreSQL's transactions that took a transaction id (wrote or NOTIFYed)
    wal: int = 0  # and the bytes of WAL they wrote
    double_offers: int = 0  # agent legs created while another leg of that agent was up


# fsapps's time from queue entry to offered, stage by stage: the switch's events at both
# ends, the controller's stamps (fsapps.acd.timeline) between them.
STAGES = (
    ("socket accept", "entry", "accepted"),
    ("connect", "accepted", "connected"),
    ("before the queue", "connected", "queue"),
    ("join", "queue", "joined"),
    ("wait for a pass", "joined", "pass"),
    ("the pass", "pass", "offered"),
    ("offer to ring", "offered", "ring"),
    ("switch runs bridge", "ring", "bridge"),
    ("originate", "bridge", "created"),
)


def analyse(
    system: str, events: list[codec.Event], result: Result, stamps: dict[str, dict[str, float]] | None = None
) -> Result:
    """``stamps``: the controller's, by caller (fsapps.acd.timeline)."""
    created: dict[str, float] = {}
    entry: dict[str, float] = {}
    bridge_app: dict[str, float] = {}
    marks: dict[str, dict[str, float]] = {}
    bridges: list[tuple[float, str, str]] = []
    for e in events:
        name, uid, ts = e.name, e.get("Unique-ID") or "", stamp(e)
        if name == "CHANNEL_CREATE":
            created.setdefault(uid, ts)
        elif name == "CHANNEL_BRIDGE":
            bridges.append((ts, e.get("Bridge-A-Unique-ID") or "", e.get("Bridge-B-Unique-ID") or ""))
        elif system == "mod_callcenter" and name == "CUSTOM" and e.subclass == "callcenter::info":
            action, member = e.get("CC-Action") or "", e.get("CC-Member-Session-UUID") or ""
            if e.get("CC-Queue") != CC_QUEUE:
                continue
            if action == "member-queue-start":
                entry.setdefault(member, ts)
            elif action in ("agent-offering", "bridge-agent-start"):
                marks.setdefault(action, {}).setdefault(member, ts)
        elif system == "fsapps" and name == "CHANNEL_EXECUTE":
            app, data = e.get("Application"), e.get("Application-Data") or ""
            if app == "socket" and "/flow" in data:
                entry.setdefault(uid, ts)
            elif app == "bridge":
                bridge_app.setdefault(uid, ts)
    result.double_offers = double_offers(events)
    bridged: dict[str, tuple[float, str]] = {}
    for ts, a, b in bridges:
        caller, agent = (a, b) if a in entry else (b, a) if b in entry else ("", "")
        if caller and caller not in bridged:
            bridged[caller] = (ts, agent)
    result.entered = len(entry)
    if system != "fsapps":
        result.own = {
            "agent-offering": [
                t - entry[m] for m, t in marks.get("agent-offering", {}).items() if m in entry
            ],
            "bridge-agent-start": [
                t - entry[m] for m, t in marks.get("bridge-agent-start", {}).items() if m in entry
            ],
        }
    if stamps is not None:
        # The callers never rung: the last stage each reached.
        for caller in entry.keys() - bridged.keys():
            reached = [s for s in timeline.STAGES if s in stamps.get(caller, {})]
            where = reached[-1] if reached else "(no stamp)"
            result.stuck[where] = result.stuck.get(where, 0) + 1
    for caller, (ts, agent) in bridged.items():
        result.bridged.append(ts - entry[caller])
        if agent in created:
            result.offered.append(created[agent] - entry[caller])
            if stamps is not None and caller in stamps:
                at = {**stamps[caller], "entry": entry[caller], "created": created[agent]}
                if caller in bridge_app:
                    at["bridge"] = bridge_app[caller]
                result.stages.append((created[agent] - entry[caller], at))
    return result


def double_offers(events: list[codec.Event]) -> int:
    """Agent legs (to a user named cc* or fa*) created while another leg to the same agent
    was still up: an agent offered two calls at once."""
    up: dict[str, set[str]] = {}
    count = 0
    for e in events:
        agent = e.get("Caller-Destination-Number") or ""
        if not agent.startswith(("cc", "fa")):
            continue
        legs = up.setdefault(agent, set())
        uid = e.get("Unique-ID") or ""
        if e.name == "CHANNEL_CREATE":
            count += bool(legs)
            legs.add(uid)
        elif e.name == "CHANNEL_HANGUP":
            legs.discard(uid)
    return count


def controller_marks(log: Path, since: int) -> dict[str, dict[str, float]]:
    """The timeline lines the controller logged past byte ``since`` of its log, by call."""
    with log.open("rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    found = (timeline.parse(line) for line in text.splitlines())
    return dict(got for got in found if got is not None)


def print_stages(r: Result) -> None:
    """Each stage's p50 and p99, and its mean over the slowest tenth of the callers."""
    if not r.stages:
        return
    cut = pct([offered for offered, _ in r.stages], 0.9)
    slow = [at for offered, at in r.stages if offered >= cut]
    print(f"    fsapps, queue entry to offered, by stage (ms; {len(r.stages)} callers, slowest {len(slow)}):")
    print(f"      {'':<20}{'p50':>8}{'p99':>8}{'slowest':>9}")
    for name, start, end in STAGES:
        spans = [at[end] - at[start] for _, at in r.stages if at.get(start) and at.get(end)]
        tail = [at[end] - at[start] for at in slow if at.get(start) and at.get(end)]
        if spans:
            mean = sum(tail) / len(tail) * 1000 if tail else math.nan
            print(f"      {name:<20}{pct(spans, 0.5) * 1000:8.1f}{pct(spans, 0.99) * 1000:8.1f}{mean:9.1f}")


# --- sipp -----------------------------------------------------------------------------


class Phones:
    """One sipp answering every INVITE at once, whatever the user part: the phones of
    the agents whose contact points at its port."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True)
        self.proc, self.port = sipp.start_bound(
            lambda port, media: [
                "sipp", "-sf", str(SCENARIOS / "uas_answer.xml"), "-i", "127.0.0.1", "-p", str(port),
                "-mi", "127.0.0.1", "-mp", str(media), "-nostdin", "-trace_err",
            ],
            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def contact(self, user: str) -> str:
        return f"sofia/external/{user}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def start_phones(d: Path, count: int) -> list[Phones]:
    """``count`` Phones in ``d``/phones0..; none left running if one does not start."""
    phones: list[Phones] = []
    try:
        for i in range(count):
            phones.append(Phones(d / f"phones{i}"))
    except BaseException:
        for ph in phones:
            ph.stop()
        raise
    return phones


def run_sipp(port: int, scenario: Path, number: str, calls: int, rate: float, limit: float,
             workdir: Path, extra: tuple[str, ...] = ()) -> int:  # fmt: skip
    """``calls`` sipp callers of ``scenario`` at ``rate``/s to ``number``, within ``limit``
    seconds; returns how many sipp counts as successful. A sipp that could not bind its ports
    (taken meanwhile by another process) placed no call: it is run again on others."""
    done = sipp.run_bound(
        lambda own, media: [
            "sipp", f"127.0.0.1:{port}", "-sf", str(scenario), "-s", number, "-r", f"{rate:g}", "-rp", "1000",
            "-m", str(calls), "-i", "127.0.0.1", "-p", str(own), "-mi", "127.0.0.1", "-mp", str(media),
            "-timeout", f"{int(limit)}s", *extra, "-nostdin", "-trace_err", "-trace_screen",
        ],
        workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=limit + 30,
    )  # fmt: skip
    screens = "".join(p.read_text(errors="replace") for p in workdir.glob("*_screen.log"))
    found = re.findall(r"Successful call\s*\|[^|\n]*\|\s*(\d+)", screens)
    ok = int(found[-1]) if found else 0
    if ok < calls:  # why, for whoever reads the bench's output
        why = f"exit status {done.returncode}: {sipp.errors(workdir)}"
        print(f"sipp: {ok} of {calls} calls successful ({why})", file=sys.stderr)
    return ok


def place_calls(port: int, number: str, calls: int, rate: float, talk: float, workdir: Path) -> int:
    """``calls`` sipp callers at ``rate``/s to ``number``; returns how many ended cleanly
    (answered, stayed ``talk`` seconds, hung up themselves)."""
    workdir.mkdir(parents=True)
    scenario = workdir / "uac_wait.xml"
    scenario.write_text(
        (SCENARIOS / "uac_wait.xml").read_text().format(talk_ms=int(talk * 1000), caller_prefix="4477009")
    )
    return run_sipp(port, scenario, number, calls, rate, calls / rate + talk + 60, workdir)


def bench_tenant(
    root: Path, controllers: list[int], agents: list[tuple[str, str]], choice: str = "in-order"
) -> dict[str, str]:
    """The bench tenant's flows under ``root`` with these controllers' ports (``choice``:
    operator.yaml's controller_choice) and agents (name, contact) in its queue, checked and
    rendered: {path: XML}."""
    (root / "bench" / "flows").mkdir(parents=True)
    listed = ", ".join(f"127.0.0.1:{port}" for port in controllers)
    (root / "operator.yaml").write_text(f"controllers: [{listed}]\ncontroller_choice: {choice}\n")
    (root / "bench" / "tenant.yaml").write_text(TENANT.replace("AGENTS", ", ".join(n for n, _ in agents)))
    (root / "bench" / "flows" / "main.yaml").write_text(FLOW)
    project = check(root)
    if project.problems:
        raise SystemExit(f"the bench tenant does not check: {project.problems}")
    return render(project)


def seed_agents(store: Store, agents: list[tuple[str, str]]) -> None:
    """The bench tenant and its agents, Available, with no delays after a call."""
    with store.operator() as op:
        op.add_tenant(Tenant("bench", "Bench", "bench.example", "UTC"))
        for name, contact in agents:
            op.add_agent(name, name, {"bench": 1}, contact)
            acd.ensure_agent(op.conn, name, max_no_answer=3, wrap_up_time=0, reject_delay_time=0,
                             busy_delay_time=0, no_answer_delay_time=0)  # fmt: skip
            acd.set_status(op.conn, name, "Available", 0)


# --- the run --------------------------------------------------------------------------


class Watch:
    """The switch's events over an inbound Event Socket, kept for the phase's analysis."""

    def __init__(self, fs: RealSwitch) -> None:
        self.events: list[codec.Event] = []
        self.conn = Connection("127.0.0.1", fs.esl_port, fs.password)
        self.conn.connect()
        self.conn.on("*", self.events.append)
        self.conn.subscribe(
            [
                "CHANNEL_CREATE",
                "CHANNEL_EXECUTE",
                "CHANNEL_BRIDGE",
                "CHANNEL_HANGUP",
                "CUSTOM",
                "callcenter::info",
            ]
        )
        # Only the executes read here (the socket to the controller, the bridge): an event
        # passes a filter on any header it matches (mod_event_socket.c event_handler), and
        # every other execute, dropped before the switch copies and serializes it, would
        # weigh on fsapps's phase alone (its socket's executes; mod_callcenter has none).
        for header, value in (
            ("Event-Name", "CHANNEL_CREATE"), ("Event-Name", "CHANNEL_BRIDGE"),
            ("Event-Name", "CHANNEL_HANGUP"), ("Event-Subclass", "callcenter::info"),
            ("Application", "socket"), ("Application", "bridge"),
        ):  # fmt: skip
            self.conn.filter(header, value)

    @contextlib.contextmanager
    def phase(self) -> Iterator[list[codec.Event]]:
        self.events.clear()
        out: list[codec.Event] = []
        yield out
        gevent.sleep(1.0)  # the last calls' events are on their way
        out.extend(self.events)
        self.events.clear()


def cpu_and_memory(pid: int) -> tuple[float, int]:
    """A process's CPU seconds so far (user + system) and resident memory in bytes (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


def system_cpu(pid: int) -> float:
    """The part of a process's CPU seconds spent in the kernel (its system calls)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def database_marks(dsn: str) -> tuple[int, int]:
    """(transaction ids handed out, WAL position in bytes) now: their differences over a phase
    are its transactions that wrote or sent a NOTIFY (less this one's own) and its WAL."""
    if not dsn:
        return 0, 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT txid_current(), pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def machine_jiffies() -> tuple[int, int]:
    """(busy, all) clock ticks of every core so far (/proc/stat's ``cpu`` line): busy is all
    but idle and iowait, so sipp, the bench and everything else on the machine count."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user .. steal; guest time is inside user already
    return total - fields[3] - fields[4], total


def cpu_stall() -> float | None:
    """Microseconds so far in which some task on the machine was ready to run and waited for a
    core (/proc/pressure/cpu, the kernel's pressure stall information); None where the kernel
    does not keep it."""
    try:
        line = Path("/proc/pressure/cpu").read_text().split("\n", 1)[0]
    except OSError:
        return None
    total = dict(f.split("=", 1) for f in line.split()[1:]).get("total", "")
    return float(total) if total.isdigit() else None


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid``, its live children and the children it has reaped (Linux):
    a postmaster's backends, whether they are still up or not."""
    if not pid:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    own = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    total = sum(int(f) for f in own[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                if int(fields[1]) == pid:
                    total += int(fields[11]) + int(fields[12])
    return total / tick


def run_phase(
    fs: RealSwitch, watch: Watch, system: str, calls: int, rate: float, talk: float, workdir: Path,
    controller_logs: list[Path] = (), controllers: list[int] = (),  # type: ignore[assignment]
    postmaster: int = 0, dsn: str = "",
) -> Result:  # fmt: skip
    """``controllers``: the controllers' pids, whose CPU and memory the phase notes (summed);
    ``controller_logs``: where they log their callers' stages; ``postmaster``: PostgreSQL's
    pid, whose CPU (with its backends') the phase notes, as it does the switch's; ``dsn``: its
    writing transactions and WAL too."""
    number = CC_NUMBER if system == "mod_callcenter" else FSAPPS_NUMBER
    result = Result(system, rate, calls)
    since = {log: log.stat().st_size for log in controller_logs}
    cpu = sum(cpu_and_memory(pid)[0] for pid in controllers)
    in_kernel = sum(system_cpu(pid) for pid in controllers)
    switch_pid = fs.proc.pid if fs.proc is not None else 0
    switch_cpu, pg_cpu = tree_cpu(switch_pid), tree_cpu(postmaster)
    xid, lsn = database_marks(dsn)
    busy, ticks = machine_jiffies()
    stall, began = cpu_stall(), time.monotonic()
    with watch.phase() as events:
        result.sipp_ok = place_calls(fs.sip_port("external"), number, calls, rate, talk, workdir)
    busy_after, ticks_after = machine_jiffies()
    stall_after = cpu_stall()
    if stall is not None and stall_after is not None:
        result.stalled = (stall_after - stall) / 1e6 / max(time.monotonic() - began, 1e-3)
    xid_after, lsn_after = database_marks(dsn)
    result.writes, result.wal = max(xid_after - xid - 1, 0), lsn_after - lsn
    result.busy = (busy_after - busy) / max(ticks_after - ticks, 1)
    result.switch_cpu = tree_cpu(switch_pid) - switch_cpu
    result.pg_cpu = tree_cpu(postmaster) - pg_cpu
    if controllers:
        after = [cpu_and_memory(pid) for pid in controllers]
        result.cpu = sum(spent for spent, _ in after) - cpu
        result.kernel_cpu = sum(system_cpu(pid) for pid in controllers) - in_kernel
        result.rss = sum(rss for _, rss in after)
    stamps = None
    if controller_logs:
        stamps = {}
        for log, at in since.items():
            stamps.update(controller_marks(log, at))
    return analyse(system, events, result, stamps)


def start_controller(
    d: Path, fs: RealSwitch, dsn: str, root: Path, port: int, cdrs: bool = True, timed: bool = False,
    pool_size: int = 20, priority: str = "normal",
) -> subprocess.Popen[bytes]:
    """``fsapps serve`` as deployed: its own process; with ``cdrs`` its inbound Event Socket
    client is on and writes every channel's CDR into the same PostgreSQL; ``timed``: it logs
    each queue caller's stages (fsapps.acd.timeline) whatever the log level."""
    timing = ""
    if timed:
        timing = f"import logging; logging.getLogger({timeline.LOG.name!r}).setLevel(logging.DEBUG); "
    settings: dict[str, object] = {
        "controller": {"listen": "127.0.0.1", "port": port, "priority": priority},
        "database": {"dsn": dsn, "pool_size": pool_size}, "flows": {"dir": str(root)},
        "state_dir": str(d / "state"),
        "log": {"level": os.environ.get("FSAPPS_BENCH_LOG", "warning"), "format": "text"},
    }  # fmt: skip
    if cdrs:
        settings["esl"] = {"host": "127.0.0.1", "port": fs.esl_port, "password": fs.password}
    config = d / "controller.yaml"
    config.touch(mode=0o600)
    config.write_text(yaml.safe_dump(settings))
    proc = subprocess.Popen(
        [sys.executable, "-c", timing + "import sys; from fsapps.cli import main; sys.exit(main())", "serve",
         "--config", str(config)],
        stdout=(d / "controller.log").open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the controller did not start:\n" + (d / "controller.log").read_text()[-3000:])


def scheduled_like_the_switch(pid: int) -> int:
    """``pid`` and every process under it at the controller's ``realtime`` priority (what
    ``fsapps serve`` gives the embedded PostgreSQL it starts itself; the processes it forks
    later inherit it). Returns how many processes were changed."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    todo, done = [pid], 0
    while todo:
        p = todo.pop()
        os.sched_setscheduler(p, os.SCHED_RR, os.sched_param(priority.REALTIME_PRIORITY))
        done += 1
        todo.extend(children.get(p, []))
    return done


def print_rate(rate: float, calls: int, results: dict[str, Result], controllers: int = 1) -> None:
    cc, fa = results["mod_callcenter"], results["fsapps"]
    print(f"\n{rate:g} call{'s' if rate != 1 else ''}/s, {calls} calls each")
    print(f"{'':<22}{'offered ms':^24}{'bridged ms':^24}  completed")
    print(f"{'':<22}" + f"{'p50':>8}{'p99':>8}{'max':>8}" * 2 + "  served/placed (sipp ok)")
    for r in (cc, fa):
        figures = "".join(f"{v:8.1f}" for v in three(r.offered) + three(r.bridged))
        print(f"{r.system:<22}{figures}  {len(r.bridged)}/{r.placed} ({r.sipp_ok})")
    ours, theirs = three(fa.offered) + three(fa.bridged), three(cc.offered) + three(cc.bridged)
    ratios = [a / b if b else math.nan for a, b in zip(ours, theirs, strict=True)]
    done = (len(fa.bridged) / fa.placed) / max(len(cc.bridged) / cc.placed, 1e-9)
    print(f"{'fsapps/mod_callcenter':<22}" + "".join(f"{v:7.2f}x" for v in ratios) + f"  {done:.2f}x")
    for r in (cc, fa):
        for what, values in r.own.items():
            print(f"    {r.system} {what}: {brief(values)}")
    print_stages(fa)
    if fa.stuck:
        where = ", ".join(f"{n} after {stage}" for stage, n in sorted(fa.stuck.items(), key=lambda x: -x[1]))
        print(f"    fsapps callers never rung, by the last stage they reached: {where}")
    if fa.cpu:
        who = "controller" if controllers == 1 else f"{controllers} controllers together"
        print(
            f"    fsapps {who}: {fa.cpu / fa.placed * 1000:.1f} ms CPU per call"
            f" ({fa.kernel_cpu / fa.placed * 1000:.1f} in the kernel; {fa.cpu:.1f} s over the phase),"
            f" {fa.rss / 2**20:.0f} MiB resident"
        )
    for r in (cc, fa):
        print(
            f"    {r.system}: the switch {r.switch_cpu / r.placed * 1000:.1f} ms CPU per call,"
            f" PostgreSQL {r.pg_cpu / r.placed * 1000:.1f} ms (over the phase and its 1 s tail)"
        )
    # The database's share of a call: a transaction that writes waits for its WAL flush
    # (the controller's NOTIFYs, which take an id too, do not: synchronous_commit off).
    print(f"    fsapps's PostgreSQL per call: {fa.writes / fa.placed:.1f} transactions that wrote or"
          f" notified, {fa.wal / fa.placed / 1024:.1f} KiB of WAL")  # fmt: skip
    # Whether the comparison is one of software or of a machine run out of cores: at 100%
    # every process waits for a core, and the tail of each stage grows with it.
    print(f"    the machine's {os.cpu_count()} cores busy (everything on it): mod_callcenter {cc.busy:.0%},"
          f" fsapps {fa.busy:.0%}")  # fmt: skip
    if cc.stalled is not None and fa.stalled is not None:
        print(f"    some task ready and waiting for a core (/proc/pressure/cpu): mod_callcenter"
              f" {cc.stalled:.0%} of the phase, fsapps {fa.stalled:.0%}")  # fmt: skip
    print(f"    double offers (an agent rung while on another leg): mod_callcenter {cc.double_offers},"
          f" fsapps {fa.double_offers}")  # fmt: skip
    for r in (cc, fa):
        if len(r.bridged) < r.placed:
            # The figures above are the served callers' only: the others never reached an agent.
            print(
                f"    {r.system}: {r.placed - len(r.bridged)} of {r.placed} callers hung up unserved"
                f" ({r.entered} entered the queue); the figures are over the {len(r.bridged)} served"
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="1,5,20,30,50", help="calls per second, comma-separated")
    p.add_argument("--seconds", type=float, default=12.0, help="seconds of calls per rate and system")
    p.add_argument("--min-calls", type=int, default=30, help="at least this many calls per rate and system")
    p.add_argument("--talk", type=float, default=2.0, help="seconds a caller stays after the answer")
    p.add_argument(
        "--agents", type=int, default=0, help="agents per system (default: enough for the top rate)"
    )
    p.add_argument("--phones", type=int, default=2, help="sipp UAS processes the agents' phones share")
    p.add_argument(
        "--vanilla-timer",
        action="store_true",
        help="keep the switch's 20 ms clock (event timestamps in 20 ms steps)",
    )
    p.add_argument(
        "--no-cdrs",
        action="store_true",
        help="run the controller without its inbound Event Socket client (no CDR writes)",
    )
    p.add_argument("--warmup", type=int, default=5, help="unmeasured calls through each system first")
    p.add_argument(
        "--controllers", type=int, default=1, help="fsapps controllers sharing the PostgreSQL (calls spread)"
    )
    p.add_argument(
        "--priority", choices=priority.PRIORITIES, default="realtime",
        help="the controllers' and their PostgreSQL's scheduling (operator.yaml controller.priority);"
        " realtime: beside the switch's own real-time threads",
    )
    p.add_argument(
        "--profile", metavar="DIR", help="sample the controller with py-spy in each fsapps phase (raw stacks)"
    )
    p.add_argument(
        "--native", action="store_true",
        help="with --profile: C frames too (gevent's and psycopg's compiled code); py-spy then stops the"
        " controller for each sample, so the phase's latencies are not comparable",
    )  # fmt: skip
    a = p.parse_args()
    rates = [float(r) for r in a.rates.split(",") if r.strip()]
    # Calls in flight at the top rate, plus the second mod_callcenter keeps a freed agent
    # out (last_bridge_end < now - wrap_up_time, in whole seconds), with room to spare.
    agents = a.agents or int(max(rates) * (a.talk + 2)) + 10
    with tempfile.TemporaryDirectory(prefix="fsapps-bench-realswitch-") as tmp:
        d = Path(tmp)
        phones = start_phones(d, a.phones)
        fs = pg = store = watch = None
        controllers: list[subprocess.Popen[bytes]] = []
        try:
            cc_agents = [(f"cc{i}", phones[i % len(phones)].contact(f"cc{i}")) for i in range(agents)]
            fa_agents = [(f"fa{i}", phones[i % len(phones)].contact(f"fa{i}")) for i in range(agents)]
            ports = [free_port() for _ in range(a.controllers)]
            root = d / "dialplan"
            files = bench_tenant(root, ports, fa_agents, "spread")

            pg = EmbeddedPostgres(d / "pg")
            dsn = pg.start()
            postmaster = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
            if a.priority == "realtime":
                scheduled_like_the_switch(postmaster)
            migrate.migrate(dsn)
            store = Store(dsn, max_size=4).open()
            seed_agents(store, fa_agents)

            def prepare(conf: Path) -> None:
                install(files, conf)
                if not a.vanilla_timer:
                    one_ms_clock(conf)

            fs = RealSwitch.from_env(
                files={
                    "autoload_configs/callcenter.conf.xml": callcenter_conf(cc_agents),
                    "dialplan/public/00_bench_callcenter.xml": CC_DIALPLAN,
                },
                prepare=prepare,
            ).start()
            watch = Watch(fs)
            loaded = watch.conn.api(f"callcenter_config queue list agents {CC_QUEUE}")
            if loaded.count("Available") < agents:
                raise SystemExit(f"mod_callcenter did not load the agents:\n{loaded[:2000]}")
            homes = [d / f"controller{i}" for i in range(a.controllers)]
            for home, port in zip(homes, ports, strict=True):
                home.mkdir()
                # Each controller opens up to 2 x pool_size + 4 connections; the embedded
                # PostgreSQL takes 100 (max_connections).
                pool = min(20, (90 // a.controllers - 4) // 2)
                started = start_controller(home, fs, dsn, root, port, cdrs=not a.no_cdrs, timed=True,
                                           pool_size=pool, priority=a.priority)  # fmt: skip
                controllers.append(started)
            logs = [home / "controller.log" for home in homes]

            print(
                f"fsapps against mod_callcenter on one FreeSWITCH ({fs.prefix.name}); {agents} agents each"
                f" on {a.phones} sipp UAS answering at once; callers stay {a.talk:g} s after the answer."
            )
            cdrs = "no CDRs" if a.no_cdrs else "CDRs from its inbound Event Socket"
            switch_pid = fs.proc.pid if fs.proc is not None else 0
            tick = "20 ms (vanilla)" if a.vanilla_timer else "1 ms (1ms-timer)"
            print(
                "Queue entry: mod_callcenter member-queue-start; fsapps the dialplan's socket to the"
                f" controller (its queue node). Controller: fsapps serve ({a.controllers} process"
                f"{'es, calls spread' if a.controllers > 1 else ''}), embedded PostgreSQL, {cdrs}.\n"
                f"Scheduling: the switch {priority.describe(switch_pid)} (its default, switch_core.c"
                f" set_auto_priority); the controller{'s' if a.controllers > 1 else ''} and PostgreSQL"
                f" {priority.describe(controllers[0].pid)} (controller.priority: {a.priority}).\n"
                "Offered: the agent leg's CHANNEL_CREATE; bridged: CHANNEL_BRIDGE. All from"
                f" Event-Date-Timestamp, the switch's clock ticking every {tick}."
            )
            if a.warmup:
                for system in SYSTEMS:
                    run_phase(fs, watch, system, a.warmup, 5.0, a.talk, d / f"warmup-{system}")
            summary: dict[str, list[tuple[float, float]]] = {s: [] for s in SYSTEMS}
            for rate in rates:
                calls = max(a.min_calls, int(rate * a.seconds))
                results = {}
                for system in SYSTEMS:
                    spy = None
                    if a.profile and system == "fsapps":
                        Path(a.profile).mkdir(parents=True, exist_ok=True)
                        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
                        spy = subprocess.Popen(
                            [py_spy, "record", "--pid", str(controllers[0].pid), "--format", "raw",
                             "--rate", "200", "--output", str(Path(a.profile) / f"fsapps-{rate:g}.txt"),
                             *(["--native"] if a.native else ["--nonblocking"])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        )  # fmt: skip
                    ours = system == "fsapps"
                    where = d / f"r{rate:g}-{system}"
                    r = run_phase(
                        fs, watch, system, calls, rate, a.talk, where, controller_logs=logs if ours else [],
                        controllers=[c.pid for c in controllers] if ours else [], postmaster=postmaster,
                        dsn=dsn,
                    )  # fmt: skip
                    if spy is not None:
                        spy.send_signal(signal.SIGINT)
                        spy.wait(30)
                    results[system] = r
                    summary[system].append((rate, three(r.offered)[1]))
                    gevent.sleep(1.5)  # agents back to Waiting before the other system's callers
                print_rate(rate, calls, results, a.controllers)
            if a.profile:
                (Path(a.profile) / "controller.log").write_bytes(logs[0].read_bytes())
            by_rate = {s: ", ".join(f"{r:g}/s {v:.0f} ms" for r, v in summary[s]) for s in SYSTEMS}
            print("\noffered p99 by rate: " + "; ".join(f"{s} {by_rate[s]}" for s in SYSTEMS))
            print(
                "Noise: 2 cores shared by the switch, sipp, PostgreSQL and the controller;"
                " compare the two systems within one run, repeat runs for the spread."
            )
        finally:
            for controller in controllers:
                controller.terminate()
            for controller in controllers:
                try:
                    controller.wait(15)
                except subprocess.TimeoutExpired:
                    controller.kill()
                    controller.wait(5)
            if watch is not None:
                watch.conn.stop()
            if fs is not None:
                fs.cleanup()
            for ph in phones:
                ph.stop()
            if store is not None:
                store.close()
            if pg is not None:
                pg.close()


if __name__ == "__main__":
    main()

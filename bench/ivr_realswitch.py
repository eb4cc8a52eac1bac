"""The IVR path on one real FreeSWITCH: fsapps' lookup node against a trivial controller.

Every call is answered by the dialplan and handed to a controller by the
``socket`` application, then hears a 1 s tone and is hung up:

- trivial (the bound): an outbound Event Socket script that, on connect,
  queues ``playback`` of the tone and ``hangup``, and waits for the socket
  to close. Nothing that talks to a controller can do less.
- fsapps: a tenant flow rendered by ``fsapps render``: ``answer``, then a
  ``lookup`` node (``lookup.accounts`` by caller ID under the tenant's
  row-level security, three fields set on the channel) run by ``fsapps
  serve`` against the embedded PostgreSQL, then the tone as a native
  ``play`` node. The lookup's ``fallback`` branch plays another file, so a
  caller who took it is counted as such, not as served: sipp counts them
  as successful calls.

Per rate and system, from the switch's own events (Event-Date-Timestamp):
clean calls (heard the tone, no fallback), fallbacks, calls that heard
nothing; the latency from the ``socket`` application's CHANNEL_EXECUTE to
the tone's PLAYBACK_START; the controller's CPU per call (from
/proc/PID/stat); and, for fsapps, PostgreSQL's connections idle in a
transaction, sampled every 50 ms (a connection held across a wait for the
switch shows there). The clean rate is the highest rate at which every
call was clean. A benchmark, not a test: it prints, nothing asserts.

Both controllers and the PostgreSQL run at the switch's own real-time scheduling
(``--priority realtime``, the default; operator.yaml ``controller.priority``), or both at a
plain process's (``--priority normal``).

    ./dev bench ivr_realswitch [--rates 1,10,30,50,70,100] [--seconds 10] [--priority realtime]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import wave  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# bench/ is the script's directory: the ACD bench's switch helpers.
from realswitch import (  # noqa: E402
    one_ms_clock,
    run_sipp,
    scheduled_like_the_switch,
    stamp,
    start_controller,
    three,
)

from fsapps import priority  # noqa: E402
from fsapps.esl import codec  # noqa: E402
from fsapps.esl.client import Connection  # noqa: E402
from fsapps.flows.check import check  # noqa: E402
from fsapps.flows.install import install  # noqa: E402
from fsapps.flows.render import render  # noqa: E402
from fsapps.store import migrate  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.records import Tenant  # noqa: E402
from fsapps.testing.freeswitch import RealSwitch, free_port  # noqa: E402

SCENARIOS = ROOT / "tests" / "acceptance" / "sipp"
SYSTEMS = ("trivial", "fsapps")
NUMBERS = {"trivial": "5900", "fsapps": "5901"}
OTHERS = ("freeswitch", "postgres", "sipp")  # where the rest of the 2 cores go
CALLER_PREFIX = "1390000"  # sipp's call number follows: 13900001, 13900002, ...
ACCOUNTS = 200_000

TENANT = f"""id: ivrbench
name: IVR Bench
domain: ivrbench.example
timezone: UTC
language: en
access_numbers: {{"{NUMBERS["fsapps"]}": main}}
prompts:
  tone: {{file: tone.wav}}
  sorry: {{file: sorry.wav}}
"""
FLOW = """start: start
nodes:
  start: {type: answer, children: {_: find}}
  find:
    type: lookup
    data: {source: {table: accounts, column: caller}, key: caller_id, fields: [name, tier, balance],
           prefix: ib_}
    children: {found: tone, not_found: tone, fallback: sorry}
  tone: {type: play, data: {prompt: tone}, children: {_: bye}}
  sorry: {type: play, data: {prompt: sorry}, children: {_: bye}}
  bye: {type: hangup}
"""
LOOKUP = [
    "CREATE TABLE lookup.accounts (tenant_id text NOT NULL, caller text NOT NULL, name text, tier text,"
    " balance numeric, PRIMARY KEY (tenant_id, caller))",
    "ALTER TABLE lookup.accounts ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_rows ON lookup.accounts TO fsapps_tenant"
    " USING (tenant_id = (SELECT fsapps_current_tenant()))",
    "GRANT SELECT ON lookup.accounts TO fsapps_tenant",
    f"INSERT INTO lookup.accounts SELECT 'ivrbench', '{CALLER_PREFIX}' || n, 'Caller ' || n, 'gold', 1234.56"
    f" FROM generate_series(1, {ACCOUNTS}) AS n",
]


def trivial_dialplan(port: int) -> str:
    return f"""<include>
  <extension name="bench_trivial">
    <condition field="destination_number" expression="^{NUMBERS["trivial"]}$">
      <action application="answer"/>
      <action application="socket" data="127.0.0.1:{port} async full"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
"""


def write_tone(path: Path, hz: float, seconds: float = 1.0, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * n / rate)))
        for n in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


# --- the trivial controller -----------------------------------------------------------


def trivial_server(port: int, tone: str) -> None:
    """Answer each connection with ``connect``, queue the tone and the hangup, read until
    the switch closes the socket. Runs as its own process (``--trivial PORT TONE``)."""
    from gevent.server import StreamServer

    commands = (
        b"connect\n\n",
        (
            "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
            f"execute-app-arg: {tone}\nevent-lock: true\n\n"
        ).encode(),
        b"sendmsg\ncall-command: execute\nexecute-app-name: hangup\nevent-lock: true\n\n",
    )

    def handle(sock: socket.socket, _addr: object) -> None:
        with contextlib.suppress(OSError):
            for c in commands:
                sock.sendall(c)
            while sock.recv(65536):
                pass

    StreamServer(("127.0.0.1", port), handle, backlog=1024).serve_forever()


def start_trivial(port: int, tone: Path, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--trivial", str(port), str(tone)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the trivial controller did not start:\n" + log.read_text()[-2000:])


# --- figures --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and its reaped children), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def command_cpu(name: str) -> float:
    """CPU seconds of every process called ``name`` (PostgreSQL's backends are reaped by the
    postmaster, whose children's time then counts in its own)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] == name:
                total += sum(int(f) for f in text.rsplit(")", 1)[1].split()[11:15])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    system: str
    rate: float
    placed: int
    sipp_ok: int = 0
    clean: int = 0
    fallback: int = 0
    silent: int = 0
    latency: list[float] = field(default_factory=list)
    cpu_ms_per_call: float = math.nan
    others_ms_per_call: dict[str, float] = field(default_factory=dict)
    idle_in_transaction: int = 0
    busiest_pool: int = 0


def analyse(events: list[codec.Event], result: Result, tone: str, sorry: str) -> Result:
    handed: dict[str, float] = {}
    heard: dict[str, tuple[float, str]] = {}
    for e in events:
        uid = e.get("Unique-ID") or ""
        if e.name == "CHANNEL_EXECUTE" and e.get("Application") == "socket":
            handed.setdefault(uid, stamp(e))
        elif e.name == "PLAYBACK_START":
            heard.setdefault(uid, (stamp(e), e.get("Playback-File-Path") or ""))
    for uid, at in handed.items():
        ts, path = heard.get(uid, (0.0, ""))
        if path.endswith(tone):
            result.clean += 1
            result.latency.append(ts - at)
        elif path.endswith(sorry):
            result.fallback += 1
        else:
            result.silent += 1
    result.silent += max(0, result.placed - len(handed))
    return result


def place_calls(port: int, number: str, calls: int, rate: float, workdir: Path) -> int:
    """``calls`` sipp callers at ``rate``/s, each staying until the switch hangs up; returns
    how many sipp counts as successful (it cannot tell a fallback from a served call)."""
    workdir.mkdir(parents=True)
    scenario = workdir / "uac_until_bye.xml"
    scenario.write_text(
        (SCENARIOS / "uac_until_bye.xml")
        .read_text()
        .format(caller=f"{CALLER_PREFIX}[call_number]", timeout_ms=20000)
    )
    return run_sipp(port, scenario, number, calls, rate, calls / rate + 60, workdir, ("-l", "100000"))


class PoolWatch:
    """PostgreSQL's view of the controller's connections, sampled while a phase runs."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.idle_in_transaction = 0
        self.busiest = 0
        self._loop: gevent.Greenlet | None = None

    def _sample(self) -> None:
        while True:
            row = self.conn.execute(
                "SELECT count(*) FILTER (WHERE state = 'idle in transaction'),"
                " count(*) FILTER (WHERE state <> 'idle')"
                " FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
            assert row is not None
            self.idle_in_transaction = max(self.idle_in_transaction, row[0])
            self.busiest = max(self.busiest, row[1])
            gevent.sleep(0.05)

    def __enter__(self) -> PoolWatch:
        self.idle_in_transaction = self.busiest = 0
        self._loop = gevent.spawn(self._sample)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.kill()


def run_phase(
    fs: RealSwitch, watch: Connection, events: list[codec.Event], system: str, calls: int, rate: float,
    workdir: Path, pid: int, pool: PoolWatch | None, files: tuple[str, str], profile: Path | None = None,
    perf: Path | None = None,
) -> Result:  # fmt: skip
    result = Result(system, rate, calls)
    events.clear()
    cpu = cpu_seconds(pid)
    others = {name: command_cpu(name) for name in OTHERS}
    spy = None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--idle",
             "--output", str(profile / f"{system}-{rate:g}.txt"), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    sampler = None
    if perf is not None and fs.proc is not None:
        perf.mkdir(parents=True, exist_ok=True)
        sampler = subprocess.Popen(
            ["perf", "record", "-F", "199", "--call-graph", "dwarf,16384", "-p", str(fs.proc.pid),
             "-o", str(perf / f"freeswitch-{system}-{rate:g}.data")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    with pool if pool is not None else contextlib.nullcontext():
        result.sipp_ok = place_calls(fs.sip_port("external"), NUMBERS[system], calls, rate, workdir)
    for sampling in (spy, sampler):
        if sampling is not None:
            sampling.send_signal(signal.SIGINT)
            sampling.wait(60)
    result.cpu_ms_per_call = (cpu_seconds(pid) - cpu) * 1000 / calls
    result.others_ms_per_call = {n: (command_cpu(n) - v) * 1000 / calls for n, v in others.items()}
    if pool is not None:
        result.idle_in_transaction, result.busiest_pool = pool.idle_in_transaction, pool.busiest
    gevent.sleep(1.0)  # the last calls' events are on their way
    phase = list(events)
    events.clear()
    return analyse(phase, result, *files)


def print_rate(rate: float, results: dict[str, Result]) -> None:
    print(f"\n{rate:g} calls/s, {results['fsapps'].placed} calls each")
    print(f"{'':<10}{'socket to tone ms':^24}  clean  fallback  silent  sipp ok  CPU ms/call")
    print(f"{'':<10}{'p50':>8}{'p99':>8}{'max':>8}")
    for r in results.values():
        lat = "".join(f"{v:8.1f}" for v in three(r.latency))
        print(
            f"{r.system:<10}{lat}  {r.clean:5d}  {r.fallback:8d}  {r.silent:6d}  {r.sipp_ok:7d}"
            f"  {r.cpu_ms_per_call:11.2f}"
        )
    fa, tr = results["fsapps"], results["trivial"]
    ratios = [a / b if b else math.nan for a, b in zip(three(fa.latency), three(tr.latency), strict=True)]
    print(f"{'ratio':<10}" + "".join(f"{v:7.2f}x" for v in ratios))
    for r in results.values():
        spent = ", ".join(f"{n} {v:.2f}" for n, v in r.others_ms_per_call.items())
        print(f"    {r.system}: CPU ms per call elsewhere: {spent}")
    print(
        f"    fsapps: at most {fa.idle_in_transaction} PostgreSQL connection(s) idle in a transaction,"
        f" {fa.busiest_pool} busy at once"
    )


def clean_rate(results: list[Result]) -> float:
    best = 0.0
    for r in sorted(results, key=lambda r: r.rate):
        if r.clean != r.placed:
            break
        best = r.rate
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="1,10,30,50,70,100", help="calls per second, comma-separated")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of calls per rate and system")
    p.add_argument("--min-calls", type=int, default=30, help="at least this many calls per rate and system")
    p.add_argument("--vanilla-timer", action="store_true", help="keep the switch's 20 ms clock")
    p.add_argument("--no-cdrs", action="store_true", help="the controller without its inbound Event Socket")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured calls through each system first")
    p.add_argument(
        "--profile", metavar="DIR", help="sample the fsapps controller with py-spy (idle stacks too)"
    )
    p.add_argument(
        "--priority", choices=priority.PRIORITIES, default="realtime",
        help="both controllers' and PostgreSQL's scheduling (realtime: beside the switch's own threads)",
    )
    p.add_argument("--perf", metavar="DIR", help="sample FreeSWITCH with Linux perf during each phase")
    p.add_argument("--trivial", nargs=2, metavar=("PORT", "TONE"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.trivial:
        trivial_server(int(a.trivial[0]), a.trivial[1])
        return
    rates = [float(r) for r in a.rates.split(",") if r.strip()]
    with tempfile.TemporaryDirectory(prefix="fsapps-bench-ivr-") as tmp:
        d = Path(tmp)
        sounds = d / "sounds"
        write_tone(sounds / "en" / "tone.wav", 440.0)
        write_tone(sounds / "en" / "sorry.wav", 620.0)
        tone, sorry = str(sounds / "en" / "tone.wav"), str(sounds / "en" / "sorry.wav")
        fs = pg = controller = trivial = watch = pool = None
        try:
            port, trivial_port = free_port(), free_port()
            root = d / "dialplan"
            (root / "ivrbench" / "flows").mkdir(parents=True)
            (root / "operator.yaml").write_text(f"controllers: [127.0.0.1:{port}]\nsounds: {sounds}\n")
            (root / "ivrbench" / "tenant.yaml").write_text(TENANT)
            (root / "ivrbench" / "flows" / "main.yaml").write_text(FLOW)
            project = check(root)
            if project.problems:
                raise SystemExit(f"the bench tenant does not check: {project.problems}")
            files = render(project)

            pg = EmbeddedPostgres(d / "pg")
            dsn = pg.start()
            if a.priority == "realtime":
                scheduled_like_the_switch(int((pg.pgdata / "postmaster.pid").read_text().split()[0]))
            migrate.migrate(dsn)
            with Store(dsn, max_size=2) as store, store.operator() as op:
                op.add_tenant(Tenant("ivrbench", "IVR Bench", "ivrbench.example", "UTC"))
                for statement in LOOKUP:
                    op.conn.execute(statement)

            def prepare(conf: Path) -> None:
                install(files, conf)
                if not a.vanilla_timer:
                    one_ms_clock(conf)

            fs = RealSwitch.from_env(
                files={"dialplan/public/00_bench_trivial.xml": trivial_dialplan(trivial_port)},
                prepare=prepare,
            ).start()
            events: list[codec.Event] = []
            watch = Connection("127.0.0.1", fs.esl_port, fs.password)
            watch.connect()
            watch.on("*", events.append)
            watch.subscribe(["CHANNEL_EXECUTE", "PLAYBACK_START"])
            controller = start_controller(d, fs, dsn, root, port, cdrs=not a.no_cdrs, priority=a.priority)
            trivial = start_trivial(trivial_port, Path(tone), d / "trivial.log")
            if a.priority == "realtime":
                scheduled_like_the_switch(trivial.pid)
            pool = PoolWatch(dsn)
            pids = {"trivial": trivial.pid, "fsapps": controller.pid}

            print(
                f"The IVR path on one FreeSWITCH ({fs.prefix.name}): answer, a controller, a 1 s tone."
                f" fsapps: fsapps serve, a lookup by caller ID in {ACCOUNTS:,} rows under row-level security"
                f" (embedded PostgreSQL), {'no CDRs' if a.no_cdrs else 'CDRs from its inbound Event Socket'};"
                " trivial: an outbound Event Socket script queuing the tone and the hangup.\n"
                f"Scheduling: the switch {priority.describe(fs.proc.pid if fs.proc else 0)}; both controllers"
                f" and PostgreSQL {priority.describe(controller.pid)} (controller.priority: {a.priority})."
            )
            for system in SYSTEMS:
                if a.warmup:
                    run_phase(fs, watch, events, system, a.warmup, 5.0, d / f"warmup-{system}",
                              pids[system], None, (tone, sorry))  # fmt: skip
            summary: dict[str, list[Result]] = {s: [] for s in SYSTEMS}
            for rate in rates:
                calls = max(a.min_calls, int(rate * a.seconds))
                results = {}
                for system in SYSTEMS:
                    results[system] = run_phase(
                        fs, watch, events, system, calls, rate, d / f"r{rate:g}-{system}", pids[system],
                        pool if system == "fsapps" else None, (tone, sorry),
                        Path(a.profile) if a.profile and system == "fsapps" else None,
                        Path(a.perf) if a.perf else None,
                    )  # fmt: skip
                    summary[system].append(results[system])
                    gevent.sleep(2.0)  # the switch settles before the other system's callers
                print_rate(rate, results)
            clean = {s: clean_rate(summary[s]) for s in SYSTEMS}
            floor = {s: three(summary[s][0].latency)[0] for s in SYSTEMS}
            print(
                f"\nclean rate: fsapps {clean['fsapps']:g}/s, trivial {clean['trivial']:g}/s"
                f" ({clean['fsapps'] / clean['trivial'] if clean['trivial'] else math.nan:.2f}x);"
                f" latency floor (p50 at {rates[0]:g}/s): fsapps {floor['fsapps']:.1f} ms,"
                f" trivial {floor['trivial']:.1f} ms"
                f" ({floor['fsapps'] / floor['trivial'] if floor['trivial'] else math.nan:.2f}x)"
            )
            print(
                "Noise: 2 cores shared by the switch, sipp, PostgreSQL and the controllers;"
                " compare the two systems within one run, repeat runs for the spread."
            )
        finally:
            for proc in (controller, trivial):
                if proc is not None:
                    proc.terminate()
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(5)
            if pool is not None:
                pool.conn.close()
            if watch is not None:
                watch.stop()
            if fs is not None:
                fs.cleanup()
            if pg is not None:
                pg.close()


if __name__ == "__main__":
    main()

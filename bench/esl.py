"""Event Socket benchmarks.

(a) Parsing: events/s for fsapps.esl.codec on a stream of recorded
    FreeSWITCH events, against merely reading the same bytes in 64 KiB
    chunks (the bound) and against greenswitch parsing the same stream
    (the peer).
(b) Calls: N concurrent calls, each answer + 3 playbacks + hangup, from the
    emulator (`fsapps sim`, its own process) through `fsapps serve` (its own
    process); calls/s, the controller's command round trip (EXECUTE_COMPLETE
    of one step to EXECUTE of the next, from the switch's timestamps)
    against the same steps run natively by the dialplan (the bound), and the
    controller's memory per concurrent call.

    ./dev bench esl [--calls 400] [--concurrency 100]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import cast  # noqa: E402

import gevent  # noqa: E402
from greenswitch import esl as gs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fsapps.esl import codec  # noqa: E402
from fsapps.esl.client import Connection  # noqa: E402
from fsapps.testing.freeswitch import free_port  # noqa: E402
from tests.support import traces  # noqa: E402

PROMPT = "tone_stream://%(100,0,440)"


# --- (a) parsing ---------------------------------------------------------------


def recorded_stream(min_events: int) -> tuple[bytes, int]:
    frames = []
    for name in ("s02_inbound_events_call", "s04_outbound_ivr", "s06_originate_bridge"):
        for f in traces.load(name).from_fs():
            if b"Content-Type: text/event-plain" in f[:80]:
                frames.append(f)
    reps = -(-min_events // len(frames))
    return b"".join(frames) * reps, len(frames) * reps


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_parse(events: int) -> None:
    stream, count = recorded_stream(events)
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    size_kb = len(stream) / count / 1024

    def bound() -> None:
        buf = io.BytesIO(stream)
        while buf.read(65536):
            pass

    def ours_framing() -> None:
        reader = codec.MessageReader()
        for c in chunks:
            reader.feed(c)

    def ours_lazy() -> None:
        reader = codec.MessageReader()
        for c in chunks:
            for m in reader.feed(c):
                e = cast(codec.Event, m)  # every recorded frame is an event
                _ = (e.name, e.uuid)  # what a dispatcher reads

    def ours_all() -> None:
        reader = codec.MessageReader()
        for c in chunks:
            for m in reader.feed(c):
                cast(codec.Headers, cast(codec.Event, m).fields).items_raw()  # a plain event's fields

    def greenswitch() -> None:
        proto = gs.ESLProtocol()
        proto.sock_file = io.BytesIO(stream)
        proto.sock = None
        proto.connected = True
        proto._run = True
        proto.receive_events()
        assert proto._esl_event_queue.qsize() == count

    print(f"(a) parsing {count} recorded events, {size_kb:.1f} KiB each on average")
    rates = {}
    for label, fn in (
        ("read the bytes only (bound)", bound),
        ("fsapps codec, framing only", ours_framing),
        ("fsapps codec, name + Unique-ID", ours_lazy),
        ("fsapps codec, every header decoded", ours_all),
        ("greenswitch 0.0.19 (peer)", greenswitch),
    ):
        t = best_of(3, fn)
        rates[label] = count / t
        print(f"    {label:38s} {count / t:12,.0f} events/s")
    ours = rates["fsapps codec, name + Unique-ID"]
    print(
        f"    ratio fsapps / greenswitch: {ours / rates['greenswitch 0.0.19 (peer)']:.1f}x; "
        f"fsapps / bound: {ours / rates['read the bytes only (bound)']:.3f}"
    )


# --- (b) calls through fsapps serve ---------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_calls(
    conn: Connection, number: str, calls: int, concurrency: int
) -> tuple[float, list[float], int, int]:
    """Originate calls into the emulator's dialplan; returns (wall s, step gaps ms, completed, playbacks)."""
    execs: dict[str, list[tuple[str, int]]] = {}
    done = gevent.event.Event()
    finished = [0]
    played = [0]
    live = gevent.lock.BoundedSemaphore(concurrency)

    def on_event(ev: codec.Event) -> None:
        if ev.name in ("CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE") and (
            ev.get("Channel-Name") or ""
        ).endswith("-b"):
            execs.setdefault(ev.uuid or "", []).append((ev.name, int(ev.get("Event-Date-Timestamp") or 0)))
            if ev.name == "CHANNEL_EXECUTE_COMPLETE" and ev.get("Application") == "playback":
                played[0] += 1
        elif ev.name == "CHANNEL_HANGUP_COMPLETE" and (ev.get("Channel-Name") or "").endswith("-a"):
            finished[0] += 1
            live.release()
            if finished[0] >= calls:
                done.set()

    conn.event_handlers.clear()
    conn.on("*", on_event)
    t0 = time.perf_counter()
    for _ in range(calls):
        live.acquire()
        conn.bgapi(f"originate loopback/{number}/public &park()")
    done.wait(calls * 2 + 30)
    wall = time.perf_counter() - t0
    gaps = []
    for seq in execs.values():
        for (a, ta), (b, tb) in itertools.pairwise(seq):
            if a == "CHANNEL_EXECUTE_COMPLETE" and b == "CHANNEL_EXECUTE":
                gaps.append((tb - ta) / 1000.0)
    return wall, gaps, finished[0], played[0]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(int(len(xs) * p), len(xs) - 1)] if xs else float("nan")


def bench_calls(calls: int, concurrency: int) -> None:
    esl_port, ctl_port = free_port(), free_port()
    password = "bench-" + os.urandom(6).hex()
    env = {**os.environ, "FSAPPS_ESL_PASSWORD": password, "PYTHONPATH": str(ROOT)}
    steps = f"set:fsapps_args={PROMPT}!{PROMPT}!{PROMPT}"
    native = f"answer:;playback:{PROMPT};playback:{PROMPT};playback:{PROMPT};hangup:"
    sim = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "sim", "--port", str(esl_port),
         "--extension", f"^viactl$={steps};socket:127.0.0.1:{ctl_port}/announce async full",
         "--extension", f"^native$={native}",
         "--extension", f"^hold$=set:fsapps_args=tone_stream://%(30000,0,440);"
                        f"socket:127.0.0.1:{ctl_port}/announce async full"],
        env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    serve = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "serve"],
        env={**env, "FSAPPS_CONTROLLER_PORT": str(ctl_port), "FSAPPS_ESL_PORT": str(esl_port),
             "FSAPPS_LOG_LEVEL": "warning", "FSAPPS_CONTROLLER_MAX_CONNECTIONS": str(concurrency * 2)},
    )  # fmt: skip
    try:
        conn = None
        for _ in range(100):
            try:
                conn = Connection("127.0.0.1", esl_port, password)
                conn.connect()
                break
            except Exception:
                gevent.sleep(0.1)
        assert conn is not None
        # The controller must listen before the first call: a call that meets a closed port
        # skips the socket app and ends at once, which would time nothing.
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", ctl_port), timeout=0.5):
                break
            gevent.sleep(0.1)
        else:
            raise SystemExit(f"fsapps serve did not listen on {ctl_port} within 30 s")
        conn.subscribe(["CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP_COMPLETE"])
        gevent.sleep(1.0)
        idle = rss_kb(serve.pid)
        print(f"(b) {calls} calls, {concurrency} at a time, each answer + 3 x 100 ms playback + hangup")
        wall_n, gaps_n, done_n, _ = run_calls(conn, "native", calls, concurrency)
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in (serve, sim)}
        wall_c, gaps_c, done_c, played_c = run_calls(conn, "viactl", calls, concurrency)
        cpu = {pid: cpu_seconds(pid) - c for pid, c in cpu0.items()}
        if done_c < calls or played_c < 3 * calls:
            raise SystemExit(
                f"through fsapps serve, {done_c}/{calls} calls ended and {played_c} prompts played"
            )
        print(
            f"    native dialplan (bound):  {done_n / wall_n:7.1f} calls/s, step gap "
            f"p50 {pct(gaps_n, 0.5):6.2f} ms p99 {pct(gaps_n, 0.99):6.2f} ms ({done_n} calls)"
        )
        print(
            f"    through fsapps serve:     {done_c / wall_c:7.1f} calls/s, round trip "
            f"p50 {pct(gaps_c, 0.5):6.2f} ms p99 {pct(gaps_c, 0.99):6.2f} ms ({done_c} calls)"
        )
        print(
            f"    ratio serve / native calls/s: {(done_c / wall_c) / (done_n / wall_n):.2f}; "
            f"added per step p50 {pct(gaps_c, 0.5) - pct(gaps_n, 0.5):.2f} ms"
        )
        # /proc counts CPU in clock ticks (10 ms): a short run can round to 0.
        per_call = cpu[serve.pid] / max(done_c, 1) * 1000
        per_core = f"~{1000 / per_call:.0f} calls/s per core" if per_call else "under one clock tick"
        print(
            f"    CPU per call: controller {per_call:.2f} ms ({per_core}), "
            f"emulator {cpu[sim.pid] / max(done_c, 1) * 1000:.2f} ms (the emulator saturates first)"
        )
        # Memory: hold `concurrency` calls on a 30 s prompt and compare RSS.
        conn.event_handlers.clear()
        before = rss_kb(serve.pid)
        for _ in range(concurrency):
            conn.bgapi("originate loopback/hold/public &park()")
        with gevent.Timeout(20, False):
            while f"{2 * concurrency} total" not in conn.api("show channels count"):
                gevent.sleep(0.1)
        gevent.sleep(0.5)
        loaded = rss_kb(serve.pid)
        idle = min(idle, before)
        print(
            f"    controller RSS idle {idle / 1024:.1f} MiB, with {concurrency} calls "
            f"{loaded / 1024:.1f} MiB: {(loaded - idle) / concurrency:.1f} KiB per concurrent call"
        )
        conn.api("hupall")
    finally:
        for p in (serve, sim):
            p.terminate()
        for p in (serve, sim):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--only", choices=["parse", "calls"])
    a = ap.parse_args()
    if a.only in (None, "parse"):
        bench_parse(a.events)
    if a.only in (None, "calls"):
        bench_calls(a.calls, a.concurrency)


if __name__ == "__main__":
    main()

"""What the socket hardening costs.

(a) Accept rate: calls/s through the outbound Event Socket server, each a
    real TCP connection doing the switch's side of the handshake (connect,
    myevents, linger, a no-op application, exit), for the server as it was
    before the hardening (``--before``, read from git) and as it is now
    (allow-list, socket cap, handshake timeout, bounded reader), in the same
    process, rounds interleaved, best round each; the ratio is now/before.
(b) Shedding: connections/s the server refuses at accept (a peer outside
    controller.allow_from), each connected and read until closed.
(c) The per-call checks on the call path, in-process: the allow-list and cap
    at accept, the known-tenant test on a record.
(d) uuid_exists: one round trip on the controller's inbound connection to the
    emulator, and the time a call takes (connect to exit, seen from the
    switch's side) through a controller that checks it against one that
    cannot (no inbound connection), with a no-op application: the worst case,
    since the record waits for the answer only when the application ends
    before it arrives.

    ./dev bench sockets [--calls 2000] [--concurrency 20] [--before 6023a4a^] [--checks 200000]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import uuid as uuidlib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from gevent import socket  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fsapps.apps.context import AppContext  # noqa: E402
from fsapps.apps.known import KnownTenants  # noqa: E402
from fsapps.config import Settings  # noqa: E402
from fsapps.controller import Controller  # noqa: E402
from fsapps.esl import codec  # noqa: E402
from fsapps.esl import server as now_server  # noqa: E402
from fsapps.esl.client import Connection  # noqa: E402
from fsapps.flows.model import Operator, Project  # noqa: E402
from fsapps.sim.switch import Switch  # noqa: E402

PASSWORD = "bench-" + uuidlib.uuid4().hex
# The server as it was before 6023a4a brought the allow-list, the socket cap and the timeouts.
BEFORE = "6023a4a^"


def server_before(rev: str) -> Any:
    """fsapps/esl/server.py as it was at ``rev``, imported beside today's."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:fsapps/esl/server.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "server_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("fsapps_server_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def switch_side(port: int, variables: dict[str, str] | None = None) -> float:
    """One call as the dialplan's socket app makes it; seconds from accept to exit."""
    started = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port))
    # The socket app's connection has Nagle off (mod_event_socket.c:478); without it the
    # switch's second small reply waits for the server's delayed ACK, ~40 ms a call.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = codec.CommandReader()
    connect_reply = codec.serialize_plain(
        [
            ("Event-Name", "CHANNEL_DATA"),
            ("Unique-ID", str(uuidlib.uuid4())),
            *((f"variable_{k}", v) for k, v in (variables or {}).items()),
            ("Content-Type", "command/reply"),
            ("Reply-Text", "+OK\n"),
        ]
    ).encode()
    try:
        while data := sock.recv(65536):
            for cmd in reader.feed(data):
                sock.sendall(connect_reply if cmd.name == "connect" else codec.encode_reply("+OK"))
                if cmd.name == "exit":
                    return time.perf_counter() - started
    finally:
        sock.close()
    return time.perf_counter() - started


def drive(port: int, calls: int, concurrency: int, variables: dict[str, str] | None = None) -> list[float]:
    per = calls // concurrency
    jobs = [
        gevent.spawn(lambda: [switch_side(port, variables) for _ in range(per)]) for _ in range(concurrency)
    ]
    gevent.joinall(jobs, raise_error=True)
    return [t for j in jobs for t in j.value]


def bench_accept(calls: int, concurrency: int, before_rev: str) -> None:
    before = server_before(before_rev)
    variants = {
        f"before ({before_rev})": lambda: before.OutboundServer(lambda call: None, port=0),
        "now (allow-list, cap, timeouts)": lambda: now_server.OutboundServer(lambda call: None, port=0),
    }
    best: dict[str, float] = {}
    for _ in range(3):
        for name, make in variants.items():
            server = make().start()
            drive(server.port, concurrency * 5, concurrency)  # warm up
            t = time.perf_counter()
            done = len(drive(server.port, calls, concurrency))
            rate = done / (time.perf_counter() - t)
            server.stop(grace=1)
            best[name] = max(best.get(name, 0.0), rate)
    print(f"(a) accept rate, {calls} calls, {concurrency} at a time, best of 3 interleaved rounds:")
    for name, rate in best.items():
        print(f"    {name:34s} {rate:8.0f} calls/s")
    a, b = best.values()
    print(f"    ratio now/before: {b / a:.3f}")


def bench_shedding(calls: int) -> None:
    server = now_server.OutboundServer(lambda call: None, port=0, allow_from=["10.0.0.0/8"]).start()
    t = time.perf_counter()
    for _ in range(calls):
        sock = socket.create_connection(("127.0.0.1", server.port))
        while sock.recv(64):
            pass
        sock.close()
    rate = calls / (time.perf_counter() - t)
    server.stop(grace=0)
    print(f"(b) refused at accept (outside allow_from): {rate:8.0f} connections/s, one at a time")


def bench_checks(n: int) -> None:
    nets = now_server.networks(now_server.LOOPBACK)
    server = now_server.OutboundServer(lambda call: None, port=0)

    def admit() -> None:
        server._admit(("127.0.0.1", 40000))
        server.open_sockets -= 1

    ctx = AppContext(Project("bench", Operator(), []))
    ctx.tenants = {"acme": object()}  # type: ignore[dict-item]
    known = KnownTenants(lambda: ctx.tenants, None)
    for label, fn in (
        ("peer_allowed, default allow-list", lambda: now_server.peer_allowed("127.0.0.1", nets)),
        ("peer_allowed, IPv4-mapped peer", lambda: now_server.peer_allowed("::ffff:127.0.0.1", nets)),
        ("_admit (allow-list + cap), per accept", admit),
        ("known tenant, per record", lambda: "acme" in known),
    ):
        per = min(timeit.repeat(fn, number=n, repeat=3)) / n
        print(f"(c) {label:40s} {per * 1e6:6.2f} µs")


def bench_uuid_check(calls: int) -> None:
    sw = Switch(speed=10.0, password=PASSWORD).start()
    conn = Connection("127.0.0.1", sw.port, PASSWORD)
    conn.connect()
    rtts = []
    for _ in range(calls):
        t = time.perf_counter()
        conn.api(f"uuid_exists {uuidlib.uuid4()}")
        rtts.append(time.perf_counter() - t)
    conn.stop()
    print(f"(d) uuid_exists round trip to the emulator: median {statistics.median(rtts) * 1e3:.3f} ms")

    def noop(session: Any, args: str) -> str:
        return "done"

    timings = {}
    for label, password in (
        ("no inbound connection (not checked)", None),
        ("checked with uuid_exists", PASSWORD),
    ):
        settings = Settings()
        settings.controller.port = 0
        settings.esl.port, settings.esl.password = sw.port, password
        context = AppContext(Project("bench", Operator(), []))
        controller = Controller(settings, applications={"noop": noop}, context=context).start()
        if controller.client is not None:
            assert controller.client.wait_connected(10)
        variables = {"socket_path": "noop", "fsapps_tenant": "acme"}
        drive(controller.server.port, 50, 1, variables)
        timings[label] = statistics.median(drive(controller.server.port, calls, 1, variables))
        controller.stop(0)
    sw.stop()
    for label, t in timings.items():
        print(f"    call, connect to exit, {label:38s} median {t * 1e3:.3f} ms")
    a, b = timings.values()
    print(f"    added per call: {(b - a) * 1e3:.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--before", default=BEFORE, help="git revision of the server before the hardening")
    ap.add_argument("--checks", type=int, default=200_000, help="runs of each per-call check, for (c)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    bench_accept(args.calls, args.concurrency, args.before)
    bench_shedding(args.calls)
    bench_checks(args.checks)
    bench_uuid_check(min(args.calls, 500))


if __name__ == "__main__":
    main()

"""`fsapps serve` as its own process: settings from the environment, structured
logs without the password, and SIGTERM handing running calls back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import gevent
from gevent import socket

from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.testing.freeswitch import free_port
from tests.support.waiting import wait_for

PASSWORD = "s3cret-Esl-pass"
FALLBACK = "tone_stream://%(250,0,620)"


def test_serve_hands_calls_back_on_sigterm_and_never_logs_the_password(tmp_path) -> None:
    port = free_port()
    dp = StaticDialplan().add(
        "public",
        r"^1000$",
        [
            ("set", "socket_resume=true"),
            ("set", "fsapps_args=" + "a long welcome " * 20),
            ("socket", f"127.0.0.1:{port}/welcome async full"),
            ("playback", FALLBACK),
        ],
    )
    sw = Switch(dialplan=dp, speed=5.0, password=PASSWORD).start()
    env = {
        **os.environ,
        "FSAPPS_ESL_PORT": str(sw.port),
        "FSAPPS_ESL_PASSWORD": PASSWORD,
        "FSAPPS_CONTROLLER_PORT": str(port),
        "FSAPPS_CONTROLLER_SHUTDOWN_GRACE": "0.5",
        "FSAPPS_LOG_LEVEL": "debug",
        "FSAPPS_STATE_DIR": str(tmp_path / "var"),
        "FSAPPS_METRICS_PORT": str(metrics_port := free_port()),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "serve"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        sw.wait_for(lambda: any(lst.authed for lst in sw.listeners), timeout=15)
        ch = sw.place_call("1000", script=CallerScript())
        sw.wait_for(lambda: ch.answered, timeout=10)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
            exposed = resp.read().decode()
        assert "# TYPE fsapps_ivr_sessions_total counter" in exposed
        assert "# TYPE fsapps_lookup_seconds histogram" in exposed
        proc.send_signal(signal.SIGTERM)
        sw.wait_for(lambda: f"heard {FALLBACK}" in sw.call_log(ch.uuid), timeout=15)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sw.stop()
    err = proc.stderr.read()
    assert PASSWORD not in err
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    msgs = [x["msg"] for x in lines]
    assert "fsapps controller ready" in msgs
    assert any("handed back to the dialplan at shutdown" in m for m in msgs)
    assert msgs.index("stopped") > msgs.index("fsapps controller ready")


def test_serve_refuses_a_port_in_use(tmp_path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    env = {
        **os.environ,
        "FSAPPS_CONTROLLER_PORT": str(busy.getsockname()[1]),
        "FSAPPS_STATE_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-m", "fsapps.cli", "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    busy.close()
    assert out.returncode == 2
    assert "cannot listen on 127.0.0.1" in out.stderr
    gevent.sleep(0)


def test_serve_closes_half_sent_http_requests(tmp_path) -> None:
    """Against the running `fsapps serve`: half-sent requests to xml_curl and /metrics are
    closed after the read timeout, a few at a time, and the servers go on answering."""
    metrics_port, xml_port = free_port(), free_port()
    env = {
        **os.environ,
        "FSAPPS_CONTROLLER_PORT": str(free_port()),
        "FSAPPS_STATE_DIR": str(tmp_path / "var"),
        "FSAPPS_METRICS_PORT": str(metrics_port),
        "FSAPPS_METRICS_READ_TIMEOUT": "1",
        "FSAPPS_METRICS_MAX_CONNECTIONS": "2",
        "FSAPPS_XML_CURL_PORT": str(xml_port),
        "FSAPPS_XML_CURL_PASSWORD": "xml-" + os.urandom(4).hex(),
        "FSAPPS_XML_CURL_CONF": str(tmp_path / "conf"),
        "FSAPPS_XML_CURL_READ_TIMEOUT": "1",
        "FSAPPS_XML_CURL_MAX_CONNECTIONS": "2",
    }
    said = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "fsapps.cli", "serve"], env=env, stderr=said, text=True)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    try:
        # A serve that exits (a port taken meanwhile, say) is seen at once, with what it said.
        started_up = wait_for(lambda: answers() or proc.poll() is not None, timeout=120)
        assert started_up and proc.poll() is None, (
            proc.poll(), (tmp_path / "serve.log").read_text()[-3000:]
        )
        half = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"
        peers = []
        for port in (metrics_port, xml_port):
            for _ in range(6):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(half)
                peers.append(sock)
        started = time.monotonic()
        for sock in peers:
            sock.settimeout(10)
            assert sock.recv(4096) == b""  # closed by the server, nothing said
            sock.close()
        assert time.monotonic() - started < 8  # three rounds of two at 1 s each, per server
        assert answers()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        said.close()


def _serve_until_ready(
    tmp_path, env_extra: dict[str, str], prefix: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, list[str]]:
    port = free_port()
    env = {
        **os.environ,
        "FSAPPS_CONTROLLER_PORT": str(port),
        "FSAPPS_STATE_DIR": str(tmp_path / "var"),
        **env_extra,
    }
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "fsapps.cli", "serve"], env=env, stderr=subprocess.PIPE, text=True
    )

    said: list[str] = []
    with gevent.Timeout(120, AssertionError("serve did not start")):
        while not any("fsapps controller ready" in line for line in said):
            line = proc.stderr.readline() if proc.stderr else ""
            assert line, "serve exited:\n" + "".join(said)
            said.append(line)
    return proc, said


def _policy(pid: int) -> tuple[int, int]:
    return os.sched_getscheduler(pid), os.sched_getparam(pid).sched_priority


def test_priority_realtime_puts_the_controller_and_its_embedded_postgresql_by_the_switch(tmp_path) -> None:
    proc, _ = _serve_until_ready(tmp_path, {"FSAPPS_CONTROLLER_PRIORITY": "realtime"})
    try:
        postmaster = int((tmp_path / "var" / "pgdata" / "postmaster.pid").read_text().split()[0])
        backends = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == postmaster]
        assert backends, "the embedded PostgreSQL has no backend"
        # FreeSWITCH's own is SCHED_FIFO 1 (switch_core.c set_realtime_priority).
        assert _policy(proc.pid) == (os.SCHED_RR, 1)
        assert _policy(postmaster) == (os.SCHED_RR, 1)
        assert {_policy(b) for b in backends} == {(os.SCHED_RR, 1)}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_priority_realtime_without_the_right_to_it_runs_at_normal_priority_and_says_so(tmp_path) -> None:
    # setpriv (util-linux) takes CAP_SYS_NICE away, as an unprivileged service user lacks it.
    drop = ("setpriv", "--bounding-set", "-sys_nice", "--inh-caps", "-sys_nice")
    settings = {"FSAPPS_CONTROLLER_PRIORITY": "realtime", "FSAPPS_LOG_FORMAT": "text"}
    proc, said = _serve_until_ready(tmp_path, settings, prefix=drop)
    try:
        assert _policy(proc.pid) == (os.SCHED_OTHER, 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    warning = (
        "cannot take real-time priority (SCHED_RR 1): Operation not permitted; running at normal priority"
    )
    assert any(warning in line for line in said), said


def test_priority_normal_is_the_default(tmp_path) -> None:
    proc, _ = _serve_until_ready(tmp_path, {})
    try:
        assert _policy(proc.pid) == (os.SCHED_OTHER, 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1

"""sipp for tests and benches: its media ports, and starting it until it holds its ports.

A port found free (fsapps.testing.freeswitch.free_port) may be taken before sipp binds it;
sipp then exits at once with status 254 having placed no call, so it is simply run again on
other ports. Both ways sipp runs here (in the background as phones, in the foreground as
callers) go through ``start_bound`` and ``run_bound``.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsapps.testing.freeswitch import PORTS, bindable, free_port, fresh, hand_out

TRIES = 5
Argv = Callable[[int, int], list[str]]  # (SIP port, media base) -> sipp's command line


def sipp_media_port(avoid: int = 0) -> int:
    """An even base for sipp's media ports, four free ones from it (sipp 3.6 binds the base
    and base + 2, audio's and video's RTP; the others are kept free for RTCP), none of them
    ``avoid`` (the same sipp's SIP port, not yet bound). sipp exits at once (status 254) if
    one it binds is taken.

    Taken from this process's share (PORTS), below the kernel's ephemeral range (32768-60999)
    where no port 0 bind lands and below FreeSWITCH's RTP range (16384-32768): a port found
    free there stays free."""
    low = PORTS.start + PORTS.start % 2
    for _ in range(200):
        base = random.randrange(low, PORTS.stop - 4, 2)
        ports = range(base, base + 4)
        if avoid not in ports and fresh(ports) and all(bindable(p, socket.SOCK_DGRAM) for p in ports):
            hand_out(ports)
            return base
    raise OSError(f"no four free UDP ports for sipp's media in {PORTS.start}-{PORTS.stop - 1}")


SIPP_BIND_FAILED = 254  # sipp's exit status when it cannot bind a socket (-2)


def udp_ports_held(proc: subprocess.Popen[Any], ports: set[int], timeout: float = 10.0) -> bool:
    """Whether ``proc`` itself has bound every one of these loopback UDP ports (its sockets'
    inodes against /proc/net/udp: a port another process holds does not count), waiting for
    it; False once it has exited."""
    wanted = {f"0100007F:{port:04X}" for port in ports}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        inodes = set()
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{proc.pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        bound = set()
        for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] in wanted and fields[9] in inodes:
                bound.add(fields[1])
        if bound == wanted:
            return True
        time.sleep(0.05)
    return False


def start_bound(argv: Argv, **popen: Any) -> tuple[subprocess.Popen[Any], int]:
    """sipp in the background from ``argv(sip_port, media_base)``, once it holds both ports;
    returns it and its SIP port. Raises RuntimeError (with its first errors, read from
    ``popen['cwd']``) if it never does."""
    why = ""
    for _ in range(TRIES):
        port = free_port(socket.SOCK_DGRAM)
        media = sipp_media_port(avoid=port)
        proc = subprocess.Popen(argv(port, media), **popen)
        if udp_ports_held(proc, {port, media}):
            return proc, port
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        why = f"exit status {proc.returncode}: {errors(Path(popen.get('cwd') or '.'))}"
    raise RuntimeError(f"sipp did not start ({why})")


def run_bound(argv: Argv, cwd: Path, **run: Any) -> subprocess.CompletedProcess[Any]:
    """sipp in the foreground from ``argv(sip_port, media_base)`` in ``cwd``, run again on
    other ports while it could not bind them (each run's logs, of the runs before, removed)."""
    for _ in range(TRIES):
        for old in [*cwd.glob("*_screen.log"), *cwd.glob("*_errors.log")]:
            old.unlink()
        port = free_port(socket.SOCK_DGRAM)
        done = subprocess.run(argv(port, sipp_media_port(avoid=port)), cwd=cwd, **run)
        if done.returncode != SIPP_BIND_FAILED:
            break
    return done


def errors(cwd: Path) -> str:
    """The first things sipp wrote to its error logs in ``cwd`` (-trace_err)."""
    text = "".join(p.read_text(errors="replace") for p in sorted(cwd.glob("*_errors.log")))
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("The following events")]
    return " | ".join(lines[:3]) or "(no error logged)"

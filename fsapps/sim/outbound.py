"""The ``socket`` application: hand a channel to an outbound Event Socket server.

Copies mod_event_socket.c socket_function (l.416-563): ``host:port[/path]``
targets separated by ``|`` are tried in order; in async mode the channel
parks once the controller has sent ``connect`` and runs whatever sendmsg
commands arrive; in static mode the listener drives the channel itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import gevent
from gevent import socket

from fsapps.sim.listener import Listener
from fsapps.sim.strings import separate_string

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel

log = logging.getLogger("fsapps.sim")

CONNECT_TIMEOUT = 5.0


def _connect(host: str, port: int) -> socket.socket | None:
    try:
        if _is_ip(host):
            # A numeric address needs no resolver round trip through a thread.
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                sock.connect((host, port))
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        log.info("socket app: %s:%s: %s", host, port, exc)
        return None
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def run_socket_app(ch: Channel, data: str) -> None:
    argv = separate_string(data, " ", 80)
    if not argv or not argv[0]:
        ch.note("socket: parse error")
        return
    flags = {a.lower() for a in argv[1:]}
    sock = None
    for target in argv[0].split("|"):
        if not target:
            continue
        host, port = target, 8084
        if ":" in target:
            host, _, rest = target.rpartition(":")
            port_s, _, path = rest.partition("/")
            try:
                port = int(port_s)
            except ValueError:
                continue
            if path:
                ch.set_var("socket_path", path)
        ch.set_var("socket_host", host)
        sock = _connect(host, port)
        if sock is not None:
            ch.note(f"socket connected to {host}:{port}")
            break
        ch.note(f"socket: {host}:{port} refused")
    if sock is None:
        return
    listener = Listener(ch.switch, sock, session=ch, async_mode="async" in flags, full="full" in flags)
    if not listener.async_mode:
        listener.run()
        return
    gevent.spawn(listener.run)
    # Wait for LFLAG_CONNECTED (mod_event_socket.c:538). The real switch then
    # polls with switch_cond_next before parking; giving the controller's next
    # command (typically myevents) a moment keeps CHANNEL_PARK visible to it,
    # as it is in the recorded traces.
    ch.wait(float("inf"), lambda: listener.connected.is_set() or listener.finished.is_set())
    if listener.connected.is_set():
        _brief(listener, listener.commands_at_connect)
    if not ch.up:
        return
    from fsapps.sim.apps.calls import park_loop

    # l.542: park whether or not the controller ever said `connect`.
    park_loop(ch)
    ch.parse_all_events()
    if ch.up and ch.reset_requested:
        ch.reset_requested = False
        ch.note("socket released the call back to the dialplan")


def _brief(listener: Listener, seen: int, limit: float = 0.05) -> None:
    with gevent.Timeout(limit, False):
        while listener.commands_seen <= seen and not listener.finished.is_set():
            gevent.sleep(0.001)

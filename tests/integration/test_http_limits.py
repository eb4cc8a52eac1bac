"""The xml_curl and metrics HTTP servers against half-sent requests, over real TCP:
a read timeout closes them, and a bounded pool caps how many are served at once."""

from __future__ import annotations

import time
import urllib.request

import gevent
import pytest
from gevent import socket
from prometheus_client import make_wsgi_app

from fsapps.flows.xmlcurl import make_app
from fsapps.httpserve import wsgi_server
from tests.support.waiting import wait_for

HALF = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # no blank line: the head never ends


@pytest.fixture
def serve():
    servers = []

    def start(app=None, *, read_timeout: float = 0.5, max_connections: int = 3):
        server = wsgi_server(
            "127.0.0.1", 0, app or make_wsgi_app(), read_timeout=read_timeout, max_connections=max_connections
        )
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(timeout=1)


def half_sent(server, data: bytes = HALF) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=5)
    sock.sendall(data)
    return sock


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True once the server closes the socket (anything it says first is read and ignored)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def get(server, path: str = "/metrics", timeout: float = 10) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}", timeout=timeout) as resp:
        resp.read()
        return resp.status


def test_half_sent_requests_are_capped_and_closed_after_the_read_timeout(serve) -> None:
    server = serve(read_timeout=0.5, max_connections=3)
    served: list[int] = []  # how many the server held, sampled throughout

    def sample() -> None:
        while True:
            served.append(server.connections)
            gevent.sleep(0.005)

    watcher = gevent.spawn(sample)
    started = time.monotonic()
    peers = [half_sent(server) for _ in range(10)]
    assert wait_for(lambda: server.connections == 3, timeout=5)
    assert all(closed_within(sock, 10) for sock in peers)
    watcher.kill()
    # Three served at a time, the others waiting in the listen backlog; four rounds of
    # three at 0.5 s each, not forever (a busy machine stretches the rounds, not the cap).
    assert max(served) == 3
    assert time.monotonic() - started < 8
    assert server.timed_out == 10
    assert get(server) == 200  # and the server still answers
    for sock in peers:
        sock.close()


def test_a_head_trickled_a_byte_at_a_time_is_cut_at_the_deadline(serve) -> None:
    server = serve(read_timeout=1.0)
    sock = half_sent(server, b"G")
    started = time.monotonic()
    sock.settimeout(0.05)
    closed = False
    for byte in HALF[1:] * 20:  # each byte well inside the per-read timeout
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(1) == b"":
                closed = True
                break
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    assert closed
    # Cut at the 1 s deadline: a per-read timeout alone would let the trickle run ~40 s.
    assert time.monotonic() - started < 8
    sock.close()


def test_a_stalled_body_is_closed_without_a_traceback(serve, tmp_path, capfd) -> None:
    server = serve(make_app(tmp_path, "freeswitch", "xml-pass"), read_timeout=0.5)
    sock = half_sent(
        server,
        b"POST /xml HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZnJlZXN3aXRjaDp4bWwtcGFzcw==\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nsection=dial",
    )
    assert closed_within(sock, 5)
    assert server.timed_out == 1
    assert "Traceback" not in capfd.readouterr().err
    sock.close()


def test_an_idle_keep_alive_connection_is_closed(serve) -> None:
    server = serve(read_timeout=0.5)
    sock = half_sent(server, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
    assert closed_within(sock, 5)
    sock.close()

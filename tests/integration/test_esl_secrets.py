"""The Event Socket password never reaches a log line or an error message,
even when the switch never answers ``auth`` and the command times out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from gevent import socket
from gevent.server import StreamServer

from fsapps.cli import main
from fsapps.esl import codec
from fsapps.esl.client import AuthenticationFailed, Connection, InboundClient
from fsapps.esl.protocol import CommandTimeout
from tests.support.waiting import wait_for

# Longer than the 35 characters an error message once carried, so a prefix would show.
PASSWORD = "Never-Log-Me-" + "0123456789abcdefghijklmnopqrstuvwxyz"
EXAMPLES = Path(__file__).resolve().parents[2] / "dialplan"


def leaks(text: str) -> list[str]:
    """Every 8-character piece of the password found in ``text``."""
    return [PASSWORD[i : i + 8] for i in range(len(PASSWORD) - 7) if PASSWORD[i : i + 8] in text]


class SilentSwitch:
    """Asks for auth, reads the answer and never replies: the timeout fires."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.server = StreamServer(("127.0.0.1", 0), self._serve)
        self.server.start()
        self.port = self.server.server_port

    def _serve(self, sock: socket.socket, _address: tuple[str, int]) -> None:
        sock.sendall(codec.encode_auth_request())
        while data := sock.recv(4096):
            self.received.append(data)

    def auth_seen(self) -> bool:
        return any(b"auth " in chunk for chunk in self.received)

    def close(self) -> None:
        self.server.stop(timeout=1)


@pytest.fixture
def silent_switch():
    sw = SilentSwitch()
    yield sw
    sw.close()


def test_a_timed_out_auth_names_the_command_not_the_password(silent_switch) -> None:
    conn = Connection("127.0.0.1", silent_switch.port, PASSWORD, timeout=0.5)
    with pytest.raises(CommandTimeout) as err:
        conn.connect()
    assert wait_for(silent_switch.auth_seen, timeout=5)  # its reader may run after the timeout
    assert "no reply to auth" in str(err.value)
    assert leaks(str(err.value)) == [] and leaks(repr(err.value)) == []


def test_the_reconnecting_client_logs_no_password(silent_switch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = InboundClient("127.0.0.1", silent_switch.port, PASSWORD, connect_timeout=0.3, backoff_max=0.5)
    client.start()
    try:
        assert wait_for(lambda: any("unavailable" in r.getMessage() for r in caplog.records), timeout=10)
    finally:
        client.stop()
    assert silent_switch.auth_seen()
    logged = "\n".join(r.getMessage() + (caplog.text if r.exc_info else "") for r in caplog.records)
    assert "no reply to auth" in logged
    assert leaks(logged) == []


def test_render_reload_prints_no_password(silent_switch, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FSAPPS_ESL_HOST", "127.0.0.1")
    monkeypatch.setenv("FSAPPS_ESL_PORT", str(silent_switch.port))
    monkeypatch.setenv("FSAPPS_ESL_PASSWORD", PASSWORD)
    assert main(["render", str(EXAMPLES), "--out", str(tmp_path / "conf"), "--reload"]) == 2
    out = capsys.readouterr()
    assert silent_switch.auth_seen()
    assert "reloadxml failed: no reply to auth" in out.err
    assert leaks(out.out + out.err) == []


def test_a_password_with_a_line_break_is_refused_without_showing_it(silent_switch) -> None:
    conn = Connection("127.0.0.1", silent_switch.port, PASSWORD + "\nevent plain ALL", timeout=0.5)
    with pytest.raises(AuthenticationFailed) as err:
        conn.connect()
    assert "line break" in str(err.value)
    assert leaks(str(err.value)) == []
    assert not silent_switch.auth_seen()

"""`fsapps serve` mounts the HTTP API beside the controller when `api.port` is set, and
the README's curl example works against it as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import gevent
import pytest

from fsapps.testing.freeswitch import free_port
from tests.support import readme
from tests.support.sse import open_stream
from tests.support.waiting import wait_for

# The README's "HTTP API" section as written: first the setup, then (with serve running)
# the requests, and what the second curl prints. The port is the README's; the test swaps
# in a free one.
_SECTION = readme.section("## The HTTP API")
SETUP, REQUESTS, STREAM = [b.body for b in readme.blocks(_SECTION) if b.lang == "sh"]
PRINTS = re.search(r"^prints `(.*)`\.$", _SECTION, re.M).group(1) + "\n"  # type: ignore[union-attr]


def _env(tmp_path: Path, api_port: int | None) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "FSAPPS_CONTROLLER_PORT": str(free_port()),
        "FSAPPS_STATE_DIR": str(tmp_path / "var"),
        "FSAPPS_METRICS_PORT": str(free_port()),
    }
    if api_port:
        env["FSAPPS_API_PORT"] = str(api_port)
    return env


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README example uses curl")
def test_serve_mounts_the_api_and_the_readme_example_runs(tmp_path) -> None:
    port = free_port()
    env = _env(tmp_path, port)
    setup = subprocess.run(["bash", "-e", "-c", SETUP], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    proc = subprocess.Popen([sys.executable, "-m", "fsapps.cli", "serve"], env=env, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip

    def spec() -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            return None

    try:
        assert wait_for(spec, timeout=60)
        script = REQUESTS.replace("8086", str(port))
        out = subprocess.run(["bash", "-e", "-c", script], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout == PRINTS
        # The console's pages beside the API, on the same port.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/", timeout=5) as r:
            page = r.read().decode()
        assert 'id="login-form"' in page and 'src="/console/static/login.js"' in page
        # The operator's event stream: a status change the CLI makes from its own process
        # reaches it through serve's relay.
        token = (tmp_path / "token").read_text().strip()
        stream = open_stream(port, "/api/v1/events", token=token)
        assert stream.status == 200, stream.body
        # The README's curl of the tenant's stream, as written.
        follow = "TOKEN=$(cat token)\n" + STREAM.replace("8086", str(port))
        curl = subprocess.Popen(["bash", "-e", "-c", follow], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                text=True)  # fmt: skip
        for argv in (("agent", "add", "a1", "--tenant", "acme"), ("agent", "status", "a1", "available")):
            done = subprocess.run([sys.executable, "-m", "fsapps.cli", *argv], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            assert done.returncode == 0, done.stderr
        got = stream.until(lambda f: f.event == "agent_state" and f.data["status"] == "Available")
        assert [(f.data["agent"], f.data["status"]) for f in got if f.event == "agent_state"][-1] == (
            "a1", "Available",
        ), got  # fmt: skip
        stream.close()
        printed = _until(curl, '"status":"Available"')
        curl.kill()
        assert printed[0] == "retry: 2000" and printed[1].startswith(": stream of "), printed
        event = printed.index("event: agent_state")
        assert re.fullmatch(r"id: \d+-\d+", printed[event - 1]), printed
        assert json.loads(printed[event + 1].removeprefix("data: "))["agent"] == "a1", printed
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    assert any(x["msg"] == "serving the HTTP API under /api/v1" for x in lines)
    assert any(x["msg"] == "serving the console under /console/" for x in lines)


def _until(proc: subprocess.Popen[str], text: str, timeout: float = 30) -> list[str]:
    """The lines ``proc`` prints up to and including the first that contains ``text``."""
    assert proc.stdout is not None
    lines: list[str] = []
    with gevent.Timeout(timeout, AssertionError(f"no {text!r} within {timeout}s")):
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if text in line:
                return lines
    raise AssertionError(f"{text!r} never printed: {lines}")


def test_the_api_is_off_unless_configured_and_binds_loopback() -> None:
    from fsapps import config

    settings = config.load(env={})
    assert settings.api.port == 0 and settings.api.listen == "127.0.0.1"
    assert settings.api.cookie_secure is False
    on = config.load(env={"FSAPPS_API_PORT": "8086", "FSAPPS_API_COOKIE_SECURE": "true"})
    assert on.api.port == 8086 and on.api.cookie_secure is True
    with pytest.raises(config.SettingsError, match="expected true or false"):
        config.load(env={"FSAPPS_API_COOKIE_SECURE": "maybe"})


def test_event_streams_must_leave_connections_to_the_apis_other_requests(caplog) -> None:
    """api.max_streams at api.max_connections or above: serve refuses, saying why."""
    from fsapps import cli, config

    settings = config.load(env={"FSAPPS_API_PORT": "8086", "FSAPPS_API_MAX_STREAMS": "100"})
    assert settings.api.max_connections == 100
    assert cli._api_server(settings, store=None, controller=None) is None
    assert "api.max_streams (100) must be less than api.max_connections (100)" in caplog.text
    with pytest.raises(config.SettingsError, match="max_streams: must be more than 0"):
        config.load(env={"FSAPPS_API_MAX_STREAMS": "0"})

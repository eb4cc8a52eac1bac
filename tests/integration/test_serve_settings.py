"""The README's settings, as ``fsapps serve`` and the CLI meet them: the README's settings
block starts ``fsapps serve --config fsapps.yaml`` with the ``FSAPPS_*`` environment winning
over the file; there is no default Event Socket password (the vanilla ``ClueCon`` is never
tried); one JSON object per log line on stderr; an unquoted ``::1`` is refused in one line;
call control without ``esl.password`` says so. Each run is its own process, against the
emulator and a scratch PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.testing.freeswitch import free_port
from tests.integration.test_cli_claims import listening
from tests.support import readme
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "yaml: esl: {host: 127.0.0.1, port: 8021} # password: use FSAPPS_ESL_PASSWORD"
VANILLA = "ClueCon"  # FreeSWITCH's vanilla event_socket.conf.xml password
FALLBACK = "tone_stream://%(250,0,620)"


def settings_block() -> str:
    found = [b.body for b in readme.blocks() if f"{b.lang}: {readme.example_key(b.first)}" == SETTINGS]
    assert len(found) == 1, SETTINGS
    return found[0]


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user who set only ``extra`` of fsapps' variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSAPPS_")}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def fsapps(home: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fsapps.cli", *argv],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Served:
    proc: subprocess.Popen[str]
    lines: list[dict]  # stderr, each line parsed as JSON (filled once the process has stopped)


@contextmanager
def serve(home: Path, env: dict[str, str]) -> Iterator[Served]:
    """``fsapps serve --config fsapps.yaml`` in ``home``, stopped with SIGTERM on the way out;
    every line it wrote on stderr must be one JSON object."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "serve", "--config", "fsapps.yaml"],
        cwd=home, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    served = Served(proc, [])
    try:
        yield served
    finally:
        proc.terminate()
        code = proc.wait(30)
        err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, err
    assert err.endswith("\n") and err.strip(), err
    served.lines = [json.loads(line) for line in err.splitlines()]  # each line one object, or this raises
    assert all(isinstance(x, dict) for x in served.lines), err


def ready(served: Served) -> dict:
    found = [x for x in served.lines if x["msg"] == "fsapps controller ready"]
    assert len(found) == 1, served.lines
    return found[0]


def test_serve_runs_the_readme_settings_with_the_environment_winning_and_no_default_password(
    db_dsn, tmp_path
) -> None:
    """The README's settings block, as written, is ``fsapps.yaml``; the ports, the switch and
    ``allow_from`` come from the environment and win over the file. With no password set, the
    switch (which takes the vanilla ``ClueCon``) is never logged in to; with
    ``FSAPPS_ESL_PASSWORD`` it is. ``allow_from`` from the environment (comma-separated) decides
    which peers the controller serves."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "fsapps.yaml").write_text(settings_block())
    shutil.copytree(ROOT / "dialplan", home / "dialplan")  # flows: {dir: dialplan}, relative to here
    ports = {"controller": free_port(), "metrics": free_port(), "api": free_port()}
    dp = StaticDialplan().add("public", r"^1000$", [
        ("set", "socket_resume=true"),
        ("socket", f"127.0.0.1:{ports['controller']}/welcome async full"),
        ("playback", FALLBACK),
    ])  # fmt: skip
    sw = Switch(dialplan=dp, speed=5.0, password=VANILLA).start()
    base = user_env(
        FSAPPS_DATABASE_DSN=db_dsn,
        FSAPPS_STATE_DIR=str(home / "var"),
        FSAPPS_ESL_PORT=str(sw.port),
        FSAPPS_CONTROLLER_PORT=str(ports["controller"]),
        FSAPPS_METRICS_PORT=str(ports["metrics"]),
        FSAPPS_API_PORT=str(ports["api"]),
    )

    def metrics_up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    def call() -> list[str]:
        ch = sw.place_call("1000", script=CallerScript(keypad=["1"]))
        assert ch.destroyed.wait(30)
        return sw.call_log(ch.uuid)

    try:
        # No password anywhere: nothing logs in to the switch; a peer outside allow_from is refused.
        with serve(home, {**base, "FSAPPS_CONTROLLER_ALLOW_FROM": "10.0.0.5,192.0.2.0/24"}) as first:
            assert wait_for(metrics_up, timeout=60), first.proc.poll()
            # The file says 8084, 9184 and 8086; the environment's ports are the ones listened on.
            assert listening(first.proc.pid) == {("127.0.0.1", p) for p in ports.values()}
            heard = call()
            assert f"heard {FALLBACK}" in heard and not any("Welcome to fsapps" in h for h in heard), heard
            assert sw.listeners == []  # nobody connected to the switch's Event Socket at all
        assert ready(first)["esl"] is None, ready(first)

        # The README's own allow_from example, and a password: the switch is logged in to,
        # and the switch's call (from 127.0.0.1) is served.
        said = readme.TEXT.split("`FSAPPS_CONTROLLER_ALLOW_FROM=", 1)[1].split("`", 1)[0]
        env = {**base, "FSAPPS_CONTROLLER_ALLOW_FROM": said, "FSAPPS_ESL_PASSWORD": VANILLA}
        with serve(home, env) as second:
            assert wait_for(metrics_up, timeout=60), second.proc.poll()
            assert wait_for(lambda: any(lst.authed and not lst.outbound for lst in sw.listeners), timeout=30)
            heard = call()
            assert "heard (tts) Welcome to fsapps." in heard and f"heard {FALLBACK}" not in heard, heard
        assert ready(second)["esl"] == f"127.0.0.1:{sw.port}", ready(second)
        assert not any(VANILLA in json.dumps(x) for x in second.lines)
    finally:
        sw.stop()


def test_settings_mistakes_and_a_missing_password_are_one_line(db_dsn, tmp_path) -> None:
    """The README's block with ``::1`` unquoted: ``fsapps serve`` refuses it in one line that
    says where. Call control (``fsapps agent transfer``) with no ``esl.password``: one line saying
    what is missing, before anything is asked of the switch."""
    home = tmp_path
    body = settings_block()
    assert '"::1"' in body
    (home / "fsapps.yaml").write_text(body.replace('"::1"', "::1"))
    env = user_env(FSAPPS_STATE_DIR=str(home / "var"), FSAPPS_CONTROLLER_PORT=str(free_port()))
    got = fsapps(home, env, "serve", "--config", "fsapps.yaml")
    assert got.returncode == 2, got
    assert got.stdout == ""
    lines = got.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fsapps: fsapps.yaml:3:"), got.stderr
    assert "not valid YAML" in lines[0], got.stderr
    assert not (home / "var").exists()  # refused before anything was started

    sw = Switch(password=VANILLA).start()
    try:
        (home / "fsapps.yaml").write_text(f"database: {{dsn: '{db_dsn}'}}\nesl: {{port: {sw.port}}}\n")
        got = fsapps(home, user_env(), "agent", "transfer", "cn_li", "--to-agent", "cn_wang",
                     "--config", "fsapps.yaml")  # fmt: skip
        assert (got.returncode, got.stdout) == (
            1, "fsapps: no Event Socket password (esl.password or FSAPPS_ESL_PASSWORD)\n"), got  # fmt: skip
        assert sw.listeners == []  # the switch was not asked anything
    finally:
        sw.stop()


def test_with_no_database_dsn_fsapps_runs_its_own_postgresql_16_on_a_unix_socket_only(tmp_path) -> None:
    """No ``database.dsn``: the first command creates PostgreSQL 16 in ``<state_dir>/pgdata`` and
    migrates it; the next starts it again, with what the first stored. It is started with no TCP
    address (``-h ""``), its socket in the data directory."""
    state = tmp_path / "var"
    env = user_env(FSAPPS_STATE_DIR=str(state))
    got = fsapps(tmp_path, env, "tenant", "add", "acme", "--domain", "acme.example")
    assert got.returncode == 0, got.stderr
    pgdata = state / "pgdata"
    assert (pgdata / "PG_VERSION").read_text().strip() == "16"
    got = fsapps(tmp_path, env, "tenant", "list")
    assert got.returncode == 0 and "acme" in got.stdout, got
    got = fsapps(tmp_path, env, "db", "status")
    assert got.returncode == 0 and f"database: embedded at {pgdata}" in got.stdout, got
    assert "pending" not in got.stdout and "applied" in got.stdout, got.stdout
    opts = (pgdata / "postmaster.opts").read_text()
    assert '"-h" ""' in opts and f'"-k" "{pgdata}"' in opts, opts

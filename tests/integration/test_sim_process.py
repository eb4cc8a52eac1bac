"""`fsapps sim` runs the emulator as its own process."""

import os
import subprocess
import sys

from fsapps.esl.client import Connection
from fsapps.testing.freeswitch import free_port


def test_sim_process_answers_on_its_event_socket() -> None:
    port = free_port()
    env = {**os.environ, "FSAPPS_ESL_PASSWORD": "sim-pass"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "sim", "--port", str(port),
         "--extension", "^9999$=answer:;playback:tone_stream://%(100,0,440);hangup:"],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == f"fsapps sim: Event Socket on 127.0.0.1:{port}"
        conn = Connection("127.0.0.1", port, "sim-pass")
        conn.connect()
        assert conn.api("status").startswith("UP ")
        reply = conn.api("originate loopback/9999/public &park()")
        assert reply.startswith("+OK ")
        conn.stop()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0

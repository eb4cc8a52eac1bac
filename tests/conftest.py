"""Shared fixtures. gevent patches the standard library before anything imports it:
psycopg chooses its wait function at import time (see ../shared/FACTS.md)."""

from gevent import monkey

monkey.patch_all()

import pytest  # noqa: E402

from fsapps.sim.switch import Switch  # noqa: E402


@pytest.fixture
def switch():
    """A running emulator at 10x speed, stopped after the test."""
    sw = Switch(speed=10.0).start()
    try:
        yield sw
    finally:
        sw.stop()

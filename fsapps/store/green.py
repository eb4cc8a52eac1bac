"""psycopg connections that wait for the server on gevent's own loop.

Under gevent psycopg cannot use its C wait (it would block every greenlet), so it
falls back to ``wait_poll``, which builds a patched ``select.poll`` object for each
wait: a Python emulation that creates, starts and stops watchers and collects
results in Python on every round trip. That was about a twelfth of a loaded
controller's CPU. ``GreenConnection.wait`` watches the socket with one libev io
watcher, whose callback hands the ready events straight to the waiting greenlet.

The contract is psycopg's wait function's (psycopg/waiting.py): drive the
generator, sending it the readiness of the socket (READY_R, READY_W, both, or
READY_NONE when ``interval`` passes with nothing ready) until it returns. The
Wait and Ready flags have the values of libev's EV_READ (1) and EV_WRITE (2).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from time import monotonic
from typing import Any, TypeVar

import psycopg
from gevent.hub import Waiter, get_hub
from psycopg import errors

RV = TypeVar("RV")

_READY = 1 | 2  # EV_READ | EV_WRITE: what a revents can tell psycopg


def wait(gen: Any, fileno: int, interval: float | None = 0.0, timeout: float | None = None,
         on_interrupt: Callable[[], None] | None = None) -> Any:
    """psycopg's ``waiting.wait`` on gevent's loop; ``interval``: at most this long per wait
    before READY_NONE is sent (psycopg checks its own timeouts then); ``timeout``: raise
    psycopg's wait timeout when the whole exchange takes longer.

    Interrupted from outside while it waits (the greenlet killed, a gevent Timeout):
    ``on_interrupt`` runs, then the generator is closed here and the interruption goes on.
    Left open, the generator would be closed by the garbage collector, later, in whatever
    code runs then, and its ``finally`` (a pipeline's end asks the server for its results)
    would fail there on a connection closed since: an unraisable error."""
    hub = get_hub()
    deadline = None if timeout is None else monotonic() + timeout
    try:
        state = next(gen)
        while True:
            step = interval if interval and interval > 0 else None
            if deadline is not None:
                left = max(deadline - monotonic(), 0.0)
                step = left if step is None else min(step, left)
            try:
                ready = _ready(hub, fileno, int(state), step)
            except BaseException:
                if on_interrupt is not None:
                    on_interrupt()
                with contextlib.suppress(Exception):
                    gen.close()
                raise
            state = gen.send(ready)
            if deadline is not None and monotonic() >= deadline:
                raise errors._WaitTimeout("wait timeout expired")
    except StopIteration as ex:
        return ex.value


def _ready(hub: Any, fileno: int, events: int, seconds: float | None) -> int:
    waiter = Waiter(hub)
    io = hub.loop.io(fileno, events)
    io.start(waiter.switch, pass_events=True)
    timer = None
    if seconds is not None:
        timer = hub.loop.timer(seconds)
        timer.start(waiter.switch, 0)
    try:
        got = int(waiter.get())
    finally:
        io.close()
        if timer is not None:
            timer.close()
    if got == 0:
        return 0  # the interval passed
    # libev's EV_ERROR alone (the socket is gone): say ready, so libpq meets the error itself.
    return (got & _READY) or events


class GreenConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits are gevent's (``wait`` above)."""

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        # Stopped mid-exchange (killed, timed out, Ctrl-C): the connection is in no state to
        # reuse; it is closed, and the pool replaces it. (The server ends the statement when it
        # next talks to its client, at the latest when the statement is done.)
        return wait(gen, self.pgconn.socket, interval=interval, timeout=timeout,
                    on_interrupt=self.pgconn.finish)

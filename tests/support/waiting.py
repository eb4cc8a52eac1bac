"""Polling for what happens on another greenlet, process or switch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, poll: float = 0.05) -> Any:
    """``predicate()`` once it is truthy, or its last value after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        gevent.sleep(poll)
    return predicate()

"""The ACD's Prometheus metrics, moved by its live events (fsapps.acd.notifier).

Offers rung, each queue's callers waiting, longest wait and agents by status
and state, and each visit's outcome, wait, handle time and service level:
what the dispatcher and the visits publish, counted here rather than where
it happens.
"""

from __future__ import annotations

from collections.abc import Callable

from fsapps.acd.notifier import MemberChanged, Notifier, OfferMade, Published, QueueFigures
from fsapps.metrics import (
    ACD_AGENTS,
    ACD_ANSWERED_IN_SL,
    ACD_CALLS,
    ACD_HANDLE,
    ACD_LONGEST_WAIT,
    ACD_OFFERS,
    ACD_WAIT,
    ACD_WAITING,
)


def follow(notifier: Notifier) -> Callable[[], None]:
    """Keep the metrics with ``notifier``'s events; returns what stops it."""
    return notifier.listen(count, lambda e: isinstance(e, OfferMade | QueueFigures | MemberChanged))


def count(item: Published) -> None:
    e = item.event
    if isinstance(e, OfferMade):
        ACD_OFFERS.labels(e.tenant, e.queue).inc()
    elif isinstance(e, QueueFigures):
        ACD_WAITING.labels(e.tenant, e.queue).set(e.waiting)
        ACD_LONGEST_WAIT.labels(e.tenant, e.queue).set(e.longest_wait)
        for status, state, n in e.agents:
            ACD_AGENTS.labels(e.tenant, e.queue, status, state).set(n)
    elif isinstance(e, MemberChanged) and e.what in ("left", "abandoned") and e.outcome:
        _visit(e)


def _visit(e: MemberChanged) -> None:
    """fsapps_acd_calls_total by outcome, the wait by outcome (answered: the speed of
    answer), and for answered calls the handle time and the service level."""
    ACD_CALLS.labels(e.tenant, e.queue, e.outcome).inc()
    ACD_WAIT.labels(e.tenant, e.queue, e.outcome).observe(max(e.wait, 0))
    if e.outcome == "answered":
        ACD_HANDLE.labels(e.tenant, e.queue).observe(max(e.handle, 0))
        if e.wait <= e.service_level_seconds:
            ACD_ANSWERED_IN_SL.labels(e.tenant, e.queue).inc()

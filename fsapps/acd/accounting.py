"""A queue visit's records and metrics, from its summary.

``records`` is pure: the queue_calls row (and, answered, the agent's usage
record, by the visit's own ids: fsapps.acd.visit_records; a callback, the
request that keeps the caller's place first). ``count`` moves the ACD
metrics; ``account`` does both, the records written through ``write``
(the controller's durable spool, which the caller never waits for).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fsapps.acd import visit_records
from fsapps.acd.visit_messages import VisitSummary
from fsapps.metrics import ACD_ANSWERED_IN_SL, ACD_CALLS, ACD_HANDLE, ACD_WAIT
from fsapps.store.records import CallbackRequest, QueueCall


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def records(s: VisitSummary) -> list[Any]:
    if s.outcome == "answered":
        return list(visit_records.answered(
            tenant=s.tenant, queue=s.queue, call_uuid=s.call_uuid, caller=s.caller, agent=s.agent or "",
            joined=s.joined, bridged=s.bridged, ended=s.ended, ring_seconds=s.ring_seconds, offers=s.offers,
            wrap_up=s.wrap_up, recording=s.recording,
        ))  # fmt: skip
    out: list[Any] = []
    if s.outcome == "callback":
        out.append(CallbackRequest(
            tenant_id=s.tenant, number=s.caller, requested_at=_at(s.ended), call_uuid=s.call_uuid,
            queue=s.queue, queue_entered_at=_at(s.joined),
        ))  # fmt: skip
    out.append(QueueCall(
        tenant_id=s.tenant, queue=s.queue, joined_at=_at(s.joined), ended_at=_at(max(s.ended, s.joined)),
        wait_seconds=round(max(s.ended - s.joined, 0), 3), outcome=s.outcome, call_uuid=s.call_uuid,
        agent_id=None, caller=s.caller, ring_seconds=round(s.ring_seconds, 3), talk_seconds=0.0,
        wrap_up_seconds=0.0, offers=s.offers, recording=s.recording,
    ))  # fmt: skip
    return out


def count(s: VisitSummary, service_level_seconds: float) -> None:
    """fsapps_acd_calls_total by outcome, the wait by outcome (answered: the speed of
    answer), and for answered calls the handle time and the service level."""
    if s.outcome == "answered":
        wait = s.bridged - s.joined
        ACD_WAIT.labels(s.tenant, s.queue, "answered").observe(wait)
        ACD_HANDLE.labels(s.tenant, s.queue).observe(max(s.ended - s.bridged, 0) + s.wrap_up)
        if wait <= service_level_seconds:
            ACD_ANSWERED_IN_SL.labels(s.tenant, s.queue).inc()
        ACD_CALLS.labels(s.tenant, s.queue, "answered").inc()
        return
    ACD_CALLS.labels(s.tenant, s.queue, s.outcome).inc()
    ACD_WAIT.labels(s.tenant, s.queue, s.outcome).observe(max(s.ended - s.joined, 0))


def account(s: VisitSummary, service_level_seconds: float, write: Callable[..., Any]) -> None:
    out = records(s)
    if s.outcome == "callback":
        write(out.pop(0))  # the request that keeps the caller's place, on its own
    count(s, service_level_seconds)
    write(*out)

"""A queue visit's records and its ending's live event, from its summary.

``records`` is pure: the queue_calls row (and, answered, the agent's usage
record, by the visit's own ids: fsapps.acd.visit_records; a callback, the
request that keeps the caller's place first). ``ended`` is the event the
visit's end publishes (fsapps.acd.notifier; the metrics count it,
fsapps.acd.live_metrics); ``account`` writes the records through ``write``
(the controller's durable spool, which the caller never waits for) and
publishes the event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fsapps.acd import visit_records
from fsapps.acd.notifier import MemberChanged, Notifier
from fsapps.acd.visit_messages import VisitSummary
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


def ended(s: VisitSummary, service_level_seconds: float) -> MemberChanged:
    """The visit's end: its outcome, its wait (answered: the speed of answer) and, answered,
    its handle time (talk plus wrap-up)."""
    answered = s.outcome == "answered"
    return MemberChanged(
        s.tenant, s.queue, s.call_uuid, "abandoned" if s.outcome == "abandoned" else "left", s.ended,
        agent=s.agent or "", outcome=s.outcome,
        wait=(s.bridged - s.joined) if answered else max(s.ended - s.joined, 0),
        handle=max(s.ended - s.bridged, 0) + s.wrap_up if answered else 0.0,
        service_level_seconds=service_level_seconds, number=s.caller,
        # The id the answered visit's record gets (visit_records.answered): what
        # GET .../recordings/{id} serves once the record is written.
        recording=visit_records.visit_event_id(s.call_uuid, s.joined, "queue_call")
        if answered and s.recording else "",
    )  # fmt: skip


def account(
    s: VisitSummary, service_level_seconds: float, write: Callable[..., Any], notifier: Notifier
) -> None:
    out = records(s)
    if s.outcome == "callback":
        write(out.pop(0))  # the request that keeps the caller's place, on its own
    notifier.publish(ended(s, service_level_seconds))
    write(*out)

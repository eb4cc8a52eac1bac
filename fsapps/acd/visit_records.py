"""The records of an answered queue visit: its queue_calls row and the agent's usage record. Pure.

A call stays up when the controller that bridged it dies (the caller's
``socket_resume`` is off while bridged), so the visit may be completed by that
controller, by the one the caller comes back to, or by any controller
reconciling a call that ended while nobody held it. The records' event ids
are made from the call and the moment it joined the queue, so whichever
writes them, they land once (inserts skip an event id already there).
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fsapps.store.records import QueueCall, UsageRecord

_NAMESPACE = uuidlib.UUID("6f1c3a52-0c1e-4b8e-9d0b-9f3e4f1d2a77")


def visit_event_id(call_uuid: str, joined_epoch: float, what: str) -> str:
    return str(uuidlib.uuid5(_NAMESPACE, f"{call_uuid}:{joined_epoch:.6f}:{what}"))


def answered(
    *,
    tenant: str,
    queue: str,
    call_uuid: str,
    caller: str | None,
    agent: str,
    joined: float,
    bridged: float,
    ended: float,
    ring_seconds: float = 0.0,
    offers: int = 0,
    wrap_up: float = 0.0,
    recording: str | None = None,
) -> tuple[QueueCall, UsageRecord]:
    """The visit answered at ``bridged`` by ``agent`` and handed back (or hung up) at ``ended``."""
    bridged = max(bridged, joined)
    talk = max(ended - bridged, 0.0)
    started = datetime.fromtimestamp(bridged, UTC)
    row = QueueCall(
        tenant_id=tenant, queue=queue, joined_at=datetime.fromtimestamp(joined, UTC),
        ended_at=datetime.fromtimestamp(max(ended, joined), UTC), wait_seconds=round(bridged - joined, 3),
        outcome="answered", call_uuid=call_uuid, agent_id=agent, caller=caller,
        ring_seconds=round(ring_seconds, 3), talk_seconds=round(talk, 3), wrap_up_seconds=wrap_up,
        offers=offers, recording=recording, event_id=visit_event_id(call_uuid, joined, "queue_call"),
    )  # fmt: skip
    usage = UsageRecord(
        tenant_id=tenant, resource="agent", kind="handled_call", resource_id=agent,
        started_at=started, ended_at=started + timedelta(seconds=talk), workload=Decimal(f"{talk:.3f}"),
        unit="seconds", outcome="answered", call_uuid=call_uuid,
        event_id=visit_event_id(call_uuid, joined, "agent_usage"),
    )  # fmt: skip
    return row, usage

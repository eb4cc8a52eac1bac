"""The ACD's live events as JSON: a kind and the event's fields.

One shape for every place an event leaves the process it was published in: the
PostgreSQL NOTIFY relay between controllers (fsapps.acd.relay) and the HTTP API's
event stream (fsapps.web.routes.events), whose ``event:`` line is the kind and whose
``data:`` line is the fields. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from fsapps.acd.notifier import (
    AcdEvent,
    AgentDirectCall,
    AgentStateChanged,
    CallHandedOver,
    LegChanged,
    MemberChanged,
    OfferMade,
    QueueFigures,
    TicketEscalated,
)

KINDS: dict[type, str] = {
    AgentStateChanged: "agent_state",
    OfferMade: "offer",
    QueueFigures: "queue",
    MemberChanged: "member",
    LegChanged: "leg",
    CallHandedOver: "handover",
    TicketEscalated: "ticket_escalated",
    AgentDirectCall: "direct_call",
}
TYPES = {kind: cls for cls, kind in KINDS.items()}


class BadEvent(ValueError):
    """A payload that is not one of the ACD's events."""


def kind_of(event: AcdEvent) -> str:
    return KINDS[type(event)]


def fields_of(event: AcdEvent) -> dict[str, Any]:
    """The event's fields as JSON values: an offer's variables as an object (the leg's
    variables, the lookup's screen-pop fields among them), a queue's agents as a list of
    {status, state, count}."""
    out = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    if isinstance(event, OfferMade):
        out["variables"] = dict(event.variables)
    elif isinstance(event, QueueFigures):
        out["agents"] = [{"status": s, "state": st, "count": n} for s, st, n in event.agents]
    return out


def to_json(event: AcdEvent) -> str:
    """One line of JSON (no newline can be in it: SSE's ``data:`` is one line)."""
    return json.dumps(fields_of(event), separators=(",", ":"), ensure_ascii=False)


def from_fields(kind: str, fields: dict[str, Any]) -> AcdEvent:
    """The event ``fields_of`` gave; BadEvent for anything else."""
    cls = TYPES.get(kind)
    if cls is None or not isinstance(fields, dict):
        raise BadEvent(f"not an ACD event: {kind!r}")
    data = dict(fields)
    try:
        if cls is OfferMade:
            data["variables"] = tuple((str(k), str(v)) for k, v in dict(data["variables"]).items())
        elif cls is QueueFigures:
            data["agents"] = tuple((a["status"], a["state"], int(a["count"])) for a in data["agents"])
        event: AcdEvent = cls(**data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadEvent(f"{kind}: {exc}") from None
    return event
